package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Security is how the box defends itself on a public network: the bans
// (see package security). Every key has a default; a zero value takes it.
type Security struct {
	// Allow lists networks ("192.0.2.0/24", "198.51.100.7") never banned.
	// Empty by default: every source is treated alike.
	Allow []string `toml:"allow"`
	// BanTime is how long a source that failed too often gets nothing;
	// default 1h.
	BanTime string `toml:"ban_time"`
	// MaxAuthFailures bans a source failing this many times on one
	// account within FailureWindow; default 10.
	MaxAuthFailures int `toml:"max_auth_failures"`
	// MaxSourceFailures bans a source failing this many times across
	// accounts within FailureWindow; default 25.
	MaxSourceFailures int    `toml:"max_source_failures"`
	FailureWindow     string `toml:"failure_window"` // default 5m
	// FloodWindow and FloodDensity are the request-rate limit per source,
	// as Kamailio's pike: more than FloodDensity requests within one
	// FloodWindow bans the source for FloodBanTime. Successful
	// registrations do not count (phones behind one NAT). Defaults 2s,
	// 100, 10m.
	FloodWindow  string `toml:"flood_window"`
	FloodDensity int    `toml:"flood_density"`
	FloodBanTime string `toml:"flood_ban_time"`
	// Events is how many security events the store keeps; default 1000.
	Events int `toml:"events"`
	// DialClasses are the kinds of number the box dials out, on every way
	// out (IVR transfers, callbacks): any of DialClasses. Empty is all but
	// "international" and "premium".
	DialClasses []string `toml:"dial_classes"`
	// OutboundPerMinute caps the calls started through one trunk group in
	// any minute; default 30.
	OutboundPerMinute int `toml:"outbound_per_minute"`
	// A trunk group that dials more than MaxDestinations distinct numbers
	// within DestinationWindow is stopped for BreakerTime (a toll-fraud
	// circuit breaker); defaults 20, 10m, 1h.
	MaxDestinations   int    `toml:"max_destinations"`
	DestinationWindow string `toml:"destination_window"`
	BreakerTime       string `toml:"breaker_time"`
}

// DialClasses are the dial classes (package route classifies numbers).
var DialClasses = []string{"internal", "emergency", "local", "national", "mobile", "tollfree", "international", "premium", "short"}

// ParseNetworks parses a list of networks, each a CIDR prefix or a single
// address (a /32 or /128).
func ParseNetworks(nets []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		p, err := parseNetwork(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseNetwork(n string) (netip.Prefix, error) {
	if strings.Contains(n, "/") {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a network (e.g. \"192.168.1.0/24\")", n)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(n)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a network (e.g. \"192.168.1.0/24\")", n)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

func (v *validator) networks(path string, nets []string) {
	for i, n := range nets {
		if _, err := parseNetwork(n); err != nil {
			v.report(fmt.Sprintf("%s.%d", path, i), "%v", err)
		}
	}
}

func (v *validator) security(s Security) {
	v.networks("security.allow", s.Allow)
	for i, c := range s.DialClasses {
		if !oneOf(c, DialClasses...) {
			v.report(fmt.Sprintf("security.dial_classes.%d", i), "dial class %q: use %s", c, strings.Join(quoteAll(DialClasses), ", "))
		}
	}
	v.duration("security.ban_time", s.BanTime, time.Minute, 30*24*time.Hour)
	v.duration("security.failure_window", s.FailureWindow, 10*time.Second, 24*time.Hour)
	v.duration("security.flood_window", s.FloodWindow, time.Second, time.Minute)
	v.duration("security.flood_ban_time", s.FloodBanTime, 10*time.Second, 24*time.Hour)
	v.duration("security.destination_window", s.DestinationWindow, time.Minute, 24*time.Hour)
	v.duration("security.breaker_time", s.BreakerTime, time.Minute, 30*24*time.Hour)
	for _, n := range []struct {
		path   string
		n, max int
	}{
		{"security.max_auth_failures", s.MaxAuthFailures, 1000},
		{"security.max_source_failures", s.MaxSourceFailures, 10000},
		{"security.flood_density", s.FloodDensity, 1000000},
		{"security.events", s.Events, 1000000},
		{"security.outbound_per_minute", s.OutboundPerMinute, 100000},
		{"security.max_destinations", s.MaxDestinations, 100000},
	} {
		if n.n < 0 || n.n > n.max {
			v.report(n.path, "%s must be 0 (the default) or up to %d, not %d", n.path[strings.LastIndexByte(n.path, '.')+1:], n.max, n.n)
		}
	}
}
