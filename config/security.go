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
	// MaxOutbound caps the concurrent calls out through one trunk group;
	// default 30 (an E1's worth).
	MaxOutbound int `toml:"max_outbound"`
	// PINClasses are the dial classes a phone dials out only after its
	// extension's PIN; default none.
	PINClasses []string `toml:"pin_classes"`
	// OfficeHours, when set, are when the box dials out as its classes
	// allow; at other times, and on ivr.holidays, only AfterHoursClasses
	// (default internal and emergency) go out.
	OfficeHours       []Hours  `toml:"office_hours"`
	AfterHoursClasses []string `toml:"after_hours_classes"`
	// RelayClasses are what an IVR transfer may send a caller from
	// outside (a trunk, an exchange line, an unauthenticated SIP caller)
	// back out to: a DISA-like flow, or a carrier's call tromboned out
	// again. Default none.
	RelayClasses []string `toml:"relay_classes"`
	// Rates are what a minute out costs, per dial class, in the carrier's
	// currency (default RMB: local 0.1, national and mobile 0.3,
	// international 8, premium 5, the rest 0). A call costs from its dial
	// until it ends: an extension spending more than ExtensionSpend or a
	// trunk group more than TrunkSpend within an hour is stopped for
	// BreakerTime, its calls hung up, and an alarm raised. Defaults 100
	// and 1000.
	Rates          map[string]float64 `toml:"rates"`
	ExtensionSpend float64            `toml:"extension_spend_per_hour"`
	TrunkSpend     float64            `toml:"trunk_spend_per_hour"`
}

// Hours are days of the week and a time of day: "mon-fri", "08:00-20:00".
type Hours struct {
	Days  string `toml:"days"`
	Hours string `toml:"hours"`
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

func (v *validator) dialClasses(path string, classes []string) {
	for i, c := range classes {
		if !oneOf(c, DialClasses...) {
			v.report(fmt.Sprintf("%s.%d", path, i), "dial class %q: use %s", c, strings.Join(quoteAll(DialClasses), ", "))
		}
	}
}

func (v *validator) security(s Security) {
	v.networks("security.allow", s.Allow)
	v.dialClasses("security.dial_classes", s.DialClasses)
	v.dialClasses("security.pin_classes", s.PINClasses)
	v.dialClasses("security.after_hours_classes", s.AfterHoursClasses)
	v.dialClasses("security.relay_classes", s.RelayClasses)
	for i, h := range s.OfficeHours {
		p := fmt.Sprintf("security.office_hours.%d", i)
		if _, err := ParseDays(h.Days); err != nil {
			v.report(p+".days", "%v", err)
		}
		if _, _, err := ParseHours(h.Hours); err != nil {
			v.report(p+".hours", "%v", err)
		}
	}
	for c, r := range s.Rates {
		if !oneOf(c, DialClasses...) {
			v.reportKey("security.rates."+c, "rates: %q is not a dial class: use %s", c, strings.Join(quoteAll(DialClasses), ", "))
		} else if r < 0 || r > 10000 {
			v.report("security.rates."+c, "a rate is per minute, from 0 to 10000, not %v", r)
		}
	}
	for _, n := range []struct {
		path string
		n    float64
	}{{"security.extension_spend_per_hour", s.ExtensionSpend}, {"security.trunk_spend_per_hour", s.TrunkSpend}} {
		if n.n < 0 || n.n > 1e7 {
			v.report(n.path, "must be 0 (the default) or up to 10000000, not %v", n.n)
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
		{"security.max_outbound", s.MaxOutbound, 100000},
	} {
		if n.n < 0 || n.n > n.max {
			v.report(n.path, "%s must be 0 (the default) or up to %d, not %d", n.path[strings.LastIndexByte(n.path, '.')+1:], n.max, n.n)
		}
	}
}

// outbound checks the ways out of phones ([[outbound]]) and each
// extension's own rules for them.
func (v *validator) outbound(c *Config) {
	groups := c.trunkGroups()
	prefixes := map[string]bool{}
	for i, o := range c.Outbound {
		p := fmt.Sprintf("outbound.%d", i)
		switch {
		case o.Prefix == "" || strings.Trim(o.Prefix, "0123456789") != "":
			v.report(p+".prefix", "an outbound prefix is digits, such as \"9\", not %q", o.Prefix)
		case prefixes[o.Prefix]:
			v.report(p+".prefix", "prefix %q is used twice", o.Prefix)
		}
		prefixes[o.Prefix] = true
		for _, e := range c.Extensions {
			if strings.HasPrefix(e.Number, o.Prefix) || (o.Prefix != "" && strings.HasPrefix(o.Prefix, e.Number)) {
				v.report(p+".prefix", "prefix %q overlaps extension %s: a number dialled could be either", o.Prefix, e.Number)
			}
		}
		if len(o.Trunks) == 0 {
			v.report(p+".trunks", "an outbound route needs trunks to dial through")
		}
		for j, t := range o.Trunks {
			if !groups[t] {
				v.report(fmt.Sprintf("%s.trunks.%d", p, j), "%q is not a [[trunk]], a span group or an FXO line group", t)
			}
		}
	}
	for i, e := range c.Extensions {
		p := fmt.Sprintf("extension.%d", i)
		v.dialClasses(p+".dial_classes", e.DialClasses)
		if e.PIN != "" && (len(e.PIN) < 4 || len(e.PIN) > 12 || strings.Trim(e.PIN, "0123456789") != "") {
			v.report(p+".pin", "a PIN is 4 to 12 digits")
		}
		if e.MaxOutbound < 0 || e.MaxOutbound > 1000 {
			v.report(p+".max_outbound", "max_outbound must be 0 (default 2) or up to 1000, not %d", e.MaxOutbound)
		}
		if e.OutboundPerMinute < 0 || e.OutboundPerMinute > 1000 {
			v.report(p+".outbound_per_minute", "outbound_per_minute must be 0 (default 5) or up to 1000, not %d", e.OutboundPerMinute)
		}
		if e.MaxDestinations < 0 || e.MaxDestinations > 100000 {
			v.report(p+".max_destinations", "max_destinations must be 0 (default 10) or up to 100000, not %d", e.MaxDestinations)
		}
	}
}

// trunkGroups are the names calls go out by: [[trunk]]s, PRI span groups
// and FXO line groups.
func (c *Config) trunkGroups() map[string]bool {
	groups := map[string]bool{}
	for _, t := range c.Trunks {
		groups[t.Name] = true
	}
	for _, s := range c.Spans {
		if s.Group != "" {
			groups[s.Group] = true
		}
	}
	for _, p := range c.Ports {
		if p.Kind == "fxo" && p.Group != "" {
			groups[p.Group] = true
		}
	}
	return groups
}
