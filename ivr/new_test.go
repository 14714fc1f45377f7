package ivr

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/store"
)

// TestNewRefusesBadCalendars: a time node's days or hours that do not
// parse stop the engine from being made, naming the flow and node (the
// config's validation catches them first; New must not guess).
func TestNewRefusesBadCalendars(t *testing.T) {
	for _, c := range []struct {
		rule config.TimeRule
		want string
	}{
		{config.TimeRule{Days: "someday", Hours: "08:00-20:00", Next: "x"}, "ivr: flow f node hours: "},
		{config.TimeRule{Days: "mon-fri", Hours: "8-20", Next: "x"}, "ivr: flow f node hours: "},
	} {
		flows := map[string]config.Flow{"f": {Nodes: map[string]config.Node{"hours": {Type: "time", Rules: []config.TimeRule{c.rule}}}}}
		if _, err := New(Options{Flows: flows}); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q...", c.rule, err, c.want)
		}
	}
	e, err := New(Options{})
	if err != nil || e.Location != time.Local || e.Clock == nil || e.HTTP == nil || e.Stats == nil {
		t.Errorf("defaults: %+v %v", e, err)
	}
}

// TestStatsKeptWhenTheStoreFails: counts that could not be written are
// kept, and written by the next Flush.
func TestStatsKeptWhenTheStoreFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jinyin.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStats()
	s.count("main", "menu", "key:1")
	s.count("main", "menu", "key:1")
	db.Close()
	if err := s.Flush(db); err == nil {
		t.Fatal("a flush to a closed store succeeded")
	}
	if db, err = store.Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s.count("main", "menu", "key:1")
	if err := s.Flush(db); err != nil {
		t.Fatal(err)
	}
	counts, err := db.IVRCounts()
	if err != nil || len(counts) != 1 || counts[0].N != 3 {
		t.Errorf("counts after the retry: %+v %v", counts, err)
	}
	if err := s.Flush(db); err != nil {
		t.Errorf("an empty flush: %v", err)
	}
}
