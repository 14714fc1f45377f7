package analog

import (
	"context"
	"io"
	"jinyin/internal/slottest"
	"log/slog"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/dtmf"
	"jinyin/media/fsk"
	"jinyin/media/tone"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var cn = struct{ dial, busy, ring tone.Cadence }{
	dial: tone.Cadence{FreqsHz: []float64{450}, LevelDBm0: -10},
	busy: tone.Cadence{FreqsHz: []float64{450}, LevelDBm0: -10, OnOffMs: []int{350, 350}},
	ring: tone.Cadence{OnOffMs: []int{1000, 4000}},
}

// advance moves the fake clock in poll steps, letting the port run.
func advance(clk *clock.Fake, d time.Duration) {
	for ; d > 0; d -= Poll {
		clk.Advance(Poll)
		time.Sleep(200 * time.Microsecond)
	}
}

// until advances the clock until cond holds, failing after limit.
func until(t *testing.T, clk *clock.Fake, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for d := time.Duration(0); !cond(); d += Poll {
		if d > limit {
			t.Fatalf("%s did not happen within %v", what, limit)
		}
		clk.Advance(Poll)
		time.Sleep(time.Millisecond)
	}
}

func newFXS(t *testing.T) (*FXS, *sim.FXSPort, *clock.Fake, chan string) {
	return newFXSCID(t, CIDFSKV23)
}

func newFXSCID(t *testing.T, cid string) (*FXS, *sim.FXSPort, *clock.Fake, chan string) {
	port := sim.NewFXS()
	clk := clock.NewFake(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC))
	dialled := make(chan string, 1)
	f := NewFXS(FXSConfig{ID: 1, Ext: "200", Port: port, Clock: clk, Log: quiet, Codec: media.PCMA,
		Dial: cn.dial, Busy: cn.busy, Ring: cn.ring, CallerID: cid,
		Number: func(n string) Match {
			switch n {
			case "100", "200":
				return Complete
			case "1", "10", "2", "20", "9":
				return MoreDigits
			case "95", "955":
				return Open // a number out: more digits may follow
			}
			return NoMatch
		},
		Originate: func(ch *Channel, n string) { dialled <- n },
	})
	t.Cleanup(func() { f.Close(); port.Close() })
	return f, port, clk, dialled
}

// answer rings the phone for a call and lifts it.
func answer(t *testing.T, f *FXS, port *sim.FXSPort, clk *clock.Fake) *Channel {
	t.Helper()
	got := make(chan *Channel, 1)
	go func() { ch, _ := f.Ring(context.Background(), ""); got <- ch }()
	until(t, clk, time.Second, "ringing", port.Ringing)
	port.Lift()
	until(t, clk, time.Second, "answer", func() bool { return len(got) == 1 })
	return <-got
}

func TestFXSRingCadenceCallerIDAndAnswer(t *testing.T) {
	f, port, clk, _ := newFXS(t)
	got := make(chan *Channel, 1)
	go func() {
		ch, err := f.Ring(context.Background(), "13800138000")
		if err != nil {
			t.Error(err)
		}
		got <- ch
	}()
	until(t, clk, time.Second, "ringing", port.Ringing)
	advance(clk, 900*time.Millisecond)
	if !port.Ringing() {
		t.Fatal("the first ring is shorter than 1 s")
	}
	advance(clk, 200*time.Millisecond)
	if port.Ringing() {
		t.Fatal("still ringing after 1.1 s: the cadence is 1 s on, 4 s off")
	}
	// Between the rings, the phone gets the caller's number as V.23 FSK.
	var cid []fsk.CallerID
	d := fsk.NewDemodulator(fsk.V23, func(c fsk.CallerID) { cid = append(cid, c) })
	d.Process(slottest.Record(port.Phone(), 1200*time.Millisecond))
	if len(cid) != 1 || cid[0].Number != "13800138000" || cid[0].Time != "11231030" {
		t.Fatalf("caller ID the phone got: %+v", cid)
	}
	advance(clk, 3700*time.Millisecond)
	if port.Ringing() {
		t.Fatal("rang again before 4 s of silence")
	}
	until(t, clk, 300*time.Millisecond, "the second ring", port.Ringing)
	if port.Rings() != 2 {
		t.Errorf("%d ring bursts", port.Rings())
	}
	port.Lift()
	until(t, clk, time.Second, "answer", func() bool { return len(got) == 1 })
	if port.Ringing() || f.State() != FXSTalking {
		t.Errorf("after answer: ringing %v, state %v", port.Ringing(), f.State())
	}
}

// DTMF caller ID goes before the first ring: A, the number, C.
func TestFXSDTMFCallerID(t *testing.T) {
	f, port, clk, _ := newFXSCID(t, CIDDTMF)
	go f.Ring(context.Background(), "13800138000")
	var got []byte
	det := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			got = append(got, e.Digit)
		}
	})
	// Ring runs on its own goroutine: the clock must not move before it
	// has taken the call, or the step that starts the caller ID is lost
	// (CI saw "" heard under load).
	for i := 0; f.State() != FXSRinging; i++ {
		if i > 2000 {
			t.Fatal("Ring did not take the call")
		}
		time.Sleep(time.Millisecond)
	}
	advance(clk, 2*Poll)
	if port.Ringing() {
		t.Fatal("rang before the caller ID")
	}
	det.Process(slottest.Record(port.Phone(), 2500*time.Millisecond))
	if string(got) != "A13800138000C" {
		t.Errorf("the phone heard %q before ringing", got)
	}
	until(t, clk, 3*time.Second, "the first ring", port.Ringing)
}

func TestFXSDialsOut(t *testing.T) {
	f, port, clk, dialled := newFXS(t)
	port.Lift()
	until(t, clk, time.Second, "dial tone", func() bool { return f.State() == FXSDialling })
	if l := slottest.Level(slottest.Record(port.Phone(), 200*time.Millisecond)); l < 1000 {
		t.Fatalf("dial tone level %.0f", l)
	}
	slottest.Play(port.Phone(), slottest.DTMF(t, "100"))
	select {
	case n := <-dialled:
		if n != "100" {
			t.Errorf("dialled %q", n)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the number was not routed")
	}
	if f.State() != FXSCalling {
		t.Errorf("state %v", f.State())
	}
	port.Hang()
	advance(clk, FlashMax+50*time.Millisecond)
	until(t, clk, time.Second, "idle", func() bool { return f.State() == FXSIdle })
}

// A number that matches nothing gets busy at once, and is told to
// Refused (the box's record of it).
func TestFXSUnknownNumberGetsBusy(t *testing.T) {
	f, port, clk, _ := newFXS(t)
	refused := make(chan string, 1)
	f.cfg.Refused = func(n string) { refused <- n }
	port.Lift()
	until(t, clk, time.Second, "dial tone", func() bool { return f.State() == FXSDialling })
	slottest.Play(port.Phone(), slottest.DTMF(t, "7"))
	until(t, clk, 2*time.Second, "busy", func() bool { return f.State() == FXSBusy })
	select {
	case n := <-refused:
		if n != "7" {
			t.Errorf("refused %q", n)
		}
	case <-time.After(2 * time.Second):
		t.Error("the refusal was not told")
	}
}

// A number out (Open) is routed when the dialling pauses for InterDigit,
// not before; a prefix that pauses (MoreDigits) gets busy instead.
func TestFXSDialsOutOnThePause(t *testing.T) {
	f, port, clk, dialled := newFXS(t)
	port.Lift()
	until(t, clk, time.Second, "dial tone", func() bool { return f.State() == FXSDialling })
	slottest.Play(port.Phone(), slottest.DTMF(t, "955"))
	until(t, clk, 2*time.Second, "three digits", func() bool { return f.State() == FXSDialling && len(dialled) == 0 && f.digitsSoFar() == "955" })
	advance(clk, InterDigit-100*time.Millisecond)
	if len(dialled) != 0 || f.State() != FXSDialling {
		t.Fatalf("routed before the pause: state %v", f.State())
	}
	until(t, clk, time.Second, "routed on the pause", func() bool { return len(dialled) == 1 })
	if n := <-dialled; n != "955" {
		t.Errorf("dialled %q", n)
	}

	f2, port2, clk2, dialled2 := newFXS(t)
	port2.Lift()
	until(t, clk2, time.Second, "dial tone", func() bool { return f2.State() == FXSDialling })
	slottest.Play(port2.Phone(), slottest.DTMF(t, "9"))
	until(t, clk2, InterDigit+time.Second, "busy after a prefix pauses", func() bool { return f2.State() == FXSBusy })
	if len(dialled2) != 0 {
		t.Error("a prefix was routed")
	}
}

func TestFXSHookFlashTransfer(t *testing.T) {
	f, port, clk, _ := newFXS(t)
	ch := answer(t, f, port, clk)
	port.Hang()
	advance(clk, 300*time.Millisecond) // a flash, not a hang-up
	port.Lift()
	until(t, clk, time.Second, "flash", func() bool { return f.State() == FXSFlash })
	slottest.Play(port.Phone(), slottest.DTMF(t, "200"))
	select {
	case <-ch.Done():
	case <-time.After(3 * time.Second):
		f.mu.Lock()
		defer f.mu.Unlock()
		t.Fatalf("the flashed call was not handed over: state %v, digits %q", f.state, f.digits)
	}
	if ch.TransferTarget() != "200" {
		t.Errorf("transfer to %q", ch.TransferTarget())
	}
}

func TestFXSFarEndHangsUp(t *testing.T) {
	f, port, clk, _ := newFXS(t)
	answer(t, f, port, clk).Hangup()
	until(t, clk, time.Second, "busy tone", func() bool { return f.State() == FXSBusy })
	port.Hang()
	advance(clk, FlashMax+50*time.Millisecond)
	until(t, clk, time.Second, "idle", func() bool { return f.State() == FXSIdle })
}

type inbound struct {
	ch  *Channel
	cid string
}

func newFXO(t *testing.T, cid string) (*FXO, *sim.FXOPort, *clock.Fake, chan inbound) {
	port := sim.NewFXO()
	clk := clock.NewFake(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC))
	calls := make(chan inbound, 1)
	o := NewFXO(FXOConfig{ID: 1, Port: port, Clock: clk, Log: quiet, Codec: media.PCMA, CallerID: cid, Busy: cn.busy,
		Incoming: func(ch *Channel, c string) { calls <- inbound{ch, c} }})
	t.Cleanup(func() { o.Close(); port.Close() })
	return o, port, clk, calls
}

func waitCall(t *testing.T, calls chan inbound) inbound {
	t.Helper()
	select {
	case c := <-calls:
		return c
	case <-time.After(3 * time.Second):
		t.Fatal("no inbound call")
	}
	return inbound{}
}

func TestFXOAnswersWithFSKCallerIDAndClearsOnReversal(t *testing.T) {
	o, port, clk, calls := newFXO(t, CIDFSKV23)
	port.SetRinging(true)
	advance(clk, time.Second)
	port.SetRinging(false)
	if port.Seized() {
		t.Fatal("answered on the first ring: the caller ID comes after it")
	}
	msg := fsk.CallerID{Time: "11231030", Number: "075512345678"}.Encode()
	slottest.Play(port.Exchange(), append(make([]int16, 1600), fsk.Modulate(fsk.V23, msg, -15)...))
	advance(clk, time.Second)
	port.SetRinging(true)
	go advance(clk, 500*time.Millisecond)
	c := waitCall(t, calls)
	if c.cid != "075512345678" || !port.Seized() || o.State() != FXOAnswered {
		t.Fatalf("caller %q, seized %v, state %v", c.cid, port.Seized(), o.State())
	}
	port.Reverse() // the exchange clears
	until(t, clk, time.Second, "clearing", func() bool { return o.State() == FXOIdle })
	select {
	case <-c.ch.Done():
	case <-time.After(time.Second):
		t.Fatal("the call's channel did not end")
	}
	if port.Seized() {
		t.Error("still off hook")
	}
}

func TestFXODTMFCallerIDAndLoopDrop(t *testing.T) {
	o, port, clk, calls := newFXO(t, CIDDTMF)
	slottest.Play(port.Exchange(), slottest.DTMF(t, "A13800138000C"))
	time.Sleep(100 * time.Millisecond)
	port.SetRinging(true)
	go advance(clk, 300*time.Millisecond)
	c := waitCall(t, calls)
	if c.cid != "13800138000" {
		t.Fatalf("caller %q", c.cid)
	}
	port.DropLoop()
	advance(clk, 100*time.Millisecond)
	if o.State() != FXOAnswered {
		t.Fatal("a 100 ms loop break cleared the call")
	}
	until(t, clk, time.Second, "clearing on loop drop", func() bool { return o.State() == FXOIdle })
}

func TestFXOHookFlash(t *testing.T) {
	o, port, clk, calls := newFXO(t, CIDNone)
	if o.Flash() == nil {
		t.Error("flash with no call")
	}
	port.SetRinging(true)
	go advance(clk, 300*time.Millisecond)
	waitCall(t, calls)
	if err := o.Flash(); err != nil {
		t.Fatal(err)
	}
	if port.Seized() {
		t.Fatal("the loop is not broken during the flash")
	}
	advance(clk, FlashTime+Poll)
	if !port.Seized() || o.State() != FXOAnswered {
		t.Fatalf("after the flash: seized %v, state %v (the loop break must not clear the call)", port.Seized(), o.State())
	}
}

func TestFXOClearsOnBusyTone(t *testing.T) {
	o, port, clk, calls := newFXO(t, CIDNone)
	port.SetRinging(true)
	go advance(clk, 300*time.Millisecond)
	waitCall(t, calls)
	// Speech-like steady tone first: not busy.
	slottest.Play(port.Exchange(), tone.Sine(450, -10, 16000))
	advance(clk, 50*time.Millisecond)
	if o.State() != FXOAnswered {
		t.Fatal("a steady 450 Hz tone cleared the call")
	}
	busy := tone.NewPlayer(cn.busy, media.FrameSamples)
	pcm := make([]int16, 3*8000)
	for i := 0; i < len(pcm); i += media.FrameSamples {
		busy.Fill(pcm[i : i+media.FrameSamples])
	}
	go slottest.Play(port.Exchange(), pcm)
	// The cadence plays in real time: poll while it does.
	for deadline := time.Now().Add(5 * time.Second); o.State() != FXOIdle; advance(clk, Poll) {
		if time.Now().After(deadline) {
			t.Fatal("busy tone did not clear the call")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFXODialsOut(t *testing.T) {
	o, port, clk, _ := newFXO(t, CIDNone)
	heard := make(chan byte, 16)
	det := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			heard <- e.Digit
		}
	})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		b := make([]byte, hal.BlockSize)
		pcm := make([]int16, hal.BlockSize)
		for {
			select {
			case <-stop:
				return
			default:
			}
			port.Exchange().ReadBlock(b)
			media.PCMA.Decode(pcm, b)
			det.Process(pcm)
		}
	}()
	done := make(chan error, 1)
	go func() { _, err := o.Dial(context.Background(), "4008"); done <- err }()
	until(t, clk, time.Second, "seizure", port.Seized)
	advance(clk, time.Second)
	var got []byte
	for len(got) < 4 {
		select {
		case d := <-heard:
			got = append(got, d)
		case <-time.After(3 * time.Second):
			t.Fatalf("the exchange heard %q", got)
		}
	}
	if string(got) != "4008" {
		t.Errorf("the exchange heard %q", got)
	}
	until(t, clk, 2*time.Second, "dialling done", func() bool { return len(done) == 1 })
	if err := <-done; err != nil || o.State() != FXOConnected {
		t.Errorf("dial: %v, state %v", err, o.State())
	}
}

// digitsSoFar is what the phone has dialled so far.
func (f *FXS) digitsSoFar() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.digits
}
