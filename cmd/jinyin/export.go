package main

import (
	"fmt"
	"io"
	"time"

	"jinyin/kpi"
	"jinyin/store"
)

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
	in := func(t time.Time) bool { return kpi.Within(t, start, end) }

	db, err := openStopped(*data, "stop the box, then export")
	if err != nil {
		return err
	}
	defer db.Close()

	if format == "master.csv" {
		w := kpi.NewMasterCSV(stdout, loc)
		err := db.EachCDR(func(c store.CDR) (bool, error) {
			if !in(c.Start) {
				return true, nil
			}
			return true, w.Write(c)
		})
		if err != nil {
			return err
		}
		return w.Flush()
	}
	w := kpi.NewQueueLog(stdout)
	err = db.EachQueueEvent(func(e store.QueueEvent) (bool, error) {
		if !in(e.Time) {
			return true, nil
		}
		return true, w.Write(e)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// parseExportTime reads a --from or --to as kpi.ParseTime does; "" is no
// bound.
func parseExportTime(flag, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := kpi.ParseTime(s, loc)
	if err != nil {
		return t, fmt.Errorf("%s: %w", flag, err)
	}
	return t, nil
}
