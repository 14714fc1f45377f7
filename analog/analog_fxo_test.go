package analog

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"jinyin/hal/sim"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/fsk"
)

// fxoRig is an FXO port on a simulated exchange line whose audio is a
// lineSlot, on a fake clock that reports the port's timers.
type fxoRig struct {
	o     *FXO
	line  *fxoLine
	clk   *spyClock
	calls chan inbound
}

func newFXORig(t *testing.T, mod func(*FXOConfig)) *fxoRig {
	t.Helper()
	r := &fxoRig{line: newFXOLine(), clk: newSpyClock(), calls: make(chan inbound, 4)}
	cfg := FXOConfig{ID: 2, Port: r.line, Clock: r.clk, Log: quiet, Codec: media.PCMA, CallerID: CIDNone, Busy: cn.busy,
		Incoming: func(ch *Channel, c string) { r.calls <- inbound{ch, c} }}
	if mod != nil {
		mod(&cfg)
	}
	r.o = NewFXO(cfg)
	t.Cleanup(func() { r.o.Close(); r.line.Close() })
	return r
}

// ring applies ringing for n polls and removes it for the next poll.
func (r *fxoRig) ring(n int) {
	r.line.SetRinging(true)
	polls(r.clk.Fake, n)
	r.line.SetRinging(false)
	polls(r.clk.Fake, 1)
}

// ringDetected is ringing held until the port counts it: RingDetect
// (150 ms) after the poll that first sees it, so 16 polls.
const ringDetected = 1 + int(RingDetect/Poll)

// answered rings until the port answers and returns the call.
func (r *fxoRig) answered(t *testing.T) inbound {
	t.Helper()
	for range r.o.cfg.Rings {
		r.ring(ringDetected)
	}
	select {
	case c := <-r.calls:
		if r.o.State() != FXOAnswered || !r.line.Seized() {
			t.Fatalf("answered: state %v, seized %v", r.o.State(), r.line.Seized())
		}
		return c
	case <-time.After(5 * time.Second):
		t.Fatalf("not answered: state %v", r.o.State())
		return inbound{}
	}
}

// dial runs Dial on a goroutine; the result arrives on the channel.
func (r *fxoRig) dial(ctx context.Context, number string) chan dialResult {
	res := make(chan dialResult, 1)
	go func() { ch, err := r.o.Dial(ctx, number); res <- dialResult{ch, err} }()
	return res
}

type dialResult struct {
	ch  *Channel
	err error
}

func awaitDial(t *testing.T, res chan dialResult) dialResult {
	t.Helper()
	select {
	case d := <-res:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not return")
		return dialResult{}
	}
}

// connected dials 4008 and runs the clock through the dialling.
func (r *fxoRig) connected(t *testing.T) *Channel {
	t.Helper()
	res := r.dial(context.Background(), "4008")
	r.clk.Advance(r.clk.nextTimer(t))
	r.clk.Advance(r.clk.nextTimer(t))
	d := awaitDial(t, res)
	if d.err != nil || r.o.State() != FXOConnected {
		t.Fatalf("dial: %v, state %v", d.err, r.o.State())
	}
	return d.ch
}

// A port without a clock or logger uses the system clock and slog's
// default; Rings 0 answers on the first ring, or on the second with FSK
// caller ID (it comes after the first); a configured count stays.
func TestFXODefaults(t *testing.T) {
	port := sim.NewFXO()
	defer port.Close()
	o := NewFXO(FXOConfig{ID: 3, Port: port, Codec: media.PCMA})
	defer o.Close()
	if _, ok := o.cfg.Clock.(clock.Real); !ok || o.cfg.Log != slog.Default() || o.cfg.Rings != 1 {
		t.Errorf("defaults: clock %T, default log %v, rings %d", o.cfg.Clock, o.cfg.Log == slog.Default(), o.cfg.Rings)
	}
	for cid, want := range map[string]int{CIDNone: 1, CIDDTMF: 1, CIDFSKV23: 2, CIDFSKBell202: 2} {
		if got := newFXORig(t, func(c *FXOConfig) { c.CallerID = cid }).o.cfg.Rings; got != want {
			t.Errorf("%s: answers on ring %d, want %d", cid, got, want)
		}
	}
	r := newFXORig(t, func(c *FXOConfig) { c.Rings = 3 })
	if r.o.cfg.Rings != 3 || r.o.cfg.Log != quiet || r.o.cfg.Clock != clock.Clock(r.clk) {
		t.Error("the configured rings, logger or clock were replaced")
	}
}

// Ringing is a ring once it has lasted RingDetect (150 ms): seen at 16
// polls in a row it counts, at 15 it does not.
func TestFXORingDetect(t *testing.T) {
	r := newFXORig(t, func(c *FXOConfig) { c.Rings = 2 })
	r.ring(ringDetected - 1)
	if s := r.o.State(); s != FXOIdle {
		t.Fatalf("140 ms of ringing: %v, want Idle", s)
	}
	r.ring(ringDetected)
	if s := r.o.State(); s != FXORinging {
		t.Fatalf("150 ms of ringing: %v, want Ringing", s)
	}
}

// The port answers on the configured ring, here the third, and logs each
// state change once (the second ring does not change the state).
func TestFXOAnswersOnTheConfiguredRing(t *testing.T) {
	h := &logRecords{}
	r := newFXORig(t, func(c *FXOConfig) { c.Rings = 3; c.Log = slog.New(h) })
	for i := 1; i <= 2; i++ {
		r.ring(ringDetected + 85) // 1 s on
		polls(r.clk.Fake, 399)    // 4 s off
		if r.line.Seized() || r.o.State() != FXORinging {
			t.Fatalf("after ring %d: seized %v, state %v", i, r.line.Seized(), r.o.State())
		}
	}
	r.line.SetRinging(true)
	polls(r.clk.Fake, ringDetected-1)
	if r.line.Seized() {
		t.Fatal("answered before the third ring was detected")
	}
	polls(r.clk.Fake, 1)
	select {
	case c := <-r.calls:
		if c.ch.ID() != "fxo2-1" {
			t.Errorf("the call's channel %q, want fxo2-1", c.ch.ID())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not answered on the third ring")
	}
	if got := h.transitions("fxo"); len(got) != 2 || got[0] != "Idle>Ringing" || got[1] != "Ringing>Answered" {
		t.Errorf("logged %q, want [Idle>Ringing Ringing>Answered]", got)
	}
}

// A caller who gives up: no ring for RingGone (8 s) after the last one
// counted puts the port back to idle, then and not before, and the next
// call's rings count from one again.
func TestFXORingingGone(t *testing.T) {
	r := newFXORig(t, func(c *FXOConfig) { c.Rings = 2 })
	r.ring(ringDetected) // counted at its last poll, then one poll without
	polls(r.clk.Fake, int(RingGone/Poll)-1)
	if s := r.o.State(); s != FXORinging {
		t.Fatalf("8 s after the ring: %v, want Ringing", s)
	}
	polls(r.clk.Fake, 1)
	if s := r.o.State(); s != FXOIdle {
		t.Fatalf("8.01 s after the ring: %v, want Idle", s)
	}
	r.ring(ringDetected)
	if r.line.Seized() || r.o.State() != FXORinging {
		t.Errorf("a new call's first ring: seized %v, state %v", r.line.Seized(), r.o.State())
	}
}

// Loop current gone for LoopDropMin (300 ms) clears the call, measured
// from the poll that first misses it; a shorter break, even twice, does
// not.
func TestFXOLoopDropTiming(t *testing.T) {
	r := newFXORig(t, nil)
	c := r.answered(t)
	for range 2 {
		r.line.DropLoop()
		polls(r.clk.Fake, 1+29) // missed, then 290 ms
		r.line.RestoreLoop()
		polls(r.clk.Fake, 1)
	}
	if s := r.o.State(); s != FXOAnswered {
		t.Fatalf("two 290 ms breaks: %v, want Answered", s)
	}
	r.line.DropLoop()
	polls(r.clk.Fake, 1+29)
	if s := r.o.State(); s != FXOAnswered {
		t.Fatalf("290 ms without loop current: %v", s)
	}
	polls(r.clk.Fake, 1)
	if s := r.o.State(); s != FXOIdle || r.line.Seized() {
		t.Fatalf("300 ms without loop current: %v, seized %v", s, r.line.Seized())
	}
	select {
	case <-c.ch.Done():
	case <-time.After(5 * time.Second):
		t.Error("the call's channel did not end")
	}
}

// The exchange's busy tone clears the call (China, 450 Hz 350/350): fed
// through the line's audio, it clears it at the next poll.
func TestFXOBusyToneClears(t *testing.T) {
	r := newFXORig(t, nil)
	r.answered(t)
	var pcm []int16
	for _, b := range cadence(450, -10, 360, 340, 3) {
		pcm = append(pcm, b...)
	}
	r.line.feed(t, pcm)
	polls(r.clk.Fake, 1)
	if s := r.o.State(); s != FXOIdle || r.line.Seized() {
		t.Errorf("after busy tone: %v, seized %v", s, r.line.Seized())
	}
}

// The application hanging up puts the line on hook, for an inbound call
// and for one the port dialled.
func TestFXOApplicationHangsUp(t *testing.T) {
	r := newFXORig(t, nil)
	c := r.answered(t)
	c.ch.Hangup()
	waitFor(t, "on hook after the inbound call's hangup", func() bool { return r.o.State() == FXOIdle && !r.line.Seized() })

	r = newFXORig(t, nil)
	r.connected(t).Hangup()
	waitFor(t, "on hook after the outbound call's hangup", func() bool { return r.o.State() == FXOIdle && !r.line.Seized() })
}

// Flash breaks the loop for FlashTime (120 ms) on a call that is up,
// inbound or outbound, once at a time; a reversal and the loop break
// meanwhile do not clear the call, and supervision starts anew after it.
// A call hung up during the flash stays on hook.
func TestFXOFlash(t *testing.T) {
	r := newFXORig(t, nil)
	r.connected(t)
	if err := r.o.Flash(); err != nil {
		t.Fatalf("flash on an outbound call: %v", err)
	}
	if err := r.o.Flash(); err == nil {
		t.Error("a second flash during the first")
	}
	if d := r.clk.nextTimer(t); d != FlashTime {
		t.Errorf("the loop is broken for %v, want %v", d, FlashTime)
	}
	r.line.Reverse() // an exchange may reverse on the recall
	polls(r.clk.Fake, int(FlashTime/Poll))
	if !r.line.Seized() || r.o.State() != FXOConnected {
		t.Fatalf("after the flash: seized %v, state %v", r.line.Seized(), r.o.State())
	}
	polls(r.clk.Fake, 50)
	if s := r.o.State(); s != FXOConnected {
		t.Errorf("the polarity at the flash cleared the call: %v", s)
	}

	r = newFXORig(t, nil)
	c := r.answered(t)
	if err := r.o.Flash(); err != nil {
		t.Fatal(err)
	}
	c.ch.Hangup()
	waitFor(t, "idle after the hangup", func() bool { return r.o.State() == FXOIdle })
	polls(r.clk.Fake, int(FlashTime/Poll)+1)
	if r.line.Seized() {
		t.Error("a call hung up during the flash went off hook again")
	}
}

// FSK caller ID between the first and second ring reaches Incoming, as
// Bell 202 when configured; a withheld number arrives as its reason
// ("P", private, ETSI EN 300 659-3 parameter 04).
func TestFXOFSKCallerID(t *testing.T) {
	for _, c := range []struct {
		cid  string
		std  fsk.Standard
		msg  fsk.CallerID
		want string
	}{
		{CIDFSKBell202, fsk.Bell202, fsk.CallerID{Time: "11231030", Number: "075512345678"}, "075512345678"},
		{CIDFSKV23, fsk.V23, fsk.CallerID{Time: "11231030", Absence: "P"}, "P"},
	} {
		r := newFXORig(t, func(cfg *FXOConfig) { cfg.CallerID = c.cid })
		r.ring(ringDetected)
		r.line.feed(t, append(make([]int16, 1600), fsk.Modulate(c.std, c.msg.Encode(), -15)...))
		r.ring(ringDetected)
		select {
		case got := <-r.calls:
			if got.cid != c.want {
				t.Errorf("%s: caller %q, want %q", c.cid, got.cid, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: not answered", c.cid)
		}
	}
}

// DTMF caller ID is collected on hook: A or D starts it, C or # ends it,
// at most 32 digits; a line configured otherwise, or a call that is up,
// leaves digits to the call.
func TestFXODTMFCallerIDDigits(t *testing.T) {
	r := newFXORig(t, func(c *FXOConfig) { c.CallerID = CIDDTMF })
	for _, d := range []byte("D8613800138000#") {
		if !r.o.dtmfDigit(d) {
			t.Fatalf("digit %c of the caller ID not taken", d)
		}
	}
	r.ring(ringDetected)
	if c := waitCall(t, r.calls); c.cid != "8613800138000" {
		t.Errorf("caller %q", c.cid)
	}
	if r.o.dtmfDigit('5') {
		t.Error("a digit in the call taken as caller ID")
	}

	r = newFXORig(t, func(c *FXOConfig) { c.CallerID = CIDDTMF; c.Rings = 2 })
	r.ring(ringDetected)
	long := "A" + "0123456789012345678901234567890123456789" + "C"
	for _, d := range []byte(long) {
		if !r.o.dtmfDigit(d) {
			t.Fatalf("digit %c while ringing not taken", d)
		}
	}
	r.ring(ringDetected)
	if c := waitCall(t, r.calls); c.cid != long[1:33] {
		t.Errorf("caller %q, want the first 32 digits", c.cid)
	}

	r = newFXORig(t, nil)
	if r.o.dtmfDigit('A') {
		t.Error("a line without DTMF caller ID took a digit")
	}
}

// Dial seizes the line, waits 1 s for dial tone, sends the digits at
// 80 ms tone, 80 ms silence each, then waits for them to go out and
// 100 ms more: 4 × 160 + 100 = 740 ms for 4008. The exchange hears the
// digits at about -8 dBm0 a tone (ITU-T Q.24).
func TestFXODialTiming(t *testing.T) {
	r := newFXORig(t, nil)
	res := r.dial(context.Background(), "4008")
	if d := r.clk.nextTimer(t); d != time.Second || !r.line.Seized() || r.o.State() != FXOSeized {
		t.Fatalf("dial tone wait %v, seized %v, state %v", d, r.line.Seized(), r.o.State())
	}
	n := r.line.sentLen()
	r.clk.Advance(time.Second)
	if d := r.clk.nextTimer(t); d != 740*time.Millisecond {
		t.Errorf("waits %v for the digits, want 740ms", d)
	}
	r.clk.Advance(730 * time.Millisecond)
	if s := r.o.State(); s != FXOSeized || len(res) != 0 {
		t.Fatalf("730 ms into the digits: %v", s)
	}
	r.clk.Advance(10 * time.Millisecond)
	if d := awaitDial(t, res); d.err != nil || r.o.State() != FXOConnected {
		t.Fatalf("dial: %v, state %v", d.err, r.o.State())
	}
	pcm := r.line.awaitSent(t, n, 8*640+1600)
	got, l := dtmfHeard(t, pcm, 600)
	if got != "4008" {
		t.Errorf("the exchange heard %q", got)
	}
	if l < peakAtDBm0(-11) || l > peakAtDBm0(-5) {
		t.Errorf("digit rms %.0f, want a pair of tones at -8 dBm0 each (about %.0f)", l, peakAtDBm0(-8))
	}
}

// Dial refuses a number that is not DTMF, and a line that is in a call
// or ringing; a cancel during the dial tone or the digits releases the
// line.
func TestFXODialRefusedOrCancelled(t *testing.T) {
	r := newFXORig(t, nil)
	if _, err := r.o.Dial(context.Background(), "40x8"); err == nil || r.line.Seized() {
		t.Errorf("dialling 40x8: %v, seized %v", err, r.line.Seized())
	}
	r.line.SetRinging(true)
	if _, err := r.o.Dial(context.Background(), "4008"); !errors.Is(err, ErrBusy) {
		t.Errorf("dialling on a ringing line: %v, want ErrBusy", err)
	}
	r.line.SetRinging(false)
	r.answered(t)
	if _, err := r.o.Dial(context.Background(), "4008"); !errors.Is(err, ErrBusy) {
		t.Errorf("dialling during a call: %v, want ErrBusy", err)
	}

	for _, timers := range []int{1, 2} { // cancelled in the dial tone, in the digits
		r := newFXORig(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		res := r.dial(ctx, "4008")
		for i := range timers {
			d := r.clk.nextTimer(t)
			if i < timers-1 {
				r.clk.Advance(d)
			}
		}
		cancel()
		if d := awaitDial(t, res); !errors.Is(d.err, context.Canceled) || d.ch != nil {
			t.Errorf("cancelled after %d timers: %v, %v", timers, d.ch, d.err)
		}
		waitFor(t, "on hook after the cancel", func() bool { return r.o.State() == FXOIdle && !r.line.Seized() })
	}
}

// Dial right after a call ends waits, up to 100 ms, for the next
// session's channel (the last one is still letting go of the timeslot),
// and then dials.
func TestFXODialWaitsForTheNextSession(t *testing.T) {
	r := newFXORig(t, nil)
	r.answered(t)
	r.line.pause(t) // the call's channel cannot let go yet
	r.line.DropLoop()
	polls(r.clk.Fake, 1+29)
	cleared := make(chan struct{})
	go func() { r.clk.Advance(Poll); close(cleared) }() // clears; waits for the channel
	waitFor(t, "the session ending", func() bool {
		r.o.mu.Lock()
		defer r.o.mu.Unlock()
		return r.o.cur == nil
	})
	r.line.RestoreLoop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := r.dial(ctx, "4008")
	if d := r.clk.nextTimer(t); d != 100*time.Millisecond {
		t.Errorf("Dial waits %v for the session, want 100ms", d)
	}
	r.line.resume()
	<-cleared
	if d := r.clk.nextTimer(t); d != time.Second || !r.line.Seized() {
		t.Errorf("then: timer %v, seized %v; want the 1 s dial tone wait, seized", d, r.line.Seized())
	}
	cancel()
	awaitDial(t, res)
}
