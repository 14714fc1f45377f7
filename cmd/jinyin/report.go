package main

import (
	"encoding/json"
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

// cmdReport prints the KPIs of a stopped box's records (or of a copy of
// its database): the same figures the running box serves at GET /kpi.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	data := fs.String("data", "jinyin-data", "data `DIR` of the box (or a folder holding a copy of jinyin.db)")
	file := fs.String("config", "", "the box's config `FILE`, for its queues' targets, time zone and trunks (default: the embedded demo)")
	from := fs.String("from", "", "start `TIME`: 2006-01-02, 2006-01-02 15:04 or RFC 3339, in the box's zone (default: today's midnight)")
	to := fs.String("to", "", "end `TIME` (default: now)")
	interval := fs.String("interval", "", "split into `15m|30m|1h|1d` intervals (default: the range whole)")
	queue := fs.String("queue", "", "only this `QUEUE`")
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV, a row per interval and queue")
	var sets setFlags
	fs.Var(&sets, "set", "override one config key, `KEY=VALUE` (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *asJSON && *asCSV {
		return fmt.Errorf("--json or --csv, not both")
	}
	cfg, err := loadConfig(*file, sets)
	if err != nil {
		return err
	}
	o := kpi.OptionsFor(cfg)
	o.From, o.To = kpi.Today(time.Now(), o.Loc)
	if *from != "" {
		if o.From, err = kpi.ParseTime(*from, o.Loc); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	if *to != "" {
		if o.To, err = kpi.ParseTime(*to, o.Loc); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	if o.Interval, err = kpi.ParseInterval(*interval); err != nil {
		return fmt.Errorf("--interval: %w", err)
	}
	if err := kpi.CheckRange(o.From, o.To, o.Interval); err != nil {
		return err
	}
	db, err := openStopped(*data, "ask it instead (GET /kpi on its HTTP API, or `show kpi` on its console)")
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := kpi.FromStore(db, o)
	if err != nil {
		return err
	}
	if err := r.Only(*queue); err != nil {
		return err
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case *asCSV:
		return kpi.CSV(stdout, r, *queue, o.Loc)
	}
	return kpi.Text(stdout, r, *queue, o.Loc)
}

// openStopped opens the database of a stopped box's data directory (or of
// a copy): it makes none where there is none, and says what to do instead
// (whenRunning) when the box holds it.
func openStopped(data, whenRunning string) (*store.DB, error) {
	path := filepath.Join(data, "jinyin.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s: --data is the box's data directory", path)
	}
	db, err := store.Open(path)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%s is held by the running box: %s", path, whenRunning)
	}
	return db, err
}
