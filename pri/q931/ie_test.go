package q931

import (
	"bytes"
	"errors"
	"testing"
)

// The element codings below are laid out octet by octet from Q.931 §4.5
// (as ETSI EN 300 403-1 §4.5 keeps them for EuroISDN), never read back
// from Encode: an entry's hex is what a peer puts on the wire.

// Bearer capability, Q.931 §4.5.5 figure 4-11:
//
//	octet 3  ext 1 | coding standard 00 (ITU-T) | information transfer capability (5 bits)
//	octet 4  ext 1 | transfer mode 00 (circuit) | information transfer rate 10000 (64 kbit/s)
//	octet 4a/4b only when octet 4's extension bit is 0 (multirate, structure, ...)
//	octet 5  ext | layer 01 | user information layer 1 protocol (00010 µ-law, 00011 A-law)
func TestBearerCoding(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		b         Bearer
	}{
		{"speech, G.711 A-law", "80 90 a3", Bearer{Speech, LayerALaw}},
		{"speech, G.711 µ-law", "80 90 a2", Bearer{Speech, LayerMuLaw}},
		{"3.1 kHz audio, A-law", "90 90 a3", Bearer{Audio3k1, LayerALaw}},
		{"unrestricted digital, no layer 1 octet", "88 90", Bearer{Unrestricted, 0}},
	} {
		if got := c.b.Encode(); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("%s: encodes as % x, want %s", c.name, got, c.hex)
		}
		if got, err := DecodeBearer(unhex(t, c.hex)); err != nil || got != c.b {
			t.Errorf("%s: decodes as %+v, %v", c.name, got, err)
		}
	}
	// Fields wider than their octet's bits are cut to them, not spilled
	// into the coding standard or the layer identification.
	if got := (Bearer{Capability: 0xE8, Layer1: 0xE3}).Encode(); !bytes.Equal(got, unhex(t, "88 90 a3")) {
		t.Errorf("wide fields encode as % x", got)
	}
}

func TestDecodeBearer(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      Bearer
		err       bool
	}{
		{"empty", "", Bearer{}, true},
		{"octet 3 only", "80", Bearer{}, true},
		{"octets 3 and 4, no layer 1", "80 90", Bearer{Speech, 0}, false},
		{"coding standard 11 (national) is not part of the capability", "e0 90 a3", Bearer{Speech, LayerALaw}, false},
		// Octet 4 with extension 0: octet 4a (0xa0, whose bits 7-6 read
		// like a layer 1 identification) is skipped before octet 5.
		{"octet 4a before layer 1", "88 10 a0 a2", Bearer{Unrestricted, LayerMuLaw}, false},
		// Octet 4a with structure 001 (8 kHz integrity), as a speech
		// bearer of the Blue Book coding carries it, then octet 4b.
		{"octets 4a and 4b before layer 1", "80 10 20 90 a3", Bearer{Speech, LayerALaw}, false},
		// Octet 5 with extension 0 is followed by 5a (V.110 rate).
		{"layer 1 V.110 with octet 5a", "88 90 21 8f", Bearer{Unrestricted, 0x01}, false},
		// A layer 2 identification (10) after layer 1 does not replace it.
		{"layer 1 then layer 2 identification", "80 90 a3 c2", Bearer{Speech, LayerALaw}, false},
		{"layer 2 only", "88 90 c2", Bearer{Unrestricted, 0}, false},
	} {
		got, err := DecodeBearer(unhex(t, c.hex))
		if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrContents)) {
			t.Errorf("%s: error %v, want error %v", c.name, err, c.err)
		}
		if !c.err && got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestBearerString(t *testing.T) {
	for b, want := range map[Bearer]string{
		{Speech, LayerALaw}:     "speech, A-law",
		{Audio3k1, LayerMuLaw}:  "3.1 kHz audio, µ-law",
		{Unrestricted, 0}:       "unrestricted digital",
		{0x11, 0}:               "capability 0x11",
		{Speech, 0x01}:          "speech",
		{Unrestricted, 0x03}:    "unrestricted digital, A-law",
		{Audio3k1, LayerALaw}:   "3.1 kHz audio, A-law",
		{Speech, LayerMuLaw}:    "speech, µ-law",
		{Unrestricted, 0x1F}:    "unrestricted digital",
		{0x18, LayerMuLaw}:      "capability 0x18, µ-law",
		{Unrestricted, 0x02}:    "unrestricted digital, µ-law",
		{Audio3k1, 0}:           "3.1 kHz audio",
		{0x09, LayerALaw}:       "capability 0x09, A-law",
		{Speech, LayerALaw | 4}: "speech",
	} {
		if got := b.String(); got != want {
			t.Errorf("%+v: %q, want %q", b, got, want)
		}
	}
}

// Channel identification, Q.931 §4.5.13 figure 4-18, primary rate:
//
//	octet 3   ext 1 | interface id present | interface type 1 (primary) | spare |
//	          preferred 0 / exclusive 1 | D-channel indicator | channel selection
//	          (00 none, 01 as indicated in octet 3.2, 11 any)
//	octet 3.1 interface identifier, when present (extension bit ends it)
//	octet 3.2 ext 1 | coding standard 00 | number 0 / slot map 1 | type 0011 (B-channel units)
//	octet 3.3 ext 1 | channel number
func TestChannelCoding(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		c         Channel
	}{
		{"exclusive B1", "a9 83 81", Channel{Exclusive: true, Number: 1}},
		{"preferred B5", "a1 83 85", Channel{Number: 5}},
		{"exclusive B31", "a9 83 9f", Channel{Exclusive: true, Number: 31}},
		{"preferred any channel", "a3", Channel{}},
		{"exclusive any channel", "ab", Channel{Exclusive: true}},
		{"D-channel indicated, any channel", "a7", Channel{DChannel: true}},
		{"exclusive B16 with the D-channel indicator", "ad 83 90", Channel{Exclusive: true, Number: 16, DChannel: true}},
	} {
		if got := c.c.Encode(); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("%s: encodes as % x, want %s", c.name, got, c.hex)
		}
		if got, err := DecodeChannel(unhex(t, c.hex)); err != nil || got != c.c {
			t.Errorf("%s: decodes as %+v, %v", c.name, got, err)
		}
	}
}

func TestDecodeChannel(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      Channel
		err       bool
	}{
		{"empty", "", Channel{}, true},
		{"basic rate interface type", "89", Channel{Exclusive: true}, true},
		{"basic rate B1", "81", Channel{}, true},
		{"no channel", "a8", Channel{Exclusive: true}, false},
		{"interface identifier 0x81 skipped", "e9 81 83 85", Channel{Exclusive: true, Number: 5}, false},
		{"interface identifier of two octets skipped", "e1 01 82 83 86", Channel{Number: 6}, false},
		{"interface identifier, then any channel", "e3 81", Channel{}, false},
		{"channel selection 01 without octet 3.2", "a9", Channel{Exclusive: true}, true},
		{"channel selection 01 without octet 3.3", "a9 83", Channel{Exclusive: true}, true},
		{"interface identifier then no octet 3.3", "e9 81 83", Channel{Exclusive: true}, true},
		{"interface identifier cut short", "e9 01", Channel{Exclusive: true}, true},
		{"slot map", "a9 93 81", Channel{Exclusive: true}, true},
		{"channel number 0", "a9 83 80", Channel{Exclusive: true}, true},
		{"channel number with its extension bit cleared", "a1 83 0a", Channel{Number: 10}, false},
	} {
		got, err := DecodeChannel(unhex(t, c.hex))
		if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrContents)) {
			t.Errorf("%s: error %v, want error %v", c.name, err, c.err)
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestChannelString(t *testing.T) {
	for c, want := range map[Channel]string{
		{Exclusive: true, Number: 1}: "exclusive B1",
		{Number: 17}:                 "preferred B17",
		{}:                           "preferred any channel",
		{Exclusive: true}:            "exclusive any channel",
	} {
		if got := c.String(); got != want {
			t.Errorf("%+v: %q, want %q", c, got, want)
		}
	}
}

// Called and calling party number, Q.931 §4.5.8 and §4.5.10:
//
//	octet 3  ext | type of number (3 bits) | numbering plan (4 bits)
//	octet 3a (calling party, when octet 3's ext is 0) ext 1 |
//	         presentation (2 bits) | spare 000 | screening (2 bits)
//	octet 4- IA5 digits
func TestNumberCoding(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		n         Number
	}{
		{"called, subscriber, ISDN plan, 100", "c1 31 30 30", Number{Type: TypeSubscriber, Plan: PlanISDN, Digits: "100"}},
		{"called, unknown, unknown plan, no digits", "80", Number{}},
		{"called, international, ISDN", "91 38 36 31 30", Number{Type: TypeInternational, Plan: PlanISDN, Digits: "8610"}},
		{"calling, national, allowed, user-provided not screened", "21 80 38 38 38 38",
			Number{Type: TypeNational, Plan: PlanISDN, HasPresentation: true, Digits: "8888"}},
		{"calling, international, restricted, network-provided", "11 a3 2a 23",
			Number{Type: TypeInternational, Plan: PlanISDN, HasPresentation: true, Presentation: 1, Screening: 3, Digits: "*#"}},
		{"calling, number not available, user-provided verified", "00 c1",
			Number{HasPresentation: true, Presentation: 2, Screening: 1}},
		{"calling, type 7 plan 9 (private)", "79 82 41 42 43 44",
			Number{Type: 7, Plan: 9, HasPresentation: true, Screening: 2, Digits: "ABCD"}},
	} {
		if got := c.n.Encode(); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("%s: encodes as % x, want %s", c.name, got, c.hex)
		}
		if got, err := DecodeNumber(unhex(t, c.hex)); err != nil || got != c.n {
			t.Errorf("%s: decodes as %+v, %v", c.name, got, err)
		}
	}
	// Values wider than their field are cut to it, not spilled into the
	// neighbouring field or the extension bit.
	wide := Number{Type: 0x0C, Plan: 0x31, HasPresentation: true, Presentation: 0x05, Screening: 0x06, Digits: "1"}
	if got := wide.Encode(); !bytes.Equal(got, unhex(t, "41 a2 31")) {
		t.Errorf("wide fields encode as % x, want 41 a2 31", got)
	}
}

func TestDecodeNumberRefuses(t *testing.T) {
	for _, c := range []struct{ name, hex string }{
		{"empty", ""},
		{"octet 3a announced, missing", "21"},
		{"space", "81 31 20 32"},
		{"letter E", "81 45"},
		{"lower-case a", "81 61"},
		{"NUL", "81 00"},
		{"an octet with the high bit set", "81 b1"},
		{"bad digit after octet 3a", "21 80 31 3f"},
	} {
		if n, err := DecodeNumber(unhex(t, c.hex)); !errors.Is(err, ErrContents) {
			t.Errorf("%s: %+v, %v; want ErrContents", c.name, n, err)
		}
	}
	if n, err := DecodeNumber([]byte{0x91, '+', '4', '9'}); err != nil || n.Digits != "+49" {
		t.Errorf("+ in an international number: %+v %v", n, err)
	}
}

// Cause, Q.931 §4.5.12 and Q.850 §2.2:
//
//	octet 3  ext | coding standard (2 bits) | spare | location (4 bits)
//	octet 3a (when octet 3's ext is 0) ext 1 | recommendation
//	octet 4  ext 1 | cause value (7 bits)
//	octet 5- diagnostics
func TestCauseCoding(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		c         Cause
	}{
		{"normal call clearing from the user", "80 90", Cause{Location: LocUser, Value: CauseNormal}},
		{"user busy, public network remote user, diagnostic", "84 91 01", Cause{Location: LocPublicRemote, Value: CauseBusy, Diag: []byte{1}}},
		{"channel unacceptable, private network local", "81 86", Cause{Location: LocPrivateLocal, Value: CauseChannelUnacceptable}},
		{"recovery on timer expiry, diagnostic is the timer", "82 e6 33 30 33", Cause{Location: LocPublicLocal, Value: CauseTimerExpiry, Diag: []byte("303")}},
	} {
		if got := c.c.Encode(); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("%s: encodes as % x, want %s", c.name, got, c.hex)
		}
		got, err := DecodeCause(unhex(t, c.hex))
		if err != nil || got.Location != c.c.Location || got.Value != c.c.Value || !bytes.Equal(got.Diag, c.c.Diag) {
			t.Errorf("%s: decodes as %+v, %v", c.name, got, err)
		}
	}
	if got := (Cause{Location: 0x15, Value: 0x91}).Encode(); !bytes.Equal(got, unhex(t, "85 91")) {
		t.Errorf("wide fields encode as % x, want 85 91", got)
	}
}

func TestDecodeCause(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      Cause
		err       bool
	}{
		{"empty", "", Cause{}, true},
		{"octet 3 only", "80", Cause{}, true},
		{"octet 3a without a value", "04 80", Cause{Location: LocPublicRemote}, true},
		{"octet 3a, value, no diagnostic", "02 80 90", Cause{Location: LocPublicLocal, Value: CauseNormal}, false},
		{"octet 3a, value, diagnostic", "05 80 a2 01 02", Cause{Location: LocPrivateRemote, Value: CauseNoCircuit, Diag: []byte{1, 2}}, false},
		{"coding standard 11 (network specific)", "e2 9f", Cause{Location: LocPublicLocal, Value: CauseNormalUnspecified}, false},
	} {
		got, err := DecodeCause(unhex(t, c.hex))
		if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrContents)) {
			t.Errorf("%s: error %v, want error %v", c.name, err, c.err)
		}
		if got.Location != c.want.Location || got.Value != c.want.Value || !bytes.Equal(got.Diag, c.want.Diag) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestCauseNames(t *testing.T) {
	for v, want := range map[uint8]string{
		CauseNormal:          "normal call clearing",
		CauseBusy:            "user busy",
		CauseNoCircuit:       "no circuit/channel available",
		CauseInvalidContents: "invalid information element contents",
		99:                   "cause 99",
	} {
		if got := CauseName(v); got != want {
			t.Errorf("CauseName(%d) = %q, want %q", v, got, want)
		}
	}
	if got := (Cause{Value: CauseRejected}).String(); got != "21 (call rejected)" {
		t.Errorf("cause 21: %q", got)
	}
}

// Progress indicator, Q.931 §4.5.23:
//
//	octet 3  ext 1 | coding standard | spare | location
//	octet 4  ext 1 | progress description (7 bits)
func TestProgressCoding(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		p         Progress
	}{
		{"in-band information, public network local", "82 88", Progress{LocPublicLocal, ProgressInBand}},
		{"not end-to-end ISDN, user", "80 81", Progress{LocUser, ProgressNotISDN}},
	} {
		if got := c.p.Encode(); !bytes.Equal(got, unhex(t, c.hex)) {
			t.Errorf("%s: encodes as % x, want %s", c.name, got, c.hex)
		}
		if got, err := DecodeProgress(unhex(t, c.hex)); err != nil || got != c.p {
			t.Errorf("%s: decodes as %+v, %v", c.name, got, err)
		}
	}
	if got, err := DecodeProgress(unhex(t, "e4 08")); err != nil || got != (Progress{LocPublicRemote, ProgressInBand}) {
		t.Errorf("coding standard and extension bits kept: %+v %v", got, err)
	}
	if got := (Progress{0x12, 0x88}).Encode(); !bytes.Equal(got, unhex(t, "82 88")) {
		t.Errorf("wide fields encode as % x", got)
	}
	for _, h := range []string{"", "82"} {
		if _, err := DecodeProgress(unhex(t, h)); !errors.Is(err, ErrContents) {
			t.Errorf("progress %q: %v", h, err)
		}
	}
}

// Restart indicator, Q.931 §4.5.25: one octet, ext 1 | spare | class
// (000 indicated channels, 110 single interface, 111 all interfaces).
func TestDecodeRestart(t *testing.T) {
	for _, c := range []struct {
		hex   string
		class uint8
		err   bool
	}{
		{"80", RestartChannels, false},
		{"86", RestartInterface, false},
		{"87", RestartAll, false},
		{"81", 1, true},
		{"82", 2, true},
		{"85", 5, true},
		{"", 0, true},
		{"86 86", 0, true},
	} {
		got, err := DecodeRestart(unhex(t, c.hex))
		if (err != nil) != c.err || (err != nil && !errors.Is(err, ErrContents)) {
			t.Errorf("restart %q: error %v, want error %v", c.hex, err, c.err)
		}
		if got != c.class {
			t.Errorf("restart %q: class %d, want %d", c.hex, got, c.class)
		}
	}
}
