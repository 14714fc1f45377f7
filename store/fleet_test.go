package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestOutboxBound(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	add := func(kind string, n int) (dropped, held int) {
		ev := OutboxEvent{Kind: kind, Data: json.RawMessage(`{"n":` + string(rune('0'+n)) + `}`)}
		d, h, err := db.AppendOutbox(ev, 4)
		if err != nil {
			t.Fatal(err)
		}
		return d, h
	}
	add("alarm", 1)
	add("kpi", 2)
	add("kpi", 3)
	if d, h := add("alarm", 4); d != 0 || h != 4 {
		t.Errorf("the fourth of four: dropped %d held %d", d, h)
	}
	// Full: the oldest KPI snapshot goes, then the next; then, with no
	// snapshot left, the oldest event.
	kinds := func() (out string) {
		evs, _ := db.Outbox(0, 10)
		for _, e := range evs {
			out += e.Kind + string(e.Data) + " "
		}
		return out
	}
	if d, h := add("alarm", 5); d != 1 || h != 4 || kinds() != `alarm{"n":1} kpi{"n":3} alarm{"n":4} alarm{"n":5} ` {
		t.Errorf("full once: dropped %d held %d: %s", d, h, kinds())
	}
	add("alarm", 6)
	if d, _ := add("alarm", 7); d != 1 || kinds() != `alarm{"n":4} alarm{"n":5} alarm{"n":6} alarm{"n":7} ` {
		t.Errorf("full with no snapshot: %s", kinds())
	}
	if n, _ := db.OutboxLen(); n != 4 {
		t.Errorf("OutboxLen %d", n)
	}
	// Acknowledged: deleted up to the sequence, and remembered.
	evs, _ := db.Outbox(0, 10)
	if err := db.SetFleetSent("outbox", evs[1].Seq); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.OutboxLen(); n != 2 || kinds() != `alarm{"n":6} alarm{"n":7} ` {
		t.Errorf("after the acknowledgement: %d %s", n, kinds())
	}
	if s, _ := db.FleetSent("outbox"); s != evs[1].Seq {
		t.Errorf("FleetSent %d, want %d", s, evs[1].Seq)
	}
	if last, _ := db.LastSeq("outbox"); last != evs[3].Seq {
		t.Errorf("LastSeq %d, want %d", last, evs[3].Seq)
	}
	if _, err := db.LastSeq("nope"); err == nil {
		t.Error("LastSeq of no log")
	}
	// The acknowledged sequence of a kind is its own; the fleet id stays.
	db.SetFleetSent("cdr", 42)
	if s, _ := db.FleetSent("cdr"); s != 42 {
		t.Errorf("cdr sent %d", s)
	}
	a, _ := db.FleetInstance()
	b, _ := db.FleetInstance()
	if len(a) != 16 || a != b {
		t.Errorf("fleet ids %q %q", a, b)
	}
}
