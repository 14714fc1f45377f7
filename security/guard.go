// Package security is the box's defence on a public network: per-source
// request-rate limits and auth-failure bans that persist across restarts,
// an allow-list that is never banned, and the security events (with
// Asterisk's names where they fit) logged one structured line each and
// kept in a bounded ring in the store.
//
// Signalling asks the Guard before it parses a request (Admit) and tells
// it what came of each one (Event); the console and the HTTP API list and
// lift bans. Security events are written to the store by a batching
// writer, so a flood of failures never waits on the disk.
//
// Layer: beside the signalling; it imports config, store, internal/clock
// and the standard library. sip sees it through its own small Guard
// interface.
package security

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/store"
)

// The security events. The first seven are Asterisk's security event
// names (include/asterisk/security_events_defs.h), so tools that know
// those read these.
const (
	InvalidAccountID        = "InvalidAccountID"        // a user the box does not have
	InvalidPassword         = "InvalidPassword"         // a known user, a wrong digest
	ChallengeResponseFailed = "ChallengeResponseFailed" // a nonce replayed, or not ours
	FailedACL               = "FailedACL"               // a right password from a network the ACL refuses
	RequestBadFormat        = "RequestBadFormat"        // a malformed request
	SessionLimit            = "SessionLimit"            // refused for the call caps
	SuccessfulAuth          = "SuccessfulAuth"
	Banned                  = "Banned"
	Unbanned                = "Unbanned"
	DialDenied              = "DialDenied"    // the dial plan refused a number to a caller
	BreakerOpened           = "BreakerOpened" // a toll-fraud breaker stopped calls out: an alarm
	BreakerLifted           = "BreakerLifted"
	RemoteCommand           = "RemoteCommand" // headquarters ran a command over the fleet link (package fleet)
)

// failure reports whether an event counts toward a ban.
func failure(name string) bool {
	switch name {
	case InvalidAccountID, InvalidPassword, ChallengeResponseFailed, FailedACL:
		return true
	}
	return false
}

// Defaults of config.Security's zero values.
const (
	DefaultBanTime           = time.Hour
	DefaultMaxAuthFailures   = 10
	DefaultMaxSourceFailures = 25
	DefaultFailureWindow     = 5 * time.Minute
	DefaultFloodWindow       = 2 * time.Second
	DefaultFloodDensity      = 100
	DefaultFloodBanTime      = 10 * time.Minute
	DefaultEvents            = 1000
)

// maxTracked bounds the sources whose rate and failures are followed at
// once (a flood of spoofed UDP sources must not grow memory without
// limit); beyond it, new sources are not counted until a sweep.
const maxTracked = 65536

// Options make a Guard.
type Options struct {
	Config config.Security
	Clock  clock.Clock  // nil is real time
	Log    *slog.Logger // nil discards
	DB     *store.DB    // bans and events persist here; nil keeps them in memory
}

// Guard keeps the bans and counts what leads to them. It is safe for
// concurrent use; Admit is called for every request and takes one mutex.
type Guard struct {
	clock clock.Clock
	log   *slog.Logger
	db    *store.DB
	rec   *store.Recorder[store.SecurityEvent]

	allow                    []netip.Prefix
	banTime, floodBan        time.Duration
	failWindow, floodWindow  time.Duration
	maxFails, maxSourceFails int
	floodDensity, eventsKept int
	persist                  chan func(*store.DB) error
	persistDone              chan struct{}

	mu        sync.Mutex
	bans      map[netip.Addr]store.Ban
	flood     map[netip.Addr]*rate
	fails     map[netip.Addr][]failed
	lastSweep time.Time
	bansSwept time.Time
	ring      []store.SecurityEvent // the events, when there is no DB
	seq       uint64
	issued    uint64 // bans made since New (BansIssued)
}

// rate is a source's requests in the current and the previous window.
type rate struct {
	start     time.Time
	cur, prev float64
}

type failed struct {
	at      time.Time
	account string
}

// New makes a Guard from validated settings and loads the bans still in
// force from the store.
func New(o Options) (*Guard, error) {
	s := o.Config
	allow, err := config.ParseNetworks(s.Allow)
	if err != nil {
		return nil, fmt.Errorf("security: allow: %w", err)
	}
	g := &Guard{clock: o.Clock, log: o.Log, db: o.DB, allow: allow,
		banTime:        config.DurationOr(s.BanTime, DefaultBanTime),
		floodBan:       config.DurationOr(s.FloodBanTime, DefaultFloodBanTime),
		failWindow:     config.DurationOr(s.FailureWindow, DefaultFailureWindow),
		floodWindow:    config.DurationOr(s.FloodWindow, DefaultFloodWindow),
		maxFails:       or(s.MaxAuthFailures, DefaultMaxAuthFailures),
		maxSourceFails: or(s.MaxSourceFailures, DefaultMaxSourceFailures),
		floodDensity:   or(s.FloodDensity, DefaultFloodDensity),
		eventsKept:     or(s.Events, DefaultEvents),
		bans:           map[netip.Addr]store.Ban{},
		flood:          map[netip.Addr]*rate{},
		fails:          map[netip.Addr][]failed{},
	}
	if g.clock == nil {
		g.clock = clock.Real{}
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.db != nil {
		bans, err := g.db.Bans()
		if err != nil {
			return nil, err
		}
		now := g.clock.Now()
		for _, b := range bans {
			a, err := netip.ParseAddr(b.Addr)
			if err == nil && b.Until.After(now) {
				g.bans[a] = b
			} else if err := g.db.DeleteBan(b.Addr); err != nil { // expired while the box was down
				g.log.Error("security: an expired ban not removed from the store", "addr", b.Addr, "err", err)
			}
		}
		g.rec = store.NewSecurityRecorder(g.clock, g.db, 100*time.Millisecond, g.eventsKept, func(err error) { g.log.Error("security events", "err", err) })
		g.persist, g.persistDone = make(chan func(*store.DB) error, 1024), make(chan struct{})
		go g.persistLoop(g.persist)
	}
	return g, nil
}

func or(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// Close writes what is pending to the store.
func (g *Guard) Close() {
	if g.db == nil {
		return
	}
	g.mu.Lock()
	if g.persist != nil {
		close(g.persist)
		g.persist = nil
	}
	g.mu.Unlock()
	<-g.persistDone
	g.rec.Close()
}

// persistLoop writes bans as they change, off the signalling path.
func (g *Guard) persistLoop(ops <-chan func(*store.DB) error) {
	defer close(g.persistDone)
	for op := range ops {
		if err := op(g.db); err != nil {
			g.log.Error("security: storing a ban", "err", err)
		}
	}
}

// store queues a write of the bans; under g.mu.
func (g *Guard) store(op func(*store.DB) error) {
	if g.persist == nil {
		return
	}
	select {
	case g.persist <- op:
	default:
		g.log.Error("security: ban store queue full; a ban change is kept in memory only")
	}
}

// Allowed reports whether a is on the allow-list.
func (g *Guard) Allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Admit counts one request from src and reports whether to handle it:
// false for a banned source, and for the request that takes a source over
// the flood density (which bans it for the flood ban time).
func (g *Guard) Admit(src netip.Addr) bool {
	src = src.Unmap()
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bannedLocked(src, now) {
		return false
	}
	g.sweep(now)
	r := g.flood[src]
	if r == nil {
		if len(g.flood) >= maxTracked {
			return true
		}
		r = &rate{start: now}
		g.flood[src] = r
	}
	r.roll(now, g.floodWindow)
	r.cur++
	if r.count(now, g.floodWindow) > float64(g.floodDensity) && !g.Allowed(src) {
		g.banLocked(src, now, g.floodBan, fmt.Sprintf("more than %d requests in %v", g.floodDensity, g.floodWindow))
		return false
	}
	return true
}

// roll moves the window on to the one holding now.
func (r *rate) roll(now time.Time, w time.Duration) {
	switch n := now.Sub(r.start) / w; {
	case n == 1:
		r.prev, r.cur, r.start = r.cur, 0, r.start.Add(w)
	case n > 1:
		r.prev, r.cur, r.start = 0, 0, now
	}
}

// count is the requests in the window ending now: the current window's,
// plus the previous one's weighted by how much of it the window still
// covers (a sliding window from two fixed ones).
func (r *rate) count(now time.Time, w time.Duration) float64 {
	left := 1 - float64(now.Sub(r.start))/float64(w)
	return r.cur + r.prev*max(left, 0)
}

// sweep forgets sources quiet for two windows; under g.mu.
func (g *Guard) sweep(now time.Time) {
	if now.Sub(g.lastSweep) < g.floodWindow && len(g.flood) < maxTracked {
		return
	}
	g.lastSweep = now
	for a, r := range g.flood {
		if now.Sub(r.start) >= 2*g.floodWindow {
			delete(g.flood, a)
		}
	}
	for a, fs := range g.fails {
		if len(fs) == 0 || now.Sub(fs[len(fs)-1].at) > g.failWindow {
			delete(g.fails, a)
		}
	}
	// Expired bans go too (from the store as well), not only when their
	// address comes back: a scanner that moves on through addresses
	// would grow them for ever. Once a flood window at most, even while
	// the tracking above is full and sweeps at every request.
	if now.Sub(g.bansSwept) >= g.floodWindow {
		g.bansSwept = now
		for a := range g.bans {
			g.bannedLocked(a, now)
		}
	}
}

// Banned reports whether src is banned now.
func (g *Guard) Banned(src netip.Addr) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.bannedLocked(src.Unmap(), g.clock.Now())
}

func (g *Guard) bannedLocked(src netip.Addr, now time.Time) bool {
	b, ok := g.bans[src]
	if !ok {
		return false
	}
	if now.Before(b.Until) {
		return true
	}
	delete(g.bans, src)
	g.store(func(db *store.DB) error { return db.DeleteBan(b.Addr) })
	g.eventLocked(now, Unbanned, "", netip.AddrPortFrom(src, 0), "", "ban expired")
	return false
}

func (g *Guard) banLocked(src netip.Addr, now time.Time, d time.Duration, reason string) {
	b := store.Ban{Addr: src.String(), Since: now, Until: now.Add(d), Reason: reason}
	g.bans[src] = b
	g.issued++
	delete(g.flood, src)
	delete(g.fails, src)
	g.store(func(db *store.DB) error { return db.SaveBan(b) })
	g.eventLocked(now, Banned, "", netip.AddrPortFrom(src, 0), "", fmt.Sprintf("%s; until %s", reason, b.Until.Format(time.RFC3339)))
}

// Event records a security event: one log line, one entry in the ring.
// Failures (InvalidAccountID, InvalidPassword, ChallengeResponseFailed,
// FailedACL) count toward the source's ban; a SuccessfulAuth of a
// REGISTER gives back the two requests a registration takes (challenge
// and answer), so phones behind one NAT are never taken for a flood.
func (g *Guard) Event(name, service string, src netip.AddrPort, account, detail string) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.eventLocked(now, name, service, src, account, detail)
	a := src.Addr()
	switch {
	case name == SuccessfulAuth && detail == "REGISTER":
		if r := g.flood[a]; r != nil {
			r.cur = max(r.cur-2, 0)
		}
	case failure(name) && !g.Allowed(a):
		g.countFailure(a, now, account)
	}
}

// countFailure adds a failure and bans the source when it has failed
// MaxAuthFailures times on one account, or MaxSourceFailures times in
// all, within the failure window; under g.mu.
func (g *Guard) countFailure(a netip.Addr, now time.Time, account string) {
	fs := g.fails[a]
	if fs == nil && len(g.fails) >= maxTracked {
		g.sweep(now)
		if len(g.fails) >= maxTracked {
			return
		}
	}
	fs = slices.DeleteFunc(fs, func(f failed) bool { return now.Sub(f.at) > g.failWindow })
	fs = append(fs, failed{now, account})
	g.fails[a] = fs
	same := 0
	for _, f := range fs {
		if f.account == account {
			same++
		}
	}
	switch {
	case same >= g.maxFails:
		g.banLocked(a, now, g.banTime, fmt.Sprintf("%d authentication failures as %q in %v", same, account, g.failWindow))
	case len(fs) >= g.maxSourceFails:
		g.banLocked(a, now, g.banTime, fmt.Sprintf("%d authentication failures in %v", len(fs), g.failWindow))
	}
}

func (g *Guard) eventLocked(now time.Time, name, service string, src netip.AddrPort, account, detail string) {
	source := ""
	if src.Addr().IsValid() {
		source = src.String()
		if src.Port() == 0 {
			source = src.Addr().String()
		}
	}
	level := slog.LevelWarn
	if name == SuccessfulAuth {
		level = slog.LevelInfo
	}
	g.log.Log(context.Background(), level, "security event", "event", name, "service", service, "source", source, "account", account, "detail", detail)
	e := store.SecurityEvent{Time: now, Name: name, Service: service, Source: source, Account: account, Detail: detail}
	if g.rec != nil {
		g.rec.Record(e)
		return
	}
	g.seq++
	e.Seq = g.seq
	if g.ring = append(g.ring, e); len(g.ring) > g.eventsKept {
		g.ring = slices.Delete(g.ring, 0, len(g.ring)-g.eventsKept)
	}
}

// Bans lists the bans in force, in address order.
func (g *Guard) Bans() []store.Ban {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []store.Ban
	for a, b := range g.bans {
		if g.bannedLocked(a, now) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(x, y store.Ban) int {
		return netip.MustParseAddr(x.Addr).Compare(netip.MustParseAddr(y.Addr))
	})
	return out
}

// BansIssued is how many bans the guard has made since it started (not
// those it loaded from the store).
func (g *Guard) BansIssued() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.issued
}

// ErrNotBanned is Lift's answer for an address that is not banned.
var ErrNotBanned = errors.New("security: that address is not banned")

// Lift ends the ban of addr at once; by names who did (console, api).
func (g *Guard) Lift(addr, by string) error {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return fmt.Errorf("security: %q is not an IP address", addr)
	}
	a = a.Unmap()
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.bannedLocked(a, now) {
		return ErrNotBanned
	}
	delete(g.bans, a)
	g.store(func(db *store.DB) error { return db.DeleteBan(a.String()) })
	g.eventLocked(now, Unbanned, "", netip.AddrPortFrom(a, 0), "", "lifted by "+by)
	return nil
}

// Events returns up to limit security events after sequence number since,
// oldest first. Events of the last 100 ms may still be on their way to
// the store.
func (g *Guard) Events(since uint64, limit int) ([]store.SecurityEvent, error) {
	if g.db != nil {
		return g.db.SecurityEvents(since, limit)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []store.SecurityEvent
	for _, e := range g.ring {
		if e.Seq > since && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// ACL is the networks each extension may register and call from (its
// config acl); an extension without one may use any network.
type ACL map[string][]netip.Prefix

// NewACL reads the ACLs of validated extensions.
func NewACL(exts []config.Extension) ACL {
	acl := ACL{}
	for _, e := range exts {
		if nets, err := config.ParseNetworks(e.ACL); err == nil && len(nets) > 0 {
			acl[e.Number] = nets
		}
	}
	return acl
}

// Allows reports whether ext may be used from src.
func (a ACL) Allows(ext string, src netip.Addr) bool {
	nets, ok := a[ext]
	if !ok {
		return true
	}
	src = src.Unmap()
	for _, p := range nets {
		if p.Contains(src) {
			return true
		}
	}
	return false
}

// Newest returns the newest n security events, oldest first.
func (g *Guard) Newest(n int) ([]store.SecurityEvent, error) {
	if g.db != nil {
		return g.db.NewestSecurityEvents(n)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.ring[max(len(g.ring)-n, 0):]), nil
}
