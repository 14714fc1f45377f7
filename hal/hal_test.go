package hal

import "testing"

func TestCheckBChannel(t *testing.T) {
	for _, c := range []struct {
		typ string
		n   int
		err string
	}{
		{"e1", 1, ""}, {"e1", 15, ""}, {"e1", 17, ""}, {"e1", 31, ""},
		{"e1", 16, "channel 16 is the D-channel on E1; it cannot carry calls"},
		{"e1", 0, "channel 0 does not exist on E1 (1-31)"},
		{"e1", 32, "channel 32 does not exist on E1 (1-31)"},
		{"t1", 1, ""}, {"t1", 23, ""},
		{"t1", 24, "channel 24 is the D-channel on T1; it cannot carry calls"},
		{"t1", 25, "channel 25 does not exist on T1 (1-24)"},
		{"t1", 0, "channel 0 does not exist on T1 (1-24)"},
	} {
		err := CheckBChannel(c.typ, c.n)
		if (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("%s channel %d: %v, want %q", c.typ, c.n, err, c.err)
		}
	}
}

func TestIdleOctet(t *testing.T) {
	if got := IdleOctet("e1"); got != 0xD5 { // A-law's idle (a quiet 0 after even-bit inversion)
		t.Errorf("E1 idle %#x", got)
	}
	if got := IdleOctet("t1"); got != 0xFF { // µ-law's zero
		t.Errorf("T1 idle %#x", got)
	}
}
