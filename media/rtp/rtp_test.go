package rtp

import (
	"errors"
	"testing"
)

func TestParseAndPut(t *testing.T) {
	buf := make([]byte, HeaderLen+4)
	h := Header{Marker: true, PayloadType: 101, Seq: 65535, Timestamp: 0xDEADBEEF, SSRC: 42}
	h.Put(buf)
	Event{Code: 11, End: true, Volume: 10, Duration: 800}.Put(buf[HeaderLen:])
	got, payload, err := Parse(buf)
	if err != nil || got != h || len(payload) != 4 {
		t.Fatalf("%+v %v %v", got, payload, err)
	}
	e, err := ParseEvent(payload)
	if err != nil || e != (Event{Code: 11, End: true, Volume: 10, Duration: 800}) || Digit(e.Code) != '#' {
		t.Fatalf("%+v %v", e, err)
	}
}

func TestParseSkipsCSRCExtensionPadding(t *testing.T) {
	p := []byte{
		0xB1, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, // V=2 P=1 X=1 CC=1, PT 8
		0, 0, 0, 9, // CSRC
		0xBE, 0xDE, 0, 1, 1, 2, 3, 4, // extension, one word
		0xD5, 0xD5, // payload
		0, 0, 3, // padding of 3
	}
	h, payload, err := Parse(p)
	if err != nil || h.PayloadType != 8 || string(payload) != "\xD5\xD5" {
		t.Fatalf("%+v %x %v", h, payload, err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		p    []byte
		want error
	}{
		{"short", []byte{0x80, 0}, ErrShort},
		{"version 1", make([]byte, 12), ErrVersion},
		{"CSRCs past the end", []byte{0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrShort},
		{"padding past header", []byte{0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}, ErrShort},
		{"zero padding", []byte{0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrShort},
		{"extension cut", []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, ErrShort},
	} {
		if _, _, err := Parse(c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := ParseEvent([]byte{1, 2}); err == nil {
		t.Error("short event accepted")
	}
}

func TestSerialArithmetic(t *testing.T) {
	if !SeqLess(65535, 0) || SeqLess(0, 65535) || !SeqLess(1, 2) || !TSLess(0xFFFFFFF0, 16) {
		t.Error("wrap-around order wrong")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0x80, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xD5})
	f.Add([]byte{0xB1, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9, 0xBE, 0xDE, 0, 1, 1, 2, 3, 4, 0xD5, 0, 0, 3})
	f.Fuzz(func(t *testing.T, p []byte) {
		h, payload, err := Parse(p)
		if err != nil {
			return
		}
		if len(payload) > len(p)-HeaderLen {
			t.Fatalf("payload longer than the packet allows")
		}
		var r EventReceiver
		if e, err := ParseEvent(payload); err == nil {
			r.Packet(h, e, func(DigitEvent) {})
		}
	})
}
