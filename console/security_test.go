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
