package prompt

import (
	"fmt"
	"time"
)

// Digits returns the prompts that read digits one by one, as for an order
// or account number: 0-9, * and #.
func Digits(s string) ([]string, error) {
	var ids []string
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			ids = append(ids, fmt.Sprintf("d%c", c))
		case c == '*':
			ids = append(ids, "star")
		case c == '#':
			ids = append(ids, "hash")
		default:
			return nil, fmt.Errorf("prompt: cannot read %q as a digit", c)
		}
	}
	return ids, nil
}

// Number returns the prompts that say n (0 <= n < 10^12) as a number.
func Number(lang string, n int64) ([]string, error) {
	if n < 0 || n >= 1e12 {
		return nil, fmt.Errorf("prompt: %d is out of range for reading as a number", n)
	}
	switch lang {
	case Mandarin:
		return zhNumber(n, false), nil
	case English:
		return enNumber(n), nil
	}
	return nil, fmt.Errorf("prompt: no language %q", lang)
}

// Quantity is Number for a count before a measure word: in Mandarin a
// lone 2 is 两 ("两位", "两分钟"), and 2 before 千, 万 and 亿 is 两 too.
func Quantity(lang string, n int64) ([]string, error) {
	if lang == Mandarin && n >= 0 && n < 1e12 {
		return zhNumber(n, true), nil
	}
	return Number(lang, n)
}

// zhNumber reads n in Mandarin: groups of four digits joined by 万 and 亿;
// within a group 千 百 十, one 零 for each run of zeros between non-zero
// digits, and a leading 一十 said as 十.
func zhNumber(n int64, quantity bool) []string {
	if n == 0 {
		return []string{"d0"}
	}
	var ids []string
	groups := []struct {
		div  int64
		unit string
	}{{1e8, "yi"}, {1e4, "wan"}, {1, ""}}
	pendingZero := false
	for _, g := range groups {
		v := n / g.div % 1e4
		if g.div == 1e8 {
			v = n / g.div
		}
		if v == 0 {
			if len(ids) > 0 {
				pendingZero = true
			}
			continue
		}
		if len(ids) > 0 && (pendingZero || v < 1000) {
			ids = append(ids, "d0")
		}
		pendingZero = false
		ids = append(ids, zhGroup(v, len(ids) == 0, quantity || g.unit != "")...)
		if g.unit != "" {
			ids = append(ids, g.unit)
		}
	}
	return ids
}

// zhGroup reads 1..9999. first says the group starts the number (so 10-19
// drop the 一 before 十); liang says a 2 counting 千 or the whole group is 两.
func zhGroup(v int64, first, liang bool) []string {
	var ids []string
	units := []string{"thousand", "hundred", "n10", ""}
	divs := []int64{1000, 100, 10, 1}
	zero := false
	for i, div := range divs {
		d := v / div % 10
		if d == 0 {
			if len(ids) > 0 {
				zero = true
			}
			continue
		}
		if zero {
			ids = append(ids, "d0")
			zero = false
		}
		switch {
		case div == 10 && d == 1 && first && len(ids) == 0:
			// 十, 十五: no 一
		case d == 2 && liang && (div == 1000 || (div == 1 && v == 2)):
			ids = append(ids, "two-measure")
		default:
			ids = append(ids, fmt.Sprintf("d%d", d))
		}
		if units[i] != "" {
			ids = append(ids, units[i])
		}
	}
	return ids
}

// enNumber reads n in English, British style ("one hundred and five").
func enNumber(n int64) []string {
	if n == 0 {
		return []string{"d0"}
	}
	var ids []string
	for _, g := range []struct {
		div  int64
		unit string
	}{{1e9, "thousand"}, {1e6, "million"}, {1e3, "thousand"}, {1, ""}} {
		v := n / g.div % 1000
		if g.div == 1e9 {
			// thousands of millions: say "N thousand million"
			v = n / 1e9
		}
		if v == 0 {
			continue
		}
		if g.div == 1 && len(ids) > 0 && v < 100 {
			ids = append(ids, "and")
		}
		ids = append(ids, enHundreds(v)...)
		if g.div == 1e9 {
			ids = append(ids, "thousand", "million")
			n %= 1e9
			continue
		}
		if g.unit != "" {
			ids = append(ids, g.unit)
		}
	}
	return ids
}

func enHundreds(v int64) []string {
	var ids []string
	if h := v / 100; h > 0 {
		ids = append(ids, fmt.Sprintf("d%d", h), "hundred")
		if v%100 != 0 {
			ids = append(ids, "and")
		}
	}
	switch r := v % 100; {
	case r == 0:
	case r < 10:
		ids = append(ids, fmt.Sprintf("d%d", r))
	case r < 20 || r%10 == 0:
		ids = append(ids, fmt.Sprintf("n%d", r))
	default:
		ids = append(ids, fmt.Sprintf("n%d", r/10*10), fmt.Sprintf("d%d", r%10))
	}
	return ids
}

// Duration returns the prompts that say d in hours, minutes and seconds
// (rounded to the second; zero parts left out, "0 seconds" for zero).
func Duration(lang string, d time.Duration) ([]string, error) {
	if lang != Mandarin && lang != English {
		return nil, fmt.Errorf("prompt: no language %q", lang)
	}
	if d < 0 {
		return nil, fmt.Errorf("prompt: negative duration %v", d)
	}
	sec := int64(d.Round(time.Second) / time.Second)
	parts := []struct {
		n              int64
		one, many, zhU string
	}{{sec / 3600, "hour", "hours", "hour"}, {sec / 60 % 60, "minute", "minutes", "minute"}, {sec % 60, "second", "seconds", "second"}}
	var ids []string
	for i, p := range parts {
		if p.n == 0 && !(sec == 0 && i == 2) {
			continue
		}
		q, err := Quantity(lang, p.n)
		if err != nil {
			return nil, err
		}
		ids = append(ids, q...)
		switch {
		case lang == Mandarin:
			ids = append(ids, p.zhU)
		case p.n == 1:
			ids = append(ids, p.one)
		default:
			ids = append(ids, p.many)
		}
	}
	return ids, nil
}

// Amount returns the prompts that say a sum of money in yuan, given in
// fen (1/100 yuan): "129 元 5 角" in Mandarin (角 and 分 below the yuan,
// zero parts left out, "零元" for nothing), "129 yuan and 50 fen" in
// English.
func Amount(lang string, fen int64) ([]string, error) {
	if fen < 0 {
		return nil, fmt.Errorf("prompt: negative amount %d", fen)
	}
	yuan, jiao, f := fen/100, fen/10%10, fen%10
	var ids []string
	add := func(n int64, unit string) error {
		w, err := Number(lang, n)
		ids = append(append(ids, w...), unit)
		return err
	}
	switch lang {
	case Mandarin:
		if yuan > 0 || fen == 0 {
			if err := add(yuan, "yuan"); err != nil {
				return nil, err
			}
		}
		if jiao > 0 {
			add(jiao, "jiao")
		}
		if f > 0 {
			if yuan > 0 && jiao == 0 {
				ids = append(ids, "d0")
			}
			add(f, "fen")
		}
	case English:
		if yuan > 0 || fen == 0 {
			if err := add(yuan, "yuan"); err != nil {
				return nil, err
			}
		}
		if fen%100 > 0 {
			if yuan > 0 {
				ids = append(ids, "and")
			}
			add(fen%100, "fen")
		}
	default:
		return nil, fmt.Errorf("prompt: no language %q", lang)
	}
	return ids, nil
}

// Date returns the prompts that say a calendar date: "二零二六年十一月
// 二十三日" (the year digit by digit, as it is said) in Mandarin,
// "November twenty three, two thousand twenty six" in English.
func Date(lang string, t time.Time) ([]string, error) {
	y, m, d := t.Date()
	switch lang {
	case Mandarin:
		ids, err := Digits(fmt.Sprint(y))
		if err != nil {
			return nil, err
		}
		ids = append(append(ids, "year"), zhNumber(int64(m), false)...)
		ids = append(append(ids, "month"), zhNumber(int64(d), false)...)
		return append(ids, "day"), nil
	case English:
		ids := append([]string{fmt.Sprintf("m%d", m)}, enNumber(int64(d))...)
		return append(ids, enNumber(int64(y))...), nil
	}
	return nil, fmt.Errorf("prompt: no language %q", lang)
}
