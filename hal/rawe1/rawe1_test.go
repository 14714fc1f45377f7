package rawe1

import (
	"bytes"
	"testing"
	"time"

	"jinyin/hal"
	"jinyin/hal/hdlc"
	"jinyin/hal/pcm"
	"jinyin/hal/sim"
)

func pair(t *testing.T) (a, b *Span, la, lb *sim.E1End) {
	t.Helper()
	la, lb = sim.E1Line()
	a, b = Open(la), Open(lb)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b, la, lb
}

func waitAlarms(t *testing.T, s *Span, want hal.Alarms) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s.Alarms() == want {
			return
		}
	}
	t.Fatalf("alarms %v, want %v", s.Alarms(), want)
}

// Two spans on one line: frames each way on the D-channel, blocks on the
// B-channels arriving whole, in order, and on the same block on every
// channel.
func TestLine(t *testing.T) {
	a, b, _, _ := pair(t)
	waitAlarms(t, a, 0)
	waitAlarms(t, b, 0)

	da, _ := a.DChannel()
	db, _ := b.DChannel()
	for i := range 20 {
		f := bytes.Repeat([]byte{byte(i), 0x7E, 0xFF}, 1+i*5)
		if err := da.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 600)
		n, err := db.ReadFrame(buf)
		if err != nil || !bytes.Equal(buf[:n], f) {
			t.Fatalf("frame %d: % x %v, want % x", i, buf[:n], err, f)
		}
	}
	if err := db.WriteFrame([]byte{0x02, 0x01, 0x7F}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 600)
	if n, err := da.ReadFrame(buf); err != nil || !bytes.Equal(buf[:n], []byte{0x02, 0x01, 0x7F}) {
		t.Fatalf("frame back: % x %v", buf[:n], err)
	}

	// Channel 1 and 31 send numbered blocks (octet i of block k is
	// k+i); the far end gets each whole, and the same k on both channels
	// in each block period.
	tx1, _ := a.BChannel(1)
	tx31, _ := a.BChannel(31)
	rx1, _ := b.BChannel(1)
	rx31, _ := b.BChannel(31)
	block := func(k, ch int) []byte {
		p := make([]byte, hal.BlockSize)
		for i := range p {
			p[i] = byte(k + i + ch)
		}
		return p
	}
	go func() {
		for k := range 30 {
			tx1.WriteBlock(block(k, 1))
			tx31.WriteBlock(block(k, 31))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	p1, p31 := make([]byte, hal.BlockSize), make([]byte, hal.BlockSize)
	first := -1
	for range 60 {
		if err := rx1.ReadBlock(p1); err != nil {
			t.Fatal(err)
		}
		if err := rx31.ReadBlock(p31); err != nil {
			t.Fatal(err)
		}
		if p1[0] == 0xD5 && p1[1] == 0xD5 {
			if first >= 0 && first < 25 {
				t.Fatalf("idle after block %d", first)
			}
			continue
		}
		k := int(p1[0]) - 1
		if first < 0 {
			first = k
		}
		if !bytes.Equal(p1, block(k, 1)) || !bytes.Equal(p31, block(k, 31)) {
			t.Fatalf("block %d:\n ch1  % x\n ch31 % x", k, p1[:8], p31[:8])
		}
		if k == 29 {
			break
		}
	}
	if first != 0 && first != 1 {
		t.Errorf("first block heard %d", first)
	}
	if c := b.Counters(); c.Slips > 1 { // a's channels, never read, slip
		t.Errorf("%d slips on a steady line", c.Slips)
	}
}

// A far end sending AIS: the span sees AIS and LOF, and its remote alarm
// bit tells the far end, which sees RAI; both clear with the line.
func TestAlarms(t *testing.T) {
	a, b, la, _ := pair(t)
	waitAlarms(t, a, 0)
	la.Cut(true)
	waitAlarms(t, a, hal.AlarmAIS|hal.AlarmLOF)
	waitAlarms(t, b, hal.AlarmRAI)
	la.Cut(false)
	waitAlarms(t, a, 0)
	waitAlarms(t, b, 0)
}

// Timeslot 0 as G.706 §4.1 has the receiver follow it.
func TestTS0(t *testing.T) {
	const fas, nfas, nfasA, bad = 0x9B, 0xDF, 0xFF, 0x9A
	cases := []struct {
		name string
		ts0  []byte
		want hal.Alarms
	}{
		{"nothing yet", nil, hal.AlarmLOF},
		{"FAS alone", []byte{fas}, hal.AlarmLOF},
		{"FAS, NFAS, FAS: aligned", []byte{fas, nfas, fas}, 0},
		{"NFAS without bit 2 does not align", []byte{fas, 0x9F &^ 0x40, fas}, hal.AlarmLOF},
		{"FAS, NFAS, wrong: not aligned", []byte{fas, nfas, bad}, hal.AlarmLOF},
		{"starts mid-way", []byte{nfas, fas, nfas, fas}, 0},
		{"two wrong FAS in a row keep alignment", []byte{fas, nfas, fas, nfas, bad, nfas, bad, nfas, fas}, 0},
		{"three wrong FAS lose it", []byte{fas, nfas, fas, nfas, bad, nfas, bad, nfas, bad}, hal.AlarmLOF},
		{"wrong NFAS does not count", []byte{fas, nfas, fas, 0x00, fas, 0x00, fas, 0x00, fas}, 0},
		{"A bit: remote alarm", []byte{fas, nfas, fas, nfasA}, hal.AlarmRAI},
		{"A bit cleared", []byte{fas, nfas, fas, nfasA, fas, nfas}, 0},
		{"realigned after loss", []byte{fas, nfas, fas, nfas, bad, nfas, bad, nfas, bad, nfas, fas, nfas, fas}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r ts0
			f := make([]byte, hal.E1FrameSize)
			for _, b := range c.ts0 {
				for i := range f {
					f[i] = 0xD5
				}
				f[0] = b
				r.frame(f)
			}
			if got := r.alarms(); got != c.want {
				t.Errorf("alarms %v, want %v", got, c.want)
			}
		})
	}
	// AIS: fewer than 3 zeros in 512 bits (G.775).
	var r ts0
	ones := bytes.Repeat([]byte{0xFF}, hal.E1FrameSize)
	r.frame(ones)
	r.frame(ones)
	if r.alarms()&hal.AlarmAIS == 0 {
		t.Error("all ones is not AIS")
	}
	two := bytes.Clone(ones)
	two[3], two[9] = 0x7F, 0xFE
	r.frame(two)
	r.frame(ones)
	if r.alarms()&hal.AlarmAIS == 0 {
		t.Error("two zeros in 512 bits is AIS")
	}
	three := bytes.Clone(two)
	three[20] = 0xBF
	r.frame(three)
	r.frame(ones)
	if r.alarms()&hal.AlarmAIS != 0 {
		t.Error("three zeros in 512 bits is not AIS")
	}
}

// A reader that stops for more than 4 blocks loses the oldest: slips.
func TestSlips(t *testing.T) {
	a, b, _, _ := pair(t)
	rx, _ := b.BChannel(5)
	tx, _ := a.BChannel(5)
	p := make([]byte, hal.BlockSize)
	for range 3 {
		tx.WriteBlock(p)
		rx.ReadBlock(p)
	}
	time.Sleep(200 * time.Millisecond) // 10 blocks
	if b.Counters().Slips == 0 {
		t.Error("a reader 10 blocks behind counted no slip")
	}
	for range 20 { // a writer far ahead
		tx.WriteBlock(p)
	}
	if a.Counters().Slips < 16 {
		t.Errorf("a writer 20 blocks ahead: %d slips", a.Counters().Slips)
	}
}

// A line that goes away ends the channels' reads with its error and
// shows LOS.
func TestLineGone(t *testing.T) {
	la, _ := sim.E1Line()
	s := Open(la)
	defer s.Close()
	ts, _ := s.BChannel(1)
	d, _ := s.DChannel()
	la.Close()
	if err := ts.ReadBlock(make([]byte, hal.BlockSize)); err == nil {
		t.Error("read on a closed line")
	}
	if _, err := d.ReadFrame(make([]byte, 10)); err == nil {
		t.Error("frame from a closed line")
	}
	if s.Alarms() != hal.AlarmLOS {
		t.Errorf("alarms %v, want LOS", s.Alarms())
	}
	if _, err := s.BChannel(16); err == nil {
		t.Error("timeslot 16 as a B-channel")
	}
	if err := s.Configure(hal.SpanConfig{Type: "t1"}); err == nil {
		t.Error("a T1 over E1 frames")
	}
}

// 20 ms of a full line (30 channels talking, the D-channel busy both
// ways) allocates nothing in the loop's body.
func TestProcessNoAllocs(t *testing.T) {
	s := newSpan(nil) // no run loop: the test is the loop
	var slots []*pcm.Slot
	for ch := 1; ch < 32; ch++ {
		if ch != 16 {
			ts, _ := s.BChannel(ch)
			slots = append(slots, ts.(*pcm.Slot))
		}
	}
	d, _ := s.DChannel()
	frame := bytes.Repeat([]byte{0x02, 0x01}, 30)
	blk := make([]byte, hal.BlockSize)
	// The far end's D-channel: frames in timeslot 16 of what is received.
	far := hdlc.NewEncoder()
	var ts16 [hal.BlockSize]byte
	s.process(len(s.rbuf)) // the first block starts the channels
	allocs := testing.AllocsPerRun(100, func() {
		d.WriteFrame(frame)
		if far.Pending() < 2 {
			far.Queue(frame)
		}
		far.Encode(ts16[:])
		for i := range ts16 {
			s.rbuf[i*hal.E1FrameSize+16] = ts16[i]
		}
		for _, sl := range slots {
			sl.WriteBlock(blk)
		}
		s.process(len(s.rbuf))
		for _, sl := range slots {
			sl.ReadBlock(blk)
		}
		for s.d.n > 0 {
			d.ReadFrame(blk)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 20 ms", allocs)
	}
	if s.dec.Frames == 0 {
		t.Error("no D-channel frame received")
	}
}

// BenchmarkProcess is 20 ms of a full E1: 160 frames in and out.
func BenchmarkProcess(b *testing.B) {
	s := newSpan(nil)
	for ch := 1; ch < 32; ch++ {
		if ch != 16 {
			s.BChannel(ch)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.process(len(s.rbuf))
	}
}
