package socket

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"jinyin/hal"
)

// peerEnd is the program at the far end of a port's socket, as a test
// plays it.
type peerEnd struct {
	t     *testing.T
	c     *net.UnixConn
	state chan byte
	audio chan []byte
}

func accept(t *testing.T, l *net.UnixListener) *peerEnd {
	t.Helper()
	l.SetDeadline(time.Now().Add(5 * time.Second))
	c, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &peerEnd{t: t, c: c, state: make(chan byte, 64), audio: make(chan []byte, 64)}
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(p.state)
				return
			}
			switch {
			case n == 2 && buf[0] == pktState:
				p.state <- buf[1]
			case n == 1+hal.BlockSize && buf[0] == pktAudio:
				select {
				case p.audio <- bytes.Clone(buf[1:n]):
				default:
				}
			default:
				t.Errorf("the port sent a packet of %d octets, kind %#x", n, buf[0])
			}
		}
	}()
	return p
}

// next is the box's next state octet.
func (p *peerEnd) next() byte {
	p.t.Helper()
	select {
	case s := <-p.state:
		return s
	case <-time.After(5 * time.Second):
		p.t.Fatal("no state from the port")
		return 0
	}
}

func (p *peerEnd) send(s byte) {
	if _, err := p.c.Write([]byte{pktState, s}); err != nil {
		p.t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func tempSocket(t *testing.T) (string, *net.UnixListener) {
	dir, err := os.MkdirTemp("", "port") // short: a socket path has at most 108 octets
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "line")
	return path, listen(t, path)
}

// audio goes both ways, a block each way, as the B-channel's does.
func checkAudio(t *testing.T, p *peerEnd, slot hal.Timeslot) {
	t.Helper()
	out := bytes.Repeat([]byte{0x2A}, hal.BlockSize)
	if err := slot.WriteBlock(out); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-p.audio:
		if !bytes.Equal(got, out) {
			t.Errorf("the peer heard %x…", got[:4])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the peer heard nothing")
	}
	in := append([]byte{pktAudio}, bytes.Repeat([]byte{0x55}, hal.BlockSize)...)
	b := make([]byte, hal.BlockSize)
	for i := 0; i < 50; i++ { // one second at most: the slot plays after two blocks
		p.c.Write(in)
		if err := slot.ReadBlock(b); err != nil {
			t.Fatal(err)
		}
		if b[0] == 0x55 {
			return
		}
	}
	t.Errorf("the port never played the peer's audio (last %x)", b[0])
}

func TestFXSOverASocket(t *testing.T) {
	path, l := tempSocket(t)
	f := OpenFXS(path)
	defer f.Close()
	p := accept(t, l)
	if s := p.next(); s != 0 {
		t.Fatalf("on connecting the port said %#x, want 0 (idle)", s)
	}
	if f.OffHook() || f.LoopVolts() != -48 {
		t.Fatalf("a phone not lifted: off hook %v, %v V", f.OffHook(), f.LoopVolts())
	}
	f.Ring(true)
	if s := p.next(); s != StateRinging {
		t.Fatalf("ringing: the port said %#x", s)
	}
	f.SetPolarity(true)
	if s := p.next(); s != StateRinging|StateReversed {
		t.Fatalf("reversed while ringing: %#x", s)
	}
	p.send(PeerOffHook)
	eventually(t, "the phone off hook", f.OffHook)
	if v := f.LoopVolts(); v != 8 {
		t.Errorf("off hook, reversed: %v V, want 8", v)
	}
	f.Ring(true) // the SLIC trips ringing on a phone that is up
	if s := p.next(); s != StateReversed {
		t.Errorf("ringing a phone off hook: the port said %#x", s)
	}
	checkAudio(t, p, f)

	// The phone goes away: on hook until another connects, which learns
	// the port's state at once.
	p.c.Close()
	eventually(t, "the phone on hook after its peer left", func() bool { return !f.OffHook() })
	q := accept(t, l)
	if s := q.next(); s != StateReversed {
		t.Errorf("a new peer was told %#x, want the battery reversed", s)
	}
}

func TestFXOOverASocket(t *testing.T) {
	path, l := tempSocket(t)
	f := OpenFXO(path)
	defer f.Close()
	p := accept(t, l)
	p.next()
	if f.Ringing() || f.Reversed() || f.LoopCurrent() {
		t.Fatal("an idle line shows ringing, reversal or loop current")
	}
	p.send(PeerRinging | PeerLoop)
	eventually(t, "ringing", f.Ringing)
	if f.LoopCurrent() {
		t.Error("loop current on hook")
	}
	f.SetHook(true)
	if s := p.next(); s != StateOffHook {
		t.Fatalf("off hook: the port said %#x", s)
	}
	if f.Ringing() {
		t.Error("ringing seen off hook (answering trips it)")
	}
	eventually(t, "loop current", f.LoopCurrent)
	p.send(PeerReversed | PeerLoop) // answered: polarity reversed
	eventually(t, "the reversal", f.Reversed)
	checkAudio(t, p, f)
	p.send(PeerReversed) // the exchange clears: loop current drops
	eventually(t, "the loop current drop", func() bool { return !f.LoopCurrent() })
	p.send(PeerReversed | PeerLoop)
	eventually(t, "loop current again", f.LoopCurrent)
	p.c.Close() // the exchange gone: a dead line
	eventually(t, "a dead line", func() bool { return !f.LoopCurrent() && !f.Reversed() })
	q := accept(t, l)
	if s := q.next(); s != StateOffHook {
		t.Errorf("a new peer was told %#x, want off hook", s)
	}
	f.SetHook(false)
	if s := q.next(); s != 0 {
		t.Errorf("on hook: the port said %#x", s)
	}
	f.Close()
	if _, ok := <-q.state; ok {
		t.Error("the port sent more after Close")
	}
}
