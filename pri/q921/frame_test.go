package q921

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Frames as Q.921 lays them out (§2.2, §3.4, table 5), SAPI 0, TEI 0.
var frames = []struct {
	name  string
	bytes []byte
	f     Frame
}{
	{"SABME command from the network, P=1", []byte{0x02, 0x01, 0x7F}, Frame{CR: true, Kind: SABME, PF: true}},
	{"UA response from the user, F=1", []byte{0x02, 0x01, 0x73}, Frame{CR: true, Kind: UA, PF: true}},
	{"DISC command from the user", []byte{0x00, 0x01, 0x53}, Frame{Kind: DISC, PF: true}},
	{"DM response, F=0", []byte{0x00, 0x01, 0x0F}, Frame{Kind: DM}},
	{"I frame carrying a SETUP header", []byte{0x00, 0x01, 0x0A, 0x04, 0x08, 0x02, 0x00, 0x01, 0x05}, Frame{Kind: I, NS: 5, NR: 2, Info: []byte{0x08, 0x02, 0x00, 0x01, 0x05}}},
	{"RR response N(R)=1 F=1", []byte{0x00, 0x01, 0x01, 0x03}, Frame{Kind: RR, NR: 1, PF: true}},
	{"RNR command N(R)=127", []byte{0x02, 0x01, 0x05, 0xFE}, Frame{CR: true, Kind: RNR, NR: 127}},
	{"REJ N(R)=3", []byte{0x00, 0x01, 0x09, 0x06}, Frame{Kind: REJ, NR: 3}},
	{"UI on the management SAPI, group TEI", []byte{0xFC, 0xFF, 0x03, 0x0F, 0x00, 0x01, 0x01, 0xFF}, Frame{SAPI: 63, TEI: 127, Kind: UI, Info: []byte{0x0F, 0x00, 0x01, 0x01, 0xFF}}},
}

func TestFramesFromTheSpec(t *testing.T) {
	for _, c := range frames {
		got, err := Parse(c.bytes, false)
		if err != nil || got.Kind != c.f.Kind || got.CR != c.f.CR || got.PF != c.f.PF || got.NS != c.f.NS || got.NR != c.f.NR ||
			got.SAPI != c.f.SAPI || got.TEI != c.f.TEI || !bytes.Equal(got.Info, c.f.Info) {
			t.Errorf("%s: parsed %+v, %v; want %+v", c.name, got, err, c.f)
		}
		enc, err := Append(nil, c.f, true)
		if err != nil || !bytes.Equal(enc[:len(enc)-2], c.bytes) {
			t.Errorf("%s: encoded % x, %v; want % x", c.name, enc, err, c.bytes)
		}
		if back, err := Parse(enc, true); err != nil || back.Kind != c.f.Kind {
			t.Errorf("%s: with FCS: %+v %v", c.name, back, err)
		}
	}
}

func TestFCS(t *testing.T) {
	if got := FCS([]byte("123456789")); got != 0x906E { // CRC-16/X-25 check value
		t.Errorf("FCS(123456789) = %04x, want 906e", got)
	}
	enc, _ := Append(nil, Frame{Kind: SABME, CR: true, PF: true}, true)
	enc[len(enc)-1] ^= 1
	if _, err := Parse(enc, true); !errors.Is(err, ErrFCS) {
		t.Errorf("a damaged FCS: %v", err)
	}
}

func TestBadFrames(t *testing.T) {
	for _, b := range [][]byte{
		{0x00, 0x01},             // no control field
		{0x01, 0x01, 0x7F},       // EA bit set in the first address octet
		{0x00, 0x00, 0x7F},       // EA bit clear in the second
		{0x00, 0x01, 0x0D, 0x00}, // supervisory 0x0D does not exist
		{0x00, 0x01, 0xFF},       // unnumbered 0xEF does not exist
		{0x00, 0x01, 0x00},       // I frame without N(R)
		{0x00, 0x01, 0x7F, 0x01}, // SABME with information
	} {
		if f, err := Parse(b, false); err == nil {
			t.Errorf("% x accepted as %+v", b, f)
		}
	}
	if _, err := Append(nil, Frame{Kind: I, NS: 200}, false); err == nil {
		t.Error("N(S) 200 encoded")
	}
}

// FuzzParse: any octets parse or are refused; what parses encodes back
// to the same octets.
func FuzzParse(f *testing.F) {
	for _, c := range frames {
		f.Add(c.bytes)
	}
	seeds, _ := filepath.Glob("testdata/*.bin")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b, false)
		if err != nil {
			return
		}
		enc, err := Append(nil, fr, false)
		if err != nil {
			t.Fatalf("parsed %+v from % x but cannot encode it: %v", fr, b, err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("% x parsed as %+v, encodes as % x", b, fr, enc)
		}
	})
}

// More frames from Q.921 §3.4-3.6 and table 5, with the bits that the
// first table leaves at one value: P/F both ways, the largest sequence
// numbers, and the frames that may carry an information field.
var moreFrames = []struct {
	name  string
	bytes []byte
	f     Frame
}{
	{"I frame N(S)=127 N(R)=127 P=1", []byte{0x02, 0x01, 0xFE, 0xFF, 0x08}, Frame{CR: true, Kind: I, NS: 127, NR: 127, PF: true, Info: []byte{0x08}}},
	{"I frame without information", []byte{0x00, 0x01, 0x02, 0x02}, Frame{Kind: I, NS: 1, NR: 1}},
	{"SABME P=0", []byte{0x00, 0x01, 0x6F}, Frame{Kind: SABME}},
	{"UA F=0", []byte{0x00, 0x01, 0x63}, Frame{Kind: UA}},
	{"DISC P=0", []byte{0x02, 0x01, 0x43}, Frame{CR: true, Kind: DISC}},
	{"DM F=1", []byte{0x00, 0x01, 0x1F}, Frame{Kind: DM, PF: true}},
	{"UI P=1 on SAPI 0", []byte{0x02, 0x01, 0x13, 0x08}, Frame{CR: true, Kind: UI, PF: true, Info: []byte{0x08}}},
	// FRMR (§3.6.12): rejected control field (2 octets), V(S) and C/R,
	// V(R), then W X Y Z.
	{"FRMR F=1 rejecting an unknown control field", []byte{0x00, 0x01, 0x97, 0x0D, 0x00, 0x04, 0x06, 0x01}, Frame{Kind: FRMR, PF: true, Info: []byte{0x0D, 0x00, 0x04, 0x06, 0x01}}},
	{"XID P=1 with information", []byte{0x02, 0x01, 0xBF, 0x82, 0x80, 0x00}, Frame{CR: true, Kind: XID, PF: true, Info: []byte{0x82, 0x80, 0x00}}},
	{"XID F=0 empty", []byte{0x00, 0x01, 0xAF}, Frame{Kind: XID}},
	{"RR command P=1 N(R)=127", []byte{0x02, 0x01, 0x01, 0xFF}, Frame{CR: true, Kind: RR, NR: 127, PF: true}},
	{"SAPI 16 (packet), TEI 64", []byte{0x40, 0x81, 0x7F}, Frame{SAPI: 16, TEI: 64, Kind: SABME, PF: true}},
}

func TestMoreFramesFromTheSpec(t *testing.T) {
	for _, c := range moreFrames {
		got, err := Parse(c.bytes, false)
		if err != nil || got.Kind != c.f.Kind || got.CR != c.f.CR || got.PF != c.f.PF || got.NS != c.f.NS || got.NR != c.f.NR ||
			got.SAPI != c.f.SAPI || got.TEI != c.f.TEI || !bytes.Equal(got.Info, c.f.Info) {
			t.Errorf("%s: parsed %+v, %v; want %+v", c.name, got, err, c.f)
		}
		if len(c.f.Info) == 0 && got.Info != nil {
			t.Errorf("%s: empty information field is %#v, not nil", c.name, got.Info)
		}
		if enc, err := Append(nil, c.f, false); err != nil || !bytes.Equal(enc, c.bytes) {
			t.Errorf("%s: encoded % x, %v; want % x", c.name, enc, err, c.bytes)
		}
	}
}

// The FCS is sent low octet first (Q.921 §2.7, ISO/IEC 13239): the FCS of
// 02 01 7f is 0xe1dc (CRC-16/X-25, computed apart from this code).
func TestFCSOnTheWire(t *testing.T) {
	for _, c := range []struct {
		name string
		wire []byte
		kind Kind
	}{
		{"SABME P=1", []byte{0x02, 0x01, 0x7F, 0xDC, 0xE1}, SABME},
		{"UA F=1", []byte{0x00, 0x01, 0x73, 0x08, 0x9E}, UA},
		{"RR F=1 N(R)=1", []byte{0x00, 0x01, 0x01, 0x03, 0x41, 0x8D}, RR},
	} {
		f, err := Parse(c.wire, true)
		if err != nil || f.Kind != c.kind || f.Info != nil {
			t.Errorf("%s: %+v, %v", c.name, f, err)
			continue
		}
		if enc, err := Append(nil, f, true); err != nil || !bytes.Equal(enc, c.wire) {
			t.Errorf("%s: encoded % x, %v; want % x", c.name, enc, err, c.wire)
		}
		swapped := bytes.Clone(c.wire)
		n := len(swapped)
		swapped[n-2], swapped[n-1] = swapped[n-1], swapped[n-2]
		if _, err := Parse(swapped, true); !errors.Is(err, ErrFCS) {
			t.Errorf("%s: FCS high octet first: %v", c.name, err)
		}
	}
	for _, b := range [][]byte{nil, {0x02, 0x01, 0x7F, 0xDC}, {0x02, 0x01, 0xDC, 0xE1}} {
		if _, err := Parse(b, true); !errors.Is(err, ErrShort) {
			t.Errorf("% x with FCS: %v, want ErrShort", b, err)
		}
	}
}

// N201, the largest information field, is 260 octets (§5.9.3).
func TestN201(t *testing.T) {
	for _, k := range []Kind{I, UI} {
		f := Frame{Kind: k, Info: make([]byte, 260)}
		b, err := Append(nil, f, false)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Parse(b, false); err != nil || len(got.Info) != 260 {
			t.Errorf("%v with 260 octets: %d, %v", k, len(got.Info), err)
		}
		b = append(b, 0)
		if got, err := Parse(b, false); err == nil {
			t.Errorf("%v with 261 octets accepted as %d octets", k, len(got.Info))
		}
	}
}

func TestAppendRefuses(t *testing.T) {
	for _, f := range []Frame{
		{Kind: SABME, SAPI: 64},
		{Kind: SABME, TEI: 128},
		{Kind: I, NS: 128},
		{Kind: RR, NR: 128},
		{Kind: 0},
		{Kind: Kind(len(kindNames))},
	} {
		prefix := []byte{0xAA, 0xBB}
		got, err := Append(prefix, f, true)
		if err == nil || !bytes.Equal(got, prefix) {
			t.Errorf("%+v: % x, %v; want an error and the prefix alone", f, got, err)
		}
	}
	// Appending after other octets: the FCS covers the frame only.
	got, err := Append([]byte{0xAA}, Frame{Kind: SABME, CR: true, PF: true}, true)
	if want := []byte{0xAA, 0x02, 0x01, 0x7F, 0xDC, 0xE1}; err != nil || !bytes.Equal(got, want) {
		t.Errorf("% x, %v; want % x", got, err, want)
	}
}

func TestKindNames(t *testing.T) {
	for k, want := range map[Kind]string{0: "?", I: "I", RR: "RR", SABME: "SABME", XID: "XID", 12: "Kind(12)", 200: "Kind(200)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind %d: %q, want %q", uint8(k), got, want)
		}
	}
}

func TestBadFramesSpecific(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"supervisory frame of 3 octets", []byte{0x00, 0x01, 0x01}, ErrControl},
		{"supervisory frame with information", []byte{0x00, 0x01, 0x01, 0x02, 0x08}, ErrControl},
		{"DM with information", []byte{0x00, 0x01, 0x0F, 0x08}, ErrControl},
		{"UA with information", []byte{0x00, 0x01, 0x73, 0x08}, ErrControl},
		{"DISC with information", []byte{0x00, 0x01, 0x53, 0x08}, ErrControl},
		{"I frame of 3 octets", []byte{0x00, 0x01, 0x02}, ErrShort},
		{"address only", []byte{0x00, 0x01}, ErrShort},
		{"EA bit set in the first address octet", []byte{0x03, 0x01, 0x7F}, ErrAddress},
		{"EA bit clear in the second", []byte{0x02, 0x02, 0x7F}, ErrAddress},
	} {
		if f, err := Parse(c.b, false); !errors.Is(err, c.want) {
			t.Errorf("%s: %+v, %v; want %v", c.name, f, err, c.want)
		}
	}
}
