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
