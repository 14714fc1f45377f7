package music

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/media"
	"jinyin/media/dtmf"
	"jinyin/media/wav"
)

// clk is a hand-moved clock for streams.
type clk struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clk) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clk) tick()          { c.mu.Lock(); c.t = c.t.Add(media.FrameMs * time.Millisecond); c.mu.Unlock() }

func newClk() *clk { return &clk{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }

// ramp is n samples, each one's value telling where it stands: base+i.
func ramp(base, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(base + i)
	}
	return s
}

func writeWAV(t *testing.T, path string, f wav.Format, samples []int16) {
	t.Helper()
	var b bytes.Buffer
	if err := wav.Encode(&b, f, samples); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// alaw is what a reader of samples plays: A-law, as the playlist keeps it.
func alaw(samples []int16) []byte {
	b := make([]byte, len(samples))
	media.PCMA.Encode(b, samples)
	return b
}

// The three encodings load; a folder plays its .wav files in name order
// (other files left out) and loops.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	a := ramp(-4000, 3*media.FrameSamples)
	b := ramp(1000, 2*media.FrameSamples+40) // not a whole number of frames
	c := ramp(9000, media.FrameSamples)
	writeWAV(t, filepath.Join(dir, "2-b.wav"), wav.MuLaw, b)
	writeWAV(t, filepath.Join(dir, "1-a.wav"), wav.PCM, a)
	writeWAV(t, filepath.Join(dir, "3-c.WAV"), wav.ALaw, c)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not music"), 0o644)
	os.Mkdir(filepath.Join(dir, "4-sub.wav"), 0o755)
	other := t.TempDir()
	d := ramp(-200, media.FrameSamples)
	writeWAV(t, filepath.Join(other, "shared.wav"), wav.ALaw, d)
	os.Symlink(filepath.Join(other, "shared.wav"), filepath.Join(dir, "5-link.wav"))
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Files {
		names = append(names, filepath.Base(f))
	}
	if want := []string{"1-a.wav", "2-b.wav", "3-c.WAV", "5-link.wav"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	// µ-law is decoded, then kept as A-law.
	ub := make([]byte, len(b))
	media.PCMU.Encode(ub, b)
	bu := make([]int16, len(b))
	media.PCMU.Decode(bu, ub)
	want := slices.Concat(alaw(a), alaw(bu), alaw(c), alaw(d))
	if !bytes.Equal(p.alaw, want) {
		t.Fatalf("playlist of %d samples is not the four files in order (%d)", len(p.alaw), len(want))
	}

	clock := newClk()
	r := NewStream(p, clock.now).Reader()
	var got []byte
	frame := make([]byte, media.FrameSamples)
	for range 2 * len(want) / media.FrameSamples {
		r.FillALaw(frame)
		got = append(got, frame...)
		clock.tick()
	}
	loop := slices.Concat(want, want, want)[:len(got)]
	if !bytes.Equal(got, loop) {
		at := 0
		for at < len(got) && got[at] == loop[at] {
			at++
		}
		t.Fatalf("played twice round, differs from the files looping at sample %d", at)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	stereo := filepath.Join(dir, "stereo.wav")
	f, _ := os.Create(stereo)
	sw, err := wav.NewStereoWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	sw.Write(ramp(0, 800), ramp(0, 800))
	sw.Close()
	f.Close()
	text := filepath.Join(dir, "notes.wav")
	os.WriteFile(text, []byte("hello, not a wav"), 0o644)
	short := filepath.Join(dir, "short.wav")
	writeWAV(t, short, wav.ALaw, ramp(0, 10))
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	os.WriteFile(filepath.Join(empty, "x.mp3"), []byte("x"), 0o644)
	trunc := filepath.Join(dir, "trunc.wav")
	whole, _ := os.ReadFile("../wav/testdata/invalid-truncated-alaw.wav")
	os.WriteFile(trunc, whole, 0o644)
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.wav"), "no file or folder " + filepath.Join(dir, "missing.wav")},
		{stereo, "2 channels; want mono"},
		{text, "not a WAV the box plays"},
		{short, "holds no audio"},
		{empty, "holds no .wav files"},
		{trunc, "truncated"},
		{"builtin:jazz", `no built-in music "jazz"`},
	} {
		err := Check(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "music: ") {
			t.Errorf("%s: %v, want an error saying %q", filepath.Base(c.path), err, c.want)
		}
	}
}

// Readers of one stream at the same moment get the same frame; the stream
// decodes one frame per tick however many read it; a reader that joins
// later starts where the stream is, not at the top.
func TestStreamShared(t *testing.T) {
	p, err := Load(Builtin)
	if err != nil {
		t.Fatal(err)
	}
	clock := newClk()
	s := NewStream(p, clock.now)
	for range 100 { // the stream plays on without listeners
		clock.tick()
	}
	rs := []*Reader{s.Reader(), s.Reader(), s.Reader()}
	pcm := make([][]int16, len(rs))
	for i := range pcm {
		pcm[i] = make([]int16, media.FrameSamples)
	}
	ar := s.Reader() // a PCMA call: the same frames as A-law
	al := make([]byte, media.FrameSamples)
	dec := make([]int16, media.FrameSamples)
	for tick := range 50 {
		if tick == 20 {
			rs = append(rs, s.Reader())
			pcm = append(pcm, make([]int16, media.FrameSamples))
		}
		before := s.Decoded()
		for i, r := range rs {
			r.Fill(pcm[i])
		}
		ar.FillALaw(al)
		for i := range rs[1:] {
			if !slices.Equal(pcm[i+1], pcm[0]) {
				t.Fatalf("tick %d: reader %d heard another frame than reader 0", tick, i+1)
			}
		}
		k := 100 + tick
		want := p.alaw[k*media.FrameSamples : (k+1)*media.FrameSamples]
		media.PCMA.Decode(dec, want)
		if !slices.Equal(pcm[0], dec) || !bytes.Equal(al, want) {
			t.Fatalf("tick %d: heard not frame %d of the music (where the clock is)", tick, k)
		}
		if n := s.Decoded() - before; n != 1 {
			t.Fatalf("tick %d: %d frames decoded for %d readers, want 1", tick, n, len(rs)+1)
		}
		clock.tick()
	}
}

// A reader whose channel ticks faster or slower than the clock plays
// frame after frame, and falls back in step when it is slack frames off.
func TestReaderDrift(t *testing.T) {
	p, _ := Load(Builtin)
	clock := newClk()
	s := NewStream(p, clock.now)
	r := s.Reader()
	buf := make([]byte, media.FrameSamples)
	r.FillALaw(buf)
	for range slack {
		r.FillALaw(buf) // a burst: the channel caught up after a stall
	}
	if r.next != slack+1 {
		t.Fatalf("after a burst of %d frames next is %d", slack+1, r.next)
	}
	r.FillALaw(buf) // one more is too far ahead of the clock (still at frame 0)
	if r.next != 1 {
		t.Errorf("a reader %d frames ahead went on to %d, want back in step (frame 0 played, 1 next)", slack+1, r.next)
	}
	for range 40 {
		clock.tick()
	}
	r.FillALaw(buf)
	if r.next != 41 {
		t.Errorf("a reader that stalled 40 frames plays %d next, want 41", r.next)
	}
}

// The shipped music must not sound like a digit to the box's own DTMF
// receiver: a caller waiting in a queue would book a callback by ear.
func TestBuiltinHasNoDigits(t *testing.T) {
	a, err := wav.Decode(bytes.NewReader(holdWAV))
	if err != nil {
		t.Fatal(err)
	}
	if a.Format != wav.ALaw || len(a.Samples) < 10*media.RateHz {
		t.Fatalf("hold.wav is %v, %d samples; want A-law, at least 10 s", a.Format, len(a.Samples))
	}
	if len(holdWAV) > 300<<10 {
		t.Errorf("hold.wav is %d bytes; keep the firmware small", len(holdWAV))
	}
	var heard []dtmf.Event
	d := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) { heard = append(heard, e) })
	// Twice round, as a caller hears it looping.
	for _, s := range [][]int16{a.Samples, a.Samples} {
		for i := 0; i < len(s); i += media.FrameSamples {
			d.Process(s[i:min(i+media.FrameSamples, len(s))])
		}
	}
	d.Flush()
	if len(heard) != 0 {
		t.Errorf("the DTMF receiver heard %d events in the hold music: %+v", len(heard), heard)
	}
	// A check of the check: the same receiver hears a digit mixed into
	// the music at the level a phone sends.
	mixed := append([]int16(nil), a.Samples[:media.RateHz]...)
	for i := range 800 {
		v := 0.5 * (media.PeakAt(-6)*sin(697, i) + media.PeakAt(-4)*sin(1209, i))
		mixed[4000+i] = int16(max(-32768, min(32767, float64(mixed[4000+i])+v)))
	}
	heard = nil
	d = dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) { heard = append(heard, e) })
	for i := 0; i < len(mixed); i += media.FrameSamples {
		d.Process(mixed[i : i+media.FrameSamples])
	}
	d.Flush()
	if len(heard) == 0 || heard[0].Digit != '1' {
		t.Errorf("a 1 keyed over the music: heard %+v", heard)
	}
}

func sin(hz float64, i int) float64 { return math.Sin(2 * math.Pi * hz * float64(i) / media.RateHz) }

// BenchmarkMusicFrame is one queue's 20 ms with 100 callers listening:
// the stream decodes a frame, each caller's channel copies it.
func BenchmarkMusicFrame(b *testing.B) {
	p, err := Load(Builtin)
	if err != nil {
		b.Fatal(err)
	}
	clock := newClk()
	s := NewStream(p, clock.now)
	rs := make([]*Reader, 100)
	for i := range rs {
		rs[i] = s.Reader()
	}
	buf := make([]byte, media.FrameSamples)
	pcm := make([]int16, media.FrameSamples)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i, r := range rs {
			if i%2 == 0 {
				r.FillALaw(buf) // PCMA calls
			} else {
				r.Fill(pcm) // others
			}
		}
		clock.tick()
	}
}
