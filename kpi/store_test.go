package kpi

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"jinyin/store"
)

// FromStore over the fixture's records, stored among other days' (ten
// days before, a day after), gives the report that the records of the
// range alone give; a login older than the lookback is not seen.
func TestFromStore(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var before, after []store.QueueEvent
	var cdrsBefore []store.CDR
	for _, e := range fixtureEvents() {
		old := e
		old.Time, old.Call = e.Time.Add(-10*24*time.Hour), "old-"+e.Call
		if old.Kind != store.QueueLogin { // 1001's login of ten days ago stays; nothing logs it out
			before = append(before, old)
		}
		late := e
		late.Time, late.Call = e.Time.Add(25*time.Hour), "late-"+e.Call
		after = append(after, late)
	}
	before = append(before, store.QueueEvent{Time: at("09:00:00").Add(-10 * 24 * time.Hour), Kind: store.QueueLogin, Agent: "2001"})
	for _, r := range fixtureCDRs() {
		r.Start, r.End = r.Start.Add(-10*24*time.Hour), r.End.Add(-10*24*time.Hour)
		cdrsBefore = append(cdrsBefore, r)
	}
	for _, evs := range [][]store.QueueEvent{before, fixtureEvents(), after} {
		if err := db.AppendQueueEvents(evs); err != nil {
			t.Fatal(err)
		}
	}
	// CDRs are stored as calls end.
	cdrs := append(cdrsBefore, fixtureCDRs()...)
	for i := range cdrs {
		for j := i + 1; j < len(cdrs); j++ {
			if cdrs[j].End.Before(cdrs[i].End) {
				cdrs[i], cdrs[j] = cdrs[j], cdrs[i]
			}
		}
	}
	if err := db.AppendCDRs(cdrs); err != nil {
		t.Fatal(err)
	}
	o := Options{From: at("09:00:00"), To: at("10:00:00"), Interval: 30 * time.Minute, Loc: cst,
		Targets:      map[string]Target{"general": {Goal: 0.9, Answer: 10 * time.Second}},
		ShortAbandon: 5 * time.Second, Skills: map[string][]string{"everyone": {"1001", "1002"}},
		Channels: map[string]int{"span1": 2}, Groups: map[string][]string{"pri": {"span1"}}}
	got, err := FromStore(db, o)
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureReport(t)
	want.IVR = nil
	g, _ := json.Marshal(got.Intervals)
	w, _ := json.Marshal(want.Intervals)
	if string(g) != string(w) {
		t.Errorf("from the store:\n%s\nwant\n%s", g, w)
	}
	if a := got.Total.Agents["2001"]; a != nil && a.Staffed > 0 {
		t.Errorf("a login older than the lookback counted: %+v", a)
	}
	if gt, wt := got.Trunks["span1"], want.Trunks["span1"]; *gt != *wt {
		t.Errorf("span1 %+v, want %+v", gt, wt)
	}
}
