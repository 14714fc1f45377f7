package config

import (
	"strings"
	"testing"
)

// TestDecodePositions: problems found while decoding, and values inside
// arrays written over several lines with comments, stand at FILE:LINE:COL.
func TestDecodePositions(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"an unknown key in the second element of an array of tables", "[[extension]]\nnumber = \"100\"", "[[extension]]\nnumber = \"100\"\nnmber = \"1\"", `f.toml:32:1: unknown key "extension.nmber"`},
		{"a string where a whole number goes", "baud = 115200", "baud = \"fast\"", `f.toml:18:8: console.baud: cannot decode TOML string into struct field config.Console.Baud of type int`},
		{"a comment inside an array does not count as an element", `transports = ["udp", "tcp"]`, "transports = [\n  # the usual two\n  \"udp\",\n  \"sctp\",\n]", `f.toml:14:3: transport "sctp" is not supported; use "udp" or "tcp"`},
	} {
		if !strings.Contains(base, c.old) {
			t.Fatalf("%s: base lacks %q", c.name, c.old)
		}
		_, err := Load("f.toml", []byte(strings.Replace(base, c.old, c.new, 1)), nil, testEnv)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v\nwant %s", c.name, err, c.want)
		}
	}
}
