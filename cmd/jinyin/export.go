package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"jinyin/kpi"
	"jinyin/store"
)

// exportPage is how many records are read from the store at a time: the
// export holds one page, whatever the store's size.
const exportPage = 1000

// cmdExport writes a stopped box's CDRs as Asterisk's Master.csv, or its
// queue events as Asterisk's queue_log, to stdout, for the reporting
// tools that read Asterisk's files. --from and --to keep the records
// from one time (included) to another (excluded): a CDR by its start, a
// queue event by its time. Times, in Master.csv and in --from and --to,
// are in --tz, else the zone of --config's box, else the local zone.
func cmdExport(args []string, stdout, stderr io.Writer) error {
	fl := newFlags("export", stderr)
	data := fl.String("data", "jinyin-data", "the box's data `DIR` (its database is DIR/jinyin.db)")
	from := fl.String("from", "", "records from `TIME` on: 2006-01-02, 2006-01-02 15:04[:05] or RFC 3339")
	to := fl.String("to", "", "records before `TIME`")
	tz := fl.String("tz", "", "time `ZONE` (IANA name, UTC or Local; default: --config's [box] timezone, else Local)")
	file := fl.String("config", "", "the box's config `FILE`, for its time zone")
	usage := fmt.Errorf("usage: jinyin export [--data DIR] [--from TIME] [--to TIME] [--tz ZONE] [--config FILE] (master.csv|queue_log)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return usage
	}
	format := fl.Arg(0)
	if err := fl.Parse(fl.Args()[1:]); err != nil { // flags after the format too
		return err
	}
	if fl.NArg() > 0 || format != "master.csv" && format != "queue_log" {
		return usage
	}

	loc := time.Local
	switch {
	case *tz != "":
		l, err := time.LoadLocation(*tz)
		if err != nil {
			return fmt.Errorf("--tz: %v", err)
		}
		loc = l
	case *file != "":
		cfg, err := loadConfig(*file, nil)
		if err != nil {
			return err
		}
		loc = cfg.Location()
	}
	start, err := parseExportTime("--from", *from, loc)
	if err != nil {
		return err
	}
	end, err := parseExportTime("--to", *to, loc)
	if err != nil {
		return err
	}
	in := func(t time.Time) bool {
		return (start.IsZero() || !t.Before(start)) && (end.IsZero() || t.Before(end))
	}

	path := filepath.Join(*data, "jinyin.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s: --data is the box's data directory", path)
	}
	db, err := store.Open(path)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%s is held by the running box: stop the box, then export", path)
	}
	if err != nil {
		return err
	}
	defer db.Close()

	if format == "master.csv" {
		w := kpi.NewMasterCSV(stdout, loc)
		err := pages(db.CDRs, func(c store.CDR) uint64 { return c.Seq }, func(c store.CDR) error {
			if !in(c.Start) {
				return nil
			}
			return w.Write(c)
		})
		if err != nil {
			return err
		}
		return w.Flush()
	}
	w := kpi.NewQueueLog(stdout)
	err = pages(db.QueueEvents, func(e store.QueueEvent) uint64 { return e.Seq }, func(e store.QueueEvent) error {
		if !in(e.Time) {
			return nil
		}
		return w.Write(e)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// pages reads a log of the store a page at a time, in order, and gives
// each record to each.
func pages[T any](read func(since uint64, limit int) ([]T, error), seq func(T) uint64, each func(T) error) error {
	for since := uint64(0); ; {
		recs, err := read(since, exportPage)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := each(r); err != nil {
				return err
			}
		}
		if len(recs) < exportPage {
			return nil
		}
		since = seq(recs[len(recs)-1])
	}
}

// parseExportTime reads a --from or --to: a date (its midnight), a date
// and time to the minute or second, in loc, or RFC 3339 with its offset.
// "" is no bound.
func parseExportTime(flag, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02 15:04", time.DateTime, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want 2006-01-02, 2006-01-02 15:04[:05] or RFC 3339", flag, s)
}
