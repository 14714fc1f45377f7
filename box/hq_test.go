package box_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/board"
	"jinyin/box"
	"jinyin/config"
	"jinyin/hq"
	"jinyin/internal/natstest"
	"jinyin/internal/pgtest"
	"jinyin/internal/testenv"
	"jinyin/kpi"
	"jinyin/store"
)

// seedQueue writes a site's morning into its store before the box
// starts: answered calls and abandons in the general queue, n of each
// kind shifted by site so that the sites differ.
func seedQueue(t *testing.T, dir, site string, answered, abandoned int, at time.Time) {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var evs []store.QueueEvent
	var cdrs []store.CDR
	for i := 0; i < answered+abandoned; i++ {
		call, start := fmt.Sprintf("%s-seed-%d", site, i), at.Add(time.Duration(i)*time.Minute)
		evs = append(evs, store.QueueEvent{Time: start, Kind: store.QueueEnter, Queue: "general", Call: call, Caller: fmt.Sprintf("1390000%04d", i), Position: 1})
		end := start.Add(30 * time.Second)
		if i < answered {
			evs = append(evs,
				store.QueueEvent{Time: start.Add(time.Duration(5+i) * time.Second), Kind: store.QueueConnect, Queue: "general", Call: call, Agent: "1001", Wait: time.Duration(5+i) * time.Second, Ring: time.Second},
				store.QueueEvent{Time: start.Add(25 * time.Second), Kind: store.QueueComplete, Queue: "general", Call: call, Agent: "1001", Talk: 20 * time.Second, Reason: "caller"})
		} else {
			evs = append(evs, store.QueueEvent{Time: start.Add(30 * time.Second), Kind: store.QueueAbandon, Queue: "general", Call: call, Position: 1, Wait: 30 * time.Second})
		}
		disp := "answered"
		if i >= answered {
			disp = "cancelled"
		}
		cdrs = append(cdrs, store.CDR{Call: call, Direction: "in", From: fmt.Sprintf("1390000%04d", i), To: "100", Start: start, Answer: start, End: end, Disposition: disp})
	}
	if err := db.AppendQueueEvents(evs); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendCDRs(cdrs); err != nil {
		t.Fatal(err)
	}
}

// Two boxes report to headquarters: a real nats-server and PostgreSQL,
// `jinyin hq`'s consumer between them. Each box's morning (queue events
// and CDRs in its store) and a call through each box's IVR arrive; the
// link to headquarters is cut and a call made meanwhile arrives once it
// returns. Then every CDR of both boxes is in PostgreSQL exactly once,
// each site's KPIs at headquarters are that box's own, and the fleet's
// total is their sum.
func TestFleetAtHeadquarters(t *testing.T) {
	nats := natstest.Start(t)
	pg := pgtest.Start(t)
	cfg, err := config.Load("default", config.Default(), nil, box.Env(board.Env()))
	if err != nil {
		t.Fatal(err)
	}
	loc := cfg.Location()
	from, to := kpi.Today(time.Now(), loc)
	at := from.Add(time.Since(from) / 4)

	dirs := map[string]string{"sh-01": t.TempDir(), "bj-02": t.TempDir()}
	seedQueue(t, dirs["sh-01"], "sh-01", 6, 2, at)
	seedQueue(t, dirs["bj-02"], "bj-02", 3, 4, at)
	sip, web, stops := map[string]string{}, map[string]string{}, map[string]func(){}
	for site, dir := range dirs {
		sip[site], web[site], stops[site] = startConfig(t, dir, []byte("[box]\nmemory_limit_mb = 0\n[fleet]\nenabled = true\nsite = \""+site+"\"\nservers = [\""+nats.URL()+"\"]\n"))
	}

	h, err := hq.Open(context.Background(), hq.Options{Servers: []string{nats.URL()}, Postgres: pg, Loc: loc, KPI: kpi.OptionsFor(cfg),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	call := func(site, from string) {
		c, err := invite(sip[site], "100", from, "")
		if err != nil {
			t.Fatal(err)
		}
		listen(t, c).hear("zh", "welcome")
		bctx, bcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer bcancel()
		c.Dialog.Bye(bctx)
		c.Close()
	}
	call("sh-01", "13800000001")
	call("bj-02", "13800000002")
	nats.Down()
	call("sh-01", "13800000003")
	time.Sleep(1500 * time.Millisecond) // the box tries, and keeps it
	if st := status(t, web["sh-01"]).Fleet; st == nil || st.Connected || st.Backlog["cdr"] == 0 {
		t.Errorf("sh-01 with headquarters gone: %+v", st)
	}
	nats.Up()
	for site := range dirs {
		waitFor(t, site+"'s backlog sent", func() bool {
			st := status(t, web[site]).Fleet
			return st != nil && st.Connected && st.Backlog["cdr"] == 0 && st.Backlog["queue"] == 0
		})
		stops[site]()
	}
	pool := pgtest.Conn(t, pg)
	waitFor(t, "the stream in PostgreSQL", func() bool {
		var n int
		pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n)
		return n > 0 && uint64(n) == h.Ingested() && len(nats.Messages(t, "JINYIN")) == n
	})
	// Everything again, as a consumer that lost its acknowledgements would
	// have it redelivered: the rows are there already, none is doubled.
	replay, err := hq.Open(context.Background(), hq.Options{Servers: []string{nats.URL()}, Postgres: pg, Consumer: "replay", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	rdone := make(chan struct{})
	go func() { replay.Run(rctx); close(rdone) }()
	waitFor(t, "the replay", func() bool { return replay.Ingested() == h.Ingested() })
	rcancel()
	<-rdone
	replay.Close()
	for site, dir := range dirs {
		db := openStore(t, dir)
		var want []string
		db.EachCDR(func(c store.CDR) (bool, error) { want = append(want, c.Call); return true, nil })
		db.Close()
		var rows, distinct int
		waitFor(t, site+"'s CDRs in PostgreSQL", func() bool {
			pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT call) FROM cdr WHERE site = $1`, site).Scan(&rows, &distinct)
			return rows >= len(want)
		})
		if rows != len(want) || distinct != len(want) {
			t.Errorf("%s: %d CDRs in PostgreSQL (%d distinct), the box has %d", site, rows, distinct, len(want))
		}
		for _, c := range want {
			var n int
			pool.QueryRow(context.Background(), `SELECT count(*) FROM cdr WHERE site = $1 AND call = $2`, site, c).Scan(&n)
			if n != 1 {
				t.Errorf("%s: CDR of %s %d times at headquarters", site, c, n)
			}
		}
	}

	fl, err := h.KPI(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var sum kpi.Queue
	for site, dir := range dirs {
		_, webAddr, stop := startConfig(t, dir, []byte("[box]\nmemory_limit_mb = 0\n"))
		var own kpi.Report
		testenv.GetJSON(t, "http://"+webAddr+"/kpi?from="+url.QueryEscape(from.Format(time.RFC3339))+"&to="+url.QueryEscape(to.Format(time.RFC3339)), &own)
		stop()
		got := fl.Sites[site]
		if got == nil {
			t.Fatalf("no KPIs of %s at headquarters", site)
		}
		a, b := got.Total.All, own.Total.All
		if a.Offered != b.Offered || a.Answered != b.Answered || a.Abandoned != b.Abandoned || a.AnsweredInTarget != b.AnsweredInTarget || a.Offered == 0 {
			t.Errorf("%s at headquarters: offered %d answered %d abandoned %d in target %d; the box says %d %d %d %d",
				site, a.Offered, a.Answered, a.Abandoned, a.AnsweredInTarget, b.Offered, b.Answered, b.Abandoned, b.AnsweredInTarget)
		}
		t.Logf("%s: offered %d answered %d abandoned %d in target %d, at headquarters and on the box", site, a.Offered, a.Answered, a.Abandoned, a.AnsweredInTarget)
		sum.Offered += b.Offered
		sum.Answered += b.Answered
		sum.Abandoned += b.Abandoned
		sum.AnsweredInTarget += b.AnsweredInTarget
	}
	if tot := fl.Total.Total.All; tot.Offered != sum.Offered || tot.Answered != sum.Answered || tot.Abandoned != sum.Abandoned || tot.AnsweredInTarget != sum.AnsweredInTarget {
		t.Errorf("the fleet's total %d/%d/%d/%d is not the sum of the boxes' %d/%d/%d/%d",
			tot.Offered, tot.Answered, tot.Abandoned, tot.AnsweredInTarget, sum.Offered, sum.Answered, sum.Abandoned, sum.AnsweredInTarget)
	}
	res, err := http.Get("http://" + serve(t, h.Handler()) + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"sh-01", "bj-02", "all sites", fmt.Sprintf("<td>%d</td>", sum.Offered)} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the fleet wallboard lacks %q:\n%s", want, page)
		}
	}
}

// serve runs h on a loopback port until the test ends.
func serve(t *testing.T, h http.Handler) string {
	l, err := net.Listen("tcp", testenv.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// A remote seat: agent 1003 of box A's general queue sits at branch box
// B, where its phone (baresip) is registered. A caller queueing at A is
// offered to 1003, rung through the trunk from A to B, and bridged to
// the phone at B: the caller hears what the phone sends. B's trunk from
// A takes calls to B's extensions by number and nothing else.
func TestRemoteSeatAtAnotherBox(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	sipA, sipB := testenv.FreeAddr(t), testenv.FreeAddr(t)
	agent := []byte("number = \"1003\"\nname = \"agent 1003\"\nkind = \"agent\"\n")
	if !bytes.Contains(config.Default(), agent) {
		t.Fatal("no agent 1003 in the default config")
	}
	tomlA := bytes.Replace(config.Default(), agent, append(slices.Clone(agent), "remote = \"branch\"\n"...), 1)
	tomlA = append(tomlA, "\n[[trunk]]\nname = \"branch\"\nhost = \""+sipB+"\"\ndestination = \"\"\n"...)
	tomlB := append(slices.Clone(config.Default()), "\n[[trunk]]\nname = \"hq\"\nhost = \""+sipA+"\"\ndestination = \"\"\n"...)
	_, httpA, _ := startConfigAt(t, dirA, tomlA, sipA)
	_, httpB, _ := startConfigAt(t, dirB, tomlB, sipB)
	phone := startBaresip(t, dirB, sipB, httpB, "1003")

	req, _ := http.NewRequest(http.MethodPost, "http://"+httpA+"/agents/1003/login", nil)
	if res, err := supervisor.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("logging the remote seat in at A: %v %v", err, res)
	}
	call := dial(t, sipA, "100", "13800000009", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hearDigits("2580", phone)
	waitFor(t, "the connect at A", func() bool {
		evs, _ := http.Get("http://" + httpA + "/queue/events")
		if evs == nil {
			return false
		}
		defer evs.Body.Close()
		body, _ := io.ReadAll(evs.Body)
		return strings.Contains(string(body), `"kind":"connect"`) && strings.Contains(string(body), `"agent":"1003"`)
	})

	// What A's trunk may not reach at B: a number out, a feature code.
	for _, number := range []string{"00441234567", "*11"} {
		c, err := invite(sipB, number, "1003", "")
		if err == nil {
			c.Close()
			t.Errorf("B took a call to %s from its trunk to A", number)
		} else if !strings.Contains(err.Error(), "404") {
			t.Errorf("a call to %s through B's trunk from A: %v, want 404", number, err)
		}
	}
}
