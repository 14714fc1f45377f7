package osmoe1d_test

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/osmoe1d"
	"jinyin/hal/osmoe1d/e1dtest"
)

func open(t *testing.T, d *e1dtest.Daemon, intf int) *osmoe1d.Span {
	t.Helper()
	s, err := osmoe1d.Open(d.Path, intf, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Two spans on the fake daemon's virtual pair: D-channel frames each way
// through the daemon's HDLC, B-channel blocks each way whole.
func TestSpansOverTheDaemon(t *testing.T) {
	d := e1dtest.Start(t)
	a, b := open(t, d, 0), open(t, d, 1)
	da, err := a.DChannel()
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.DChannel()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 600)
	for i := range 10 {
		f := bytes.Repeat([]byte{byte(i), 0x7E, 0xFF}, 1+i*8)
		if err := da.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
		n, err := db.ReadFrame(buf)
		if err != nil || !bytes.Equal(buf[:n], f) {
			t.Fatalf("frame %d: % x %v, want % x", i, buf[:n], err, f)
		}
	}
	if err := db.WriteFrame([]byte{2, 1, 0x7F}); err != nil {
		t.Fatal(err)
	}
	if n, err := da.ReadFrame(buf); err != nil || !bytes.Equal(buf[:n], []byte{2, 1, 0x7F}) {
		t.Fatalf("frame back % x %v", buf[:n], err)
	}
	if err := da.WriteFrame(nil); !errors.Is(err, osmoe1d.ErrEmptyFrame) {
		t.Errorf("an empty frame: %v", err)
	}
	if err := da.WriteFrame(make([]byte, osmoe1d.MaxHDLC+1)); err == nil {
		t.Error("a frame longer than the daemon takes")
	}

	ta, err := a.BChannel(7)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.BChannel(7)
	if err != nil {
		t.Fatal(err)
	}
	blk := make([]byte, hal.BlockSize)
	for i := range blk {
		blk[i] = byte(i)
	}
	got := make([]byte, hal.BlockSize)
	found := false
	go func() {
		for range 10 {
			ta.WriteBlock(blk)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var stream []byte
	for range 12 {
		if err := tb.ReadBlock(got); err != nil {
			t.Fatal(err)
		}
		stream = append(stream, got...)
		if bytes.Contains(stream, blk) {
			found = true
			break
		}
	}
	if !found {
		t.Errorf("block not heard whole; stream % x", stream[:64])
	}
}

// What the daemon refuses is an error, not a span that half works.
func TestRefusals(t *testing.T) {
	d := e1dtest.Start(t)
	if _, err := osmoe1d.Open(d.Path, 5, 0); err == nil {
		t.Error("opened interface 5 of 2")
	}
	if _, err := osmoe1d.Open(d.Path+".missing", 0, 0); err == nil {
		t.Error("opened a daemon that is not there")
	}
	a := open(t, d, 0)
	if _, err := a.BChannel(16); err == nil {
		t.Error("timeslot 16 as a B-channel")
	}
	c, err := osmoe1d.Dial(d.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := a.BChannel(3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OpenTS(0, 0, 3, osmoe1d.TSConfig{Mode: osmoe1d.TSRaw, ReadBufsize: 160}); !errors.Is(err, osmoe1d.ErrRefused) {
		t.Errorf("a timeslot another client has: %v", err)
	}
	if _, err := c.OpenTS(0, 0, 4, osmoe1d.TSConfig{Mode: osmoe1d.TSRaw}); !errors.Is(err, osmoe1d.ErrRefused) {
		t.Errorf("read_bufsize 0: %v", err)
	}
	nc, err := c.OpenTS(0, 0, 3, osmoe1d.TSConfig{Mode: osmoe1d.TSRaw, Flags: osmoe1d.TSForce, ReadBufsize: 160})
	if err != nil {
		t.Fatalf("forced: %v", err)
	}
	nc.Close()
	if err := c.ConfigureLine(0, 0, 0x22); !errors.Is(err, osmoe1d.ErrRefused) { // E1oIP: not for clients
		t.Errorf("line mode E1oIP: %v", err)
	}
	ifs, err := c.Interfaces()
	if err != nil || len(ifs) != 2 {
		t.Errorf("interfaces %v %v", ifs, err)
	}
	ts, err := c.Timeslots(0, 0)
	if err != nil || len(ts) != 32 || ts[3].Cfg.Mode != osmoe1d.TSRaw {
		t.Errorf("timeslots %v %v", ts, err)
	}
}

// A request the daemon cannot parse makes it hang up, as osmo-e1d does:
// the client reports the connection gone rather than waiting.
func TestDaemonHangsUp(t *testing.T) {
	d := e1dtest.Start(t)
	a := open(t, d, 0)
	raw, err := net.Dial("unixpacket", d.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.Write([]byte{0xe1, 0x01, 0x08, 0x00, 0x01, 0xff, 0xff, 0xff}) // LINE_QUERY without its interface
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := raw.Read(make([]byte, 64)); n != 0 || err == nil {
		t.Errorf("answered a request breaking the field rules: %d %v", n, err)
	}
	if a.Alarms() != 0 {
		t.Errorf("alarms %v", a.Alarms())
	}
}

// The daemon's alarm events show in Alarms; events about another line do
// not.
func TestAlarmEvents(t *testing.T) {
	d := e1dtest.Start(t)
	a := open(t, d, 0)
	wait := func(want hal.Alarms) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if a.Alarms() == want {
				return
			}
		}
		t.Fatalf("alarms %v, want %v", a.Alarms(), want)
	}
	d.Event(0, osmoe1d.EvtLOSOn)
	wait(hal.AlarmLOS)
	d.Event(0, osmoe1d.EvtAISOn)
	d.Event(0, osmoe1d.EvtLOFOn)
	wait(hal.AlarmLOS | hal.AlarmAIS | hal.AlarmLOF)
	d.Event(1, osmoe1d.EvtRAIOn) // the other interface
	d.Event(0, osmoe1d.EvtLOSOff)
	d.Event(0, osmoe1d.EvtAISOff)
	wait(hal.AlarmLOF)
	d.Event(0, osmoe1d.EvtRAIOn)
	d.Event(0, osmoe1d.EvtLOFOff)
	wait(hal.AlarmRAI)
	d.Event(0, osmoe1d.EvtRAIOff)
	wait(0)
}

// A B-channel left unread between calls does not keep the daemon's
// blocks for the next call: a block written after a second of silence is
// heard within a few blocks, not seconds later.
func TestNoStaleAudioBetweenCalls(t *testing.T) {
	d := e1dtest.Start(t)
	a, b := open(t, d, 0), open(t, d, 1)
	ta, _ := a.BChannel(9)
	tb, _ := b.BChannel(9)
	time.Sleep(time.Second) // no call: nobody reads either end
	blk := bytes.Repeat([]byte{0x42}, hal.BlockSize)
	got := make([]byte, hal.BlockSize)
	start := time.Now()
	sent := false
	for range 50 { // a call: tdm's read-then-write, both ends
		if err := ta.ReadBlock(got); err != nil {
			t.Fatal(err)
		}
		if !sent {
			ta.WriteBlock(blk)
			sent = true
			start = time.Now()
		} else {
			ta.WriteBlock(bytes.Repeat([]byte{0xD5}, hal.BlockSize))
		}
		if err := tb.ReadBlock(got); err != nil {
			t.Fatal(err)
		}
		tb.WriteBlock(got)
		if bytes.Contains(got, []byte{0x42, 0x42, 0x42, 0x42}) {
			if lag := time.Since(start); lag > 300*time.Millisecond {
				t.Errorf("heard %v after it was written", lag)
			}
			return
		}
	}
	t.Error("the block was not heard in 50 blocks")
}

// Another client taking timeslot 16 by force leaves this span without a
// D-channel: it shows LOS rather than a clear line.
func TestDChannelTakenShowsLOS(t *testing.T) {
	d := e1dtest.Start(t)
	a := open(t, d, 0)
	da, err := a.DChannel()
	if err != nil {
		t.Fatal(err)
	}
	c, err := osmoe1d.Dial(d.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nc, err := c.OpenTS(0, 0, 16, osmoe1d.TSConfig{Mode: osmoe1d.TSHDLCFCS, Flags: osmoe1d.TSForce, ReadBufsize: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := da.ReadFrame(make([]byte, 300)); err == nil {
		t.Fatal("read a frame from a timeslot taken away")
	}
	if a.Alarms() != hal.AlarmLOS {
		t.Errorf("alarms %v, want LOS", a.Alarms())
	}
}

// A daemon that restarts takes the span down (LOS) and back up: the same
// D-channel carries frames again and a B-channel opened anew carries
// audio, with no reopening by the caller.
func TestDaemonRestarts(t *testing.T) {
	d := e1dtest.Start(t)
	a, b := open(t, d, 0), open(t, d, 1)
	da, err := a.DChannel()
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.DChannel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.BChannel(5); err != nil {
		t.Fatal(err)
	}
	waitAlarms := func(s *osmoe1d.Span, want hal.Alarms) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if s.Alarms() == want {
				return
			}
		}
		t.Fatalf("alarms %v, want %v", s.Alarms(), want)
	}
	d.Event(0, osmoe1d.EvtAISOn) // forgotten with the daemon
	waitAlarms(a, hal.AlarmAIS)
	d.Stop()
	waitAlarms(a, hal.AlarmLOS)
	waitAlarms(b, hal.AlarmLOS)
	if _, err := a.BChannel(6); err == nil {
		t.Error("a B-channel opened with the daemon gone")
	}
	time.Sleep(1500 * time.Millisecond) // a redial or two finds nobody
	if err := d.Restart(); err != nil {
		t.Fatal(err)
	}
	waitAlarms(a, 0)
	waitAlarms(b, 0)

	// The D-channel: reads that failed during the outage are retried,
	// as the PRI stack does, until a frame comes through.
	buf := make([]byte, 64)
	got := make(chan error, 1)
	go func() {
		for range 100 {
			n, err := db.ReadFrame(buf)
			if err == nil {
				if !bytes.Equal(buf[:n], []byte{0, 1, 0x7F}) {
					err = errors.New("wrong frame")
				}
				got <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		got <- errors.New("no frame")
	}()
	through := false
	for i := 0; i < 50 && !through; i++ {
		if err := da.WriteFrame([]byte{0, 1, 0x7F}); err != nil {
			t.Fatalf("write after the restart: %v", err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			through = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !through {
		t.Fatal("no frame across the restarted daemon")
	}
	ta, err := a.BChannel(5)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.BChannel(5)
	if err != nil {
		t.Fatal(err)
	}
	blk := bytes.Repeat([]byte{0x42}, hal.BlockSize)
	got2 := make([]byte, hal.BlockSize)
	for range 50 {
		if err := ta.ReadBlock(got2); err != nil {
			t.Fatal(err)
		}
		ta.WriteBlock(blk)
		if err := tb.ReadBlock(got2); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(got2, []byte{0x42, 0x42, 0x42, 0x42}) {
			return
		}
	}
	t.Error("no audio on a B-channel after the restart")
}
