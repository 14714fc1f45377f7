package media

import "testing"

// counter gives frames 1, 2, 3... (every sample of frame n is n).
type counter struct{ n int16 }

func (c *counter) Fill(dst []int16) int {
	c.n++
	for i := range dst {
		dst[i] = c.n
	}
	return len(dst)
}

// Every reader of a Fanout gets every frame once, in order, whoever asks
// first; a reader far behind skips to the newest frame.
func TestFanout(t *testing.T) {
	f := NewFanout(&counter{})
	a, b := f.Reader(), f.Reader()
	buf := make([]int16, FrameSamples)
	for want := int16(1); want <= 3; want++ {
		a.Fill(buf)
		if buf[0] != want {
			t.Fatalf("reader a got frame %d, want %d", buf[0], want)
		}
	}
	for want := int16(1); want <= 3; want++ {
		b.Fill(buf)
		if buf[0] != want {
			t.Fatalf("reader b got frame %d, want %d", buf[0], want)
		}
	}
	for i := 0; i < 20; i++ {
		a.Fill(buf)
	}
	b.Fill(buf)
	if buf[0] != 23 {
		t.Errorf("a reader 20 frames behind got frame %d, want the newest, 23", buf[0])
	}
}

func TestMixSaturatesAndMixOfOne(t *testing.T) {
	loud := &counter{n: 30000}
	m := MixOf(loud, &counter{n: 30000})
	buf := make([]int16, FrameSamples)
	m.Fill(buf)
	if buf[0] != 32767 {
		t.Errorf("mix of two loud sources: %d, want 32767", buf[0])
	}
	if MixOf(loud) != Source(loud) {
		t.Error("a mix of one source is not the source itself")
	}
}

func BenchmarkFanoutMix(b *testing.B) {
	f := NewFanout(&counter{})
	r1, r2 := f.Reader(), f.Reader()
	m := MixOf(r1, &Tee{Src: r2, Tap: func([]int16) {}})
	buf := make([]int16, FrameSamples)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m.Fill(buf)
	}
}
