package osmoe1d

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden vectors worked out by hand from osmo-e1d 0.7.2's proto.h (the
// packed structs, little-endian host) and ctl.c (what each answer holds);
// the requests' bytes were checked by compiling the header's structs.
func TestGolden(t *testing.T) {
	cases := []struct {
		name    string
		h       Header
		payload []byte
		want    string
	}{
		{"INTF_QUERY all", Header{CmdIntfQuery, Any, Any, Any}, nil, "e1 01 08 00 00 ff ff ff"},
		{"its answer: interface 0, 1 line", Header{CmdIntfQuery | TypeResp, 0, 0, 0}, []byte{0, 1}, "e1 01 0a 00 80 00 00 00 00 01"},
		{"LINE_QUERY interface 0, all lines", Header{CmdLineQuery, 0, Any, Any}, nil, "e1 01 08 00 01 00 ff ff"},
		{"its answer: line 0 channelized", Header{CmdLineQuery | TypeResp, 0, 0, 0}, []byte{0, LineChannelized, 0}, "e1 01 0b 00 81 00 00 00 00 20 00"},
		{"TS_QUERY all", Header{CmdTSQuery, 0, 0, Any}, nil, "e1 01 08 00 02 00 00 ff"},
		{"LINE_CONFIG superchannel", Header{CmdLineConfig, 0, 0, Any}, []byte{LineSuperchannel}, "e1 01 09 00 03 00 00 ff 21"},
		{"TS_OPEN 16 HDLC-FCS, 160", Header{CmdTSOpen, 0, 0, 16}, TSConfig{TSHDLCFCS, 0, 160}.Append(nil), "e1 01 0c 00 04 00 00 10 11 00 a0 00"},
		{"TS_OPEN 5 RAW forced, 160", Header{CmdTSOpen, 0, 0, 5}, TSConfig{TSRaw, TSForce, 160}.Append(nil), "e1 01 0c 00 04 00 00 05 10 80 a0 00"},
		{"its answer", Header{CmdTSOpen | TypeResp, 0, 0, 0}, TSInfo{16, TSConfig{Mode: TSHDLCFCS}, 0xA5}.Append(nil), "e1 01 0e 00 84 00 00 00 10 11 00 00 00 a5"},
		{"refused: no payload", Header{CmdTSOpen | TypeResp, 0, 0, 0}, nil, "e1 01 08 00 84 00 00 00"},
		{"event RAI on", Header{EvtRAIOn, 0, 0, 0}, nil, "e1 01 08 00 44 00 00 00"},
		{"event Sa bits", Header{EvtSaBits, 0, 0, 0}, []byte{0x1F}, "e1 01 09 00 7f 00 00 00 1f"},
	}
	for _, c := range cases {
		got := AppendMsg(nil, c.h, c.payload)
		if want := unhex(t, c.want); !bytes.Equal(got, want) {
			t.Errorf("%s: % x, want % x", c.name, got, want)
		}
		m, err := ParseMsg(got)
		if err != nil || m.Header != c.h || !bytes.Equal(m.Payload, c.payload) {
			t.Errorf("%s: parsed %+v %v", c.name, m, err)
		}
	}
	infos, err := ParseTSInfos(unhex(t, "10 11 00 00 00 a5 05 10 80 a0 00 00"))
	if err != nil || len(infos) != 2 || infos[0] != (TSInfo{16, TSConfig{TSHDLCFCS, 0, 0}, 0xA5}) || infos[1] != (TSInfo{5, TSConfig{TSRaw, TSForce, 160}, 0}) {
		t.Errorf("ts infos %+v %v", infos, err)
	}
	if l, err := ParseLineInfos(unhex(t, "00 20 00 01 21 00")); err != nil || len(l) != 2 || l[1] != (LineInfo{1, LineSuperchannel, 0}) {
		t.Errorf("line infos %+v %v", l, err)
	}
	if i, err := ParseIntfInfos(unhex(t, "00 01 01 02")); err != nil || len(i) != 2 || i[1] != (IntfInfo{1, 2}) {
		t.Errorf("interface infos %+v %v", i, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"e1 01 08 00 00 ff ff", ErrShort},
		{"01 e1 08 00 00 ff ff ff", ErrMagic}, // network order: not what the daemon sends
		{"e1 01 09 00 00 ff ff ff", ErrLength},
		{"e1 01 08 00 00 ff ff ff 00", ErrLength},
	} {
		if _, err := ParseMsg(unhex(t, c.in)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.in, err, c.want)
		}
	}
	for _, b := range []string{"10 11 00", "00 20", "00"} {
		if _, err := ParseTSInfos(unhex(t, b)); err == nil {
			t.Errorf("ts infos from %s", b)
		}
	}
	if _, err := ParseLineInfos(unhex(t, "00 20")); err == nil {
		t.Error("line info of 2 octets")
	}
	if _, err := ParseIntfInfos(unhex(t, "00")); err == nil {
		t.Error("interface info of 1 octet")
	}
	if _, err := ParseTSConfig(unhex(t, "10 00 a0")); err == nil {
		t.Error("ts config of 3 octets")
	}
}

// FuzzParseMsg: a message parsed comes back the same when written again.
func FuzzParseMsg(f *testing.F) {
	f.Add([]byte{0xe1, 0x01, 0x0e, 0x00, 0x84, 0, 0, 0, 0x10, 0x11, 0, 0, 0, 0xa5})
	f.Add([]byte{0xe1, 0x01, 0x08, 0x00, 0x44, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMsg(b)
		if err != nil {
			return
		}
		if again := AppendMsg(nil, m.Header, m.Payload); !bytes.Equal(again, b) {
			t.Fatalf("% x came back as % x", b, again)
		}
		ParseTSInfos(m.Payload)
		ParseLineInfos(m.Payload)
		ParseIntfInfos(m.Payload)
	})
}
