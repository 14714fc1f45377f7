package campaign

import (
	"context"
	"errors"
	"time"

	"jinyin/config"
	"jinyin/pri"
	"jinyin/pri/q931"
	"jinyin/sip"
	"jinyin/store"
)

// Outcome is how an attempt ended.
type Outcome string

const (
	Answered   Outcome = "answered"
	Busy       Outcome = "busy"
	NoAnswer   Outcome = "no-answer"
	Rejected   Outcome = "rejected"   // the callee declined (SIP 403/603, Q.850 21)
	Vacant     Outcome = "vacant"     // no such number (SIP 404/484/604, Q.850 1/22/28)
	Congestion Outcome = "congestion" // the network had no way through (SIP 502/503/504, Q.850 34/38/41/42/44)
	Failed     Outcome = "failed"     // anything else: the box's own refusal (toll rules), an error
)

// outcomeOf reads a dial's error: SIP final statuses and Q.850 causes
// each mean an outcome; a dial that rang out (its context's deadline) is
// no answer.
func outcomeOf(err error) Outcome {
	if err == nil {
		return Answered
	}
	switch sip.DialStatus(err) {
	case 486, 600:
		return Busy
	case 408, 480, 487:
		return NoAnswer
	case 403, 603:
		return Rejected
	case 404, 484, 604:
		return Vacant
	case 502, 503, 504:
		return Congestion
	}
	var ce *pri.CauseError
	if errors.As(err, &ce) {
		switch ce.Cause {
		case q931.CauseBusy:
			return Busy
		case q931.CauseNoResponse, q931.CauseNoAnswer:
			return NoAnswer
		case q931.CauseRejected:
			return Rejected
		case q931.CauseUnallocated, 22, q931.CauseInvalidNumber: // 22: number changed
			return Vacant
		case q931.CauseNoCircuit, 38, q931.CauseTemporaryFailure, q931.CauseCongestion, q931.CauseChannelUnavailable: // 38: network out of order
			return Congestion
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return NoAnswer
	}
	return Failed
}

// defaultRetry is the wait before calling again, by outcome, for a
// campaign whose retry table is empty.
var defaultRetry = map[Outcome]time.Duration{Busy: 10 * time.Minute, NoAnswer: time.Hour, Congestion: 30 * time.Minute, Failed: time.Hour, Machine: 2 * time.Hour, SIT: 2 * time.Hour, Abandoned: 2 * time.Hour}

// next is where a contact goes after an attempt at now that ended with
// o: done when answered, failed when the outcome is never retried
// (vacant, rejected, or not in the retry table) or the attempts are
// spent, else waiting again after the outcome's retry wait.
func next(c config.Campaign, ct store.Contact, o Outcome, now time.Time) (store.ContactState, time.Time) {
	if o == Answered || o == MessageLeft {
		return store.ContactDone, time.Time{}
	}
	wait, ok := defaultRetry[o]
	if len(c.Retry) > 0 {
		s, in := c.Retry[string(o)]
		wait, ok = config.DurationOr(s, 0), in
	}
	if !ok || ct.Attempts >= or(c.MaxAttempts, 3) {
		return store.ContactFailed, time.Time{}
	}
	return store.ContactWaiting, now.Add(wait)
}

func or(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
