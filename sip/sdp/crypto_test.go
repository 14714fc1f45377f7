package sdp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// rfcKey is the inline key of RFC 4568 §2's example, and its 30 octets
// as base64 decodes them (master key 16, salt 14).
const (
	rfcKey    = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
	rfcKeyHex = "3d2d6e40255e7821426a75667239293f2c2335685c603d265d7b71695051"
)

var suites = []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}

// TestParseCrypto: RFC 4568 §9.1's grammar, the parts the box takes and
// those it refuses.
func TestParseCrypto(t *testing.T) {
	want, _ := hex.DecodeString(rfcKeyHex)
	for _, c := range []struct {
		val, err string
		tag      int
		suite    string
	}{
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, "", 1, "AES_CM_128_HMAC_SHA1_80"},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^20", "", 1, "AES_CM_128_HMAC_SHA1_80"}, // a lifetime
		{"crypto:7 aes_cm_128_hmac_sha1_32 inline:" + rfcKey, "", 7, "AES_CM_128_HMAC_SHA1_32"},           // names are case-insensitive
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(rfcKey, "="), "", 1, "AES_CM_128_HMAC_SHA1_80"},
		// RFC 4568 §2's example as written: with an MKI.
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^20|1:32", "an MKI is not supported", 0, ""},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + " KDR=1", "session parameters", 0, ""},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + ";inline:" + rfcKey, "want one inline key", 0, ""},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=", "a key and salt of 5 octets", 0, ""},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!", "not base64", 0, ""},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80 " + rfcKey, "want one inline key", 0, ""},
		{"crypto:x AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, "crypto tag", 0, ""},
		// RFC 4568 §9.1: tag = 1*9DIGIT, so 0 to 999999999 and no more.
		{"crypto:0 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, "", 0, "AES_CM_128_HMAC_SHA1_80"},
		{"crypto:999999999 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, "", 999999999, "AES_CM_128_HMAC_SHA1_80"},
		{"crypto:1000000000 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, "crypto tag", 0, ""},
		{"crypto:-1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey, "crypto tag", 0, ""},
		{"crypto:1 AES_CM_128_HMAC_SHA1_80", "want TAG SUITE inline:KEY", 0, ""},
		{"rtcp:9", "not a crypto attribute", 0, ""},
	} {
		got, err := ParseCrypto(c.val)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseCrypto(%q) = %v, want %q", c.val, err, c.err)
		case c.err == "" && (err != nil || got.Tag != c.tag || got.Suite != c.suite || !bytes.Equal(got.Key, want)):
			t.Errorf("ParseCrypto(%q) = %+v, %v", c.val, got, err)
		}
	}
	k, _ := hex.DecodeString(rfcKeyHex)
	if s := (Crypto{Tag: 1, Suite: "AES_CM_128_HMAC_SHA1_80", Key: k}).String(); s != "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+rfcKey {
		t.Errorf("String() = %q", s)
	}
}

func FuzzParseCrypto(f *testing.F) {
	f.Add("crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey + "|2^20|1:32")
	f.Add("crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + rfcKey)
	f.Fuzz(func(t *testing.T, val string) {
		c, err := ParseCrypto(val)
		if err != nil {
			return
		}
		back, err := ParseCrypto(c.String())
		if err != nil || back.Tag != c.Tag || back.Suite != c.Suite || !bytes.Equal(back.Key, c.Key) {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", val, c, c.String(), back, err)
		}
	})
}

// offerSDP is an offer of PCMA on proto with the crypto lines given.
func offerSDP(proto string, cryptos ...string) *Session {
	s := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 " + proto + " 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	for _, c := range cryptos {
		s += "a=" + c + "\r\n"
	}
	o, err := Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return o
}

// TestAnswerSRTP: the box's answer to offers with and without SDES, for
// each of its SRTP settings.
func TestAnswerSRTP(t *testing.T) {
	ours := bytes.Repeat([]byte{0xA5}, 30)
	c80 := "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey
	c32 := "crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" + rfcKey
	c80tag2 := "crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" + rfcKey
	f8 := "crypto:1 F8_128_HMAC_SHA1_80 inline:" + rfcKey
	for _, c := range []struct {
		name   string
		mode   string
		offer  *Session
		proto  string // the answer's; "" refused (488)
		crypto string // the answer's crypto line, "" none
	}{
		{"plain to plain", "", offerSDP("RTP/AVP"), "RTP/AVP", ""},
		{"SAVP to a box without SRTP", "", offerSDP("RTP/SAVP", c80), "", ""},
		{"a key on AVP to a box without SRTP: plain", "", offerSDP("RTP/AVP", c80), "RTP/AVP", ""},
		{"SAVP, optional", "optional", offerSDP("RTP/SAVP", c80), "RTP/SAVP", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl"},
		{"a key on AVP, optional: best-effort SRTP", "optional", offerSDP("RTP/AVP", c32), "RTP/AVP", "crypto:1 AES_CM_128_HMAC_SHA1_32 inline:paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl"},
		{"plain, optional", "optional", offerSDP("RTP/AVP"), "RTP/AVP", ""},
		{"plain, required", "required", offerSDP("RTP/AVP"), "", ""},
		{"SAVP in a suite the box does not speak", "required", offerSDP("RTP/SAVP", f8), "", ""},
		{"two suites: the box's preference", "required", offerSDP("RTP/SAVP", c32, c80tag2), "RTP/SAVP", "crypto:2 AES_CM_128_HMAC_SHA1_80 inline:paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl"},
	} {
		local := Local{Addr: netip.MustParseAddr("192.0.2.9"), Port: 5000, Codecs: []string{"PCMA"}, SRTP: c.mode, Key: ours, Suites: suites}
		ans, ch, err := Answer(c.offer, local)
		if c.proto == "" {
			if !errors.Is(err, ErrNoCodec) {
				t.Errorf("%s: %v, want 488", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		m := ans.Media[0]
		text := string(ans.Marshal())
		if m.Proto != c.proto || !strings.Contains(text, "m=audio 5000 "+c.proto+" 8 101\r\n") {
			t.Errorf("%s: answer\n%s", c.name, text)
		}
		has := strings.Contains(text, "a="+c.crypto+"\r\n")
		if (c.crypto == "") != (ch.Crypto == nil) || (c.crypto != "" && !has) || (c.crypto == "" && strings.Contains(text, "crypto")) {
			t.Errorf("%s: answer\n%s\npeer's key %+v", c.name, text, ch.Crypto)
		}
		if k, _ := hex.DecodeString(rfcKeyHex); ch.Crypto != nil && !bytes.Equal(ch.Crypto.Key, k) {
			t.Errorf("%s: the peer's key % X", c.name, ch.Crypto.Key)
		}
	}
}

// TestOfferSRTP: the box's offer is RTP/SAVP with its key where SRTP is
// required, RTP/AVP with its key where optional, plain otherwise; the
// answer's key is taken, and a required SRTP answered without one fails.
func TestOfferSRTP(t *testing.T) {
	ours := bytes.Repeat([]byte{0xA5}, 30)
	line := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl\r\n"
	for _, c := range []struct{ mode, proto, crypto string }{
		{"", "RTP/AVP", ""}, {"optional", "RTP/AVP", line}, {"required", "RTP/SAVP", line},
	} {
		local := Local{Addr: netip.MustParseAddr("192.0.2.9"), Port: 5000, Codecs: []string{"PCMA"}, SRTP: c.mode, Key: ours, Suites: suites}
		text := string(Offer(local, 101, SendRecv).Marshal())
		if !strings.Contains(text, "m=audio 5000 "+c.proto+" 8 101\r\n") || strings.Contains(text, "crypto") != (c.crypto != "") || !strings.Contains(text, c.crypto) {
			t.Errorf("SRTP %q: offer\n%s", c.mode, text)
		}
	}
	local := Local{Addr: netip.MustParseAddr("192.0.2.9"), Port: 5000, Codecs: []string{"PCMA"}, SRTP: "required", Key: ours, Suites: suites}
	ch, err := Accepted(offerSDP("RTP/SAVP", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+rfcKey), local)
	if k, _ := hex.DecodeString(rfcKeyHex); err != nil || ch.Crypto == nil || !bytes.Equal(ch.Crypto.Key, k) {
		t.Errorf("Accepted with a key: %+v, %v", ch.Crypto, err)
	}
	if _, err := Accepted(offerSDP("RTP/AVP"), local); !errors.Is(err, ErrNoCodec) {
		t.Errorf("Accepted without a key where required: %v", err)
	}
	local.SRTP = "optional"
	if ch, err := Accepted(offerSDP("RTP/AVP"), local); err != nil || ch.Crypto != nil {
		t.Errorf("Accepted plain where optional: %+v, %v", ch.Crypto, err)
	}
}

// TestOfferSRTPNoSuites: with SRTP on but no crypto suite to speak, the
// box has no SDES attribute to offer (RFC 4568 §9.1 needs a suite), so
// its optional-SRTP offer is plain RTP/AVP without one.
func TestOfferSRTPNoSuites(t *testing.T) {
	local := Local{Addr: netip.MustParseAddr("192.0.2.9"), Port: 5000, Codecs: []string{"PCMA"}, SRTP: "optional", Key: bytes.Repeat([]byte{0xA5}, 30)}
	text := string(Offer(local, 101, SendRecv).Marshal())
	if !strings.Contains(text, "m=audio 5000 RTP/AVP 8 101\r\n") || strings.Contains(text, "crypto") {
		t.Errorf("offer\n%s", text)
	}
}
