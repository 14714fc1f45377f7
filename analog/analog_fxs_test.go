package analog

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/fsk"
	"jinyin/media/tone"
)

// fxsRig is an FXS port on the fake clock with a phone the test handles.
type fxsRig struct {
	f       *FXS
	phone   *sim.FXSPort // hook and bell
	line    *fxsLine     // the audio, when the test listens to it
	clk     *clock.Fake
	dialled chan string
}

// newFXSRig starts port 1 with China's tones, V.23 caller ID and the
// numbering of newFXSCID; listen gives it a lineSlot for its audio;
// mod, when set, changes the configuration first.
func newFXSRig(t *testing.T, listen bool, mod func(*FXSConfig)) *fxsRig {
	t.Helper()
	r := &fxsRig{clk: clock.NewFake(start), dialled: make(chan string, 4)}
	var port hal.FXS
	if listen {
		r.line = newFXSLine()
		r.phone, port = r.line.FXSPort, r.line
	} else {
		r.phone = sim.NewFXS()
		port = r.phone
	}
	cfg := FXSConfig{ID: 1, Ext: "200", Port: port, Clock: r.clk, Log: quiet, Codec: media.PCMA,
		Dial: cn.dial, Busy: cn.busy, Ring: cn.ring, CallerID: CIDFSKV23,
		Number: func(n string) Match {
			switch n {
			case "100", "200":
				return Complete
			case "1", "10", "2", "20", "9":
				return MoreDigits
			case "95", "955":
				return Open
			}
			return NoMatch
		},
		Originate: func(ch *Channel, n string) { r.dialled <- n },
	}
	if mod != nil {
		mod(&cfg)
	}
	r.f = NewFXS(cfg)
	t.Cleanup(func() { r.f.Close(); port.Close() })
	return r
}

// ring starts Ring on a goroutine and returns once the port has taken
// the call (before its next poll); the result arrives on the channel.
func (r *fxsRig) ring(t *testing.T, ctx context.Context, from string) chan ringResult {
	t.Helper()
	res := make(chan ringResult, 1)
	go func() { ch, err := r.f.Ring(ctx, from); res <- ringResult{ch, err} }()
	waitFor(t, "Ring taking the call", func() bool { return r.f.State() == FXSRinging })
	return res
}

type ringResult struct {
	ch  *Channel
	err error
}

// talking rings the phone, lifts it on the first ring and returns the
// answered call.
func (r *fxsRig) talking(t *testing.T) *Channel {
	t.Helper()
	res := r.ring(t, context.Background(), "")
	polls(r.clk, 1)
	r.phone.Lift()
	polls(r.clk, 1)
	select {
	case got := <-res:
		if got.err != nil || r.f.State() != FXSTalking {
			t.Fatalf("answer: %v, state %v", got.err, r.f.State())
		}
		return got.ch
	case <-time.After(5 * time.Second):
		t.Fatal("Ring did not return the answered call")
		return nil
	}
}

// offHook lifts the handset and runs the poll that gives dial tone.
func (r *fxsRig) offHook(t *testing.T) {
	t.Helper()
	r.phone.Lift()
	polls(r.clk, 1)
	if s := r.f.State(); s != FXSDialling {
		t.Fatalf("after lifting: %v, want Dialling", s)
	}
}

// hookBreak puts the handset down for the poll that sees it and then
// polls more, lifts it and runs the poll that sees that: the port
// measures a break of (polls+1) × 10 ms.
func (r *fxsRig) hookBreak(n int) {
	r.phone.Hang()
	polls(r.clk, 1)
	polls(r.clk, n)
	r.phone.Lift()
	polls(r.clk, 1)
}

// The names of the states, and of a value out of range (for logs).
func TestStateNames(t *testing.T) {
	for s, want := range []string{"Idle", "Ringing", "Dialling", "Calling", "Talking", "Flash", "Busy", "FXSState(7)"} {
		if got := FXSState(s).String(); got != want {
			t.Errorf("FXSState(%d) = %q, want %q", s, got, want)
		}
	}
	for s, want := range []string{"Idle", "Ringing", "Answered", "Seized", "Connected", "FXOState(5)"} {
		if got := FXOState(s).String(); got != want {
			t.Errorf("FXOState(%d) = %q, want %q", s, got, want)
		}
	}
}

// A port without a clock or a logger uses the system clock and slog's
// default logger; one given them keeps them.
func TestFXSDefaults(t *testing.T) {
	port := sim.NewFXS()
	defer port.Close()
	f := NewFXS(FXSConfig{ID: 3, Port: port, Codec: media.PCMA})
	defer f.Close()
	if _, ok := f.cfg.Clock.(clock.Real); !ok || f.cfg.Log != slog.Default() {
		t.Errorf("defaults: clock %T, log default %v", f.cfg.Clock, f.cfg.Log == slog.Default())
	}
	r := newFXSRig(t, false, nil)
	if r.f.cfg.Clock != clock.Clock(r.clk) || r.f.cfg.Log != quiet {
		t.Error("the configured clock or logger was replaced")
	}
}

// Each state change is logged once at debug level, from and to.
func TestFXSLogsStateChanges(t *testing.T) {
	h := &logRecords{}
	r := newFXSRig(t, false, func(c *FXSConfig) { c.Log = slog.New(h) })
	r.offHook(t)
	r.f.digit('7') // no such number: busy
	got := h.transitions("fxs")
	if len(got) != 2 || got[0] != "Idle>Dialling" || got[1] != "Dialling>Busy" {
		t.Errorf("logged %q, want [Idle>Dialling Dialling>Busy]", got)
	}
}

// Each session's channel is numbered in turn: fxs1-1 for the first call
// (the port's name and the count of its calls, for the records), fxs1-2
// once the phone has hung up and taken another.
func TestFXSChannelNumbers(t *testing.T) {
	r := newFXSRig(t, false, nil)
	if id := r.talking(t).ID(); id != "fxs1-1" {
		t.Errorf("first call's channel %q, want fxs1-1", id)
	}
	r.phone.Hang()
	polls(r.clk, 1+int(FlashMax/Poll))
	if s := r.f.State(); s != FXSIdle {
		t.Fatalf("after hanging up: %v", s)
	}
	if id := r.talking(t).ID(); id != "fxs1-2" {
		t.Errorf("second call's channel %q, want fxs1-2", id)
	}
}

// A hook flash is an on-hook break of FlashMin (100 ms) up to, not
// including, FlashMax (800 ms), in a call. The port sees the hook every
// 10 ms, so a break it sees for 10 polls is 100 ms.
func TestFXSFlashLength(t *testing.T) {
	for _, c := range []struct {
		polls int // polls on hook, counting the one that saw it
		flash bool
	}{{9, false}, {10, true}, {79, true}} {
		r := newFXSRig(t, false, nil)
		r.talking(t)
		r.hookBreak(c.polls - 1)
		if got := r.f.State() == FXSFlash; got != c.flash {
			t.Errorf("a %d ms break in a call: state %v, flash %v, want %v", c.polls*10, r.f.State(), got, c.flash)
		}
	}
	// 800 ms is no flash.
	r := newFXSRig(t, false, nil)
	r.talking(t)
	r.hookBreak(79)
	if s := r.f.State(); s == FXSFlash {
		t.Errorf("an 800 ms break was taken for a flash")
	}
}

// A handset down for FlashMax (800 ms) has hung up: the call ends then,
// not a poll earlier or later.
func TestFXSHangUpAfterFlashMax(t *testing.T) {
	r := newFXSRig(t, false, nil)
	ch := r.talking(t)
	r.phone.Hang()
	polls(r.clk, 1+79) // seen on hook, then 790 ms
	if s := r.f.State(); s != FXSTalking {
		t.Fatalf("790 ms on hook: %v, want Talking", s)
	}
	polls(r.clk, 1)
	if s := r.f.State(); s != FXSIdle {
		t.Fatalf("800 ms on hook: %v, want Idle", s)
	}
	select {
	case <-ch.Done():
	case <-time.After(5 * time.Second):
		t.Error("the call's channel did not end")
	}
}

// A flash works in a call the phone made too (Calling), and is nothing
// while the phone is still dialling: the digits so far stay.
func TestFXSFlashOnlyInACall(t *testing.T) {
	r := newFXSRig(t, false, nil)
	r.offHook(t)
	r.f.digit('1')
	r.hookBreak(29) // 300 ms
	if s := r.f.State(); s != FXSDialling || r.f.digitsSoFar() != "1" {
		t.Errorf("a 300 ms break while dialling: %v, digits %q; want Dialling, \"1\"", s, r.f.digitsSoFar())
	}

	r = newFXSRig(t, false, nil)
	r.offHook(t)
	for _, d := range []byte("100") {
		r.f.digit(d)
	}
	if s := r.f.State(); s != FXSCalling {
		t.Fatalf("after dialling 100: %v", s)
	}
	r.hookBreak(29)
	if s := r.f.State(); s != FXSFlash {
		t.Errorf("a 300 ms break in a call the phone made: %v, want Flash", s)
	}
}

// Digits are the port's while the phone dials (dial tone, or after a
// flash) and the call's otherwise.
func TestFXSDigitsTaken(t *testing.T) {
	r := newFXSRig(t, false, nil)
	if r.f.digit('5') {
		t.Error("a digit taken on hook")
	}
	r.offHook(t)
	if !r.f.digit('1') {
		t.Error("a digit not taken while dialling")
	}
	r = newFXSRig(t, false, nil)
	r.talking(t)
	if r.f.digit('5') {
		t.Error("a digit in the call taken by the port")
	}
	r.hookBreak(29)
	if !r.f.digit('2') || r.f.digitsSoFar() != "2" {
		t.Errorf("the transfer number's digit not taken: digits %q", r.f.digitsSoFar())
	}
}

// Dial tone with no digit for FirstDigit (15 s) gives busy tone; a
// prefix followed by a pause of InterDigit (4 s) gives busy; a number out
// (Open) is routed on the pause. Each at its time exactly. A number that
// matches nothing gets busy at once, with no Refused configured too.
func TestFXSDialTimers(t *testing.T) {
	r := newFXSRig(t, false, nil)
	r.offHook(t) // dial tone from this poll
	polls(r.clk, int(FirstDigit/Poll)-1)
	if s := r.f.State(); s != FXSDialling {
		t.Fatalf("14.99 s of dial tone: %v", s)
	}
	polls(r.clk, 1)
	if s := r.f.State(); s != FXSBusy {
		t.Fatalf("15 s of dial tone: %v, want Busy", s)
	}

	r = newFXSRig(t, false, nil)
	r.offHook(t)
	r.f.digit('9') // MoreDigits, between polls
	polls(r.clk, int(InterDigit/Poll)-1)
	if s := r.f.State(); s != FXSDialling {
		t.Fatalf("3.99 s after a prefix: %v", s)
	}
	polls(r.clk, 1)
	if s := r.f.State(); s != FXSBusy {
		t.Fatalf("4 s after a prefix: %v, want Busy", s)
	}

	r = newFXSRig(t, false, nil)
	r.offHook(t)
	r.f.digit('9')
	r.f.digit('5') // Open
	polls(r.clk, int(InterDigit/Poll))
	select {
	case n := <-r.dialled:
		if n != "95" || r.f.State() != FXSCalling {
			t.Errorf("routed %q, state %v", n, r.f.State())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a number out was not routed on the pause")
	}

	r = newFXSRig(t, false, nil)
	r.offHook(t)
	r.f.digit('7')
	if s := r.f.State(); s != FXSBusy {
		t.Errorf("a number that matches nothing: %v, want Busy", s)
	}
}

// In a call the dialling timers do not run: a call answered and held
// for 20 s with no digit stays up.
func TestFXSNoDialTimersInACall(t *testing.T) {
	r := newFXSRig(t, false, nil)
	r.talking(t)
	polls(r.clk, 2000)
	if s := r.f.State(); s != FXSTalking {
		t.Errorf("20 s into a call: %v, want Talking", s)
	}
}

// The first digit stops the dial tone (the phone hears silence after
// it, though the number is not complete).
func TestFXSFirstDigitStopsDialTone(t *testing.T) {
	r := newFXSRig(t, true, nil)
	r.offHook(t)
	n := r.line.sentLen()
	if p := peak(r.line.awaitSent(t, n, 5*media.FrameSamples)[media.FrameSamples:]); p < peakAtDBm0(-12) {
		t.Fatalf("dial tone peak %.0f, want the -10 dBm0 tone", p)
	}
	r.f.digit('1')
	n = r.line.sentLen() + media.FrameSamples // the block being sent may have tone
	if p := peak(r.line.awaitSent(t, n, 10*media.FrameSamples)); p > 100 {
		t.Errorf("after the first digit the phone hears peak %.0f, want silence", p)
	}
}

// Ringing follows the configured cadence poll by poll (the UK's double
// ring, 400 on, 200 off, 400 on, 2000 off), or China's 1 s on, 4 s off
// when none is configured. The first ring starts at the first poll after
// Ring.
func TestFXSRingCadence(t *testing.T) {
	for _, c := range []struct {
		name    string
		cadence []int
	}{{"UK", []int{400, 200, 400, 2000}}, {"default", nil}} {
		r := newFXSRig(t, false, func(cfg *FXSConfig) {
			cfg.Ring = tone.Cadence{OnOffMs: c.cadence}
			cfg.CallerID = CIDNone
		})
		want := c.cadence
		if want == nil {
			want = []int{1000, 4000}
		}
		period := 0
		for _, ms := range want {
			period += ms
		}
		ringing := func(ms int) bool { // by the cadence, ms into the period
			ms %= period
			for i, d := range want {
				if ms < d {
					return i%2 == 0
				}
				ms -= d
			}
			return false
		}
		r.ring(t, context.Background(), "")
		for ms := 0; ms < period+1000; ms += 10 {
			polls(r.clk, 1)
			if got := r.phone.Ringing(); got != ringing(ms) {
				t.Fatalf("%s cadence %v: at %d ms ringing %v", c.name, want, ms, got)
			}
		}
	}
}

// DTMF caller ID (China) goes before the first ring: A, the number, C,
// each 70 ms of tone and 70 of silence, so 13 × 140 ms = 1820 ms, and
// the bell 300 ms after it, 2120 ms after the poll that started it. The
// tones are at a sending level of about -8 dBm0 each (ITU-T Q.24: a
// few dB either side), so the pair's rms is one tone's peak.
func TestFXSDTMFCallerIDTimingAndLevel(t *testing.T) {
	r := newFXSRig(t, true, func(c *FXSConfig) { c.CallerID = CIDDTMF })
	r.ring(t, context.Background(), "13800138000")
	n := r.line.sentLen()
	polls(r.clk, 1) // the caller ID starts
	polls(r.clk, 211)
	if r.phone.Ringing() {
		t.Fatal("rang before 2120 ms")
	}
	polls(r.clk, 1)
	if !r.phone.Ringing() {
		t.Fatal("not ringing 2120 ms after the caller ID started")
	}
	pcm := r.line.awaitSent(t, n, 2000*8)
	got, l := dtmfHeard(t, pcm, 480)
	if got != "A13800138000C" {
		t.Errorf("the phone heard %q", got)
	}
	if l < peakAtDBm0(-11) || l > peakAtDBm0(-5) {
		t.Errorf("DTMF caller ID rms %.0f, want a pair of tones at -8 dBm0 each (about %.0f)", l, peakAtDBm0(-8))
	}
}

// FSK caller ID (V.23 and Bell 202) goes in the first silence between
// rings, none during the first ring and none for a call without a
// number; its level is about -13 dBm0 (GR-30-CORE: -13.5 dBm ± 1 dB).
func TestFXSFSKCallerID(t *testing.T) {
	for _, c := range []struct {
		cid string
		std fsk.Standard
	}{{CIDFSKV23, fsk.V23}, {CIDFSKBell202, fsk.Bell202}} {
		r := newFXSRig(t, true, func(cfg *FXSConfig) { cfg.CallerID = c.cid })
		r.ring(t, context.Background(), "13800138000")
		polls(r.clk, 1) // the first ring starts
		n := r.line.sentLen()
		if p := peak(r.line.awaitSent(t, n, 10*media.FrameSamples)); p > 100 {
			t.Errorf("%s: peak %.0f sent during the first ring", c.cid, p)
		}
		polls(r.clk, 100) // the first ring ends at 1 s
		if r.phone.Ringing() {
			t.Fatalf("%s: ringing after 1 s", c.cid)
		}
		pcm := r.line.awaitSent(t, r.line.sentLen(), 8000)
		var got []fsk.CallerID
		fsk.NewDemodulator(c.std, func(id fsk.CallerID) { got = append(got, id) }).Process(pcm)
		if len(got) != 1 || got[0].Number != "13800138000" || got[0].Time != "11231030" {
			t.Errorf("%s: the phone got %+v", c.cid, got)
		}
		if p := peak(pcm); p < peakAtDBm0(-15) || p > peakAtDBm0(-11) {
			t.Errorf("%s: caller ID peak %.0f, want about %.0f (-13 dBm0)", c.cid, p, peakAtDBm0(-13))
		}
	}

	r := newFXSRig(t, true, nil)
	r.ring(t, context.Background(), "")
	polls(r.clk, 101)
	if p := peak(r.line.awaitSent(t, r.line.sentLen(), 8000)); p > 100 {
		t.Errorf("a call without a number: peak %.0f sent between the rings", p)
	}
}

// The phone cannot be rung while it is off hook or already ringing.
func TestFXSRingBusy(t *testing.T) {
	r := newFXSRig(t, false, nil)
	r.offHook(t)
	if _, err := r.f.Ring(context.Background(), "100"); !errors.Is(err, ErrBusy) {
		t.Errorf("ringing a phone off hook: %v, want ErrBusy", err)
	}
	r = newFXSRig(t, false, nil)
	r.ring(t, context.Background(), "")
	if _, err := r.f.Ring(context.Background(), "100"); !errors.Is(err, ErrBusy) {
		t.Errorf("ringing a ringing phone: %v, want ErrBusy", err)
	}
}

// A caller giving up (ctx) stops the bell: Ring returns ctx's error and
// the port is idle, ready to ring again.
func TestFXSRingCancelled(t *testing.T) {
	r := newFXSRig(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res := r.ring(t, ctx, "")
	polls(r.clk, 1)
	if !r.phone.Ringing() {
		t.Fatal("not ringing")
	}
	cancel()
	select {
	case got := <-res:
		if !errors.Is(got.err, context.Canceled) || got.ch != nil {
			t.Errorf("Ring after cancel: %v, %v", got.ch, got.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ring did not return when cancelled")
	}
	if r.phone.Ringing() || r.f.State() != FXSIdle {
		t.Errorf("after cancel: ringing %v, state %v", r.phone.Ringing(), r.f.State())
	}
	r.ring(t, context.Background(), "")
	polls(r.clk, 1)
	if !r.phone.Ringing() {
		t.Error("the port does not ring again after a cancelled call")
	}
}
