package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"jinyin/store"
)

// exportStore writes a data directory with a store of CDRs and queue
// events, closed as a stopped box leaves it.
func exportStore(t *testing.T, cdrs []store.CDR, evs []store.QueueEvent) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendCDRs(cdrs); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendQueueEvents(evs); err != nil {
		t.Fatal(err)
	}
	return dir
}

// export runs `jinyin export ARGS` and returns its stdout and stderr.
func export(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"export"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestExport: the expected lines are written by hand, Master.csv's from
// cdr_csv's columns and quoting, queue_log's from app_queue's formats
// (kpi's golden tests give the rules); 1796004000 is 2026-11-30 02:00:00
// UTC (`date -u -d '2026-11-30 02:00:00' +%s`), 10:00 in Shanghai.
func TestExport(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	dir := exportStore(t, []store.CDR{
		{Call: "early", Direction: "in", From: "1002", To: "100", Start: t0.AddDate(0, 0, -1), End: t0.AddDate(0, 0, -1).Add(sec(9)), Disposition: "failed"},
		{Call: "a1", Direction: "in", From: "13800138000", To: "100", Trunk: "span1", Start: t0, Answer: t0.Add(sec(3)), End: t0.Add(sec(63)), Disposition: "answered"},
		// Starts at --to's midnight in Shanghai: not in the window.
		{Call: "late", Direction: "out", From: "1001", To: "4008", Start: time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 16, 0, 1, 0, time.UTC), Disposition: "refused"},
		{Call: "b2", Direction: "out", From: "1001", To: "4008", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + sec(5)), Disposition: "cancelled"},
	}, []store.QueueEvent{
		{Time: t0.Add(-time.Hour), Kind: store.QueueEnter, Queue: "sales", Call: "c0", Caller: "1003", Position: 1},
		{Time: t0, Kind: store.QueueLogin, Agent: "1001"},
		{Time: t0.Add(sec(5)), Kind: store.QueueEnter, Queue: "sales", Call: "c1", Caller: "13800138000", Position: 1},
		{Time: t0.Add(sec(20)), Kind: store.QueueConnect, Queue: "sales", Call: "c1", Caller: "13800138000", Agent: "1001", Wait: sec(15), Ring: sec(4)},
		{Time: t0.Add(sec(80)), Kind: store.QueueComplete, Queue: "sales", Call: "c1", Caller: "13800138000", Agent: "1001", Talk: sec(60), Reason: "caller"},
		{Time: t0.Add(sec(90)), Kind: store.QueueSurvey, Queue: "sales", Call: "c1", Agent: "1001", Value: 4},
		{Time: t0.Add(time.Hour), Kind: store.QueueLogout, Agent: "1001"},
	})
	masterCSV := `"","13800138000","100","","""13800138000"" <13800138000>","span1","","","","2026-11-30 10:00:00","2026-11-30 10:00:03","2026-11-30 10:01:03",63,60,"ANSWERED","DOCUMENTATION","a1",""
"","1001","4008","","""1001"" <1001>","","","","","2026-11-30 11:00:00",,"2026-11-30 11:00:05",5,0,"NO ANSWER","DOCUMENTATION","b2",""
`
	queueLog := `1796004000|NONE|NONE|Agent/1001|AGENTLOGIN|SIP/1001
1796004005|c1|sales|NONE|ENTERQUEUE||13800138000|1
1796004020|c1|sales|Agent/1001|CONNECT|15||4
1796004080|c1|sales|Agent/1001|COMPLETECALLER|15|60|1
1796007600|NONE|NONE|Agent/1001|AGENTLOGOFF|SIP/1001|3600
`
	cfg := filepath.Join(t.TempDir(), "box.toml") // the default's zone: Asia/Shanghai
	if err := os.WriteFile(cfg, defaultConfigText(t), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"master.csv", []string{"--data", dir, "--tz", "Asia/Shanghai", "--from", "2026-11-30", "--to", "2026-12-01", "master.csv"}, masterCSV},
		{"master.csv zone from config", []string{"--data", dir, "--config", cfg, "--from", "2026-11-30", "--to", "2026-12-01", "master.csv"}, masterCSV},
		{"queue_log, flags after", []string{"queue_log", "--data", dir, "--from", "2026-11-30T10:00:00+08:00"}, queueLog},
		{"queue_log to", []string{"--data", dir, "--tz", "UTC", "--from", "2026-11-30 02:00", "--to", "2026-11-30 02:00:20", "queue_log"}, queueLog[:strings.Index(queueLog, "1796004020")]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := export(t, tc.args...)
			if err != nil || out != tc.want {
				t.Errorf("%v %s\ngot\n%s\nwant\n%s", err, stderr, out, tc.want)
			}
		})
	}
}

// TestExportPages: records past one page (1000) all come out, in order.
func TestExportPages(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	const n = 2345
	cdrs := make([]store.CDR, n)
	evs := make([]store.QueueEvent, n)
	for i := range cdrs {
		at := t0.Add(time.Duration(i) * time.Minute)
		cdrs[i] = store.CDR{Call: "c" + strconv.Itoa(i), Direction: "in", From: "1001", To: "100", Start: at, End: at.Add(time.Second), Disposition: "cancelled"}
		evs[i] = store.QueueEvent{Time: at, Kind: store.QueuePause, Agent: "1001", Reason: strconv.Itoa(i)}
	}
	dir := exportStore(t, cdrs, evs)
	out, stderr, err := export(t, "--data", dir, "--tz", "UTC", "master.csv")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if err != nil || len(lines) != n {
		t.Fatalf("%v %s: %d lines, want %d", err, stderr, len(lines), n)
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, `"DOCUMENTATION","c`+strconv.Itoa(i)+`",""`) {
			t.Fatalf("line %d: %s", i, l)
		}
	}
	out, stderr, err = export(t, "--data", dir, "queue_log")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if err != nil || len(lines) != n || lines[n-1] != strconv.FormatInt(t0.Add((n-1)*time.Minute).Unix(), 10)+"|NONE|NONE|Agent/1001|PAUSEALL|2344" {
		t.Fatalf("%v %s: %d lines, the last %q", err, stderr, len(lines), lines[len(lines)-1])
	}
}

// TestExportFailsClearly: a running box's store, a directory without
// one (left without one), and bad arguments are refused with a reason.
func TestExportFailsClearly(t *testing.T) {
	dir := exportStore(t, nil, nil)
	db, err := store.Open(filepath.Join(dir, "jinyin.db")) // as the running box holds it
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"box running", []string{"--data", dir, "queue_log"}, "held by the running box: stop the box"},
		{"no store", []string{"--data", empty, "master.csv"}, "no database at " + filepath.Join(empty, "jinyin.db")},
		{"no format", []string{"--data", dir}, "usage: jinyin export"},
		{"unknown format", []string{"--data", dir, "cdr.json"}, "usage: jinyin export"},
		{"two formats", []string{"--data", dir, "queue_log", "master.csv"}, "usage: jinyin export"},
		{"bad --from", []string{"--data", dir, "--from", "yesterday", "queue_log"}, `--from: time "yesterday"`},
		{"bad --tz", []string{"--data", dir, "--tz", "Mars/Olympus", "queue_log"}, "--tz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := export(t, tc.args...)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || out != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("err %v, stdout %q, stderr %q: want exit 1 saying %q", err, out, stderr, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(empty, "jinyin.db")); !os.IsNotExist(err) {
		t.Errorf("export made a store where there was none: %v", err)
	}
}
