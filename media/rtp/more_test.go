package rtp

import (
	"reflect"
	"testing"
)

func TestEventSender(t *testing.T) {
	var s EventSender
	s.Start(5, 800, 160)
	var got []Event
	var markers int
	for i := 0; i < 20; i++ {
		e, m, ok := s.Next()
		if !ok {
			break
		}
		if m {
			markers++
		}
		got = append(got, e)
	}
	// 160, 320, 480, 640, then 800 with E three times.
	if len(got) != 7 || markers != 1 || got[0].Duration != 160 || got[3].End || !got[4].End || got[6] != got[4] || got[6].Duration != 800 {
		t.Fatalf("%+v (markers %d)", got, markers)
	}
	// What the sender sends, the receiver reads as one digit.
	var r EventReceiver
	var digits string
	for _, e := range got {
		r.Packet(Header{Timestamp: 1000}, e, func(d DigitEvent) {
			if !d.End {
				digits += string(d.Digit)
			}
		})
	}
	if digits != "5" {
		t.Errorf("receiver read %q", digits)
	}
}

func TestStatsLossAndJitter(t *testing.T) {
	var s Stats
	// 100 packets at 20 ms (160 samples), every 10th lost, arrival jitter
	// alternating ±80 samples around the nominal time.
	for i := 0; i < 100; i++ {
		if i%10 == 5 {
			continue
		}
		seq := uint16(65500 + i) // wraps
		ts := uint32(i * 160)
		arrival := ts + 1000
		if i%2 == 1 {
			arrival += 80
		}
		s.Update(seq, ts, arrival)
	}
	// Counting starts at the packet that ends probation (RFC 3550 A.1).
	if s.Expected() != 99 || s.Lost() != 10 || s.ExtendedMax() != 1<<16+(65500+99-65536) {
		t.Errorf("expected %d lost %d extmax %d", s.Expected(), s.Lost(), s.ExtendedMax())
	}
	if j := s.Jitter(); j < 60 || j > 85 {
		t.Errorf("jitter %d samples, want about 80", j)
	}
	if f := s.FractionLost(); f < 24 || f > 27 { // 10% = 25.6/256
		t.Errorf("fraction lost %d/256", f)
	}
}

func TestStatsProbationAndRestart(t *testing.T) {
	var s Stats
	if s.Update(10, 0, 0) {
		t.Error("first packet accepted while on probation")
	}
	if !s.Update(11, 160, 160) || !s.Update(12, 320, 320) {
		t.Error("sequential packets not accepted")
	}
	// A jump: refused once, accepted when the next packet confirms it.
	if s.Update(40000, 0, 0) || !s.Update(40001, 160, 160) {
		t.Error("restart not followed")
	}
}

func TestJitterBuffer(t *testing.T) {
	j := NewJitterBuffer(2, 8)
	out := make([]byte, 160)
	frame := func(seq uint16) []byte { b := make([]byte, 160); b[0] = byte(seq); return b }
	// Prebuffer: nothing until 2 frames are held.
	j.Push(100, frame(100))
	if _, ok := j.Pop(out); ok {
		t.Fatal("played before prebuffering")
	}
	j.Push(102, frame(102)) // 101 comes late, out of order
	j.Push(101, frame(101))
	var played []byte
	for i := 0; i < 3; i++ {
		if n, ok := j.Pop(out); ok && n == 160 {
			played = append(played, out[0])
		}
	}
	if !reflect.DeepEqual(played, []byte{100, 101, 102}) {
		t.Fatalf("played %v", played)
	}
	// Run dry: target grows.
	if _, ok := j.Pop(out); ok || j.Underruns != 1 || j.Target() != 3 {
		t.Fatalf("underrun: target %d underruns %d", j.Target(), j.Underruns)
	}
	// A lost frame is reported as not ok, and play goes on after it.
	for s := uint16(103); s <= 108; s++ {
		if s != 105 {
			j.Push(s, frame(s))
		}
	}
	played = played[:0]
	for i := 0; i < 6; i++ {
		if _, ok := j.Pop(out); ok {
			played = append(played, out[0])
		} else {
			played = append(played, 0)
		}
	}
	if !reflect.DeepEqual(played, []byte{103, 104, 0, 106, 107, 108}) {
		t.Fatalf("played %v", played)
	}
	j.Push(50, frame(50))
	if j.Late != 1 {
		t.Error("late frame not counted")
	}
}

func TestJitterBufferShrinks(t *testing.T) {
	j := NewJitterBuffer(1, 8)
	out := make([]byte, 160)
	seq := uint16(0)
	for i := 0; i < 8; i++ { // a burst of 8 frames, then steady flow
		j.Push(seq, make([]byte, 160))
		seq++
	}
	for i := 0; i < 200; i++ {
		j.Push(seq, make([]byte, 160))
		seq++
		j.Pop(out)
	}
	if h := j.held(); h > j.Target()+2 {
		t.Errorf("still holding %d frames over target %d after 4 s", h, j.Target())
	}
}

func TestRTCPRoundTrip(t *testing.T) {
	sr := Report{SSRC: 1, Sender: true, NTPTime: 0x0102030405060708, RTPTime: 160, PacketCount: 50, OctetCount: 8000,
		Blocks: []ReportBlock{{SSRC: 2, FractionLost: 25, Lost: -3, ExtendedMax: 70000, Jitter: 80, LSR: 9, DLSR: 10}}}
	rr := Report{SSRC: 3, Blocks: []ReportBlock{{SSRC: 4, Lost: 100}}}
	b := AppendReport(nil, &sr)
	b = append(b, 0x81, 202, 0, 1, 0, 0, 0, 1) // an SDES to skip
	b = AppendReport(b, &rr)
	got, err := ParseReports(b, nil)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], sr) || !reflect.DeepEqual(got[1], rr) {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range [][]byte{{0x80}, {0x81, 201, 0, 9, 0, 0, 0, 1}, {0x81, 201, 0, 1, 0, 0, 0, 1}, {0x40, 201, 0, 0}} {
		if _, err := ParseReports(bad, nil); err == nil {
			t.Errorf("% x accepted", bad)
		}
	}
}

func FuzzParseReports(f *testing.F) {
	f.Add(AppendReport(nil, &Report{SSRC: 1, Sender: true, Blocks: []ReportBlock{{SSRC: 2}}}))
	f.Fuzz(func(t *testing.T, p []byte) {
		reports, err := ParseReports(p, nil)
		if err != nil {
			return
		}
		// What was read writes back as the same reports (RFC 3550 §6.4).
		var b []byte
		for i := range reports {
			b = AppendReport(b, &reports[i])
		}
		again, err := ParseReports(b, nil)
		if err != nil || !reflect.DeepEqual(again, reports) {
			t.Fatalf("%+v written back reads as %+v (%v)", reports, again, err)
		}
	})
}

func BenchmarkPacketPath(b *testing.B) {
	// The per-packet work of a received audio packet: parse, statistics,
	// jitter buffer in and out.
	pkt := make([]byte, HeaderLen+160)
	j := NewJitterBuffer(2, 8)
	var s Stats
	out := make([]byte, 160)
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		Header{PayloadType: 8, Seq: seq, Timestamp: uint32(seq) * 160, SSRC: 7}.Put(pkt)
		h, payload, _ := Parse(pkt)
		s.Update(h.Seq, h.Timestamp, h.Timestamp+100)
		j.Push(h.Seq, payload)
		j.Pop(out)
		seq++
	}
}
