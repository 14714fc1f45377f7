package media

import (
	"slices"
	"testing"
	"time"
)

func TestCodecString(t *testing.T) {
	if PCMA.String() != "PCMA" || PCMU.String() != "PCMU" {
		t.Errorf("names %q %q, want PCMA PCMU (the RTP/AVP encoding names, RFC 3551)", PCMA, PCMU)
	}
}

// A-law to µ-law per ITU-T G.711 table 4: the smallest A-law codes go to
// the odd µ-law codes (A 1 -> µ 1, A 2 -> µ 3, A 3 -> µ 5), the A-law
// overload codes to µ-law's; an A-law byte has its even bits inverted
// (0xD5 is positive code 1), a µ-law byte all bits (0xFE is positive code 1).
func TestFromALaw(t *testing.T) {
	in := []byte{0xD5, 0xD4, 0xD7, 0xAA, 0x55, 0x54, 0x2A}
	p := slices.Clone(in)
	PCMU.FromALaw(p)
	want := []byte{0xFE, 0xFC, 0xFA, 0x80, 0x7E, 0x7C, 0x00}
	if !slices.Equal(p, want) {
		t.Errorf("A-law % X as µ-law: % X, want % X", in, p, want)
	}
	p = slices.Clone(in)
	PCMA.FromALaw(p)
	if !slices.Equal(p, in) {
		t.Errorf("A-law to A-law changed the bytes: % X", p)
	}
}

func TestLevels(t *testing.T) {
	if p := PeakAt(MaxSineDBm0); p != 32767 {
		t.Errorf("peak at +3.14 dBm0 = %v, want full scale", p)
	}
	// 0 dBm0 is 3.14 dB below full scale: 32767 / 10^(3.14/20) = 32767 / 1.4355 ~ 22826.
	if p := PeakAt(0); p < 22820 || p > 22832 {
		t.Errorf("peak at 0 dBm0 = %v, want about 22826", p)
	}
	if l := LevelOfPeak(PeakAt(-13)); l < -13.0001 || l > -12.9999 {
		t.Errorf("level of the -13 dBm0 peak = %v", l)
	}
}

// const is a source of one value that never ends.
type constant int16

func (c constant) Fill(dst []int16) int {
	for i := range dst {
		dst[i] = int16(c)
	}
	return len(dst)
}

func TestMixSaturatesNegative(t *testing.T) {
	buf := make([]int16, 4)
	(&Mix{Sources: []Source{constant(-30000), constant(-30000)}}).Fill(buf)
	if buf[0] != -32768 {
		t.Errorf("two loud negative sources: %d, want -32768", buf[0])
	}
	(&Mix{Sources: []Source{constant(-300), constant(100)}}).Fill(buf)
	if buf[3] != -200 {
		t.Errorf("-300 + 100 = %d", buf[3])
	}
	if n := MixOf().Fill(buf); n != 4 || buf[0] != 0 {
		t.Errorf("an empty mix gives %d samples of %d, want silence", n, buf[0])
	}
}

func TestTee(t *testing.T) {
	var tapped []int16
	tee := &Tee{Src: constant(7), Tap: func(p []int16) { tapped = append(tapped, p...) }}
	buf := make([]int16, 3)
	if n := tee.Fill(buf); n != 3 || !slices.Equal(buf, []int16{7, 7, 7}) || !slices.Equal(tapped, buf) {
		t.Errorf("tee gave %d %v, tapped %v", n, buf, tapped)
	}
}

// A Fanout reader given a short buffer gets what the source gave and
// silence after it.
func TestFanoutShortFrame(t *testing.T) {
	f := NewFanout(&ending{left: 2})
	r := f.Reader()
	buf := []int16{9, 9, 9, 9}
	if n := r.Fill(buf); n != 4 || !slices.Equal(buf, []int16{5, 5, 0, 0}) {
		t.Errorf("fanout of an ending source: %d %v", n, buf)
	}
}

// ending gives left samples of 5, then nothing.
type ending struct{ left int }

func (e *ending) Fill(dst []int16) int {
	n := min(len(dst), e.left)
	for i := range n {
		dst[i] = 5
	}
	e.left -= n
	return n
}

// plain is a Channel that is not a Listener.
type plain struct{ fake }

func (p *plain) Listen() {} // not media.Listener's signature

func TestBridgeNeedsListeners(t *testing.T) {
	a := &fake{events: make(chan Event)}
	for _, c := range [][2]Channel{{a, &plain{}}, {&plain{}, a}} {
		err := Bridge(c[0], c[1])
		if err == nil || err.Error() != "media: bridge needs two channels whose audio can be listened to" {
			t.Errorf("bridge of a non-listener: %v", err)
		}
	}
	if _, hung, played := a.state(); hung || played {
		t.Errorf("a refused bridge touched a channel: hung up %v, played %v", hung, played)
	}
}

// When b hangs up, Bridge hangs up a; BridgeUntil leaves a up, silenced.
func TestBridgeWhenBLeaves(t *testing.T) {
	for _, until := range []bool{false, true} {
		a, b := &fake{events: make(chan Event, 1)}, &fake{events: make(chan Event, 1)}
		done := make(chan bool, 1)
		go func() {
			if until {
				aLeft, _ := BridgeUntil(a, b)
				done <- aLeft
				return
			}
			Bridge(a, b)
			done <- false
		}()
		close(b.events) // closed events: b is gone
		select {
		case aLeft := <-done:
			if aLeft {
				t.Error("BridgeUntil says a left when b did")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("bridge did not end when b left")
		}
		_, aHung, aPlayed := a.state()
		_, bHung, _ := b.state()
		if aHung == until || bHung {
			t.Errorf("until %v: a hung up %v, b hung up %v", until, aHung, bHung)
		}
		if until && aPlayed {
			t.Error("BridgeUntil left a playing b's audio after b left")
		}
	}
}
