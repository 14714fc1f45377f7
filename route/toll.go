package route

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"jinyin/config"
)

// toll is the toll-fraud rules every call out passes (Plan.DialOut and
// the phones' [[outbound]] routes), so that a way out found by an
// attacker (a phone's stolen password, a callback number keyed into the
// IVR, a hijacked flow) costs little before it stops:
//
//   - what may be dialled: the dial classes of the extension, or of the
//     box for calls that are no extension's (IVR transfers, callbacks),
//     narrowed outside office hours; some classes behind the extension's
//     PIN (needsPIN);
//   - how many: per extension and per trunk group, calls up at once and
//     calls started in any minute;
//   - how much: a circuit breaker stops an extension, and a trunk group,
//     that dials more than its newDests distinct numbers within
//     destWindow (toll fraud dials many destinations; a call centre's
//     callbacks a few an hour per trunk), and an extension or trunk group whose spend in the last
//     hour (rates per class, from the dial until the call ends) crosses
//     its threshold. A stopped extension or trunk group dials nothing for
//     breakTime, and Spend hangs up its calls.
type toll struct {
	classes    map[Class]bool // allowed out when no extension's rules apply
	pinClasses map[Class]bool
	office     []office // empty: every hour is office hours
	holidays   map[string]bool
	loc        *time.Location
	afterHours map[Class]bool
	relay      map[Class]bool    // what an outside caller is sent back out to
	rates      map[Class]float64 // per minute
	exts       map[string]extRules

	extSpend, trunkSpend          float64 // per hour
	trunkMax, perMinute, newDests int
	destWindow, breakTime         time.Duration

	mu      sync.Mutex
	trunks  map[string]*trunkUse
	extUse  map[string][]time.Time          // calls started in the last minute, per extension
	extDest map[string]map[string]time.Time // number -> last dialled within destWindow, per extension
	calls   map[*outCall]bool               // calls up, and those ended within the hour
	stopped map[string]time.Time            // "trunk group X", "extension N" -> stopped until
	wrong   map[string][]time.Time          // wrong PINs keyed, per extension
}

type office struct {
	days     [7]bool
	from, to int // minutes of the day, to exclusive
}

type extRules struct {
	classes   map[Class]bool // nil: the box's
	pin       string
	max       int
	perMinute int
	newDests  int
}

type trunkUse struct {
	starts []time.Time          // calls started in the last minute
	dests  map[string]time.Time // number -> last dialled, within destWindow
}

// outCall is one call out, counted from its dial.
type outCall struct {
	ext, trunk string
	rate       float64   // per minute
	start, end time.Time // end is zero while the call is up
	hangup     func()    // ends the call, once it is dialled
}

// defaultRates are what a minute out costs in China, in RMB, roughly as
// carriers' business tariffs: the spend breaker's scale, not a bill.
var defaultRates = map[Class]float64{Local: 0.1, National: 0.3, Mobile: 0.3, International: 8, Premium: 5}

// newToll reads the rules of a validated config.
func newToll(cfg *config.Config) *toll {
	sc := cfg.Security
	t := &toll{classes: classSet(sc.DialClasses, DefaultClasses), pinClasses: classSet(sc.PINClasses, nil),
		holidays: map[string]bool{}, loc: cfg.Location(), afterHours: classSet(sc.AfterHoursClasses, []Class{Internal, Emergency}),
		relay: classSet(sc.RelayClasses, nil),
		rates: map[Class]float64{}, exts: map[string]extRules{},
		extSpend: orF(sc.ExtensionSpend, 100), trunkSpend: orF(sc.TrunkSpend, 1000),
		trunkMax: or(sc.MaxOutbound, 30), perMinute: or(sc.OutboundPerMinute, 30), newDests: or(sc.MaxDestinations, 20),
		destWindow: config.DurationOr(sc.DestinationWindow, 10*time.Minute), breakTime: config.DurationOr(sc.BreakerTime, time.Hour),
		trunks: map[string]*trunkUse{}, extUse: map[string][]time.Time{}, extDest: map[string]map[string]time.Time{}, calls: map[*outCall]bool{}, stopped: map[string]time.Time{},
		wrong: map[string][]time.Time{}}
	for _, h := range sc.OfficeHours {
		days, _ := config.ParseDays(h.Days)
		from, to, _ := config.ParseHours(h.Hours)
		t.office = append(t.office, office{days, from, to})
	}
	for _, d := range cfg.IVR.Holidays {
		t.holidays[d] = true
	}
	for c, r := range defaultRates {
		t.rates[c] = r
	}
	for c, r := range sc.Rates {
		t.rates[Class(c)] = r
	}
	for _, e := range cfg.Extensions {
		r := extRules{pin: e.PIN, max: or(e.MaxOutbound, 2), perMinute: or(e.OutboundPerMinute, 5), newDests: or(e.MaxDestinations, 10)}
		if len(e.DialClasses) > 0 {
			r.classes = classSet(e.DialClasses, nil)
		}
		t.exts[e.Number] = r
	}
	return t
}

func classSet(names []string, def []Class) map[Class]bool {
	set := map[Class]bool{}
	for _, n := range names {
		set[Class(n)] = true
	}
	if len(names) == 0 {
		for _, c := range def {
			set[c] = true
		}
	}
	return set
}

// inOffice reports whether now is within office hours: always, when the
// config names none; never on a holiday.
func (t *toll) inOffice(now time.Time) bool {
	if len(t.office) == 0 {
		return true
	}
	local := now.In(t.loc)
	if t.holidays[local.Format(time.DateOnly)] {
		return false
	}
	m := local.Hour()*60 + local.Minute()
	return slices.ContainsFunc(t.office, func(o office) bool { return o.days[local.Weekday()] && m >= o.from && m < o.to })
}

// allows reports whether ext ("" for a call that is no extension's) may
// dial class c now, or says why not.
func (t *toll) allows(now time.Time, ext string, c Class) error {
	classes, own := t.classes, false
	if r, ok := t.exts[ext]; ok && r.classes != nil {
		classes, own = r.classes, true
	}
	switch {
	case !classes[c] && own:
		return fmt.Errorf("%s numbers are not among extension %s's dial classes", c, ext)
	case !classes[c]:
		return fmt.Errorf("%s numbers are not among the config's dial classes ([security] dial_classes)", c)
	case !t.afterHours[c] && !t.inOffice(now):
		return fmt.Errorf("%s numbers are dialled only in office hours ([security] office_hours)", c)
	}
	return nil
}

// needsPIN reports whether ext must key its PIN to dial class c, and
// the PIN ("" when it has none: the class is refused).
func (t *toll) needsPIN(ext string, c Class) (bool, string) {
	return t.pinClasses[c], t.exts[ext].pin
}

// admit counts a call from ext ("" for none) to number of class c
// through trunk, or says why it is refused; opened names a breaker the
// refusal opened.
func (t *toll) admit(now time.Time, ext, trunk, number string, c Class) (call *outCall, opened string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	for _, who := range []string{extName(ext), trunkName(trunk)} {
		if until, ok := t.stopped[who]; ok && now.Before(until) {
			return nil, "", &errLimit{fmt.Sprintf("%s is stopped until %s", who, until.In(t.loc).Format(time.TimeOnly))}
		}
	}
	if ext != "" {
		r := t.exts[ext]
		if n := t.up(func(o *outCall) bool { return o.ext == ext }); n >= r.max {
			return nil, "", &errLimit{fmt.Sprintf("extension %s has %d calls out already", ext, n)}
		}
		if starts := t.extUse[ext]; len(starts) >= r.perMinute {
			return nil, "", &errLimit{fmt.Sprintf("extension %s: %d calls out in the last minute", ext, len(starts))}
		}
		// The extension's own destinations breaker trips before the trunk
		// group's: the hijacked phone stops, the office's trunks stay up.
		if d := t.extDest[ext]; r.newDests > 0 && len(d) >= r.newDests {
			if _, seen := d[number]; !seen {
				t.stopped[extName(ext)] = now.Add(t.breakTime)
				return nil, extName(ext), &errLimit{fmt.Sprintf("extension %s stopped for %v: more than %d destinations in %v", ext, t.breakTime, r.newDests, t.destWindow)}
			}
		}
	}
	u := t.trunks[trunk]
	if u == nil {
		u = &trunkUse{dests: map[string]time.Time{}}
		t.trunks[trunk] = u
	}
	if n := t.up(func(o *outCall) bool { return o.trunk == trunk }); t.trunkMax > 0 && n >= t.trunkMax {
		return nil, "", &errLimit{fmt.Sprintf("trunk group %q has %d calls out already", trunk, n)}
	}
	if t.perMinute > 0 && len(u.starts) >= t.perMinute {
		return nil, "", &errLimit{fmt.Sprintf("trunk group %q: %d calls in the last minute", trunk, len(u.starts))}
	}
	if _, seen := u.dests[number]; !seen && t.newDests > 0 && len(u.dests) >= t.newDests {
		t.stopped[trunkName(trunk)] = now.Add(t.breakTime)
		return nil, trunkName(trunk), &errLimit{fmt.Sprintf("trunk group %q stopped for %v: more than %d destinations in %v", trunk, t.breakTime, t.newDests, t.destWindow)}
	}
	for _, s := range []struct {
		who   string
		limit float64
		of    func(*outCall) bool
	}{
		{extName(ext), t.extSpend, func(o *outCall) bool { return ext != "" && o.ext == ext }},
		{trunkName(trunk), t.trunkSpend, func(o *outCall) bool { return o.trunk == trunk }},
	} {
		if spent := t.spent(now, s.of); s.limit > 0 && spent >= s.limit {
			t.stopped[s.who] = now.Add(t.breakTime)
			return nil, s.who, &errLimit{fmt.Sprintf("%s stopped for %v: it spent %.2f in the last hour, the limit is %.2f", s.who, t.breakTime, spent, s.limit)}
		}
	}
	u.starts = append(u.starts, now)
	u.dests[number] = now
	if ext != "" {
		t.extUse[ext] = append(t.extUse[ext], now)
		if t.extDest[ext] == nil {
			t.extDest[ext] = map[string]time.Time{}
		}
		t.extDest[ext][number] = now
	}
	call = &outCall{ext: ext, trunk: trunk, rate: t.rates[c], start: now}
	t.calls[call] = true
	return call, "", nil
}

// dialled gives the call its hang-up, for a breaker to stop it.
func (t *toll) dialled(c *outCall, hangup func()) {
	t.mu.Lock()
	c.hangup = hangup
	t.mu.Unlock()
}

// ended ends a call's spend; a call that never connected costs nothing.
func (t *toll) ended(now time.Time, c *outCall, connected bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !connected {
		delete(t.calls, c)
		return
	}
	if c.end.IsZero() {
		c.end = now
	}
}

// spend opens the breaker of every extension and trunk group whose spend
// in the last hour crossed its limit, and hangs up their calls; it
// returns the breakers it opened.
func (t *toll) spend(now time.Time) (opened []string) {
	t.mu.Lock()
	t.prune(now)
	spent := map[string]float64{}
	for c := range t.calls {
		m := c.minutes(now)
		if c.ext != "" {
			spent[extName(c.ext)] += c.rate * m
		}
		spent[trunkName(c.trunk)] += c.rate * m
	}
	for who, s := range spent {
		limit := t.trunkSpend
		if strings.HasPrefix(who, "extension ") {
			limit = t.extSpend
		}
		if until, ok := t.stopped[who]; (!ok || !now.Before(until)) && limit > 0 && s >= limit {
			t.stopped[who] = now.Add(t.breakTime)
			opened = append(opened, who)
		}
	}
	var hang []func()
	for c := range t.calls {
		if c.end.IsZero() && c.hangup != nil && (t.isStopped(now, extName(c.ext)) || t.isStopped(now, trunkName(c.trunk))) {
			hang = append(hang, c.hangup)
		}
	}
	t.mu.Unlock()
	for _, h := range hang {
		h()
	}
	slices.Sort(opened)
	return opened
}

// lift ends a breaker ("trunk group X" or "extension N"); it reports
// whether one was open.
func (t *toll) lift(now time.Time, who string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	open := t.isStopped(now, who)
	delete(t.stopped, who)
	// and what tripped it, or the next new number trips it again
	if ext, ok := strings.CutPrefix(who, "extension "); ok {
		delete(t.extDest, ext)
	} else if trunk, ok := strings.CutPrefix(who, "trunk group "); ok && t.trunks[trunk] != nil {
		clear(t.trunks[trunk].dests)
	}
	return open
}

// open lists the breakers open now, and until when.
func (t *toll) open(now time.Time) map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]time.Time{}
	for who, until := range t.stopped {
		if now.Before(until) {
			out[who] = until
		}
	}
	return out
}

func (t *toll) isStopped(now time.Time, who string) bool {
	until, ok := t.stopped[who]
	return ok && now.Before(until)
}

// up counts the calls up that match.
func (t *toll) up(match func(*outCall) bool) int {
	n := 0
	for c := range t.calls {
		if c.end.IsZero() && match(c) {
			n++
		}
	}
	return n
}

// spent is the spend of the matching calls in the hour to now.
func (t *toll) spent(now time.Time, match func(*outCall) bool) float64 {
	s := 0.0
	for c := range t.calls {
		if match(c) {
			s += c.rate * c.minutes(now)
		}
	}
	return s
}

// minutes is how much of the hour to now the call was up.
func (c *outCall) minutes(now time.Time) float64 {
	from, to := c.start, c.end
	if to.IsZero() {
		to = now
	}
	if h := now.Add(-time.Hour); from.Before(h) {
		from = h
	}
	return math.Max(0, to.Sub(from).Minutes())
}

// prune forgets what has left its window: calls started more than a
// minute ago for the per-minute caps, destinations beyond destWindow,
// calls ended more than an hour ago.
func (t *toll) prune(now time.Time) {
	minute := func(s []time.Time) []time.Time {
		i := 0
		for i < len(s) && now.Sub(s[i]) >= time.Minute {
			i++
		}
		return s[i:]
	}
	for _, u := range t.trunks {
		u.starts = minute(u.starts)
		for n, at := range u.dests {
			if now.Sub(at) >= t.destWindow {
				delete(u.dests, n)
			}
		}
	}
	for ext, d := range t.extDest {
		for n, at := range d {
			if now.Sub(at) >= t.destWindow {
				delete(d, n)
			}
		}
		if len(d) == 0 {
			delete(t.extDest, ext)
		}
	}
	for ext, s := range t.extUse {
		if s = minute(s); len(s) == 0 {
			delete(t.extUse, ext)
		} else {
			t.extUse[ext] = s
		}
	}
	for c := range t.calls {
		if !c.end.IsZero() && now.Sub(c.end) >= time.Hour {
			delete(t.calls, c)
		}
	}
}

func extName(ext string) string     { return "extension " + ext }
func trunkName(trunk string) string { return "trunk group " + trunk }

// errLimit is a refusal by the caps or a breaker.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

func orF(f, def float64) float64 {
	if f == 0 {
		return def
	}
	return f
}

// maxWrongPINs within destWindow stop the extension's calls out: a PIN
// of 4 digits is guessed in 10,000 tries, not in 5.
const maxWrongPINs = 5

// wrongPIN counts a wrong PIN keyed at ext; the fifth within destWindow
// stops its calls out.
func (t *toll) wrongPIN(now time.Time, ext string) (opened string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.wrong[ext][:0:0]
	for _, at := range t.wrong[ext] {
		if now.Sub(at) < t.destWindow {
			w = append(w, at)
		}
	}
	w = append(w, now)
	t.wrong[ext] = w
	if len(w) < maxWrongPINs {
		return "", nil
	}
	delete(t.wrong, ext)
	t.stopped[extName(ext)] = now.Add(t.breakTime)
	return extName(ext), fmt.Errorf("%s stopped for %v: %d wrong PINs in %v", extName(ext), t.breakTime, len(w), t.destWindow)
}
