package kpi

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"jinyin/store"
)

// TestQueueLog: the golden lines are written by hand from app_queue's
// formats (docs.asterisk.org, Queue Logs; apps/app_queue.c):
// epoch|callid|queuename|agent|EVENT|data..., NONE for a column with
// nothing in it, always a '|' after the event even when its one datum is
// empty (UNPAUSEALL), ENTERQUEUE url|callerid|position, CONNECT
// holdtime|bridgeduniqueid|ringtime (seconds), COMPLETECALLER and
// COMPLETEAGENT holdtime|calltime|origposition, ABANDON, EXITWITHTIMEOUT
// and EXITEMPTY position|origposition|waittime, EXITWITHKEY
// key|position|origposition|waittime, RINGNOANSWER ringtime in
// milliseconds, AGENTLOGIN channel, AGENTLOGOFF channel|logintime,
// PAUSEALL and UNPAUSEALL reason. The epoch of t0 is from date(1):
// `date -u -d '2026-11-30 02:00:00' +%s` = 1796004000.
func TestQueueLog(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, cst) // 02:00:00 UTC
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	evs := []store.QueueEvent{
		{Time: at(0), Kind: store.QueueLogin, Agent: "1001"},
		// c1: answered after a ring-no-answer, the caller hangs up.
		{Time: at(5.9), Kind: store.QueueEnter, Queue: "sales", Call: "c1", Caller: "13800138000", Position: 1},
		{Time: at(12), Kind: store.QueueRingNoAnswer, Queue: "sales", Call: "c1", Agent: "1002", Ring: sec(15.5)},
		{Time: at(12), Kind: store.QueuePause, Agent: "1002", Reason: "no-answer"},
		{Time: at(20), Kind: store.QueueConnect, Queue: "sales", Call: "c1", Caller: "13800138000", Agent: "1001", Wait: sec(14.9), Ring: sec(3.2)},
		// c2: a caller whose number has a '|' hangs up waiting.
		{Time: at(30), Kind: store.QueueEnter, Queue: "sales", Call: "c2", Caller: "x|y", Position: 2},
		{Time: at(40), Kind: store.QueueAbandon, Queue: "sales", Call: "c2", Caller: "x|y", Position: 1, Wait: sec(10)},
		// c3 waits the queue's maximum; c4 is sent away when the last agent logs out.
		{Time: at(41), Kind: store.QueueEnter, Queue: "support", Call: "c3", Caller: "1003", Position: 1},
		{Time: at(42), Kind: store.QueueEnter, Queue: "support", Call: "c4", Position: 2},
		{Time: at(50), Kind: store.QueueAbandon, Queue: "support", Call: "c4", Wait: sec(8), Reason: "no agents"},
		// c5 overflows to support, then a "transfer" within support, then answered there.
		{Time: at(43), Kind: store.QueueEnter, Queue: "sales", Call: "c5", Caller: "1005", Position: 1},
		{Time: at(73), Kind: store.QueueTransfer, Queue: "support", Call: "c5", Caller: "1005", Reason: "overflow from sales"},
		{Time: at(80), Kind: store.QueueTransfer, Queue: "support", Call: "c5", Caller: "1005", Reason: "agent did not take it"},
		{Time: at(85), Kind: store.QueueComplete, Queue: "sales", Call: "c1", Caller: "13800138000", Agent: "1001", Talk: sec(65.7), Reason: "caller"},
		{Time: at(90), Kind: store.QueueConnect, Queue: "support", Call: "c5", Caller: "1005", Agent: "1001", Wait: sec(47), Ring: sec(2)},
		{Time: at(100), Kind: store.QueueComplete, Queue: "support", Call: "c5", Caller: "1005", Agent: "1001", Talk: sec(10), Reason: "agent"},
		{Time: at(101), Kind: store.QueueAbandon, Queue: "support", Call: "c3", Caller: "1003", Wait: sec(60), Reason: "max-wait"},
		// c6 keys 1 for a callback; one is booked over the API too.
		{Time: at(44), Kind: store.QueueEnter, Queue: "sales", Call: "c6", Caller: "1006", Position: 3},
		{Time: at(60), Kind: store.QueueCallbackRequested, Queue: "sales", Call: "c6", Caller: "1006", Wait: sec(16)},
		{Time: at(61), Kind: store.QueueCallbackRequested, Queue: "sales", Caller: "1007"},
		// No queue_log event for these.
		{Time: at(62), Kind: store.QueueCallbackDialled, Queue: "sales", Call: "callback-x", Caller: "1007", Agent: "1001", Value: 1},
		{Time: at(63), Kind: store.QueueCallbackAnswered, Queue: "sales", Call: "callback-x", Caller: "1007", Agent: "1001", Value: 1},
		{Time: at(64), Kind: store.QueueCallbackFailed, Queue: "sales", Call: "callback-y", Caller: "1008", Reason: "busy"},
		{Time: at(65), Kind: store.QueueSurvey, Queue: "sales", Call: "c1", Agent: "1001", Value: 5},
		{Time: at(66), Kind: store.QueueMonitor, Queue: "sales", Call: "c1", Agent: "1001", Reason: "listen by 1004"},
		// A call whose talk failed to start, its connect before these events.
		{Time: at(70), Kind: store.QueueComplete, Queue: "sales", Call: "c0", Agent: "1001", Reason: "error"},
		{Time: at(120), Kind: store.QueueUnpause, Agent: "1002"},
		{Time: at(121), Kind: store.QueuePause, Agent: "1002", Reason: "lunch|break\n"},
		{Time: at(3600), Kind: store.QueueLogout, Agent: "1001"},
		{Time: at(3601), Kind: store.QueueLogout, Agent: "1003"}, // logged in before these events
		{Time: at(3602), Kind: store.QueueRingNoAnswer, Queue: "a|b", Call: "c\r\n7", Agent: "1002"},
	}
	want := `1796004000|NONE|NONE|Agent/1001|AGENTLOGIN|SIP/1001
1796004005|c1|sales|NONE|ENTERQUEUE||13800138000|1
1796004012|c1|sales|Agent/1002|RINGNOANSWER|15500
1796004012|NONE|NONE|Agent/1002|PAUSEALL|no-answer
1796004020|c1|sales|Agent/1001|CONNECT|14||3
1796004030|c2|sales|NONE|ENTERQUEUE||x_y|2
1796004040|c2|sales|NONE|ABANDON|1|2|10
1796004041|c3|support|NONE|ENTERQUEUE||1003|1
1796004042|c4|support|NONE|ENTERQUEUE|||2
1796004050|c4|support|NONE|EXITEMPTY|0|2|8
1796004043|c5|sales|NONE|ENTERQUEUE||1005|1
1796004073|c5|sales|NONE|EXITWITHTIMEOUT|0|1|30
1796004073|c5|support|NONE|ENTERQUEUE||1005|0
1796004085|c1|sales|Agent/1001|COMPLETECALLER|14|65|1
1796004090|c5|support|Agent/1001|CONNECT|47||2
1796004100|c5|support|Agent/1001|COMPLETEAGENT|47|10|0
1796004101|c3|support|NONE|EXITWITHTIMEOUT|0|1|60
1796004044|c6|sales|NONE|ENTERQUEUE||1006|3
1796004060|c6|sales|NONE|EXITWITHKEY|1|0|3|16
1796004070|c0|sales|Agent/1001|COMPLETEAGENT|0|0|0
1796004120|NONE|NONE|Agent/1002|UNPAUSEALL|
1796004121|NONE|NONE|Agent/1002|PAUSEALL|lunch_break_
1796007600|NONE|NONE|Agent/1001|AGENTLOGOFF|SIP/1001|3600
1796007601|NONE|NONE|Agent/1003|AGENTLOGOFF|SIP/1003|0
1796007602|c__7|a_b|Agent/1002|RINGNOANSWER|0
`
	var b bytes.Buffer
	q := NewQueueLog(&b)
	for _, e := range evs {
		if err := q.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if len(q.calls) != 0 || len(q.logins) != 0 {
		t.Errorf("kept after every call and login ended: %d calls, %d logins", len(q.calls), len(q.logins))
	}
}

// TestQueueLogLongLine: a line is cut at app_queue's 8191 bytes, not in
// the middle of a character.
func TestQueueLogLongLine(t *testing.T) {
	var b bytes.Buffer
	q := NewQueueLog(&b)
	t0 := time.Unix(1796004000, 0)
	if err := q.Write(store.QueueEvent{Time: t0, Kind: store.QueuePause, Agent: "1001", Reason: strings.Repeat("é", 5000)}); err != nil {
		t.Fatal(err)
	}
	q.Flush()
	head := "1796004000|NONE|NONE|Agent/1001|PAUSEALL|"
	line := b.String()
	// 41 bytes of head leave 8150 for the reason: 4075 é.
	if want := head + strings.Repeat("é", 4075) + "\n"; line != want {
		t.Errorf("got %d bytes (valid UTF-8 %v), want %d", len(line), utf8.ValidString(line), len(want))
	}
}

// countWriter counts bytes and lines, keeping none.
type countWriter struct{ bytes, lines int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.bytes += len(p)
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// TestQueueLogStreams: 200,000 calls a minute apart, one in ten of them
// never ending (their end lost to a power cut), and 10,000 agents logging
// in: QueueLog keeps one line and at most 4,096 calls and agents, and
// its heap stays within 4 MiB.
func TestQueueLogStreams(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var out countWriter
	q := NewQueueLog(&out)
	t0 := time.Unix(1796004000, 0)
	const calls = 200_000
	lines := 0
	for i := range calls {
		at := t0.Add(time.Duration(i) * time.Minute)
		call := "call-" + strconv.Itoa(i)
		agent := strconv.Itoa(1000 + i%10_000)
		evs := []store.QueueEvent{{Time: at, Kind: store.QueueEnter, Queue: "sales", Call: call, Caller: "13800138000", Position: 1}}
		if i%10 != 0 {
			evs = append(evs,
				store.QueueEvent{Time: at.Add(5 * time.Second), Kind: store.QueueConnect, Queue: "sales", Call: call, Agent: agent, Wait: 5 * time.Second},
				store.QueueEvent{Time: at.Add(50 * time.Second), Kind: store.QueueComplete, Queue: "sales", Call: call, Agent: agent, Talk: 45 * time.Second, Reason: "agent"})
		}
		if i < 10_000 {
			evs = append(evs, store.QueueEvent{Time: at, Kind: store.QueueLogin, Agent: agent})
		}
		for _, e := range evs {
			if err := q.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		lines += len(evs)
		if len(q.calls) > maxTracked || len(q.logins) > maxTracked {
			t.Fatalf("call %d: keeping %d calls, %d agents", i, len(q.calls), len(q.logins))
		}
	}
	q.Flush()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if out.lines != lines {
		t.Errorf("%d lines, want %d", out.lines, lines)
	}
	if cap(q.b) > 256 {
		t.Errorf("line buffer grew to %d bytes", cap(q.b))
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4<<20 {
		t.Errorf("heap grew %d bytes over %d lines (%d bytes written)", grew, out.lines, out.bytes)
	}
	runtime.KeepAlive(q)
}

// queueLogData is how many data fields each event has.
var queueLogData = map[string]int{
	"ENTERQUEUE": 3, "CONNECT": 3, "COMPLETECALLER": 3, "COMPLETEAGENT": 3,
	"ABANDON": 3, "EXITWITHTIMEOUT": 3, "EXITEMPTY": 3, "EXITWITHKEY": 4,
	"RINGNOANSWER": 1, "AGENTLOGIN": 1, "AGENTLOGOFF": 2, "PAUSEALL": 1, "UNPAUSEALL": 1,
}

// FuzzQueueLog: whatever the text in an event, every line ends in one
// line break, is at most 8192 bytes, starts with the epoch, and (unless
// cut) splits into its columns and its event's number of data fields.
func FuzzQueueLog(f *testing.F) {
	f.Add("enter", "c1", "sales", "", "13800138000", "", 1)
	f.Add("pause", "", "", "1001", "", "lunch|break", 0)
	f.Add("abandon", "c|2", "a\nb", "", "x\r\ny", "max-wait", 3)
	f.Add("transfer", "c3", "support", "", "1005", "overflow from sales", 0)
	f.Add("callback-requested", "c4", "sales", "", "1006", "", 2)
	f.Add("logout", "", "", "1|2", "", "", 0)
	f.Fuzz(func(t *testing.T, kind, call, queue, agent, caller, reason string, pos int) {
		var b bytes.Buffer
		q := NewQueueLog(&b)
		t0 := time.Unix(1796004000, 0)
		for i, k := range []store.QueueKind{store.QueueEnter, store.QueueConnect, store.QueueKind(kind)} {
			e := store.QueueEvent{Time: t0.Add(time.Duration(i) * time.Second), Kind: k, Queue: queue, Call: call,
				Caller: caller, Agent: agent, Position: pos, Wait: time.Second, Reason: reason}
			if err := q.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		q.Flush()
		out := b.String()
		valid := true // then so is every line, cut or not
		for _, s := range []string{kind, call, queue, agent, caller, reason} {
			valid = valid && utf8.ValidString(s)
		}
		if !strings.HasSuffix(out, "\n") {
			t.Fatalf("no line end: %q", out)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if len(line) > maxQueueLogLine {
				t.Fatalf("%d bytes", len(line))
			}
			if !strings.HasPrefix(line, "17960040") || !utf8.ValidString(line) && valid {
				t.Fatalf("not a queue_log line: %q", line)
			}
			if len(line) >= maxQueueLogLine-utf8.UTFMax {
				continue // perhaps cut
			}
			cols := strings.Split(line, "|")
			if len(cols) < 5 {
				t.Fatalf("not a queue_log line: %q", line)
			}
			if n, ok := queueLogData[cols[4]]; !ok || len(cols) != 5+n {
				t.Fatalf("event %q: %d data fields, want %d: %q", cols[4], len(cols)-5, n, line)
			}
		}
	})
}
