package socket

import (
	"sync"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/internal/clock"
)

// An analog port whose line is a Unix SEQPACKET socket: the phone on an
// FXS port, or the exchange on an FXO port, is a program at the other end
// (the soak's, a test's), as a span's carrier is for Span. The port
// connects to the path as the client and connects again when the peer
// goes away.
//
// Each packet is one octet of kind and its payload:
//
//	0x00, then 160 octets   one 20 ms block of G.711 audio, either way
//	0x01, then 1 octet      the sender's line state, sent on every change
//	                        and on connecting
//
// The box's state octet: an FXS port sets 0x01 while it rings the phone
// and 0x02 while its battery is reversed; an FXO port sets 0x01 while off
// hook. The peer's: the phone sets 0x01 while off hook; the exchange sets
// 0x01 while ringing voltage is on, 0x02 while the line's polarity is
// reversed and 0x04 while it feeds loop current to a port off hook. While
// no peer is connected, the phone is on hook and the exchange line is
// dead (no ringing, no loop current): a port in a call sees the far end
// clear.
const (
	pktAudio = 0x00
	pktState = 0x01

	// The box's state bits.
	StateRinging  = 0x01 // FXS: ringing the phone
	StateReversed = 0x02 // FXS: battery reversed
	StateOffHook  = 0x01 // FXO: the port is off hook

	// The peer's state bits.
	PeerOffHook  = 0x01 // the phone is off hook
	PeerRinging  = 0x01 // the exchange is ringing the line
	PeerReversed = 0x02 // the exchange has reversed the line's polarity
	PeerLoop     = 0x04 // the exchange feeds loop current
)

// port is what the FXS and FXO ports share: the audio, the socket and the
// two state octets.
type port struct {
	*sim.Slot
	c      conn
	closed chan struct{}
	once   sync.Once

	mu     sync.Mutex
	ours   byte // the box's state, last sent
	theirs byte // the peer's state, last received

	wmu  sync.Mutex
	wbuf [1 + hal.BlockSize]byte
}

func newPort(path string) *port {
	p := &port{closed: make(chan struct{})}
	p.c = conn{path: path, clk: clock.Real{}, closed: p.closed}
	p.Slot = sim.NewSlot(0xD5, p.sendAudio)
	go p.receive()
	return p
}

func (p *port) sendAudio(block []byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.wbuf[0] = pktAudio
	copy(p.wbuf[1:], block)
	p.c.write(p.wbuf[:])
}

// set changes the box's state bits in mask to bits and tells the peer;
// wmu keeps the packets in the order of the changes.
func (p *port) set(mask, bits byte) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.mu.Lock()
	p.ours = p.ours&^mask | bits&mask
	s := p.ours
	p.mu.Unlock()
	p.c.write([]byte{pktState, s})
}

// setBit sets one of the box's state bits on or off.
func (p *port) setBit(bit byte, on bool) {
	var b byte
	if on {
		b = bit
	}
	p.set(bit, b)
}

// mine reports whether one of the box's state bits is set.
func (p *port) mine(bit byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ours&bit != 0
}

// peer is the peer's state now.
func (p *port) peer() byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.theirs
}

// receive connects, sends the box's state, and takes the peer's packets
// until the port is closed; a lost peer leaves the line idle until one
// connects again.
func (p *port) receive() {
	var buf [1 + hal.BlockSize + 16]byte
	for {
		cur, err := p.c.get()
		if err != nil {
			return
		}
		p.wmu.Lock()
		p.mu.Lock()
		s := p.ours
		p.mu.Unlock()
		p.c.write([]byte{pktState, s})
		p.wmu.Unlock()
		for {
			n, err := cur.Read(buf[:])
			if err != nil || n == 0 {
				break
			}
			switch {
			case buf[0] == pktAudio && n == 1+hal.BlockSize:
				p.Slot.Deliver(buf[1:n])
			case buf[0] == pktState && n == 2:
				p.mu.Lock()
				p.theirs = buf[1]
				p.mu.Unlock()
			}
		}
		p.c.drop(cur)
		p.mu.Lock()
		p.theirs = 0
		p.mu.Unlock()
	}
}

// Close disconnects and stops the audio.
func (p *port) Close() error {
	p.once.Do(func() {
		close(p.closed)
		p.c.drop(nil)
		p.Slot.Close()
	})
	return nil
}

// FXS is an FXS port whose phone is at the other end of a socket.
type FXS struct{ *port }

var _ hal.FXS = FXS{}

// OpenFXS returns an FXS port whose phone connects at path.
func OpenFXS(path string) FXS { return FXS{newPort(path)} }

func (f FXS) Ring(on bool) error {
	f.setBit(StateRinging, on && f.peer()&PeerOffHook == 0) // a SLIC trips ringing when the phone answers
	return nil
}

func (f FXS) SetPolarity(reversed bool) error {
	f.setBit(StateReversed, reversed)
	return nil
}

func (f FXS) OffHook() bool { return f.peer()&PeerOffHook != 0 }

func (f FXS) LoopVolts() float64 {
	v := -48.0
	if f.OffHook() {
		v = -8
	}
	if f.mine(StateReversed) {
		v = -v
	}
	return v
}

// FXO is an FXO port whose exchange line is at the other end of a socket.
type FXO struct{ *port }

var _ hal.FXO = FXO{}

// OpenFXO returns an FXO port whose exchange connects at path.
func OpenFXO(path string) FXO { return FXO{newPort(path)} }

func (f FXO) SetHook(off bool) error {
	f.setBit(StateOffHook, off)
	return nil
}

func (f FXO) offHook() bool { return f.mine(StateOffHook) }

// Ringing is the exchange's ringing voltage, tripped once the port is off
// hook.
func (f FXO) Ringing() bool { return f.peer()&PeerRinging != 0 && !f.offHook() }

func (f FXO) Reversed() bool { return f.peer()&PeerReversed != 0 }

func (f FXO) LoopCurrent() bool { return f.offHook() && f.peer()&PeerLoop != 0 }
