package prompt

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultSetComplete(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// Everything read-back can produce must exist in its language.
	for _, lang := range []string{Mandarin, English} {
		for n := int64(0); n < 100000; n += 7 {
			for _, f := range []func(string, int64) ([]string, error){Number, Quantity} {
				ids, err := f(lang, n)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range ids {
					if !s.Has(lang, id) {
						t.Fatalf("%s %d needs prompt %q, which is missing", lang, n, id)
					}
				}
			}
		}
		for _, id := range []string{"welcome", "main-menu", "invalid", "queue-hold", "position-before", "position-after", "wait-before", "star", "hash"} {
			a, err := s.Get(lang, id)
			if err != nil || len(a) < 800 { // at least 0.1 s
				t.Errorf("%s/%s: %d samples, %v", lang, id, len(a), err)
			}
		}
	}
}

func TestMandarinNumbers(t *testing.T) {
	words := map[string]string{"d0": "零", "d1": "一", "d2": "二", "d3": "三", "d4": "四", "d5": "五", "d6": "六", "d7": "七", "d8": "八", "d9": "九",
		"n10": "十", "hundred": "百", "thousand": "千", "wan": "万", "yi": "亿", "two-measure": "两"}
	for _, c := range []struct {
		n        int64
		quantity bool
		want     string
	}{
		{0, false, "零"}, {7, false, "七"}, {10, false, "十"}, {15, false, "十五"}, {20, false, "二十"}, {99, false, "九十九"},
		{100, false, "一百"}, {105, false, "一百零五"}, {110, false, "一百一十"}, {1005, false, "一千零五"}, {1050, false, "一千零五十"},
		{1500, false, "一千五百"}, {2000, false, "二千"}, {2000, true, "两千"}, {2, true, "两"}, {12, true, "十二"}, {22, true, "二十二"},
		{10000, false, "一万"}, {10005, false, "一万零五"}, {12345, false, "一万二千三百四十五"}, {100000, false, "十万"},
		{20000, true, "两万"}, {1000000, false, "一百万"}, {100000000, false, "一亿"}, {100010000, false, "一亿零一万"},
		{205000, false, "二十万五千"}, {200500, false, "二十万零五百"},
	} {
		var ids []string
		if c.quantity {
			ids, _ = Quantity(Mandarin, c.n)
		} else {
			ids, _ = Number(Mandarin, c.n)
		}
		var got strings.Builder
		for _, id := range ids {
			got.WriteString(words[id])
		}
		if got.String() != c.want {
			t.Errorf("%d (quantity %v): %s = %v, want %s", c.n, c.quantity, got.String(), ids, c.want)
		}
	}
}

func TestEnglishNumbers(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "d0"}, {13, "n13"}, {40, "n40"}, {42, "n40 d2"}, {100, "d1 hundred"}, {105, "d1 hundred and d5"},
		{1005, "d1 thousand and d5"}, {2315, "d2 thousand d3 hundred and n15"}, {1000000, "d1 million"},
		{3000000007, "d3 thousand million and d7"},
	} {
		ids, err := Number(English, c.n)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%d: %v %v, want %s", c.n, ids, err, c.want)
		}
	}
}

func TestDigitsAndDurations(t *testing.T) {
	ids, err := Digits("20#*7")
	if err != nil || strings.Join(ids, " ") != "d2 d0 hash star d7" {
		t.Errorf("digits: %v %v", ids, err)
	}
	if _, err := Digits("12a"); err == nil {
		t.Error("letter accepted")
	}
	for _, c := range []struct {
		lang string
		d    time.Duration
		want string
	}{
		{English, 0, "d0 seconds"},
		{English, time.Minute, "d1 minute"},
		{English, 2*time.Minute + 30*time.Second, "d2 minutes n30 seconds"},
		{English, time.Hour + time.Second, "d1 hour d1 second"},
		{Mandarin, 2 * time.Minute, "two-measure minute"},
		{Mandarin, 90 * time.Minute, "d1 hour d3 n10 minute"},
	} {
		ids, err := Duration(c.lang, c.d)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s %v: %v %v, want %s", c.lang, c.d, ids, err, c.want)
		}
	}
}

func TestPlayerConcatenates(t *testing.T) {
	s, _ := Default()
	ids, _ := Quantity(Mandarin, 3)
	p, err := s.Player(Mandarin, append(append([]string{"position-before"}, ids...), "position-after")...)
	if err != nil {
		t.Fatal(err)
	}
	total := p.Samples()
	frame := make([]int16, 160)
	played := 0
	for i := 0; i < 10000 && !p.Done(); i++ {
		played += p.Fill(frame)
	}
	if played != total || total < 8000 {
		t.Errorf("played %d of %d samples", played, total)
	}
	if _, err := s.Player(English, "no-such-prompt"); err == nil {
		t.Error("missing prompt accepted")
	}
}

func BenchmarkPlayerFill(b *testing.B) {
	s, _ := Default()
	p, _ := s.Player(Mandarin, "main-menu")
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		if p.Fill(frame) < len(frame) {
			p.clip, p.off = 0, 0
		}
	}
}

func TestAmountsAndDates(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		lang string
		say  func(string) ([]string, error)
		want string
	}{
		{Mandarin, func(l string) ([]string, error) { return Amount(l, 12950) }, "d1 hundred d2 n10 d9 yuan d5 jiao"},
		{Mandarin, func(l string) ([]string, error) { return Amount(l, 12905) }, "d1 hundred d2 n10 d9 yuan d0 d5 fen"},
		{Mandarin, func(l string) ([]string, error) { return Amount(l, 50) }, "d5 jiao"},
		{Mandarin, func(l string) ([]string, error) { return Amount(l, 0) }, "d0 yuan"},
		{English, func(l string) ([]string, error) { return Amount(l, 12950) }, "d1 hundred and n20 d9 yuan and n50 fen"},
		{English, func(l string) ([]string, error) { return Amount(l, 7) }, "d7 fen"},
		{Mandarin, func(l string) ([]string, error) { return Date(l, day) }, "d2 d0 d2 d6 year n10 d1 month d2 n10 d3 day"},
		{English, func(l string) ([]string, error) { return Date(l, day) }, "m11 n20 d3 d2 thousand and n20 d6"},
	} {
		ids, err := c.say(c.lang)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s: %v %v, want %s", c.lang, ids, err, c.want)
		}
		if _, err := s.Player(c.lang, ids...); err != nil {
			t.Errorf("%s %v: %v", c.lang, ids, err)
		}
	}
}
