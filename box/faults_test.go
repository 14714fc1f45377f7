package box_test

import (
	"strings"
	"testing"
	"time"

	boardsim "jinyin/board/sim"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/hal/socket"
	"jinyin/pri/libpritest"
)

// lineToLibpri joins the simulated span 1's line end to a libpri peer:
// frames cross both ways until the test ends, so alarms injected on the
// sim span (which cut its D-channel) act on a real PRI peer.
func lineToLibpri(t *testing.T, peer *libpritest.Peer) {
	t.Helper()
	far := boardsim.Opened(1).FarDChannel()
	sock := socket.Open(peer.DPath, "")
	d, err := sock.DChannel()
	if err != nil {
		t.Fatal(err)
	}
	pump := func(from, to hal.DChannel) {
		buf := make([]byte, 300)
		for {
			n, err := from.ReadFrame(buf)
			if err != nil {
				return
			}
			to.WriteFrame(buf[:n])
		}
	}
	go pump(far, d)
	go pump(d, far)
	t.Cleanup(func() { far.Close(); sock.Close() })
}

// A span that loses its signal mid-call: RAI alone (the far end's fault
// report) leaves the call up; a LOS shorter than T309 leaves it up too
// and the call ends normally later; an AIS longer than T309 clears the
// call with cause 27 (destination out of order), as libpri and Q.931
// §5.8.9 do, with its call record. The alarm shows in /status and on the
// LED while it lasts, and the span takes calls again once it clears.
func TestSpanLosesSignalMidCall(t *testing.T) {
	peer := libpritest.Start(t, "net")
	dir := t.TempDir()
	def := string(config.Default())
	cfg := strings.Replace(def, "group = \"pri\"\n", "group = \"pri\"\nt309 = \"3s\"\n", 1)
	if cfg == def {
		t.Fatal("the default config's span is not where the test expects it")
	}
	_, httpAddr, stop := startConfig(t, dir, []byte(cfg))
	lineToLibpri(t, peer)
	span := boardsim.Opened(1)
	led := boardsim.AlarmLED(1)
	peer.Expect("UP")
	alarm := func(a hal.Alarms) {
		t.Helper()
		span.InjectAlarms(a)
		want := a.String()
		waitUntil(t, "/status showing alarms "+want, func() bool {
			st := status(t, httpAddr)
			return len(st.Spans) > 0 && st.Spans[0].Alarms == want
		})
		waitUntil(t, "the alarm LED following "+want, func() bool { return led.On() == (a != 0) })
	}

	dchannel := func() float64 { return sample(t, scrape(t, httpAddr), "jinyin_span_dchannel_up", "span", "1") }
	// answered waits for the CONNECT ACKNOWLEDGE libpri sends with its
	// ANSWER event to cross the line: until then the call is not active
	// and a fault clears it at once (cause 41).
	answered := func(ch string) {
		peer.Expect("ANSWER ch=" + ch)
		time.Sleep(time.Second)
	}
	peer.Send("call 100 1")
	answered("1")
	alarm(hal.AlarmRAI)
	time.Sleep(4 * time.Second) // longer than T309
	alarm(0)
	alarm(hal.AlarmLOS)
	time.Sleep(time.Second) // shorter than T309
	alarm(0)
	time.Sleep(4 * time.Second) // the box would have cleared by now
	peer.Send("hangup 16")
	if got := peer.Expect("HANGUP"); !strings.Contains(got, "HANGUP_ACK") && !strings.Contains(got, "cause=16") {
		t.Errorf("the call after RAI and a short LOS: %q; it should still be up", got)
	}

	peer.Send("call 100 2")
	answered("2")
	alarm(hal.AlarmAIS) // the long fault is AIS (the short one was LOS): both cut the D-channel
	waitUntil(t, "the D-channel down through AIS", func() bool { return dchannel() == 0 })
	time.Sleep(5 * time.Second) // T309 and the second the box looks at alarms
	alarm(0)
	waitUntil(t, "the D-channel up again", func() bool { return dchannel() == 1 })
	peer.Send("call 100 3")
	peer.Expect("ANSWER ch=3")
	peer.Send("hangup 16")
	peer.Expect("HANGUP")

	stop()
	cdrs, err := openStore(t, dir).CDRs(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cdrs {
		got = append(got, c.Disposition+" "+c.Cause)
	}
	want := []string{
		"answered Q.850 16 (normal call clearing)",
		"answered Q.850 27 (destination out of order)",
		"answered Q.850 16 (normal call clearing)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("call records:\n%s\nwant:\n%s\nlibpri:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), peer.Log())
	}
}
