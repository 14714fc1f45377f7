package q931

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Messages laid out octet by octet from Q.931 §4 and ETSI EN 300 102-1.
var valid = []struct {
	name, hex string
	check     func(t *testing.T, m Message)
}{
	{"SETUP speech, exclusive B1, national calling, subscriber called, sending complete",
		"08 02 00 01 05  04 03 80 90 a3  18 03 a9 83 81  6c 06 21 80 38 38 38 38  70 04 c1 31 30 30  a1",
		func(t *testing.T, m Message) {
			if m.Type != Setup || m.CallRef != 1 || m.Flag || m.CallRefLen != 2 {
				t.Errorf("header %+v", m)
			}
			ie, _ := m.Get(IEBearerCapability)
			if b, err := DecodeBearer(ie.Data); err != nil || b != (Bearer{Speech, LayerALaw}) {
				t.Errorf("bearer %+v %v", b, err)
			}
			ie, _ = m.Get(IEChannelID)
			if c, err := DecodeChannel(ie.Data); err != nil || c != (Channel{Exclusive: true, Number: 1}) {
				t.Errorf("channel %+v %v", c, err)
			}
			ie, _ = m.Get(IECallingNumber)
			if n, err := DecodeNumber(ie.Data); err != nil || n.Digits != "8888" || n.Type != TypeNational || n.Plan != PlanISDN || !n.HasPresentation {
				t.Errorf("calling %+v %v", n, err)
			}
			ie, _ = m.Get(IECalledNumber)
			if n, err := DecodeNumber(ie.Data); err != nil || n.Digits != "100" || n.Type != TypeSubscriber {
				t.Errorf("called %+v %v", n, err)
			}
			if !m.Has(IESendingComplete) {
				t.Error("sending complete lost")
			}
		}},
	{"RELEASE COMPLETE, cause 16 from the user, flag set",
		"08 02 80 01 5a  08 02 80 90",
		func(t *testing.T, m Message) {
			ie, _ := m.Get(IECause)
			if c, err := DecodeCause(ie.Data); err != nil || c.Value != CauseNormal || c.Location != LocUser || !m.Flag {
				t.Errorf("cause %+v %v flag %v", c, err, m.Flag)
			}
		}},
	{"DISCONNECT, cause 17 public network remote with octet 3a and diagnostic, progress in-band",
		"08 02 00 07 45  08 04 04 80 91 01  1e 02 82 88",
		func(t *testing.T, m Message) {
			ie, _ := m.Get(IECause)
			if c, err := DecodeCause(ie.Data); err != nil || c.Value != CauseBusy || c.Location != LocPublicRemote || len(c.Diag) != 1 {
				t.Errorf("cause %+v %v", c, err)
			}
			ie, _ = m.Get(IEProgress)
			if p, err := DecodeProgress(ie.Data); err != nil || p.Description != ProgressInBand {
				t.Errorf("progress %+v %v", p, err)
			}
		}},
	{"RESTART of the whole interface on the global call reference",
		"08 02 00 00 46  79 01 86",
		func(t *testing.T, m Message) {
			ie, _ := m.Get(IERestartIndicator)
			if c, err := DecodeRestart(ie.Data); err != nil || c != RestartInterface || m.CallRef != 0 {
				t.Errorf("restart %d %v", c, err)
			}
		}},
	{"RESTART of one channel",
		"08 02 00 00 46  18 03 a9 83 85  79 01 80",
		func(t *testing.T, m Message) {
			ie, _ := m.Get(IEChannelID)
			if c, _ := DecodeChannel(ie.Data); c.Number != 5 {
				t.Errorf("channel %+v", c)
			}
		}},
	{"STATUS with call state 10 (active)",
		"08 02 80 03 7d  08 02 80 9e  14 01 0a",
		func(t *testing.T, m Message) {
			ie, _ := m.Get(IECallState)
			if len(ie.Data) != 1 || ie.Data[0] != 10 {
				t.Errorf("call state %x", ie.Data)
			}
		}},
	{"CALL PROCEEDING with any channel",
		"08 02 80 01 02  18 01 a3",
		func(t *testing.T, m Message) {
			ie, _ := m.Get(IEChannelID)
			if c, err := DecodeChannel(ie.Data); err != nil || c.Number != 0 {
				t.Errorf("channel %+v %v", c, err)
			}
		}},
	{"locking shift to codeset 6 keeps the display out of codeset 0",
		"08 02 00 05 05  04 03 80 90 a3  96  28 03 41 42 43",
		func(t *testing.T, m Message) {
			if m.Has(IEDisplay) {
				t.Error("a codeset 6 element read as codeset 0")
			}
			if last := m.IEs[len(m.IEs)-1]; last.Codeset != 6 || last.ID != IEDisplay {
				t.Errorf("last element %+v", last)
			}
		}},
	{"non-locking shift applies to one element",
		"08 02 00 05 7b  9e  28 01 41  2c 01 35",
		func(t *testing.T, m Message) {
			if ie, ok := m.Get(IEKeypad); !ok || string(ie.Data) != "5" {
				t.Error("element after a non-locking shift is not back in codeset 0")
			}
		}},
	{"dummy call reference", "08 00 7b", nil},
}

var invalid = []struct {
	name, hex string
	want      error
}{
	{"empty", "", ErrShort},
	{"other protocol", "09 02 00 01 05", ErrDiscriminator},
	{"call reference of 3 octets", "08 03 00 00 01 05", ErrCallRef},
	{"call reference cut short", "08 02 00", ErrShort},
	{"element past the end", "08 02 00 01 05 04 05 80 90", ErrIE},
	{"element without length", "08 02 00 01 05 04", ErrIE},
}

func TestDecode(t *testing.T) {
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, c.hex)
			m, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, m)
			}
			again, err := m.Encode(nil)
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("re-encodes as % x, %v", again, err)
			}
		})
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Decode(unhex(t, c.hex)); !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
}

func TestElementsRoundTrip(t *testing.T) {
	for _, c := range []Channel{{Exclusive: true, Number: 31}, {Number: 17}, {Exclusive: true}} {
		if got, err := DecodeChannel(c.Encode()); err != nil || got != c {
			t.Errorf("channel %+v -> %+v %v", c, got, err)
		}
	}
	n := Number{Type: TypeInternational, Plan: PlanISDN, HasPresentation: true, Presentation: 1, Screening: 3, Digits: "8610*#"}
	if got, err := DecodeNumber(n.Encode()); err != nil || got != n {
		t.Errorf("number -> %+v %v", got, err)
	}
	if _, err := DecodeNumber([]byte{0x81, 'x'}); !errors.Is(err, ErrContents) {
		t.Errorf("a letter in a number: %v", err)
	}
	if _, err := DecodeChannel([]byte{0x89}); !errors.Is(err, ErrContents) {
		t.Errorf("basic rate channel id: %v", err)
	}
}

// FuzzDecode: any input decodes or fails cleanly, and what decodes
// re-encodes to the same octets.
func FuzzDecode(f *testing.F) {
	for _, c := range valid {
		f.Add(unhex(f, c.hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		for _, ie := range m.IEs {
			DecodeBearer(ie.Data)
			DecodeChannel(ie.Data)
			DecodeNumber(ie.Data)
			DecodeCause(ie.Data)
			DecodeProgress(ie.Data)
			DecodeRestart(ie.Data)
		}
		again, err := m.Encode(nil)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip\n in % x\nout % x", b, again)
		}
	})
}

// TestCorpusCommitted keeps the seed corpus in testdata in step with the
// table: each valid message is a file there.
func TestCorpusCommitted(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) < len(valid) {
		t.Fatalf("seed corpus %s: %d files, %v; want at least %d", dir, len(entries), err, len(valid))
	}
}
