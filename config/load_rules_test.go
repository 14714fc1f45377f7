package config

import (
	"strconv"
	"strings"
	"testing"
)

// TestDecodePositions: problems found while decoding, and values inside
// arrays written over several lines with comments, stand at FILE:LINE:COL.
func TestDecodePositions(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"an unknown key in the second element of an array of tables", "[[extension]]\nnumber = \"100\"", "[[extension]]\nnumber = \"100\"\nnmber = \"1\"", `f.toml:32:1: unknown key "extension.0.nmber": did you mean "number"?`},
		{"a string where a whole number goes", "baud = 115200", "baud = \"fast\"", `f.toml:18:8: console.baud: want a whole number, got the string "fast"`},
		{"a comment inside an array does not count as an element", `transports = ["udp", "tcp"]`, "transports = [\n  # the usual two\n  \"udp\",\n  \"sctp\",\n]", `f.toml:14:3: transport "sctp" is not supported; use "udp", "tcp" or "tls"`},
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

// TestIssueOrder: issues sorted by place keep their validation order
// where the place is the same (every --set stands at 0:0); a syntax
// error has no key before its message; a table that continues an element
// of an array of tables ([queue.levels] after [[queue]]) places its keys
// in that element.
func TestIssueOrder(t *testing.T) {
	_, err := Load("f.toml", []byte(base), []string{"box.country=xx", "log.level=loud", "sip.max_calls=-1"}, testEnv)
	want := "--set box.country: country must be one of \"cn\", \"itu\", not \"xx\"\n--set log.level: level must be one of \"debug\", \"info\", \"warn\", \"error\", not \"loud\"\n--set sip.max_calls: max_calls must be 0 (no limit) or more, not -1"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	_, err = Load("f.toml", []byte(strings.Replace(base, `name = "t"`, `name = "t`, 1)), nil, testEnv)
	if err == nil || !strings.HasPrefix(err.Error(), "f.toml:2:10: ") || strings.HasPrefix(err.Error(), "f.toml:2:10: :") {
		t.Errorf("syntax error: %v", err)
	}
	src := rich + "[[queue]]\nname = \"third\"\nagents = [\"1001\"]\n[queue.levels]\n\"1001\" = 11\n"
	_, err = Load("f.toml", []byte(src), nil, richEnv)
	line := strings.Count(src, "\n")
	if err == nil || !strings.HasPrefix(err.Error(), "f.toml:"+strconv.Itoa(line)+":1: level of \"1001\"") {
		t.Errorf("level in [queue.levels]: %v, want it at line %d", err, line)
	}
}
