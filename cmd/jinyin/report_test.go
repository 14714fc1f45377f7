package main

import (
	"encoding/csv"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/store"
)

// reportDB writes an hour of a queue's records: one call answered in
// 10 s (talk 180 s, wrap-up 10 s), one abandoned after 30 s, one CDR.
func reportDB(t *testing.T) string {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 09:00 in Beijing
	evs := []store.QueueEvent{
		{Time: t0, Kind: store.QueueEnter, Queue: "general", Call: "c1"},
		{Time: t0.Add(10 * time.Second), Kind: store.QueueConnect, Queue: "general", Call: "c1", Agent: "1001", Wait: 10 * time.Second},
		{Time: t0.Add(190 * time.Second), Kind: store.QueueComplete, Queue: "general", Call: "c1", Agent: "1001", Talk: 180 * time.Second, Wrap: 10 * time.Second},
		{Time: t0.Add(10 * time.Minute), Kind: store.QueueEnter, Queue: "general", Call: "c2"},
		{Time: t0.Add(10*time.Minute + 30*time.Second), Kind: store.QueueAbandon, Queue: "general", Call: "c2", Wait: 30 * time.Second},
	}
	if err := db.AppendQueueEvents(evs); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendCDRs([]store.CDR{{Call: "c1", Direction: "in", From: "13800000001", To: "100", Trunk: "span1",
		Start: t0, Answer: t0, End: t0.Add(30 * time.Minute), Disposition: "answered"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dir
}

func TestReportCommand(t *testing.T) {
	dir := reportDB(t)
	args := []string{"report", "--data", dir, "--from", "2026-12-01 09:00", "--to", "2026-12-01T10:00:00+08:00", "--set", "box.timezone=Asia/Shanghai"}
	out, err := exec.Command(bin, append(args, "--json")...).Output()
	if err != nil {
		t.Fatalf("%v %s", err, out)
	}
	var r struct {
		Total  struct{ All map[string]any }
		Trunks map[string]map[string]any
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	all := r.Total.All
	if all["offered"] != 2.0 || all["answered"] != 1.0 || all["sl_abandons_against"] != 0.5 || all["aht"] != 190.0 || all["asa"] != 10.0 {
		t.Errorf("all queues: %v", all)
	}
	// span1 of the demo has 30 channels; one busy for half the hour.
	if s := r.Trunks["span1"]; s["mean"] != 0.5 || s["channels"] != 30.0 {
		t.Errorf("span1: %v", s)
	}

	out, err = exec.Command(bin, append(args, "--csv", "--interval", "30m", "--queue", "general")...).Output()
	if err != nil {
		t.Fatalf("%v %s", err, out)
	}
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][2] != "general" || rows[1][3] != "2" || rows[2][3] != "0" || rows[1][0] != "2026-12-01T09:00:00+08:00" {
		t.Errorf("CSV %v %q", err, out)
	}

	out, err = exec.Command(bin, args...).Output()
	if err != nil || !strings.Contains(string(out), "From 2026-12-01 09:00 to 2026-12-01 10:00") || !strings.Contains(string(out), "general") {
		t.Errorf("text: %v\n%s", err, out)
	}

	for _, c := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--queue", "sales"}, `no queue "sales"`},
		{[]string{"--interval", "2h"}, `interval "2h"`},
		{[]string{"--json", "--csv"}, "not both"},
		{[]string{"--from", "2026-12-01 11:00"}, "is not before"},
		{[]string{"--to", "yesterday"}, `time "yesterday"`},
	} {
		out, err := exec.Command(bin, append(args, c.extra...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: %v %s, want %q", c.extra, err, out, c.want)
		}
	}
	if out, err := exec.Command(bin, "report", "--data", t.TempDir()).CombinedOutput(); err == nil || !strings.Contains(string(out), "no database") {
		t.Errorf("empty folder: %v %s", err, out)
	}
	// The box holds its database: the command says to ask the box.
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if out, err := exec.Command(bin, append(args, "--json")...).CombinedOutput(); err == nil || !strings.Contains(string(out), "held by the running box: ask it instead") {
		t.Errorf("locked: %v %s", err, out)
	}
}
