package console

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/security"
)

// TestSecurityCommands: show bans lists a ban with its reason, show
// security the events with a caller's control characters escaped, and
// ban lift ends it.
func TestSecurityCommands(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	g, err := security.New(security.Options{Config: config.Security{MaxAuthFailures: 2}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	c := &Console{o: Options{Guard: g}}
	if out, _ := c.showBans(nil); out != "no bans\n" {
		t.Errorf("show bans, none: %q", out)
	}
	src := netip.MustParseAddrPort("203.0.113.9:5060")
	g.Event(security.InvalidPassword, "SIP", src, "1001\x1b[2J", "REGISTER")
	g.Event(security.InvalidPassword, "SIP", src, "1001\x1b[2J", "REGISTER")
	out, err := c.showBans(nil)
	if err != nil || !strings.Contains(out, "203.0.113.9") || !strings.Contains(out, "2026-12-01 10:00:00") || !strings.Contains(out, "2 authentication failures") {
		t.Errorf("show bans:\n%s%v", out, err)
	}
	out, err = c.showSecurity([]string{"2"})
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, "InvalidPassword") || !strings.Contains(out, "Banned") ||
		strings.Contains(out, "\x1b") || !strings.Contains(out, `"1001\x1b[2J"`) {
		t.Errorf("show security 2:\n%q %v", out, err)
	}
	for _, bad := range [][]string{{"0"}, {"x"}, {"1001"}, {"1", "2"}} {
		if _, err := c.showSecurity(bad); err == nil {
			t.Errorf("show security %v accepted", bad)
		}
	}
	if _, err := c.banLift([]string{"198.51.100.1"}); err == nil {
		t.Error("lifting a source that is not banned")
	}
	if out, err := c.banLift([]string{"203.0.113.9"}); err != nil || out != "ban of 203.0.113.9 lifted\n" || g.Banned(src.Addr()) {
		t.Errorf("ban lift: %q %v", out, err)
	}
	if out, _ := c.showBans(nil); out != "no bans\n" {
		t.Errorf("show bans after the lift: %q", out)
	}
}

// TestBreakerCommands: show alarms lists the spans in alarm and the
// toll-fraud breakers open, with how to lift them; breaker lift takes
// "extension N" or "trunk group NAME" and says when none is open.
func TestBreakerCommands(t *testing.T) {
	until := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	open := map[string]time.Time{"trunk group pstn": until, "extension 1001": until}
	var lifted []string
	c := &Console{o: Options{
		Spans:    func() []SpanRow { return []SpanRow{{ID: 1, Alarms: "LOS"}, {ID: 2, Alarms: "none"}} },
		Breakers: func() map[string]time.Time { return open },
		LiftBreaker: func(name string) bool {
			lifted = append(lifted, name)
			_, ok := open[name]
			delete(open, name)
			return ok
		},
	}}
	out, err := c.showAlarms(nil)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 4 || !strings.HasPrefix(lines[1], "span 1") || !strings.Contains(lines[1], "LOS") ||
		!strings.HasPrefix(lines[2], "extension 1001") || !strings.Contains(lines[2], "calls out stopped until 2026-12-01 11:00:00") ||
		!strings.Contains(lines[2], "breaker lift extension 1001") || !strings.HasPrefix(lines[3], "trunk group pstn") {
		t.Errorf("show alarms:\n%s%v", out, err)
	}
	if out, err := c.breakerLift([]string{"trunk", "group", "pstn"}); err != nil || out != "trunk group pstn may call out again\n" {
		t.Errorf("breaker lift: %q %v", out, err)
	}
	if _, err := c.breakerLift([]string{"trunk", "group", "pstn"}); err == nil || !strings.Contains(err.Error(), "is not stopped") {
		t.Errorf("lifting it again: %v", err)
	}
	for _, bad := range [][]string{nil, {"extension"}, {"trunk", "pstn"}, {"carrier", "group", "x"}, {"extension", "1", "2"}} {
		if _, err := c.breakerLift(bad); err == nil || !strings.Contains(err.Error(), "breaker lift extension N | trunk group NAME") {
			t.Errorf("breaker lift %q: %v", bad, err)
		}
	}
	if len(lifted) != 2 {
		t.Errorf("lifted %q", lifted)
	}
	delete(open, "extension 1001")
	c.o.Spans = func() []SpanRow { return nil }
	if out, _ := c.showAlarms(nil); out != "no alarms\n" {
		t.Errorf("show alarms, none: %q", out)
	}
}
