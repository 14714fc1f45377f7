// Package socket is the `socket` span and port drivers: a span whose
// D-channel is a Unix SEQPACKET socket, in the DAHDI/libpri convention, so
// the PRI stack can be run against any peer (libpri in the tests, a DAHDI
// bridge, a protocol tester) without a line card; and analog ports whose
// phone or exchange line is a program at the other end of a socket (see
// port.go), so a running box's analog side can be driven from outside it.
//
// Each packet on the D-channel socket is one HDLC frame (address, control,
// information) followed by 2 FCS octets, which the receiver ignores: DAHDI
// has checked them already, and libpri writes whatever is in its buffer.
// This driver sends the real CRC-16/X-25 and strips the 2 octets it reads.
// The span connects to the path as the client and connects again when the
// peer goes away; while it is not connected the span reports LOS.
//
// B-channel audio, when the span's bchannels path is set, is a second
// SEQPACKET socket whose packets are one octet of channel number followed
// by one 160-octet G.711 block; without it the B-channels carry idle.
//
// Layer: a hal implementation; it imports hal, hal/sim (the clocked
// timeslot), internal/clock (the redial wait) and the standard library.
package socket

import (
	"fmt"
	"net"
	"sync"
	"time"

	"jinyin/hal"
	"jinyin/hal/sim"
	"jinyin/internal/clock"
)

// redial is how long the span waits before connecting again.
const redial = 200 * time.Millisecond

// Span is a span over sockets.
type Span struct {
	dpath, bpath string

	mu     sync.Mutex
	cfg    hal.SpanConfig
	d      *dchan
	b      *conn
	slots  map[int]*sim.Slot
	closed chan struct{}
	once   sync.Once
}

var (
	_ hal.Span = (*Span)(nil)
	_ hal.PRI  = (*Span)(nil)
)

// Open returns a span whose D-channel is at dchannel and whose B-channel
// audio, if bchannels is not empty, is at bchannels. It connects on first
// use.
func Open(dchannel, bchannels string) *Span {
	s := &Span{dpath: dchannel, bpath: bchannels, slots: map[int]*sim.Slot{}, closed: make(chan struct{})}
	s.d = &dchan{conn: conn{path: dchannel, clk: clock.Real{}, closed: make(chan struct{})}}
	if bchannels != "" {
		s.b = &conn{path: bchannels, clk: clock.Real{}, closed: s.closed}
	}
	return s
}

// Configure records the line settings: there is no line to set up.
func (s *Span) Configure(c hal.SpanConfig) error {
	if c.Type != "e1" && c.Type != "t1" {
		return fmt.Errorf("socket: span type %q: use e1 or t1", c.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = c
	return nil
}

// Alarms is LOS while the D-channel socket is not connected.
func (s *Span) Alarms() hal.Alarms {
	if s.d.connected() {
		return 0
	}
	return hal.AlarmLOS
}

// DChannel returns the D-channel.
func (s *Span) DChannel() (hal.DChannel, error) { return s.d, nil }

// BChannel returns B-channel n's timeslot.
func (s *Span) BChannel(n int) (hal.Timeslot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := hal.CheckBChannel(s.cfg.Type, n); err != nil {
		return nil, fmt.Errorf("socket: no B-channel %d on this span: %w", n, err)
	}
	idle := hal.IdleOctet(s.cfg.Type)
	if sl := s.slots[n]; sl != nil {
		return sl, nil
	}
	if s.b != nil && len(s.slots) == 0 {
		go s.receiveB()
	}
	var pkt [1 + hal.BlockSize]byte
	pkt[0] = byte(n)
	sl := sim.NewSlot(idle, func(block []byte) {
		if s.b == nil {
			return
		}
		copy(pkt[1:], block)
		s.b.write(pkt[:])
	})
	s.slots[n] = sl
	return sl, nil
}

func (s *Span) receiveB() {
	var buf [1 + hal.BlockSize + 16]byte
	for {
		n, err := s.b.read(buf[:])
		if err != nil {
			return
		}
		if n != 1+hal.BlockSize {
			continue
		}
		s.mu.Lock()
		sl := s.slots[int(buf[0])]
		s.mu.Unlock()
		if sl != nil {
			sl.Deliver(buf[1:n])
		}
	}
}

// Close disconnects and stops the B-channels.
func (s *Span) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.d.Close()
		if s.b != nil {
			s.b.drop(nil)
		}
		s.mu.Lock()
		for _, sl := range s.slots {
			sl.Close()
		}
		s.mu.Unlock()
	})
	return nil
}

// conn is a SEQPACKET client connection that reconnects.
type conn struct {
	path   string
	clk    clock.Clock // for the redial wait
	closed chan struct{}
	mu     sync.Mutex
	c      *net.UnixConn
}

func (c *conn) connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c != nil
}

// get returns the connection, connecting until it succeeds or the span
// is closed.
func (c *conn) get() (*net.UnixConn, error) {
	for {
		c.mu.Lock()
		cur := c.c
		c.mu.Unlock()
		if cur != nil {
			return cur, nil
		}
		nc, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: c.path, Net: "unixpacket"})
		if err == nil {
			c.mu.Lock()
			select {
			case <-c.closed:
				c.mu.Unlock()
				nc.Close()
				return nil, sim.ErrClosed
			default:
			}
			c.c = nc
			c.mu.Unlock()
			return nc, nil
		}
		if !clock.Wait(c.clk, redial, c.closed) {
			return nil, sim.ErrClosed
		}
	}
}

// drop forgets a connection that failed (or, with nil, the current one).
func (c *conn) drop(which *net.UnixConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil && (which == nil || which == c.c) {
		c.c.Close()
		c.c = nil
	}
}

// read reads one packet, reconnecting as needed.
func (c *conn) read(p []byte) (int, error) {
	for {
		cur, err := c.get()
		if err != nil {
			return 0, err
		}
		n, err := cur.Read(p)
		if err == nil && n > 0 {
			return n, nil
		}
		c.drop(cur) // the peer closed or failed: connect again
	}
}

// write sends one packet if connected; without a connection the packet
// is lost, as on a line that is down.
func (c *conn) write(p []byte) {
	c.mu.Lock()
	cur := c.c
	c.mu.Unlock()
	if cur == nil {
		return
	}
	if _, err := cur.Write(p); err != nil {
		c.drop(cur)
	}
}

// dchan is the D-channel: frames with 2 FCS octets on the socket.
type dchan struct {
	conn
	once sync.Once
	rmu  sync.Mutex
	rbuf [512]byte
	wmu  sync.Mutex
	wbuf [512]byte
}

// ReadFrame reads one frame and strips its FCS.
func (d *dchan) ReadFrame(p []byte) (int, error) {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	for {
		n, err := d.read(d.rbuf[:])
		if err != nil {
			return 0, err
		}
		if n < 3 { // an address octet at least, and the FCS
			continue
		}
		return copy(p, d.rbuf[:n-2]), nil
	}
}

// WriteFrame sends f and its FCS.
func (d *dchan) WriteFrame(f []byte) error {
	select {
	case <-d.closed:
		return sim.ErrClosed
	default:
	}
	if len(f)+2 > len(d.wbuf) {
		return fmt.Errorf("socket: frame of %d octets is too long", len(f))
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	n := copy(d.wbuf[:], f)
	fcs := hal.FCS(f)
	d.wbuf[n], d.wbuf[n+1] = byte(fcs), byte(fcs>>8)
	d.write(d.wbuf[:n+2])
	return nil
}

// Close disconnects the D-channel for good: a blocked ReadFrame returns.
func (d *dchan) Close() error {
	d.once.Do(func() { close(d.closed) })
	d.drop(nil)
	return nil
}
