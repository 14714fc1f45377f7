package security

import (
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/store"
)

var (
	attacker = netip.MustParseAddr("127.0.0.66")
	phones   = netip.MustParseAddr("127.0.0.10")
)

func newGuard(t *testing.T, s config.Security, db *store.DB) (*Guard, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	g, err := New(Options{Config: s, Clock: clk, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g, clk
}

func src(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, 5060) }

// The example policy, as the defaults: 10 failures on one
// extension in 5 minutes, or 25 across extensions, ban for an hour.
func TestFailureBans(t *testing.T) {
	for _, c := range []struct {
		name     string
		accounts func(i int) string
		n        int
		spacing  time.Duration
		banned   bool
	}{
		{"9 on one account", func(int) string { return "1001" }, 9, time.Second, false},
		{"10 on one account", func(int) string { return "1001" }, 10, time.Second, true},
		{"10 on one account, spread over 5 min", func(int) string { return "1001" }, 10, 33 * time.Second, true},
		{"10 on one account, spread wider than 5 min", func(int) string { return "1001" }, 10, 34 * time.Second, false},
		{"24 across 8 accounts", func(i int) string { return fmt.Sprint(1000 + i%8) }, 24, time.Second, false},
		{"25 across 5 accounts", func(i int) string { return fmt.Sprint(1000 + i%5) }, 25, time.Second, true},
	} {
		g, clk := newGuard(t, config.Security{}, nil)
		for i := range c.n {
			if i > 0 {
				clk.Advance(c.spacing)
			}
			if g.Banned(attacker) {
				t.Fatalf("%s: banned after only %d failures", c.name, i)
			}
			g.Event(InvalidPassword, "SIP", src(attacker), c.accounts(i), "")
		}
		if g.Banned(attacker) != c.banned {
			t.Errorf("%s: banned %v, want %v", c.name, g.Banned(attacker), c.banned)
		}
		if g.Banned(phones) {
			t.Errorf("%s: another source was banned too", c.name)
		}
		if !c.banned {
			continue
		}
		clk.Advance(time.Hour - time.Second)
		if !g.Banned(attacker) {
			t.Errorf("%s: ban lifted before the hour", c.name)
		}
		clk.Advance(time.Second)
		if g.Banned(attacker) {
			t.Errorf("%s: still banned after the hour", c.name)
		}
	}
}

// TestFailureWindowEdge: a failure exactly 5 minutes old still counts;
// one a nanosecond older does not.
func TestFailureWindowEdge(t *testing.T) {
	for _, c := range []struct {
		age    time.Duration
		banned bool
	}{{5 * time.Minute, true}, {5*time.Minute + 1, false}} {
		g, clk := newGuard(t, config.Security{}, nil)
		g.Event(InvalidPassword, "SIP", src(attacker), "1001", "")
		clk.Advance(c.age - 8*time.Second)
		for range 8 {
			g.Event(InvalidPassword, "SIP", src(attacker), "1001", "")
			clk.Advance(time.Second)
		}
		g.Event(InvalidPassword, "SIP", src(attacker), "1001", "")
		if g.Banned(attacker) != c.banned {
			t.Errorf("the first of 10 failures %v old: banned %v, want %v", c.age, g.Banned(attacker), c.banned)
		}
	}
}

func TestEachFailureKindCounts(t *testing.T) {
	for _, name := range []string{InvalidAccountID, InvalidPassword, ChallengeResponseFailed, FailedACL} {
		g, _ := newGuard(t, config.Security{MaxAuthFailures: 3}, nil)
		for range 3 {
			g.Event(name, "SIP", src(attacker), "1001", "")
		}
		if !g.Banned(attacker) {
			t.Errorf("3 of %s did not ban", name)
		}
	}
	g, _ := newGuard(t, config.Security{MaxAuthFailures: 3}, nil)
	for range 10 {
		g.Event(SuccessfulAuth, "SIP", src(attacker), "1001", "INVITE")
		g.Event(RequestBadFormat, "SIP", src(attacker), "", "")
		g.Event(SessionLimit, "SIP", src(attacker), "1001", "")
	}
	if g.Banned(attacker) {
		t.Error("successes, bad formats and session limits banned a source")
	}
}

func TestAllowListNeverBanned(t *testing.T) {
	g, _ := newGuard(t, config.Security{Allow: []string{"127.0.0.64/30"}, MaxAuthFailures: 2, FloodDensity: 5}, nil)
	for range 50 {
		g.Event(InvalidPassword, "SIP", src(attacker), "1001", "")
		if !g.Admit(attacker) {
			t.Fatal("an allow-listed source was refused")
		}
	}
	outside := netip.MustParseAddr("127.0.0.68")
	g.Event(InvalidPassword, "SIP", src(outside), "1001", "")
	g.Event(InvalidPassword, "SIP", src(outside), "1001", "")
	if !g.Banned(outside) {
		t.Error("an address outside the allowed network was not banned")
	}
}

// TestFlood: more than the density in one window bans for the flood ban
// time; a steady rate under the density never does, however long.
func TestFlood(t *testing.T) {
	g, clk := newGuard(t, config.Security{FloodWindow: "2s", FloodDensity: 100, FloodBanTime: "10m"}, nil)
	for i := range 100 {
		if !g.Admit(attacker) {
			t.Fatalf("request %d of 100 in a window refused", i+1)
		}
	}
	if g.Admit(attacker) {
		t.Fatal("the 101st request in 2 s was admitted")
	}
	if !g.Admit(phones) {
		t.Error("another source was refused")
	}
	clk.Advance(10*time.Minute - time.Millisecond)
	if g.Admit(attacker) {
		t.Error("admitted before the flood ban ended")
	}
	clk.Advance(time.Millisecond)
	if !g.Admit(attacker) {
		t.Error("refused after the flood ban ended")
	}

	// 40 requests a second is 80 a window: never banned over a minute.
	g, clk = newGuard(t, config.Security{FloodWindow: "2s", FloodDensity: 100}, nil)
	for i := range 40 * 60 {
		if !g.Admit(attacker) {
			t.Fatalf("a steady 40/s was refused at request %d", i)
		}
		clk.Advance(25 * time.Millisecond)
	}
	// A burst straddling a window edge is still seen: 70 at the end of
	// one window, 70 at the start of the next.
	g, clk = newGuard(t, config.Security{FloodWindow: "2s", FloodDensity: 100}, nil)
	g.Admit(attacker) // the window starts here
	clk.Advance(1900 * time.Millisecond)
	refused := false
	for range 69 {
		refused = refused || !g.Admit(attacker)
	}
	clk.Advance(200 * time.Millisecond)
	for range 70 {
		refused = refused || !g.Admit(attacker)
	}
	if !refused {
		t.Error("140 requests within 0.2 s across a window edge were not refused")
	}
}

// TestNATPhones: 500 phones behind one address register at once (two
// requests each, challenge and answer); the successes give back what they
// took, so the address is not banned, and a guesser from it still is.
func TestNATPhones(t *testing.T) {
	g, _ := newGuard(t, config.Security{FloodDensity: 100}, nil)
	for i := range 500 {
		ext := fmt.Sprint(2000 + i)
		challenge, answer := g.Admit(phones), g.Admit(phones)
		if !challenge || !answer {
			t.Fatalf("phone %d's registration refused", i)
		}
		g.Event(SuccessfulAuth, "SIP", src(phones), ext, "REGISTER")
	}
	for range 9 {
		g.Event(InvalidPassword, "SIP", src(phones), "1001", "")
	}
	if g.Banned(phones) {
		t.Fatal("banned before 10 failures")
	}
	g.Event(InvalidPassword, "SIP", src(phones), "1001", "")
	if !g.Banned(phones) {
		t.Error("10 failures from behind the NAT did not ban")
	}
}

// TestBansPersist: a ban survives a restart (a new Guard on the same
// store) and a lift is stored too.
func TestBansPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jinyin.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	g, err := New(Options{Config: config.Security{MaxAuthFailures: 1}, Clock: clk, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	other := netip.MustParseAddr("127.0.0.67")
	g.Event(InvalidPassword, "SIP", src(attacker), "1001", "")
	g.Event(InvalidAccountID, "SIP", src(other), "x", "")
	g.Close()
	db.Close()

	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	g, err = New(Options{Clock: clk, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Banned(attacker) || !g.Banned(other) {
		t.Fatalf("bans lost across the restart: %v", g.Bans())
	}
	if bans := g.Bans(); len(bans) != 2 || bans[0].Addr != "127.0.0.66" || bans[1].Addr != "127.0.0.67" {
		t.Errorf("bans: %+v", bans)
	}
	if err := g.Lift("127.0.0.67", "test"); err != nil {
		t.Fatal(err)
	}
	if err := g.Lift("127.0.0.67", "test"); err != ErrNotBanned {
		t.Errorf("lifting twice: %v", err)
	}
	if err := g.Lift("nonsense", "test"); err == nil {
		t.Error("lifting a non-address")
	}
	g.Close()
	db.Close()

	db, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, err = New(Options{Clock: clk, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !g.Banned(attacker) || g.Banned(other) {
		t.Errorf("after the lift and a restart: %v", g.Bans())
	}
	evs, err := g.Events(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		names = append(names, e.Name+" "+e.Source)
	}
	want := []string{"InvalidPassword 127.0.0.66:5060", "Banned 127.0.0.66", "InvalidAccountID 127.0.0.67:5060", "Banned 127.0.0.67", "Unbanned 127.0.0.67"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("events:\n%v\nwant\n%v", names, want)
	}
}

// TestEventRing: the store keeps the newest events only.
func TestEventRing(t *testing.T) {
	for _, withDB := range []bool{false, true} {
		var db *store.DB
		if withDB {
			var err error
			if db, err = store.Open(filepath.Join(t.TempDir(), "jinyin.db")); err != nil {
				t.Fatal(err)
			}
		}
		g, _ := newGuard(t, config.Security{Events: 5, MaxAuthFailures: 1000, MaxSourceFailures: 1000, Allow: []string{"127.0.0.66"}}, db)
		for i := range 12 {
			g.Event(InvalidPassword, "SIP", src(attacker), fmt.Sprint(i), "")
		}
		g.Close()
		evs, err := g.Events(0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var accounts []string
		for _, e := range evs {
			accounts = append(accounts, e.Account)
		}
		if fmt.Sprint(accounts) != "[7 8 9 10 11]" {
			t.Errorf("db %v: kept %v, want the newest 5", withDB, accounts)
		}
		if evs, _ := g.Events(evs[2].Seq, 100); len(evs) != 2 || evs[0].Account != "10" {
			t.Errorf("db %v: events after a sequence: %+v", withDB, evs)
		}
		if evs, _ := g.Events(0, 2); len(evs) != 2 || evs[0].Account != "7" {
			t.Errorf("db %v: the first 2 events: %+v", withDB, evs)
		}
		if evs, _ := g.Newest(2); len(evs) != 2 || evs[0].Account != "10" || evs[1].Account != "11" {
			t.Errorf("db %v: the newest 2 events: %+v", withDB, evs)
		}
		if db != nil {
			db.Close()
		}
	}
}

func TestACL(t *testing.T) {
	acl := NewACL([]config.Extension{
		{Number: "1001", ACL: []string{"127.0.0.8/29", "192.0.2.7"}},
		{Number: "1002"},
	})
	for _, c := range []struct {
		ext, src string
		ok       bool
	}{
		{"1001", "127.0.0.8", true},
		{"1001", "127.0.0.15", true},
		{"1001", "127.0.0.16", false},
		{"1001", "127.0.0.7", false},
		{"1001", "192.0.2.7", true},
		{"1001", "::ffff:192.0.2.7", true},
		{"1001", "192.0.2.8", false},
		{"1002", "203.0.113.1", true}, // no acl: anywhere
		{"9999", "203.0.113.1", true}, // not an extension: its digest fails anyway
	} {
		if got := acl.Allows(c.ext, netip.MustParseAddr(c.src)); got != c.ok {
			t.Errorf("%s from %s: %v, want %v", c.ext, c.src, got, c.ok)
		}
	}
}

// TestEventLogLines: one structured line per event, WARN for all but
// SuccessfulAuth (INFO), with the fields a filter reads.
func TestEventLogLines(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	g, err := New(Options{Clock: clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	g.Event(SuccessfulAuth, "SIP", src(phones), "1001", "REGISTER")
	g.Event(InvalidPassword, "SIP", src(attacker), "1001", "REGISTER")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 ||
		!strings.Contains(lines[0], `level=INFO msg="security event" event=SuccessfulAuth service=SIP source=127.0.0.10:5060 account=1001 detail=REGISTER`) ||
		!strings.Contains(lines[1], `level=WARN msg="security event" event=InvalidPassword service=SIP source=127.0.0.66:5060 account=1001 detail=REGISTER`) {
		t.Errorf("log lines:\n%s", buf.String())
	}
}

// TestTrackingIsBounded: a flood from more sources than maxTracked (UDP
// sources are easy to forge) does not grow the guard's maps past it, and
// sources quiet for two windows are forgotten.
func TestTrackingIsBounded(t *testing.T) {
	g, clk := newGuard(t, config.Security{FloodWindow: "2s", FailureWindow: "10s"}, nil)
	base := netip.MustParseAddr("10.0.0.0").As4()
	addr := func(i int) netip.Addr {
		b := base
		b[1], b[2], b[3] = byte(i>>16), byte(i>>8), byte(i)
		return netip.AddrFrom4(b)
	}
	for i := range maxTracked + 100 {
		if !g.Admit(addr(i)) {
			t.Fatalf("source %d refused", i)
		}
		g.Event(InvalidAccountID, "SIP", netip.AddrPortFrom(addr(i), 5060), "x", "")
	}
	if len(g.flood) != maxTracked || len(g.fails) != maxTracked {
		t.Fatalf("tracking %d rates and %d failure lists, want %d each", len(g.flood), len(g.fails), maxTracked)
	}
	clk.Advance(4*time.Second - time.Millisecond)
	g.Admit(attacker) // full: a sweep, which finds no source quiet for two windows yet
	if len(g.flood) != maxTracked {
		t.Errorf("sources quiet for less than two windows forgotten: %d tracked", len(g.flood))
	}
	clk.Advance(11 * time.Second)
	g.Admit(phones)
	if len(g.flood) != 1 || len(g.fails) != 0 {
		t.Errorf("after the windows: %d rates and %d failure lists tracked, want 1 and 0", len(g.flood), len(g.fails))
	}
}

// TestExpiredBansSwept: a scanner moving through addresses leaves bans
// that expire; they are swept (from the store too) as traffic from
// anyone passes, not kept until their address comes back, and a ban that
// expired while the box was down is dropped from the store at start.
func TestExpiredBansSwept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jinyin.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, clk := newGuard(t, config.Security{MaxAuthFailures: 1, MaxSourceFailures: 1}, db)
	for i := range 100 {
		g.Event(InvalidPassword, "SIP", src(netip.AddrFrom4([4]byte{10, 9, byte(i / 256), byte(i)})), "1001", "")
	}
	if n := len(g.Bans()); n != 100 {
		t.Fatalf("%d bans, want 100", n)
	}
	clk.Advance(DefaultBanTime + time.Minute)
	g.Admit(netip.MustParseAddr("127.0.0.1"))
	g.mu.Lock()
	left := len(g.bans)
	g.mu.Unlock()
	if left != 0 {
		t.Errorf("%d expired bans kept", left)
	}
	g.Close()
	if bans, err := db.Bans(); err != nil || len(bans) != 0 {
		t.Errorf("the store keeps %d expired bans (%v)", len(bans), err)
	}

	// One ban that expires while the guard is not running.
	g2, err := New(Options{Config: config.Security{MaxAuthFailures: 1}, Clock: clk, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	g2.Event(InvalidPassword, "SIP", src(attacker), "1001", "")
	g2.Close()
	clk.Advance(DefaultBanTime + time.Minute)
	g3, err := New(Options{Clock: clk, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer g3.Close()
	if bans, err := db.Bans(); err != nil || len(bans) != 0 {
		t.Errorf("%d bans that expired while the box was down are still stored (%v)", len(bans), err)
	}
}
