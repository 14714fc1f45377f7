package kpi

import (
	"bufio"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"jinyin/store"
)

// QueueLog writes queue events as Asterisk's app_queue writes queue_log,
// so that call-centre reports that read Asterisk's file read the box's:
// one line per event, epoch|callid|queuename|agent|EVENT|data1|data2|...,
// the time in whole seconds since 1970 (no zone), a column with nothing
// to say "NONE" as Asterisk writes it (callid and queue of an agent's
// login or pause, agent of a caller's events).
//
// The agent column is "Agent/EXT": the box's agents log in and out as
// Asterisk's app_agent_pool agents do, and those are the members whose
// logins Asterisk writes (AGENTLOGIN, AGENTLOGOFF), named so in every
// line of theirs; the channel in a login's data is "SIP/EXT", the phone
// the agent registers (Asterisk's channel name without its "-0000002a"
// suffix). The callid is the box's call ID.
//
// The kinds, and the lines they become:
//
//	enter           ENTERQUEUE|url|callerid|position (url is always empty)
//	connect         CONNECT|holdtime|bridgedchanneluniqueid|ringtime
//	                (the agent leg has no unique ID of its own: empty)
//	complete        COMPLETECALLER|holdtime|calltime|origposition when the
//	                caller hung up (Reason "caller"), else COMPLETEAGENT
//	                (Reason "agent", or "error": the box ended the agent's leg)
//	abandon         ABANDON|position|origposition|waittime (the caller hung
//	                up); Reason "max-wait": EXITWITHTIMEOUT, same data;
//	                "no agents": EXITEMPTY, same data
//	callback-requested, from a caller waiting in a queue (Call set):
//	                EXITWITHKEY|1|position|origposition|waittime, the caller
//	                left the queue by key 1, the callback key; one booked
//	                over the API (no Call) is not a queue exit: no line
//	transfer        the caller moved to another queue (overflow, or the
//	                max-wait destination): EXITWITHTIMEOUT in the queue it
//	                left, then ENTERQUEUE in the one it joined, as Asterisk
//	                writes a caller sent from one Queue() to the next by the
//	                dialplan. Asterisk's BLINDTRANSFER and ATTENDEDTRANSFER
//	                are an agent passing on a call it answered, not this.
//	                A "transfer" within one queue (a caller who waited for
//	                one agent now waits for any) is no exit: no line.
//	ring-no-answer  RINGNOANSWER|ringtime, in milliseconds
//	login           AGENTLOGIN|channel
//	logout          AGENTLOGOFF|channel|logintime
//	pause           PAUSEALL|reason, queue NONE: the box pauses an agent in
//	                all its queues at once, which Asterisk writes so (its
//	                PAUSE line is for one queue, and always names it)
//	unpause         UNPAUSEALL|reason
//
// Skipped, having no queue_log event: callback-dialled, callback-answered
// and callback-failed (a callback's call then shows as CONNECT and
// COMPLETE* under its own callid, "callback-...", with no ENTERQUEUE),
// survey, monitor.
//
// Durations are whole seconds, truncated, except RINGNOANSWER's. The box
// records some of Asterisk's data only once per call: the position a
// caller joined at (enter), its hold time (connect), an agent's login
// time; QueueLog keeps those of the calls in the queue and of the agents
// logged in, for the lines that repeat them (origposition, COMPLETE*'s
// holdtime, AGENTLOGOFF's logintime, the queue a moved caller left). A
// figure the box did not record, or whose first event came before the
// events given, is 0: the position when a caller is timed out, sent on
// or moved, the ring time of a ring-no-answer. A caller's waits count
// from the first queue it joined: the box keeps a moved caller's place.
//
// A '|' or line break in a text column or field becomes '_', as app_queue
// does for a caller's name, so that every line splits into its columns;
// a line is cut at 8191 bytes, app_queue's limit. QueueLog holds one line
// at a time, and at most 4,096 calls and 4,096 agents of the above.
type QueueLog struct {
	w      *bufio.Writer
	b      []byte
	calls  map[string]queueCall
	logins map[string]time.Time
}

// queueCall is what QueueLog keeps of a call in the queue.
type queueCall struct {
	queue  string        // the queue it is in
	joined time.Time     // when it entered its first queue
	opos   int           // the position it entered at
	hold   time.Duration // its wait until an agent answered
	seen   time.Time     // its last event
}

const (
	// maxQueueLogLine is app_queue's buffer less the line's end.
	maxQueueLogLine = 8191
	// maxTracked bounds the calls and the agents QueueLog keeps; a
	// call whose end was never recorded (a power cut) is dropped
	// after a day, or sooner when the table is full.
	maxTracked = 4096
)

// NewQueueLog writes to w.
func NewQueueLog(w io.Writer) *QueueLog {
	return &QueueLog{w: bufio.NewWriter(w), calls: map[string]queueCall{}, logins: map[string]time.Time{}}
}

// Write adds the line or lines of one event (none for a kind that has no
// queue_log event).
func (q *QueueLog) Write(e store.QueueEvent) error {
	agent := "NONE"
	if e.Agent != "" {
		agent = "Agent/" + e.Agent
	}
	c, known := q.calls[e.Call]
	if e.Call == "" {
		c, known = queueCall{}, false
	}
	wait := e.Wait
	if wait == 0 && !c.joined.IsZero() {
		wait = e.Time.Sub(c.joined)
	}
	switch e.Kind {
	case store.QueueEnter:
		q.track(e.Call, queueCall{queue: e.Queue, joined: e.Time, opos: e.Position, seen: e.Time})
		return q.line(e.Time, e.Call, e.Queue, "NONE", "ENTERQUEUE", "", e.Caller, itoa(e.Position))
	case store.QueueConnect:
		c.queue, c.hold, c.seen = e.Queue, e.Wait, e.Time
		q.track(e.Call, c)
		return q.line(e.Time, e.Call, e.Queue, agent, "CONNECT", secs(e.Wait), "", secs(e.Ring))
	case store.QueueComplete:
		delete(q.calls, e.Call)
		ev := "COMPLETEAGENT"
		if e.Reason == "caller" {
			ev = "COMPLETECALLER"
		}
		return q.line(e.Time, e.Call, e.Queue, agent, ev, secs(c.hold), secs(e.Talk), itoa(c.opos))
	case store.QueueAbandon:
		delete(q.calls, e.Call)
		ev := "ABANDON"
		switch e.Reason {
		case "max-wait":
			ev = "EXITWITHTIMEOUT"
		case "no agents":
			ev = "EXITEMPTY"
		}
		return q.line(e.Time, e.Call, e.Queue, "NONE", ev, itoa(e.Position), itoa(c.opos), secs(wait))
	case store.QueueCallbackRequested:
		if e.Call == "" {
			return nil
		}
		delete(q.calls, e.Call)
		return q.line(e.Time, e.Call, e.Queue, "NONE", "EXITWITHKEY", "1", itoa(e.Position), itoa(c.opos), secs(wait))
	case store.QueueTransfer:
		if known && c.queue == e.Queue {
			return nil // still in its queue
		}
		if known {
			if err := q.line(e.Time, e.Call, c.queue, "NONE", "EXITWITHTIMEOUT", "0", itoa(c.opos), secs(wait)); err != nil {
				return err
			}
		}
		c.queue, c.opos, c.seen = e.Queue, e.Position, e.Time
		q.track(e.Call, c)
		return q.line(e.Time, e.Call, e.Queue, "NONE", "ENTERQUEUE", "", e.Caller, itoa(e.Position))
	case store.QueueRingNoAnswer:
		return q.line(e.Time, e.Call, e.Queue, agent, "RINGNOANSWER", itoa(int(e.Ring/time.Millisecond)))
	case store.QueueLogin:
		if _, ok := q.logins[e.Agent]; !ok && len(q.logins) >= maxTracked {
			clear(q.logins)
		}
		q.logins[e.Agent] = e.Time
		return q.line(e.Time, "", "", agent, "AGENTLOGIN", "SIP/"+e.Agent)
	case store.QueueLogout:
		var in time.Duration
		if t, ok := q.logins[e.Agent]; ok {
			in = e.Time.Sub(t)
			delete(q.logins, e.Agent)
		}
		return q.line(e.Time, "", "", agent, "AGENTLOGOFF", "SIP/"+e.Agent, secs(in))
	case store.QueuePause:
		return q.line(e.Time, "", "", agent, "PAUSEALL", e.Reason)
	case store.QueueUnpause:
		return q.line(e.Time, "", "", agent, "UNPAUSEALL", e.Reason)
	}
	return nil // callback-dialled, -answered, -failed, survey, monitor
}

// Flush writes out what is buffered.
func (q *QueueLog) Flush() error { return q.w.Flush() }

// track keeps what is known of a call, making room when the table is
// full: first the calls not heard of for a day, then any, down to 3/4.
func (q *QueueLog) track(call string, c queueCall) {
	if call == "" {
		return
	}
	if _, ok := q.calls[call]; !ok && len(q.calls) >= maxTracked {
		for k, old := range q.calls {
			if c.seen.Sub(old.seen) > 24*time.Hour {
				delete(q.calls, k)
			}
		}
		for k := range q.calls {
			if len(q.calls) < maxTracked*3/4 {
				break
			}
			delete(q.calls, k)
		}
	}
	q.calls[call] = c
}

// line writes one line: the time, the columns ("" is NONE), the event and
// its data.
func (q *QueueLog) line(t time.Time, call, queue, agent, event string, data ...string) error {
	b := strconv.AppendInt(q.b[:0], t.Unix(), 10)
	for _, s := range [...]string{call, queue, agent} {
		if s == "" {
			s = "NONE"
		}
		b = appendField(append(b, '|'), s)
	}
	b = append(append(b, '|'), event...)
	for _, s := range data {
		b = appendField(append(b, '|'), s)
	}
	if n := maxQueueLogLine; len(b) > n {
		for n > 0 && !utf8.RuneStart(b[n]) { // not in the middle of a character
			n--
		}
		b = b[:n]
	}
	b = append(b, '\n')
	q.b = b
	_, err := q.w.Write(b)
	return err
}

// appendField appends s with '|' and line breaks as '_', and stops once b
// is past a line's length (the rest would be cut).
func appendField(b []byte, s string) []byte {
	for i := 0; i < len(s) && len(b) <= maxQueueLogLine; i++ {
		switch c := s[i]; c {
		case '|', '\n', '\r':
			b = append(b, '_')
		default:
			b = append(b, c)
		}
	}
	return b
}

func itoa(n int) string { return strconv.Itoa(n) }

// secs is d in whole seconds, as app_queue's time(NULL) differences.
func secs(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
