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
	{"dummy call reference", "08 00 7b",
		func(t *testing.T, m Message) {
			if m.CallRefLen != 0 || m.CallRef != 0 || m.Flag || m.Type != Information || len(m.IEs) != 0 {
				t.Errorf("dummy call reference read as %+v", m)
			}
		}},
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

// The message header, Q.931 §4.2-4.4 figure 4-5:
//
//	octet 1  protocol discriminator 0000 1000
//	octet 2  0000 | length of call reference value (octets)
//	octet 3  flag | call reference value (high bits)
//	octet 4  call reference value (low octet), with a length of 2
//	next     0 | message type (7 bits)
func TestHeader(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      Message
	}{
		{"two octets, flag 0", "08 02 12 34 05", Message{CallRefLen: 2, CallRef: 0x1234, Type: Setup}},
		{"two octets, flag 1, largest value", "08 02 ff ff 07", Message{CallRefLen: 2, CallRef: 0x7FFF, Flag: true, Type: Connect}},
		{"two octets, value 0x80 (not a flag)", "08 02 00 80 4d", Message{CallRefLen: 2, CallRef: 0x80, Type: Release}},
		{"one octet (basic rate), flag 1", "08 01 85 45", Message{CallRefLen: 1, CallRef: 5, Flag: true, Type: Disconnect}},
		{"one octet, largest value", "08 01 7f 01", Message{CallRefLen: 1, CallRef: 0x7F, Type: Alerting}},
		{"global call reference", "08 02 00 00 46", Message{CallRefLen: 2, Type: Restart}},
		{"dummy call reference", "08 00 75", Message{Type: StatusEnquiry}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, c.hex)
			m, err := Decode(b)
			if err != nil || m.CallRefLen != c.want.CallRefLen || m.CallRef != c.want.CallRef || m.Flag != c.want.Flag ||
				m.Type != c.want.Type || len(m.IEs) != 0 {
				t.Errorf("decoded %+v, %v; want %+v", m, err, c.want)
			}
			if enc, err := c.want.Encode(nil); err != nil || !bytes.Equal(enc, b) {
				t.Errorf("%+v encodes as % x, %v; want %s", c.want, enc, err, c.hex)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      error
	}{
		{"two octets", "08 02", ErrShort},
		{"dummy call reference without a message type", "08 00", ErrShort},
		{"one-octet call reference without a message type", "08 01 05", ErrShort},
		{"two-octet call reference without a message type", "08 02 00 01", ErrShort},
		{"spare bits of the length octet set", "08 12 00 01 05", ErrCallRef},
		{"spare bit 8 of the length octet set", "08 82 00 01 05", ErrCallRef},
		{"call reference of 15 octets", "08 0f 00 01 05", ErrCallRef},
		{"discriminator of X.25 (0x10)", "10 02 00 01 05", ErrDiscriminator},
		{"discriminator 0x88", "88 02 00 01 05", ErrDiscriminator},
	} {
		if m, err := Decode(unhex(t, c.hex)); !errors.Is(err, c.want) {
			t.Errorf("%s: %+v, %v; want %v", c.name, m, err, c.want)
		}
	}
	// Bit 8 of the message type octet is reserved for extension (§4.4).
	if m, err := Decode(unhex(t, "08 02 00 01 85")); err == nil {
		t.Errorf("message type 0x85 accepted as %+v", m)
	}
	// The diagnostic says how long the element claims to be and how much
	// of the message is left for it.
	_, err := Decode(unhex(t, "08 02 00 01 05  04 03 80 90 a3  6c 09 21 80 38"))
	if !errors.Is(err, ErrIE) || !strings.Contains(err.Error(), "element 0x6c of 9 octets, 3 left") {
		t.Errorf("element past the end: %v", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		m    Message
	}{
		{"call reference of 3 octets", Message{CallRefLen: 3, Type: Setup}},
		{"negative call reference length", Message{CallRefLen: -1, Type: Setup}},
		{"0x80 in one octet", Message{CallRefLen: 1, CallRef: 0x80, Type: Setup}},
		{"0x8000 in two octets", Message{CallRefLen: 2, CallRef: 0x8000, Type: Setup}},
		{"0x8000 in no octets", Message{CallRef: 0x8000, Type: Setup}},
	} {
		if b, err := c.m.Encode(nil); !errors.Is(err, ErrCallRef) {
			t.Errorf("%s: % x, %v; want ErrCallRef", c.name, b, err)
		}
	}
	if b, err := (Message{CallRefLen: 2, Type: 0x85}).Encode(nil); err == nil {
		t.Errorf("message type 0x85 encoded as % x", b)
	}
	// The length octet holds at most 255.
	m := Message{CallRefLen: 2, CallRef: 1, Type: UserInformation}
	m.Add(IEUserUser, make([]byte, 255))
	b, err := m.Encode(nil)
	if err != nil || len(b) != 5+2+255 || b[5] != IEUserUser || b[6] != 255 {
		t.Errorf("255-octet element: %d octets, %v", len(b), err)
	}
	m.IEs[0].Data = make([]byte, 256)
	if _, err := m.Encode(nil); err == nil {
		t.Error("256-octet element encoded")
	}
}

func TestEncodeAppends(t *testing.T) {
	m := Message{CallRefLen: 2, CallRef: 0x0102, Flag: true, Type: ReleaseComplete}
	m.Add(IECause, Cause{Location: LocUser, Value: CauseNormal}.Encode())
	m.IEs = append(m.IEs, IE{ID: IESendingComplete})
	got, err := m.Encode([]byte{0xEE})
	if want := unhex(t, "ee  08 02 81 02 5a  08 02 80 90  a1"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("encoded % x, %v; want % x", got, err, want)
	}
}

// Codeset shifts, Q.931 §4.5.2-4.5.4: 1001 0ccc locks codeset ccc for the
// elements that follow; 1001 1ccc applies to the next element only, then
// the locked codeset is back in force.
func TestShifts(t *testing.T) {
	b := unhex(t, "08 02 00 01 05  a1  95  28 01 41  9e  2c 01 35  a0  7e 01 00  90  1c 01 99")
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []IE{
		{0, IESendingComplete, nil},
		{0, 0x95, nil},               // locking shift to 5, itself in codeset 0
		{5, IEDisplay, []byte{0x41}}, // locked codeset 5
		{5, 0x9E, nil},               // non-locking shift to 6, in codeset 5
		{6, IEKeypad, []byte{0x35}},  // the one element in codeset 6
		{5, 0xA0, nil},               // single-octet element, back in codeset 5
		{5, IEUserUser, []byte{0}},
		{5, 0x90, nil}, // locking shift back to 0
		{0, IEFacility, []byte{0x99}},
	}
	if len(m.IEs) != len(want) {
		t.Fatalf("%d elements, want %d: %+v", len(m.IEs), len(want), m.IEs)
	}
	for i, w := range want {
		if g := m.IEs[i]; g.Codeset != w.Codeset || g.ID != w.ID || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("element %d: %+v, want %+v", i, g, w)
		}
	}
	if m.Has(IEDisplay) || m.Has(IEKeypad) || m.Has(IEUserUser) || !m.Has(IEFacility) || !m.Has(IESendingComplete) {
		t.Error("Has looks outside codeset 0")
	}
	if again, err := m.Encode(nil); err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encodes as % x, %v", again, err)
	}
}

// An element's Data is cut to its length: appending to it must not write
// over the element after it in the message.
func TestElementDataIsBounded(t *testing.T) {
	b := unhex(t, "08 02 00 01 05  04 02 88 90  18 03 a9 83 81")
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	bc, _ := m.Get(IEBearerCapability)
	_ = append(bc.Data, 0xA3)
	if ch, _ := m.Get(IEChannelID); !bytes.Equal(ch.Data, unhex(t, "a9 83 81")) {
		t.Errorf("channel identification now % x", ch.Data)
	}
}

func TestGetFirst(t *testing.T) {
	m, err := Decode(unhex(t, "08 02 00 01 7b  9e 2c 01 31  2c 01 32  2c 01 33"))
	if err != nil {
		t.Fatal(err)
	}
	if ie, ok := m.Get(IEKeypad); !ok || string(ie.Data) != "2" {
		t.Errorf("Get(keypad) = %+v %v, want the first codeset-0 one", ie, ok)
	}
	if ie, ok := m.Get(IECause); ok || ie.ID != 0 || ie.Data != nil {
		t.Errorf("Get(cause) = %+v %v", ie, ok)
	}
}

func TestNames(t *testing.T) {
	for ty, want := range map[Type]string{
		Setup: "SETUP", ReleaseComplete: "RELEASE COMPLETE", SetupAck: "SETUP ACKNOWLEDGE",
		0x7F: "message type 0x7f", 0x00: "message type 0x00",
	} {
		if got := ty.String(); got != want {
			t.Errorf("Type(0x%02x) = %q, want %q", uint8(ty), got, want)
		}
	}
	if !Setup.Known() || !CongestionControl.Known() || Type(0x7F).Known() {
		t.Error("Known")
	}
	for _, c := range []struct {
		ie   IE
		want string
	}{
		{IE{ID: 0x96}, "Shift to codeset 6"},
		{IE{ID: 0x9D}, "Shift to codeset 5"},
		{IE{ID: IESendingComplete}, "Sending Complete"},
		{IE{ID: IECause}, "Cause"},
		{IE{ID: IECalledNumber}, "Called Party Number"},
		{IE{Codeset: 6, ID: IEDisplay}, "IE 0x28 (codeset 6)"},
		{IE{ID: 0x01}, "IE 0x01 (codeset 0)"},
	} {
		if got := c.ie.Name(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.ie, got, c.want)
		}
	}
}
