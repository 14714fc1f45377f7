package hal

import "testing"

func TestBChannel(t *testing.T) {
	for _, c := range []struct {
		typ  string
		n    int
		ok   bool
		idle byte
	}{
		{"e1", 1, true, 0xD5}, {"e1", 15, true, 0xD5}, {"e1", 16, false, 0xD5}, {"e1", 31, true, 0xD5}, {"e1", 32, false, 0xD5},
		{"t1", 23, true, 0xFF}, {"t1", 24, false, 0xFF}, {"t1", 0, false, 0xFF},
	} {
		if idle, ok := BChannel(c.typ, c.n); ok != c.ok || idle != c.idle {
			t.Errorf("%s B%d: %x %v, want %x %v", c.typ, c.n, idle, ok, c.idle, c.ok)
		}
	}
}
