package route

import (
	"fmt"
	"sync"
	"time"
)

// limits caps what goes out through each trunk group, so that a way out
// found by an attacker (a callback number keyed into the IVR, a hijacked
// flow) costs little before it stops: at most perMinute calls started in
// any minute, and a circuit breaker that opens when more than
// newDests distinct numbers are dialled within destWindow (toll fraud
// dials many destinations; a call centre's callbacks a few an hour per
// trunk). An open breaker refuses every call through the trunk group for
// breakTime, or until lifted.
type limits struct {
	perMinute  int
	newDests   int
	destWindow time.Duration
	breakTime  time.Duration

	mu     sync.Mutex
	trunks map[string]*trunkUse
}

type trunkUse struct {
	starts   []time.Time          // calls started in the last minute
	dests    map[string]time.Time // number -> last dialled, within destWindow
	openTill time.Time            // the breaker is open until then
}

// errLimit is a refusal by the limits.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

// admit counts a call to number through trunk, or says why it is refused.
func (l *limits) admit(now time.Time, trunk, number string) (opened bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.trunks[trunk]
	if u == nil {
		u = &trunkUse{dests: map[string]time.Time{}}
		l.trunks[trunk] = u
	}
	if now.Before(u.openTill) {
		return false, &errLimit{fmt.Sprintf("trunk group %q is stopped until %s: too many new destinations", trunk, u.openTill.Format(time.TimeOnly))}
	}
	for len(u.starts) > 0 && now.Sub(u.starts[0]) >= time.Minute {
		u.starts = u.starts[1:]
	}
	if l.perMinute > 0 && len(u.starts) >= l.perMinute {
		return false, &errLimit{fmt.Sprintf("trunk group %q: %d calls in the last minute", trunk, len(u.starts))}
	}
	for n, at := range u.dests {
		if now.Sub(at) >= l.destWindow {
			delete(u.dests, n)
		}
	}
	if _, seen := u.dests[number]; !seen && l.newDests > 0 && len(u.dests) >= l.newDests {
		u.openTill = now.Add(l.breakTime)
		return true, &errLimit{fmt.Sprintf("trunk group %q stopped for %v: more than %d destinations in %v", trunk, l.breakTime, l.newDests, l.destWindow)}
	}
	u.starts = append(u.starts, now)
	u.dests[number] = now
	return false, nil
}
