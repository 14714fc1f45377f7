package prompt

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/media"
)

// set returns a private copy of the default set, safe to Replace in.
func set(t *testing.T) *Set {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return s.Clone()
}

// wavData is the data chunk of an embedded prompt file: the A-law bytes
// as stored (RIFF chunks are id, little-endian length, body, padded to
// even length).
func wavData(t *testing.T, name string) []byte {
	t.Helper()
	b, err := files.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		if id == "data" {
			return b[off+8 : off+8+n]
		}
		off += 8 + n + n%2
	}
	t.Fatalf("%s: no data chunk", name)
	return nil
}

// A player's frames run on from one clip into the next and stop at the
// end of the last; what is past the end of the sequence is left alone.
func TestPlayerRunsAcrossClips(t *testing.T) {
	s := set(t)
	if err := s.Replace(English, "d1", []int16{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(English, "d2", []int16{4, 5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Player(English, "d1", "d2", "d1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Samples() != 10 || p.Done() {
		t.Fatalf("%d samples, done %v; want 10, not done", p.Samples(), p.Done())
	}
	frame := make([]int16, 4)
	for i, want := range [][]int16{{1, 2, 3, 4}, {5, 6, 7, 1}} {
		if n := p.Fill(frame); n != 4 || !slices.Equal(frame, want) {
			t.Errorf("frame %d: %v (%d), want %v", i, frame, n, want)
		}
	}
	if p.Done() {
		t.Error("done with two samples to go")
	}
	frame = []int16{-9, -9, -9, -9}
	if n := p.Fill(frame); n != 2 || !slices.Equal(frame, []int16{2, 3, -9, -9}) {
		t.Errorf("last frame %v (%d), want [2 3 -9 -9] (2)", frame, n)
	}
	if !p.Done() {
		t.Error("not done at the end")
	}
	if n := p.Fill(frame); n != 0 {
		t.Errorf("%d samples after the end", n)
	}
	if n := p.FillALaw(make([]byte, 4)); n != 0 {
		t.Errorf("%d A-law bytes after the end", n)
	}
}

// FillALaw gives the prompt's bytes as stored in its file, and Fill and
// FillALaw share one position.
func TestFillALaw(t *testing.T) {
	s := set(t)
	want := append(wavData(t, "en/d1.wav"), wavData(t, "en/d2.wav")...)
	p, err := s.Player(English, "d1", "d2")
	if err != nil {
		t.Fatal(err)
	}
	if p.Samples() != len(want) {
		t.Fatalf("%d samples, the files hold %d", p.Samples(), len(want))
	}
	got := make([]byte, len(want)+10)
	if n := p.FillALaw(got); n != len(want) || !bytes.Equal(got[:n], want) {
		t.Fatalf("FillALaw gave %d bytes, not the files' %d", n, len(want))
	}
	if !p.Done() {
		t.Error("not done after FillALaw played it all")
	}

	// Alternate frames of linear and A-law: together they are the files.
	p, _ = s.Player(English, "d1", "d2")
	var pcm []int16
	lin, alaw := make([]int16, 160), make([]byte, 160)
	for i := 0; i < 1000 && !p.Done(); i++ {
		if i%2 == 0 {
			n := p.Fill(lin)
			pcm = append(pcm, lin[:n]...)
		} else {
			n := p.FillALaw(alaw)
			dec := make([]int16, n)
			media.PCMA.Decode(dec, alaw[:n])
			pcm = append(pcm, dec...)
		}
	}
	wantPCM := make([]int16, len(want))
	media.PCMA.Decode(wantPCM, want)
	if !slices.Equal(pcm, wantPCM) {
		t.Errorf("alternating Fill and FillALaw played %d samples, not the files' %d in order", len(pcm), len(wantPCM))
	}
}

func TestReplace(t *testing.T) {
	s := set(t)
	old, err := s.Get(Mandarin, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := s.Player(Mandarin, "welcome")
	// A-law's code for 0 is 0xD5 (G.711: the positive zero segment, even bits inverted).
	mine := []int16{0, 0, 0, 0, 0}
	if err := s.Replace(Mandarin, "welcome", mine); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(Mandarin, "welcome"); !slices.Equal(got, mine) {
		t.Errorf("after Replace Get gives %d samples, want %v", len(got), mine)
	}
	after, _ := s.Player(Mandarin, "welcome")
	alaw := make([]byte, 8)
	if n := after.FillALaw(alaw); n != 5 || !bytes.Equal(alaw[:5], bytes.Repeat([]byte{0xD5}, 5)) {
		t.Errorf("replaced prompt as A-law % X (%d), want five 0xD5", alaw[:n], n)
	}
	// A player made before plays the old audio to its end.
	frame := make([]int16, len(old)+1)
	if n := before.Fill(frame); n != len(old) || !slices.Equal(frame[:n], old) {
		t.Errorf("the player made before Replace played %d samples, want the old %d", n, len(old))
	}
	// Other prompts and the other language are untouched.
	if got, _ := s.Get(English, "welcome"); len(got) < 800 {
		t.Errorf("English welcome has %d samples after replacing the Mandarin one", len(got))
	}

	// Only existing prompts can be replaced.
	if err := s.Replace(Mandarin, "no-such-prompt", mine); err == nil {
		t.Error("Replace made a new prompt")
	}
	if err := s.Replace("fr", "welcome", mine); err == nil {
		t.Error("Replace made a new language")
	}
	if s.Has(Mandarin, "no-such-prompt") || s.Has("fr", "welcome") {
		t.Error("a refused Replace left a prompt behind")
	}
}

// Replace in a clone leaves the original alone, and the other way round.
func TestCloneIsIndependent(t *testing.T) {
	orig := set(t)
	want, _ := orig.Get(English, "goodbye")
	c := orig.Clone()
	for _, lang := range []string{Mandarin, English} {
		for _, id := range []string{"welcome", "d0", "star", "hash"} {
			a, _ := orig.Get(lang, id)
			b, err := c.Get(lang, id)
			if err != nil || !slices.Equal(a, b) {
				t.Errorf("clone's %s/%s differs: %v", lang, id, err)
			}
		}
	}
	if err := c.Replace(English, "goodbye", []int16{1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := orig.Get(English, "goodbye"); !slices.Equal(got, want) {
		t.Error("Replace in the clone changed the original")
	}
	if err := orig.Replace(English, "welcome", []int16{2}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(English, "welcome"); len(got) < 800 {
		t.Error("Replace in the original changed the clone")
	}
	if got, _ := c.Get(English, "goodbye"); !slices.Equal(got, []int16{1}) {
		t.Errorf("clone's goodbye %v, want [1]", got)
	}
}

// The default set itself is not changed by Replace in a clone of it.
func TestCloneLeavesDefault(t *testing.T) {
	d, _ := Default()
	want, _ := d.Get(English, "invalid")
	c := d.Clone()
	if err := c.Replace(English, "invalid", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Get(English, "invalid"); !slices.Equal(got, want) {
		t.Error("the default set changed")
	}
}

func TestPlayerOf(t *testing.T) {
	msg := []int16{0, 0, 0, 0, 0, 0, 0}
	p := PlayerOf(msg)
	if p.Samples() != 7 || p.Done() {
		t.Fatalf("%d samples, done %v; want 7, not done", p.Samples(), p.Done())
	}
	lin := make([]int16, 3)
	if n := p.Fill(lin); n != 3 {
		t.Errorf("Fill %d", n)
	}
	alaw := []byte{1, 1, 1, 1, 1, 1}
	if n := p.FillALaw(alaw); n != 4 || !bytes.Equal(alaw, []byte{0xD5, 0xD5, 0xD5, 0xD5, 1, 1}) {
		t.Errorf("FillALaw % X (%d), want four A-law zeros (0xD5) then the rest untouched", alaw, n)
	}
	if !p.Done() {
		t.Error("not done")
	}

	// Linear samples come back as given.
	want := []int16{-32768, -1000, -1, 1, 1000, 32767}
	p = PlayerOf(want)
	got := make([]int16, 10)
	if n := p.Fill(got); n != len(want) || !slices.Equal(got[:n], want) {
		t.Errorf("Fill %v (%d), want %v", got[:n], n, want)
	}
	// As A-law: the sign is the top bit, set for positive (G.711), so the
	// loudest negative and positive samples are 0x2A and 0xAA.
	p = PlayerOf([]int16{-32768, 32767})
	b := make([]byte, 2)
	if p.FillALaw(b); !bytes.Equal(b, []byte{0x2A, 0xAA}) {
		t.Errorf("full scale as A-law % X, want 2A AA", b)
	}
}

func TestGetErrors(t *testing.T) {
	s := set(t)
	if _, err := s.Get("fr", "d1"); err == nil || !strings.Contains(err.Error(), "fr") {
		t.Errorf("unknown language: %v", err)
	}
	if _, err := s.Get(English, "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown prompt: %v", err)
	}
	if s.Has("fr", "d1") {
		t.Error("Has in an unknown language")
	}
	if _, err := s.Player("fr", "d1"); err == nil {
		t.Error("player in an unknown language")
	}
	// A player of nothing has nothing to play.
	p, err := s.Player(English)
	if err != nil || p.Samples() != 0 || !p.Done() || p.Fill(make([]int16, 5)) != 0 {
		t.Errorf("empty player: %v", err)
	}
}

func TestNumberRange(t *testing.T) {
	for _, lang := range []string{Mandarin, English} {
		for _, n := range []int64{-1, 1e12, 1<<63 - 1} {
			if ids, err := Number(lang, n); err == nil {
				t.Errorf("%s %d: %v, want an error", lang, n, ids)
			}
			if ids, err := Quantity(lang, n); err == nil {
				t.Errorf("quantity %s %d: %v, want an error", lang, n, ids)
			}
		}
	}
	// The largest: 9999 亿 9999 万 9999.
	ids, err := Number(Mandarin, 1e12-1)
	want := "d9 thousand d9 hundred d9 n10 d9 yi d9 thousand d9 hundred d9 n10 d9 wan d9 thousand d9 hundred d9 n10 d9"
	if err != nil || strings.Join(ids, " ") != want {
		t.Errorf("999999999999: %v %v", ids, err)
	}
	// 999 thousand million, 999 million, 999 thousand, 999.
	ids, err = Number(English, 1e12-1)
	nnn := "d9 hundred and n90 d9"
	want = nnn + " thousand million " + nnn + " million " + nnn + " thousand " + nnn
	if err != nil || strings.Join(ids, " ") != want {
		t.Errorf("999999999999: %v %v", ids, err)
	}
	for _, f := range []func(string, int64) ([]string, error){Number, Quantity} {
		if _, err := f("fr", 5); err == nil {
			t.Error("number in an unknown language")
		}
	}
	// English has no measure-word form: Quantity is Number.
	for _, n := range []int64{2, 2000, 20000, 222} {
		a, _ := Number(English, n)
		b, _ := Quantity(English, n)
		if !slices.Equal(a, b) {
			t.Errorf("English %d: quantity %v, number %v", n, b, a)
		}
	}
}

// More Mandarin and English readings, written from how the numbers are
// said.
func TestMoreNumbers(t *testing.T) {
	for _, c := range []struct {
		lang     string
		n        int64
		quantity bool
		want     string
	}{
		{Mandarin, 100010, false, "n10 wan d0 d1 n10"},                         // 十万零一十
		{Mandarin, 10000500, false, "d1 thousand wan d0 d5 hundred"},           // 一千万零五百
		{Mandarin, 200000000, false, "two-measure yi"},                         // 两亿
		{Mandarin, 2000000, true, "d2 hundred wan"},                            // 二百万: only 2 before 千, 万, 亿 or alone is 两
		{Mandarin, 22000, true, "two-measure wan two-measure thousand"},        // 两万两千
		{Mandarin, 100001000, false, "d1 yi d0 d1 thousand"},                   // 一亿零一千: the empty 万 group is a 零
		{Mandarin, 11000, false, "d1 wan d1 thousand"},                         // 一万一千: no 零 before a full group
		{English, 1100, false, "d1 thousand d1 hundred"},                       // one thousand one hundred: "and" only before tens and units
		{English, 20, false, "n20"},                                            // twenty
		{English, 110, false, "d1 hundred and n10"},                            // one hundred and ten
		{English, 1000001, false, "d1 million and d1"},                         // one million and one
		{English, 1500000000, false, "d1 thousand million d5 hundred million"}, // one thousand five hundred million
	} {
		f := Number
		if c.quantity {
			f = Quantity
		}
		ids, err := f(c.lang, c.n)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s %d (quantity %v): %v %v, want %s", c.lang, c.n, c.quantity, ids, err, c.want)
		}
	}
}

func TestDurationEdges(t *testing.T) {
	for _, c := range []struct {
		lang string
		d    time.Duration
		want string
	}{
		{Mandarin, 0, "d0 second"},
		{Mandarin, 2*time.Hour + 2*time.Second, "two-measure hour two-measure second"},
		{English, time.Hour, "d1 hour"},
		{English, 2 * time.Hour, "d2 hours"},
		{English, 1500 * time.Millisecond, "d2 seconds"}, // rounded to the second
		{English, 1499 * time.Millisecond, "d1 second"},  // rounded to the second
		{English, 59*time.Second + 600*time.Millisecond, "d1 minute"},
		{English, 400 * time.Millisecond, "d0 seconds"},
		{English, 25*time.Hour + 61*time.Second, "n20 d5 hours d1 minute d1 second"},
	} {
		ids, err := Duration(c.lang, c.d)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s %v: %v %v, want %s", c.lang, c.d, ids, err, c.want)
		}
	}
	if _, err := Duration("fr", time.Second); err == nil {
		t.Error("duration in an unknown language")
	}
	for _, lang := range []string{Mandarin, English} {
		if _, err := Duration(lang, -time.Second); err == nil {
			t.Errorf("%s: negative duration accepted", lang)
		}
	}
}

func TestAmountEdges(t *testing.T) {
	s := set(t)
	for _, c := range []struct {
		lang string
		fen  int64
		want string
	}{
		{Mandarin, 12955, "d1 hundred d2 n10 d9 yuan d5 jiao d5 fen"}, // 一百二十九元五角五分
		{Mandarin, 5, "d5 fen"},                   // 五分
		{Mandarin, 55, "d5 jiao d5 fen"},          // 五角五分
		{Mandarin, 10000, "d1 hundred yuan"},      // 一百元
		{Mandarin, 1205, "n10 d2 yuan d0 d5 fen"}, // 十二元零五分
		{Mandarin, 10, "d1 jiao"},                 // 一角
		{English, 0, "d0 yuan"},                   // zero yuan
		{English, 100, "d1 yuan"},                 // one yuan
		{English, 12900, "d1 hundred and n20 d9 yuan"},
		{English, 12905, "d1 hundred and n20 d9 yuan and d5 fen"},
		{English, 99, "n90 d9 fen"},
	} {
		ids, err := Amount(c.lang, c.fen)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s %d fen: %v %v, want %s", c.lang, c.fen, ids, err, c.want)
		}
		if _, err := s.Player(c.lang, ids...); err != nil {
			t.Errorf("%s %d fen: %v", c.lang, c.fen, err)
		}
	}
	for _, lang := range []string{Mandarin, English} {
		if _, err := Amount(lang, -1); err == nil {
			t.Errorf("%s: negative amount accepted", lang)
		}
		// 10^12 yuan is past what Number reads.
		if ids, err := Amount(lang, 1e14); err == nil {
			t.Errorf("%s: 10^12 yuan read as %v", lang, ids)
		}
		if _, err := Amount(lang, 1e14-1); err != nil {
			t.Errorf("%s: the largest amount: %v", lang, err)
		}
	}
	if _, err := Amount("fr", 100); err == nil {
		t.Error("amount in an unknown language")
	}
}

func TestDateEdges(t *testing.T) {
	s := set(t)
	for _, c := range []struct {
		lang string
		day  time.Time
		want string
	}{
		{Mandarin, time.Date(2000, 1, 1, 23, 59, 0, 0, time.UTC), "d2 d0 d0 d0 year d1 month d1 day"},            // 二零零零年一月一日
		{Mandarin, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), "d1 d9 d9 d9 year n10 d2 month d3 n10 d1 day"}, // 一九九九年十二月三十一日
		{Mandarin, time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC), "d2 d0 d2 d6 year n10 month n10 day"},          // 二零二六年十月十日
		{English, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), "m1 d1 d2 thousand"},
		{English, time.Date(2005, 12, 31, 0, 0, 0, 0, time.UTC), "m12 n30 d1 d2 thousand and d5"},
		{English, time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC), "m2 n14 d2 thousand and n20 d6"},
	} {
		ids, err := Date(c.lang, c.day)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s %v: %v %v, want %s", c.lang, c.day, ids, err, c.want)
		}
		if _, err := s.Player(c.lang, ids...); err != nil {
			t.Errorf("%s %v: %v", c.lang, c.day, err)
		}
	}
	// Every month has its English name.
	for m := time.January; m <= time.December; m++ {
		ids, err := Date(English, time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Player(English, ids...); err != nil {
			t.Errorf("%v: %v", m, err)
		}
	}
	if _, err := Date("fr", time.Now()); err == nil {
		t.Error("date in an unknown language")
	}
	// A year before 1 has a sign, which is not a digit to read.
	if ids, err := Date(Mandarin, time.Date(-44, 3, 15, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Errorf("year -44 read as %v", ids)
	}
}
