package console

import (
	"strings"
	"testing"
)

// FuzzInput is what a technician (or line noise on the serial port) types:
// any bytes go through the line editor, with Enter taking a line and Tab
// and ? asking for completion and help, and each line taken through the
// command matcher. The cursor stays within the line, a hidden line echoes
// nothing, and no input panics.
func FuzzInput(f *testing.F) {
	f.Add([]byte("show spnas\x1b[D\x1b[D\x7f\x1b[Cn\r"))
	f.Add([]byte("sh sp 1\rag 1001 pause lunch\r\x1b[A\x1b[A\x1b[B\r"))
	f.Add([]byte("config set sip.listen 0.0.0.0:5060\t?\x15\x03\x04"))
	f.Add([]byte("\x1b[\x1b\x1bA\x00\xff\xfe\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, hidden := range []bool{false, true} {
			e := &editor{hidden: hidden}
			for _, b := range in {
				r := e.key(b)
				if e.pos < 0 || e.pos > len(e.buf) {
					t.Fatalf("cursor %d in a line of %d", e.pos, len(e.buf))
				}
				if strings.ContainsFunc(e.line(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("a control character in the line %q", e.line())
				}
				switch r {
				case keyEnter:
					line := e.take()
					if !hidden {
						match(line)
						nextWords(line)
					}
				case keyComplete, keyHelp:
					nextWords(e.line())
				}
			}
			if out := e.flush(); hidden && out != "" && strings.Trim(out, "\b \r\n") != "" {
				t.Fatalf("a hidden line echoed %q", out)
			}
		}
	})
}
