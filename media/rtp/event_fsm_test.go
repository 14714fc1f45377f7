package rtp

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
)

type pkt struct {
	ts   uint32
	dur  uint16
	end  bool
	code uint8
}

func run(r *EventReceiver, pkts []pkt) string {
	var out []string
	report := func(e DigitEvent) {
		if e.End {
			out = append(out, fmt.Sprintf("%c-end/%d", e.Digit, e.Duration))
		} else {
			out = append(out, fmt.Sprintf("%c-start", e.Digit))
		}
	}
	for i, p := range pkts {
		r.Packet(Header{Seq: uint16(i), Timestamp: p.ts}, Event{Code: p.code, Duration: p.dur, End: p.end}, report)
	}
	return strings.Join(out, " ")
}

// TestEventReceiverTransitions walks each transition of the receiver.
func TestEventReceiverTransitions(t *testing.T) {
	for _, c := range []struct {
		name string
		pkts []pkt
		want string
	}{
		{"duration-0 start, as SIPp sends", []pkt{{100, 0, false, 1}, {100, 320, false, 1}, {100, 640, true, 1}, {100, 640, true, 1}, {100, 640, true, 1}}, "1-start 1-end/640"},
		{"start packets lost", []pkt{{100, 960, false, 5}, {100, 1120, true, 5}}, "5-start 5-end/1120"},
		{"only end packets", []pkt{{100, 800, true, 11}, {100, 800, true, 11}, {100, 800, true, 11}}, "#-start #-end/800"},
		{"end packets lost, next event", []pkt{{100, 160, false, 2}, {100, 320, false, 2}, {900, 160, false, 3}, {900, 320, true, 3}}, "2-start 2-end/320 3-start 3-end/320"},
		{"same digit twice", []pkt{{100, 160, false, 7}, {100, 320, true, 7}, {900, 160, false, 7}, {900, 320, true, 7}}, "7-start 7-end/320 7-start 7-end/320"},
		{"late packet of the previous event", []pkt{{100, 160, false, 4}, {100, 320, true, 4}, {900, 160, false, 6}, {100, 320, true, 4}, {900, 320, true, 6}}, "4-start 4-end/320 6-start 6-end/320"},
		{"timestamp wraps", []pkt{{0xFFFFFF00, 160, true, 8}, {0x00000100, 160, true, 9}}, "8-start 8-end/160 9-start 9-end/160"},
		{"flash ignored", []pkt{{100, 160, true, 16}}, ""},
		{"reordered duration", []pkt{{100, 320, false, 0}, {100, 160, false, 0}, {100, 480, true, 0}}, "0-start 0-end/480"},
	} {
		var r EventReceiver
		if got := run(&r, c.pkts); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestEventReceiverExpire(t *testing.T) {
	var r EventReceiver
	var got []DigitEvent
	rep := func(e DigitEvent) { got = append(got, e) }
	r.Packet(Header{Timestamp: 5}, Event{Code: 9, Duration: 160}, rep)
	for i := 0; i < 9; i++ {
		r.Expire(10, rep)
	}
	if len(got) != 1 {
		t.Fatalf("ended too early: %+v", got)
	}
	r.Expire(10, rep)
	if len(got) != 2 || !got[1].End || got[1].Digit != '9' || r.State != EventEnded {
		t.Fatalf("not ended after 10 silent intervals: %+v", got)
	}
}

// TestSIPpRecordings replays the telephone-event packets of SIPp's stock
// captures (Debian sip-tester: /usr/share/sip-tester/dtmf_2833_*.pcap).
func TestSIPpRecordings(t *testing.T) {
	for _, c := range []struct {
		file  string
		digit string
	}{{"dtmf_2833_0", "0"}, {"dtmf_2833_1", "1"}, {"dtmf_2833_5", "5"}, {"dtmf_2833_9", "9"}, {"dtmf_2833_pound", "#"}, {"dtmf_2833_star", "*"}} {
		data, err := os.ReadFile("/usr/share/sip-tester/" + c.file + ".pcap")
		if err != nil {
			data, err = os.ReadFile("testdata/" + c.file + ".pcap")
		}
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var r EventReceiver
		var got string
		for _, p := range pcapUDPPayloads(t, data) {
			h, payload, err := Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			e, err := ParseEvent(payload)
			if err != nil {
				t.Fatal(err)
			}
			r.Packet(h, e, func(de DigitEvent) {
				if !de.End {
					got += string(de.Digit)
				}
			})
		}
		if got != c.digit {
			t.Errorf("%s: got %q, want %q", c.file, got, c.digit)
		}
	}
}

// pcapUDPPayloads returns the UDP payloads of an Ethernet/IPv4 pcap file.
func pcapUDPPayloads(t *testing.T, d []byte) [][]byte {
	if len(d) < 24 || binary.LittleEndian.Uint32(d) != 0xa1b2c3d4 {
		t.Fatal("not a little-endian pcap file")
	}
	var out [][]byte
	for off := 24; off+16 <= len(d); {
		n := int(binary.LittleEndian.Uint32(d[off+8:]))
		p := d[off+16 : off+16+n]
		off += 16 + n
		ip := p[14:]
		ihl := int(ip[0]&0x0F) * 4
		out = append(out, ip[ihl+8:])
	}
	return out
}

// FuzzEvents feeds any run of RFC 4733 packets (each 8 octets of input:
// a sequence number, a timestamp and the 4-octet event) to a receiver:
// a payload reads back as it was written, every digit reported is a
// keypad character, each end follows its digit's start, and nothing
// panics.
func FuzzEvents(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 1, 10, 0, 160, 0, 2, 0, 0, 1, 10, 1, 64, 0, 3, 0, 0, 1, 0x8a, 3, 32})
	f.Add([]byte{0, 1, 0, 0, 11, 0x8a, 0, 0, 0, 1, 0, 0, 11, 0x8a, 0, 0})
	f.Add([]byte{255, 255, 255, 255, 16, 63, 255, 255, 0, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, in []byte) {
		var r EventReceiver
		open := false
		report := func(d DigitEvent) {
			if !strings.ContainsRune("0123456789*#ABCD", rune(d.Digit)) || d.Digit == 0 {
				t.Fatalf("digit %q", d.Digit)
			}
			if d.End && !open {
				t.Fatalf("the end of %q without its start", d.Digit)
			}
			open = !d.End
		}
		for len(in) >= 8 {
			p := in[4:8]
			e, err := ParseEvent(p)
			if err != nil {
				t.Fatal(err)
			}
			var back [4]byte
			e.Put(back[:])
			if back != [4]byte{p[0], p[1] &^ 0x40, p[2], p[3]} { // the R bit is reserved: not kept
				t.Fatalf("% X read back as % X", p, back)
			}
			h := Header{Seq: uint16(in[0])<<8 | uint16(in[1]), Timestamp: uint32(in[2])<<24 | uint32(in[3])<<16}
			r.Packet(h, e, report)
			in = in[8:]
		}
		r.Expire(1, report)
		if _, err := ParseEvent(in[:min(len(in), 3)]); err == nil {
			t.Fatal("a payload of 3 octets parsed")
		}
	})
}
