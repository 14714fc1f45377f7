package sdp

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Crypto is one SDES crypto attribute (RFC 4568 §9.1):
//
//	a=crypto:TAG SUITE inline:KEY||SALT[|LIFETIME][|MKI:LENGTH] [SESSION-PARAMS]
//
// The box takes one inline key without an MKI, in the suites it speaks
// (rtp.Suites), and no session parameters: anything else is an attribute
// it does not accept (RFC 4568 §7.1.1 has the answerer pick among the
// offer's attributes one it supports).
type Crypto struct {
	Tag   int
	Suite string
	Key   []byte // master key and salt, 30 octets for the AES-128 suites
}

// String is the attribute's value, after "a=".
func (c Crypto) String() string {
	return fmt.Sprintf("crypto:%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.Key))
}

// ParseCrypto reads the value of a crypto attribute ("crypto:1 ...").
func ParseCrypto(val string) (Crypto, error) {
	rest, ok := strings.CutPrefix(val, "crypto:")
	if !ok {
		return Crypto{}, fmt.Errorf("not a crypto attribute: %q", trunc(val))
	}
	f := strings.Fields(rest)
	if len(f) < 3 {
		return Crypto{}, fmt.Errorf("crypto %q: want TAG SUITE inline:KEY", trunc(rest))
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Crypto{}, fmt.Errorf("crypto tag %q", trunc(f[0]))
	}
	if len(f) > 3 {
		return Crypto{}, fmt.Errorf("crypto %d: session parameters %q not supported", tag, trunc(strings.Join(f[3:], " ")))
	}
	params, ok := strings.CutPrefix(f[2], "inline:")
	if !ok || strings.Contains(params, ";") {
		return Crypto{}, fmt.Errorf("crypto %d: want one inline key", tag)
	}
	key, extra, _ := strings.Cut(params, "|")
	for _, e := range strings.Split(extra, "|") {
		if strings.Contains(e, ":") {
			return Crypto{}, fmt.Errorf("crypto %d: an MKI is not supported", tag)
		}
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		// RFC 4568 §6.1 keys are base64 with padding; some phones drop it.
		if k, err = base64.RawStdEncoding.DecodeString(key); err != nil {
			return Crypto{}, fmt.Errorf("crypto %d: the key is not base64", tag)
		}
	}
	if len(k) != 30 {
		return Crypto{}, fmt.Errorf("crypto %d: a key and salt of %d octets, want 30", tag, len(k))
	}
	return Crypto{Tag: tag, Suite: strings.ToUpper(f[1]), Key: k}, nil // RFC 4568's ABNF names are case-insensitive
}

// Cryptos are the crypto attributes of a media line the box can use, in
// the offer's order, of the suites given.
func (m *Media) Cryptos(suites []string) []Crypto {
	var out []Crypto
	for _, a := range m.Other {
		if !strings.HasPrefix(a, "crypto:") {
			continue
		}
		if c, err := ParseCrypto(a); err == nil && containsFold(suites, c.Suite) {
			out = append(out, c)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
