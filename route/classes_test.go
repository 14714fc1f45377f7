package route

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/config"
)

// TestClassify is the numbering of China as the MIIT plan and E.164 give
// it (see Class), one row per rule and its edges.
func TestClassify(t *testing.T) {
	exts := map[string]bool{"1001": true, "100": true}
	for _, c := range []struct {
		number string
		want   Class
	}{
		{"1001", Internal}, {"100", Internal},
		{"110", Emergency}, {"119", Emergency}, {"120", Emergency}, {"122", Emergency}, {"112", Emergency},
		{"88880000", Local}, {"2345678", Local}, {"10086", Local}, {"10000", Local}, {"95588", Local}, {"96123", Local},
		{"01088880000", National}, {"075588880000", National}, {"0755888800", National}, {"07558888000012", Unknown},
		{"075", Unknown}, {"0", Unknown},
		{"13800138000", Mobile}, {"19912345678", Mobile}, {"16612345678", Mobile}, {"17012345678", Mobile},
		{"12012345678", Unknown}, {"1380013800", Unknown}, {"138001380001", Unknown},
		{"4008123456", TollFree}, {"8008123456", TollFree}, {"400812345", Unknown},
		{"0044201234567", International}, {"001212555", International}, {"+8613800138000", International}, {"00", International},
		{"1680123", Premium}, {"16001", Premium}, {"1688", Premium}, {"168012345678", Unknown},
		{"4008", Short}, {"55", Short}, {"234567", Short},
		{"", Unknown}, {"12a", Unknown}, {"*97", Unknown}, {"1", Unknown}, {"123456789", Unknown},
	} {
		if got := Classify(c.number, func(n string) bool { return exts[n] }); got != c.want {
			t.Errorf("Classify(%q) = %s, want %s", c.number, got, c.want)
		}
	}
}

func TestClassesAreTheConfigs(t *testing.T) {
	var names []string
	for _, c := range Classes {
		names = append(names, string(c))
	}
	if !slices.Equal(names, config.DialClasses) {
		t.Errorf("route's classes %v, config's %v", names, config.DialClasses)
	}
}

// TestDialOutClasses: every way out (DialOut) refuses international and
// premium numbers unless the config allows them, before a line is seized,
// and says so in a DialDenied event; what the config allows goes out.
func TestDialOutClasses(t *testing.T) {
	for _, c := range []struct {
		classes []string
		number  string
		out     bool
	}{
		{nil, "13800138000", true},
		{nil, "075588880000", true},
		{nil, "4008", true},
		{nil, "0044201234567", false},
		{nil, "+12125550100", false},
		{nil, "1680123", false},
		{nil, "999999999999999", false},
		{[]string{"international"}, "0044201234567", true},
		{[]string{"international"}, "13800138000", false},
		{[]string{"premium", "mobile"}, "1680123", true},
	} {
		cfg := demoConfig(t)
		cfg.Security.DialClasses = c.classes
		p := New(cfg)
		line := &fakeLine{}
		p.Lines = map[string][]Line{"pstn": {line}}
		var events []string
		p.Event = func(name, service string, _ netip.AddrPort, account, detail string) {
			events = append(events, name+" "+account+" "+detail)
		}
		_, err := p.DialOut(context.Background(), "pstn", c.number, "1001")
		var denied *ErrDialDenied
		switch {
		case c.out && (err != nil || line.dialled != c.number):
			t.Errorf("%v %s: %v, dialled %q", c.classes, c.number, err, line.dialled)
		case !c.out && (!errors.As(err, &denied) || line.dialled != "" || len(events) != 1 || !strings.HasPrefix(events[0], "DialDenied 1001 "+c.number)):
			t.Errorf("%v %s: %v, dialled %q, events %q; want refused", c.classes, c.number, err, line.dialled, events)
		}
	}
}

// TestDialOutLimits: a trunk group starts at most outbound_per_minute
// calls in any minute, and more than max_destinations distinct numbers in
// destination_window stop it for breaker_time; other trunk groups go on.
func TestDialOutLimits(t *testing.T) {
	tp := newTollPlan(t, func(cfg *config.Config) {
		cfg.Security.OutboundPerMinute, cfg.Security.MaxDestinations = 5, 8
		cfg.Security.DestinationWindow, cfg.Security.BreakerTime = "10m", "1h"
		cfg.Security.MaxOutbound = 1000 // these calls never end: TestConcurrentCaps has that cap
	})
	clk := tp.clk
	dial := func(trunk, number string) error {
		_, err := tp.DialOut(context.Background(), trunk, number, "")
		return err
	}
	// The same number five times in a minute: the sixth waits for the
	// minute to pass since the first.
	for i := range 5 {
		if err := dial("pstn", "88880000"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		clk.Advance(10 * time.Second)
	}
	if err := dial("pstn", "88880000"); err == nil {
		t.Fatal("a sixth call within a minute went out")
	}
	if err := dial("backup", "88880000"); err != nil {
		t.Errorf("another trunk group was stopped too: %v", err)
	}
	clk.Advance(10 * time.Second) // 60 s after the first
	if err := dial("pstn", "88880000"); err != nil {
		t.Fatalf("after the minute: %v", err)
	}
	// Seven more destinations (eight in all) go; the ninth opens the
	// breaker for an hour, for every number.
	for i := range 7 {
		clk.Advance(13 * time.Second) // 5 calls a minute at most
		if err := dial("pstn", fmt.Sprint(88880001+i)); err != nil {
			t.Fatalf("destination %d: %v", i+2, err)
		}
	}
	clk.Advance(13 * time.Second)
	tp.took()
	// The breaker opening is an alarm (BreakerOpened), and the call a
	// DialDenied.
	err := dial("pstn", "88889999")
	if events := tp.took(); err == nil || len(events) != 2 || !strings.HasPrefix(events[0], "BreakerOpened trunk group pstn: trunk group \"pstn\" stopped for 1h0m0s") ||
		!strings.HasPrefix(events[1], "DialDenied : 88889999 through pstn") {
		t.Fatalf("the ninth destination: %v, events %q", err, events)
	}
	clk.Advance(59 * time.Minute)
	if err := dial("pstn", "88880000"); err == nil {
		t.Error("a known destination went out through an open breaker")
	}
	clk.Advance(time.Minute)
	if err := dial("pstn", "88880000"); err != nil {
		t.Errorf("after the breaker time: %v", err)
	}
}
