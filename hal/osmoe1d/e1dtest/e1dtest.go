// Package e1dtest is a fake osmo-e1d for tests: the daemon's control
// protocol on a SEQPACKET socket and a virtual E1 pair (interface 0 line 0
// wired to interface 1 line 0, as osmo-e1d's vpair driver does), clocked
// in ticks of 10 frames (1.25 ms). It follows osmo-e1d 0.7.2's ctl.c and
// mux_demux.c as read for this project: requests breaking the field rules
// or of the wrong length close the connection without an answer, soft
// failures are answered with an empty payload, TS_OPEN answers with the
// timeslot's socket as SCM_RIGHTS (SOCK_SEQPACKET for HDLC-FCS,
// SOCK_STREAM for RAW), RAW timeslots are written to the client
// read_bufsize octets at a time, what a client does not write in time
// goes out as 0xFF, and HDLC runs in the daemon (here hal/hdlc). Left out:
// timeslot 0 parsing (so no RAI events of its own: tests raise events with
// Event), the superchannel, Sa bits.
//
// Test-only: nothing in the firmware imports it.
package e1dtest

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/hdlc"
	"jinyin/hal/osmoe1d"
)

// Daemon is a running fake.
type Daemon struct {
	Path string

	ln    *net.UnixListener
	mu    sync.Mutex
	conns map[*net.UnixConn]bool
	lines [2]*line
	quit  chan struct{}
	wg    sync.WaitGroup
}

type line struct {
	mode uint8
	ts   [32]*slot
}

// slot is an open timeslot: the daemon's end of its socket pair.
type slot struct {
	mode    uint8
	bufsize int
	c       net.Conn

	mu      sync.Mutex
	pending []byte   // RAW octets the client wrote, not yet sent
	frames  [][]byte // HDLC frames the client wrote, not yet sent
	enc     *hdlc.Encoder
	dec     *hdlc.Decoder
	rx      []byte      // RAW octets gathered for the client
	out     chan []byte // to the client, by the writer goroutine
	dead    bool
}

// Start runs a fake daemon until the test ends.
func Start(t testing.TB) *Daemon {
	t.Helper()
	dir, err := os.MkdirTemp("", "e1d") // short: socket paths are limited to 107 octets
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Path: filepath.Join(dir, "osmo-e1d.ctl"), conns: map[*net.UnixConn]bool{}, quit: make(chan struct{})}
	d.lines[0], d.lines[1] = &line{mode: osmoe1d.LineChannelized}, &line{mode: osmoe1d.LineChannelized}
	d.ln, err = net.ListenUnix("unixpacket", &net.UnixAddr{Name: d.Path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	d.wg.Add(2)
	go d.accept(d.ln)
	go d.clock()
	t.Cleanup(func() {
		close(d.quit)
		d.Stop()
		d.wg.Wait()
		os.RemoveAll(dir)
	})
	return d
}

// Stop ends the daemon as a crash would: its control socket, its
// clients' connections and every open timeslot close, and its lines
// forget their configuration.
func (d *Daemon) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ln != nil {
		d.ln.Close()
		d.ln = nil
	}
	for c := range d.conns {
		c.Close()
	}
	for i, l := range d.lines {
		for _, s := range l.ts {
			if s != nil {
				s.c.Close()
			}
		}
		d.lines[i] = &line{mode: osmoe1d.LineChannelized}
	}
}

// Restart runs a stopped daemon again on its control socket.
func (d *Daemon) Restart() error {
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: d.Path, Net: "unixpacket"})
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.ln = ln
	d.mu.Unlock()
	d.wg.Add(1)
	go d.accept(ln)
	return nil
}

// Event sends an event about interface intf's line 0 to every client, as
// the daemon does.
func (d *Daemon) Event(intf int, typ uint8) {
	msg := osmoe1d.AppendMsg(nil, osmoe1d.Header{Type: typ, Intf: uint8(intf), Line: 0, TS: 0}, nil)
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		c.Write(msg)
	}
}

func (d *Daemon) accept(ln *net.UnixListener) {
	defer d.wg.Done()
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.conns[c] = true
		d.mu.Unlock()
		d.wg.Add(1)
		go d.serve(c)
	}
}

// rules are ctl.c's field rules per command: for intf, line and ts,
// 'r' required, 'o' optional, '-' must be Any; and the payload length.
var rules = map[uint8]struct {
	fields  string
	payload int
}{
	osmoe1d.CmdIntfQuery:  {"o--", 0},
	osmoe1d.CmdLineQuery:  {"ro-", 0},
	osmoe1d.CmdTSQuery:    {"rro", 0},
	osmoe1d.CmdLineConfig: {"rr-", 1},
	osmoe1d.CmdTSOpen:     {"rrr", 4},
	osmoe1d.CmdSaBits:     {"rr-", 1},
}

func (d *Daemon) serve(c *net.UnixConn) {
	defer d.wg.Done()
	defer func() {
		d.mu.Lock()
		delete(d.conns, c)
		d.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, osmoe1d.MaxMsg)
	for {
		n, err := c.Read(buf)
		if err != nil || n == 0 {
			return
		}
		m, err := osmoe1d.ParseMsg(buf[:n])
		if err != nil {
			return
		}
		r, ok := rules[m.Type]
		if !ok || len(m.Payload) != r.payload {
			return
		}
		for i, v := range []uint8{m.Intf, m.Line, m.TS} {
			if (r.fields[i] == 'r' && v == osmoe1d.Any) || (r.fields[i] == '-' && v != osmoe1d.Any) {
				return
			}
		}
		payload, fd := d.handle(m)
		resp := osmoe1d.AppendMsg(nil, osmoe1d.Header{Type: m.Type | osmoe1d.TypeResp}, payload)
		var oob []byte
		if fd >= 0 {
			oob = syscall.UnixRights(fd)
		}
		_, _, err = c.WriteMsgUnix(resp, oob, nil)
		if fd >= 0 {
			syscall.Close(fd)
		}
		if err != nil {
			return
		}
	}
}

// handle answers m: the payload, and a file descriptor to pass or -1.
func (d *Daemon) handle(m osmoe1d.Msg) ([]byte, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var l *line
	if m.Intf < 2 && (m.Line == 0 || m.Line == osmoe1d.Any) {
		l = d.lines[m.Intf]
	}
	switch m.Type {
	case osmoe1d.CmdIntfQuery:
		var out []byte
		for i := range d.lines {
			if m.Intf == osmoe1d.Any || m.Intf == uint8(i) {
				out = append(out, uint8(i), 1)
			}
		}
		return out, -1
	case osmoe1d.CmdLineQuery:
		if l == nil {
			return nil, -1
		}
		return []byte{0, l.mode, 0}, -1
	case osmoe1d.CmdTSQuery:
		if l == nil {
			return nil, -1
		}
		var out []byte
		for ts := range l.ts {
			if m.TS != osmoe1d.Any && (uint8(ts) != m.TS || ts >= 31) { // ctl.c: a single ts only below 31
				continue
			}
			mode := uint8(osmoe1d.TSOff)
			if s := l.ts[ts]; s != nil {
				mode = s.mode
			}
			out = osmoe1d.TSInfo{ID: uint8(ts), Cfg: osmoe1d.TSConfig{Mode: mode}}.Append(out)
		}
		return out, -1
	case osmoe1d.CmdLineConfig:
		if l == nil || (m.Payload[0] != osmoe1d.LineChannelized && m.Payload[0] != osmoe1d.LineSuperchannel) {
			return nil, -1
		}
		l.mode = m.Payload[0]
		return []byte{0, l.mode, 0}, -1
	case osmoe1d.CmdTSOpen:
		cfg, _ := osmoe1d.ParseTSConfig(m.Payload)
		if l == nil || m.TS < 1 || m.TS > 31 || (cfg.Mode != osmoe1d.TSRaw && cfg.Mode != osmoe1d.TSHDLCFCS) || cfg.ReadBufsize == 0 {
			return nil, -1
		}
		if old := l.ts[m.TS]; old != nil && !old.isDead() {
			if cfg.Flags&osmoe1d.TSForce == 0 {
				return nil, -1
			}
			old.c.Close()
		}
		typ := syscall.SOCK_STREAM
		if cfg.Mode == osmoe1d.TSHDLCFCS {
			typ = syscall.SOCK_SEQPACKET
		}
		fds, err := syscall.Socketpair(syscall.AF_UNIX, typ, 0)
		if err != nil {
			return nil, -1
		}
		f := os.NewFile(uintptr(fds[0]), "daemon end")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			syscall.Close(fds[1])
			return nil, -1
		}
		s := &slot{mode: cfg.Mode, bufsize: int(cfg.ReadBufsize), c: nc, out: make(chan []byte, 64)}
		if cfg.Mode == osmoe1d.TSHDLCFCS {
			s.enc = hdlc.NewEncoder()
			s.dec = hdlc.NewDecoder(func(fr []byte, err error) {
				if err == nil {
					s.send(append([]byte(nil), fr...))
				}
			})
		}
		l.ts[m.TS] = s
		d.wg.Add(2)
		go d.fromClient(s)
		go d.toClient(s)
		return osmoe1d.TSInfo{ID: m.TS, Cfg: osmoe1d.TSConfig{Mode: cfg.Mode}, Status: 0xA5}.Append(nil), fds[1]
	}
	return nil, -1 // SaBits: answered, ignored
}

func (s *slot) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// send queues octets or a frame for the client; a client that does not
// read loses them, as the daemon's non-blocking writes do.
func (s *slot) send(b []byte) {
	select {
	case s.out <- b:
	default:
	}
}

func (d *Daemon) toClient(s *slot) {
	defer d.wg.Done()
	for {
		select {
		case b := <-s.out:
			if _, err := s.c.Write(b); err != nil {
				return
			}
		case <-d.quit:
			return
		}
	}
}

// fromClient gathers what the client writes; a read of 0 (the client
// gone, or a zero-length HDLC message) closes the timeslot, as in the
// daemon.
func (d *Daemon) fromClient(s *slot) {
	defer d.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := s.c.Read(buf)
		if err != nil || n == 0 {
			s.mu.Lock()
			s.dead = true
			s.mu.Unlock()
			s.c.Close()
			return
		}
		s.mu.Lock()
		if s.mode == osmoe1d.TSHDLCFCS {
			s.frames = append(s.frames, append([]byte(nil), buf[:min(n, osmoe1d.MaxHDLC)]...))
		} else {
			s.pending = append(s.pending, buf[:n]...)
		}
		s.mu.Unlock()
	}
}

// ticksFrames is the vpair's tick: 10 frames every 1.25 ms.
const tickFrames = 10

func (d *Daemon) clock() {
	defer d.wg.Done()
	const tick = tickFrames * 125 * time.Microsecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var a, b [tickFrames * hal.E1FrameSize]byte
	start, done := time.Now(), int64(0)
	for {
		select {
		case <-t.C:
		case <-d.quit:
			return
		}
		// A line keeps its 8,000 frames/s however late this goroutine
		// runs: the ticks a loaded host made it miss (a Ticker drops
		// them) are run now, as the daemon's timerfd counts expirations.
		// Without this the line ran slow under -race on a busy machine,
		// the clients' writers got ahead of it and their slips dropped
		// audio (a DTMF digit in TestLibpri). Behind by more than a
		// second, it slips once instead of bursting.
		due := int64(time.Since(start) / tick)
		if due-done > int64(time.Second/tick) {
			done = due - 1
		}
		d.mu.Lock()
		for ; done < due; done++ {
			d.lines[0].muxOut(a[:])
			d.lines[1].muxOut(b[:])
			d.lines[1].demuxIn(a[:])
			d.lines[0].demuxIn(b[:])
		}
		d.mu.Unlock()
	}
}

// muxOut makes a tick's frames: 0xFF wherever nothing was written.
func (l *line) muxOut(buf []byte) {
	for i := range buf {
		buf[i] = 0xFF
	}
	frames := len(buf) / hal.E1FrameSize
	var octets [tickFrames]byte
	for ts := 1; ts < 32; ts++ {
		s := l.ts[ts]
		if s == nil || s.isDead() {
			continue
		}
		s.mu.Lock()
		n := frames
		if s.mode == osmoe1d.TSHDLCFCS {
			if s.enc.Pending() == 0 && len(s.frames) > 0 { // the next frame once the last is out
				s.enc.Queue(s.frames[0])
				s.frames = s.frames[1:]
			}
			s.enc.Encode(octets[:frames])
		} else {
			n = copy(octets[:], s.pending)
			s.pending = s.pending[n:]
		}
		s.mu.Unlock()
		for k := range n {
			buf[k*hal.E1FrameSize+ts] = octets[k]
		}
	}
}

// demuxIn takes a tick's frames from the far end of the pair.
func (l *line) demuxIn(buf []byte) {
	frames := len(buf) / hal.E1FrameSize
	var octets [tickFrames]byte
	for ts := 1; ts < 32; ts++ {
		s := l.ts[ts]
		if s == nil || s.isDead() {
			continue
		}
		for k := range frames {
			octets[k] = buf[k*hal.E1FrameSize+ts]
		}
		if s.mode == osmoe1d.TSHDLCFCS {
			s.dec.Decode(octets[:frames])
			continue
		}
		for _, o := range octets[:frames] {
			s.rx = append(s.rx, o)
			if len(s.rx) == s.bufsize {
				s.send(s.rx)
				s.rx = make([]byte, 0, s.bufsize)
			}
		}
	}
}
