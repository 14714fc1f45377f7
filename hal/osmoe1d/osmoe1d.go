// Package osmoe1d is the `osmo-e1d` span driver: an E1 line served by
// Osmocom's userspace E1 daemon osmo-e1d (its icE1usb open-hardware USB
// adapter, its virtual pair, a DAHDI trunk device), reached over the
// daemon's control socket. The D-channel is timeslot 16 opened in HDLC-FCS
// mode (the daemon runs the HDLC: one frame per SEQPACKET message, its FCS
// checked and removed, unlike libpri's framing, which carries 2 FCS
// octets); each B-channel is its timeslot opened RAW (a SOCK_STREAM socket
// of 64 kbit/s octets, handed over in 160-octet reads). The sockets come
// back from TS_OPEN as SCM_RIGHTS file descriptors.
//
// Checked against osmo-e1d 0.7.2 (b8546ae7): proto.h for the wire format
// (proto.go; golden vectors in the tests), ctl.c and mux_demux.c for the
// semantics the tests' fake daemon (e1dtest) follows: soft failures
// answered with an empty payload rather than an error type, the fd in the
// TS_OPEN answer itself, 0xFF sent for what a client did not write in
// time, a zero-length HDLC message closing the timeslot (so WriteFrame
// refuses empty frames). Alarms come as LOS/AIS/LOF/RAI on/off events,
// only on a change and only to clients connected then: a line already in
// alarm when the span connects looks clear until its next change. Not run
// against the real daemon or an icE1usb here: neither is in Debian.
//
// Layer: a hal implementation; it imports hal, hal/pcm and the standard
// library.
package osmoe1d

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"jinyin/hal"
	"jinyin/hal/pcm"
)

// DefaultSocket is where osmo-e1d listens (E1DP_DEFAULT_SOCKET); the
// daemon has no setting for it.
const DefaultSocket = "/tmp/osmo-e1d.ctl"

// Conn is a control connection to the daemon: one request at a time,
// events dispatched as they come.
type Conn struct {
	c      *net.UnixConn
	mu     sync.Mutex // one request at a time
	resp   chan answer
	event  func(Msg)
	closed chan struct{}
	err    error // why the connection ended, once closed is
}

type answer struct {
	m  Msg
	fd *os.File
}

// ErrRefused is the daemon's answer without its payload: the interface,
// line or timeslot does not exist, the timeslot is open by another
// client, or the mode is not one it takes.
var ErrRefused = errors.New("osmo-e1d: refused (no such interface, line or timeslot, a timeslot in use, or a mode it does not take)")

// Dial connects to the daemon at path; event, if not nil, is called on
// the connection's goroutine for every event.
func Dial(path string, event func(Msg)) (*Conn, error) {
	nc, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("osmo-e1d: control socket: %w", err)
	}
	c := &Conn{c: nc, resp: make(chan answer, 1), event: event, closed: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *Conn) read() {
	buf := make([]byte, MaxMsg)
	oob := make([]byte, syscall.CmsgSpace(4))
	defer close(c.closed)
	for {
		n, oobn, _, _, err := c.c.ReadMsgUnix(buf, oob)
		if err == nil && n == 0 {
			err = io.EOF // the daemon closed the connection
		}
		if err != nil {
			c.err = fmt.Errorf("osmo-e1d: control connection: %w", err)
			return
		}
		var fd *os.File
		if oobn > 0 {
			fd = fdOf(oob[:oobn])
		}
		m, err := ParseMsg(buf[:n])
		if err != nil {
			c.err = err
			if fd != nil {
				fd.Close()
			}
			return
		}
		if m.Type&TypeMask == TypeEvent {
			if c.event != nil {
				c.event(m)
			}
			continue
		}
		m.Payload = append([]byte(nil), m.Payload...)
		c.resp <- answer{m, fd}
	}
}

// fdOf is the file descriptor an SCM_RIGHTS control message carries.
func fdOf(oob []byte) *os.File {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var f *os.File
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if f == nil {
				f = os.NewFile(uintptr(fd), "osmo-e1d timeslot")
			} else {
				syscall.Close(fd)
			}
		}
	}
	return f
}

// request sends one command and waits for its answer.
func (c *Conn) request(h Header, payload []byte) (Msg, *os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.c.Write(AppendMsg(nil, h, payload)); err != nil {
		return Msg{}, nil, fmt.Errorf("osmo-e1d: send command %#02x: %w", h.Type, err)
	}
	timeout := time.NewTimer(requestTimeout)
	defer timeout.Stop()
	select {
	case <-timeout.C:
		// A late answer would be taken for the next request's: the
		// connection is given up, and the span shows LOS.
		c.c.Close()
		return Msg{}, nil, fmt.Errorf("osmo-e1d: command %#02x: no answer in %v", h.Type, requestTimeout)
	case a := <-c.resp:
		switch {
		case a.m.Type&TypeMask == TypeErr:
			if a.fd != nil {
				a.fd.Close()
			}
			return Msg{}, nil, fmt.Errorf("osmo-e1d: command %#02x failed in the daemon (answer %#02x)", h.Type, a.m.Type)
		case a.m.Type != h.Type|TypeResp:
			if a.fd != nil {
				a.fd.Close()
			}
			return Msg{}, nil, fmt.Errorf("osmo-e1d: command %#02x answered with %#02x", h.Type, a.m.Type)
		}
		return a.m, a.fd, nil
	case <-c.closed:
		select {
		case a := <-c.resp: // answered, then gone: do not leak its fd
			if a.fd != nil {
				a.fd.Close()
			}
		default:
		}
		return Msg{}, nil, c.err
	}
}

// requestTimeout is how long the daemon has to answer a command.
const requestTimeout = 5 * time.Second

// Interfaces lists the daemon's E1 interfaces.
func (c *Conn) Interfaces() ([]IntfInfo, error) {
	m, _, err := c.request(Header{CmdIntfQuery, Any, Any, Any}, nil)
	if err != nil {
		return nil, err
	}
	return ParseIntfInfos(m.Payload)
}

// Lines lists interface intf's lines.
func (c *Conn) Lines(intf uint8) ([]LineInfo, error) {
	m, _, err := c.request(Header{CmdLineQuery, intf, Any, Any}, nil)
	if err != nil {
		return nil, err
	}
	return ParseLineInfos(m.Payload)
}

// Timeslots lists a line's 32 timeslots and their modes.
func (c *Conn) Timeslots(intf, line uint8) ([]TSInfo, error) {
	m, _, err := c.request(Header{CmdTSQuery, intf, line, Any}, nil)
	if err != nil {
		return nil, err
	}
	return ParseTSInfos(m.Payload)
}

// ConfigureLine sets a line's mode (LineChannelized, LineSuperchannel).
func (c *Conn) ConfigureLine(intf, line, mode uint8) error {
	m, _, err := c.request(Header{CmdLineConfig, intf, line, Any}, []byte{mode})
	if err != nil {
		return err
	}
	l, err := ParseLineInfos(m.Payload)
	if err != nil {
		return err
	}
	if len(l) != 1 || l[0].Mode != mode {
		return fmt.Errorf("osmo-e1d: line %d/%d mode %#02x: %w", intf, line, mode, ErrRefused)
	}
	return nil
}

// OpenTS opens a timeslot and returns its socket.
func (c *Conn) OpenTS(intf, line, ts uint8, cfg TSConfig) (net.Conn, error) {
	m, fd, err := c.request(Header{CmdTSOpen, intf, line, ts}, cfg.Append(nil))
	if err != nil {
		return nil, err
	}
	info, err := ParseTSInfos(m.Payload)
	if err == nil && (len(info) != 1 || fd == nil) {
		err = fmt.Errorf("osmo-e1d: open timeslot %d/%d/%d: %w", intf, line, ts, ErrRefused)
	}
	if err != nil {
		if fd != nil {
			fd.Close()
		}
		return nil, err
	}
	defer fd.Close() // FileConn dups it
	nc, err := net.FileConn(fd)
	if err != nil {
		return nil, fmt.Errorf("osmo-e1d: timeslot %d socket: %w", ts, err)
	}
	return nc, nil
}

// Close ends the control connection; timeslots already open stay open.
func (c *Conn) Close() error {
	err := c.c.Close()
	<-c.closed
	return err
}

// Span is an E1 line of the daemon's as a span. When the daemon goes
// away (a restart, a crash) the span shows LOS and dials it again every
// second; once it answers, the line is configured again, the D-channel's
// socket replaced under the same hal.DChannel, and the B-channels reopened
// on their next call (calls up at the time are lost with their audio).
type Span struct {
	conn       atomic.Pointer[Conn]
	path       string
	intf, line uint8
	quit       chan struct{}
	done       chan struct{}

	alarms atomic.Uint32
	dLost  atomic.Bool // timeslot 16's socket ended: the daemon closed it
	slips  atomic.Uint64
	mu     sync.Mutex
	cfg    hal.SpanConfig
	d      *dchan
	slots  map[int]*bslot
}

// redialEvery is how often a span dials a daemon that went away.
const redialEvery = time.Second

var (
	_ hal.Span      = (*Span)(nil)
	_ hal.PRI       = (*Span)(nil)
	_ hal.Counterer = (*Span)(nil)
)

// Open connects to the daemon at path (DefaultSocket if empty) and puts
// interface intf's line in channelized mode.
func Open(path string, intf, line int) (*Span, error) {
	if path == "" {
		path = DefaultSocket
	}
	s := &Span{path: path, intf: uint8(intf), line: uint8(line), slots: map[int]*bslot{}, quit: make(chan struct{}), done: make(chan struct{})}
	s.cfg.Type = "e1"
	c, err := s.dial()
	if err != nil {
		return nil, err
	}
	s.conn.Store(c)
	go s.watch()
	return s, nil
}

// dial connects to the daemon and puts the line in channelized mode.
func (s *Span) dial() (*Conn, error) {
	c, err := Dial(s.path, s.event)
	if err != nil {
		return nil, err
	}
	lines, err := c.Lines(s.intf)
	if err == nil && !hasLine(lines, s.line) {
		err = fmt.Errorf("osmo-e1d: no line %d on interface %d (lines %v)", s.line, s.intf, lines)
	}
	if err == nil {
		err = c.ConfigureLine(s.intf, s.line, LineChannelized)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// watch dials the daemon again whenever its connection ends, until the
// span is closed.
func (s *Span) watch() {
	defer close(s.done)
	for {
		select {
		case <-s.quit:
			return
		case <-s.conn.Load().closed:
		}
		for {
			select {
			case <-s.quit:
				return
			case <-time.After(redialEvery):
			}
			if s.reconnect() == nil {
				break
			}
		}
	}
}

// reconnect dials the daemon and reopens the D-channel if it was open.
// The daemon's alarms start clear: it tells only of changes.
func (s *Span) reconnect() error {
	c, err := s.dial()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d != nil {
		nc, err := c.OpenTS(s.intf, s.line, 16, TSConfig{Mode: TSHDLCFCS, ReadBufsize: hal.BlockSize})
		if err != nil {
			c.Close()
			return err
		}
		s.d.replace(nc)
	}
	for n, b := range s.slots { // their sockets ended with the daemon
		b.c.Close()
		delete(s.slots, n)
	}
	s.alarms.Store(0)
	s.dLost.Store(false)
	s.conn.Store(c)
	return nil
}

func hasLine(lines []LineInfo, id uint8) bool {
	for _, l := range lines {
		if l.ID == id {
			return true
		}
	}
	return false
}

// event follows the line's alarms.
func (s *Span) event(m Msg) {
	if m.Intf != s.intf || m.Line != s.line || m.Type < EvtLOSOn || m.Type > EvtLOFOff {
		return // another line's, or Sa bits
	}
	// The events come in on/off pairs from 0x40: LOS, AIS, RAI, LOF, the
	// "off" one odd. Only the connection's goroutine calls this.
	bit := uint32([4]hal.Alarms{hal.AlarmLOS, hal.AlarmAIS, hal.AlarmRAI, hal.AlarmLOF}[(m.Type-EvtLOSOn)/2])
	if m.Type&1 == 1 {
		s.alarms.Store(s.alarms.Load() &^ bit)
	} else {
		s.alarms.Store(s.alarms.Load() | bit)
	}
}

// Configure takes E1 settings; framing, line code and clock are the
// daemon's (its icE1usb driver's configuration).
func (s *Span) Configure(c hal.SpanConfig) error {
	if c.Type != "e1" {
		return fmt.Errorf("osmo-e1d: span type %q: osmo-e1d serves E1 only", c.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = c
	return nil
}

// Alarms is what the daemon's events said last, and LOS once the daemon
// is gone or has closed the D-channel (another client took timeslot 16
// by force): the span carries nothing until it is opened again.
func (s *Span) Alarms() hal.Alarms {
	select {
	case <-s.conn.Load().closed:
		return hal.AlarmLOS
	default:
	}
	if s.dLost.Load() {
		return hal.AlarmLOS
	}
	return hal.Alarms(s.alarms.Load())
}

// Counters counts the B-channels' slips between the daemon and the
// binary; line errors are the daemon's.
func (s *Span) Counters() hal.Counters { return hal.Counters{Slips: s.slips.Load()} }

// DChannel opens timeslot 16 in HDLC-FCS mode.
func (s *Span) DChannel() (hal.DChannel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d != nil {
		return s.d, nil
	}
	nc, err := s.conn.Load().OpenTS(s.intf, s.line, 16, TSConfig{Mode: TSHDLCFCS, ReadBufsize: hal.BlockSize})
	if err != nil {
		return nil, err
	}
	s.d = &dchan{c: nc, lost: &s.dLost}
	return s.d, nil
}

// BChannel opens timeslot n RAW.
func (s *Span) BChannel(n int) (hal.Timeslot, error) {
	if err := hal.CheckBChannel("e1", n); err != nil {
		return nil, fmt.Errorf("osmo-e1d: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.slots[n]; b != nil {
		return b, nil
	}
	nc, err := s.conn.Load().OpenTS(s.intf, s.line, uint8(n), TSConfig{Mode: TSRaw, ReadBufsize: hal.BlockSize})
	if err != nil {
		return nil, err
	}
	b := newBSlot(nc, &s.slips)
	s.slots[n] = b
	return b, nil
}

// Close closes the timeslots and the control connection.
func (s *Span) Close() error {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	if s.d != nil {
		s.d.Close()
	}
	for _, b := range s.slots {
		b.c.Close()
	}
	s.mu.Unlock()
	return s.conn.Load().Close()
}

// dchan is timeslot 16: one frame, without FCS, per message, on the
// socket of the daemon's connection of the moment.
type dchan struct {
	mu     sync.Mutex
	c      net.Conn
	lost   *atomic.Bool
	closed atomic.Bool
}

func (d *dchan) sock() net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c
}

// replace puts the socket of a new connection in place of the old one.
func (d *dchan) replace(c net.Conn) {
	d.mu.Lock()
	old := d.c
	d.c = c
	d.mu.Unlock()
	old.Close()
}

// ErrEmptyFrame is WriteFrame given nothing: the daemon would read a
// zero-length message as the client going away and close the timeslot.
var ErrEmptyFrame = errors.New("osmo-e1d: empty D-channel frame")

func (d *dchan) ReadFrame(p []byte) (int, error) {
	c := d.sock()
	n, err := c.Read(p)
	if err == nil && n == 0 {
		err = io.EOF // the daemon closed the timeslot
	}
	if err != nil && !d.closed.Load() && d.sock() == c { // not a socket already replaced
		d.lost.Store(true)
	}
	return n, err
}

func (d *dchan) WriteFrame(f []byte) error {
	switch {
	case len(f) == 0:
		return ErrEmptyFrame
	case len(f) > MaxHDLC:
		return fmt.Errorf("osmo-e1d: D-channel frame of %d octets, the daemon takes %d", len(f), MaxHDLC)
	}
	_, err := d.sock().Write(f)
	return err
}

func (d *dchan) Close() error {
	d.closed.Store(true)
	return d.sock().Close()
}

// bslot is a B-channel: the daemon writes 160 octets each 20 ms, and for
// each block it brings one goes back, so what the binary sends is paced
// by the line. A goroutine reads the socket all the time, calls or not,
// into a hal/pcm slot: between calls the daemon's blocks are dropped
// rather than left in the socket for the next call to hear seconds late.
//
// The daemon sends 0xFF, octet by octet, for whatever the client has not
// written by the frame it is due (mux_demux.c), so answering each block
// only once it arrived would leave the line no margin: a pump held up
// for a millisecond punches 0xFF into the audio going out (under -race
// on a loaded host, into a 50 ms DTMF digit about once in 40 calls).
// The slot starts lead blocks of idle ahead, an elastic store of 20 ms
// per block, and stays that far ahead, since it answers block for block.
type bslot struct {
	*pcm.Slot
	c   net.Conn
	mu  sync.Mutex
	err error
}

func newBSlot(c net.Conn, slips *atomic.Uint64) *bslot {
	b := &bslot{c: c}
	b.Slot = pcm.NewSlot(0xD5, slips, b.failed)
	go b.pump()
	return b
}

func (b *bslot) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// lead is how many blocks a B-channel writes ahead of the line.
const lead = 2

func (b *bslot) pump() {
	var err error
	idle := bytes.Repeat([]byte{0xD5}, lead*hal.BlockSize)
	_, err = b.c.Write(idle)
	for err == nil {
		if _, err = io.ReadFull(b.c, b.RX[:]); err != nil {
			break
		}
		b.Exchange()
		_, err = b.c.Write(b.TX[:])
	}
	b.mu.Lock()
	b.err = fmt.Errorf("osmo-e1d: B-channel: %w", err)
	b.mu.Unlock()
	b.Stop()
}
