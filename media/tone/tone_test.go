package tone

import (
	"math"
	"testing"

	"jinyin/media"
)

func TestOscLevelAndFrequency(t *testing.T) {
	o := NewOsc(1000, -10)
	acc := make([]float64, 8000)
	for i := 0; i < 8000; i += 160 {
		o.Add(acc[i : i+160])
	}
	var peak, zc float64
	for i, v := range acc {
		peak = math.Max(peak, math.Abs(v))
		if i > 0 && (acc[i-1] < 0) != (v < 0) {
			zc++
		}
	}
	if lvl := media.LevelOfPeak(peak); math.Abs(lvl+10) > 0.05 {
		t.Errorf("level %.2f dBm0, want -10", lvl)
	}
	if zc < 1998 || zc > 2001 { // 1000 Hz for 1 s: 2000 zero crossings
		t.Errorf("%v zero crossings in 1 s, want 2000", zc)
	}
}

func TestDTMFFreqs(t *testing.T) {
	for _, c := range []struct {
		d        byte
		row, col float64
	}{{'1', 697, 1209}, {'5', 770, 1336}, {'9', 852, 1477}, {'0', 941, 1336}, {'#', 941, 1477}, {'*', 941, 1209}, {'d', 941, 1633}} {
		r, col, err := DTMFFreqs(c.d)
		if err != nil || r != c.row || col != c.col {
			t.Errorf("%c: %v %v %v", c.d, r, col, err)
		}
	}
	if _, _, err := DTMFFreqs('x'); err == nil {
		t.Error("x accepted")
	}
}

// TestChinaCadences checks on/off timing of China's tones sample-exactly.
func TestChinaCadences(t *testing.T) {
	for _, c := range []struct {
		name  string
		onOff []int // ms
	}{{"ringback", []int{1000, 4000}}, {"busy", []int{350, 350}}, {"congestion", []int{700, 700}}} {
		cad, err := Lookup("cn", c.name)
		if err != nil || cad.FreqsHz[0] != 450 {
			t.Fatalf("%s: %+v %v", c.name, cad, err)
		}
		p := NewPlayer(cad, 160)
		total := 2 * (c.onOff[0] + c.onOff[1]) * 8
		buf := make([]int16, total)
		for i := 0; i < total; i += 160 {
			p.Fill(buf[i:min(i+160, total)])
		}
		// Measure runs of sound/silence using 2 ms windows.
		var runs []int
		on, run := true, 0
		for i := 0; i < total; i += 16 {
			loud := false
			for _, v := range buf[i : i+16] {
				if v > 1000 || v < -1000 {
					loud = true
				}
			}
			if loud != on {
				runs = append(runs, run*2)
				on, run = loud, 0
			}
			run++
		}
		runs = append(runs, run*2)
		want := []int{c.onOff[0], c.onOff[1], c.onOff[0], c.onOff[1]}
		if len(runs) != 4 {
			t.Fatalf("%s: runs %v, want %v", c.name, runs, want)
		}
		for i := range want {
			if d := runs[i] - want[i]; d < -4 || d > 4 {
				t.Errorf("%s: runs %v ms, want %v", c.name, runs, want)
			}
		}
	}
	if d, _ := Lookup("cn", "dial"); len(d.OnOffMs) != 0 || d.FreqsHz[0] != 450 {
		t.Error("China dial tone is continuous 450 Hz")
	}
	if _, err := Lookup("mars", "dial"); err == nil {
		t.Error("unknown country accepted")
	}
}

func BenchmarkPlayerFrame(b *testing.B) {
	cad, _ := Lookup("cn", "busy")
	p := NewPlayer(cad, 160)
	buf := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		p.Fill(buf)
	}
}

func TestSine(t *testing.T) {
	s := Sine(1000, -10, 800)
	var peak int16
	for _, v := range s {
		peak = max(peak, v)
	}
	if want := media.PeakAt(-10); len(s) != 800 || float64(peak) < want-2 || float64(peak) > want+1 {
		t.Errorf("Sine: %d samples, peak %d, want about %.0f", len(s), peak, want)
	}
}

func TestDTMFDigits(t *testing.T) {
	pcm, err := DTMF("19#", 80, -8)
	if err != nil || len(pcm) != 3*2*640 {
		t.Fatalf("%d samples, %v", len(pcm), err)
	}
	if _, err := DTMF("1x", 80, -8); err == nil {
		t.Error("x is not a DTMF digit")
	}
}

// TestPairLevels: each tone of a Pair has its own level, and a digit sent
// in frames is the same signal as in one block.
func TestPairLevels(t *testing.T) {
	p, err := NewPair('5', -10, -8)
	if err != nil {
		t.Fatal(err)
	}
	acc := make([]float64, 800)
	for i := 0; i < len(acc); i += 160 {
		p.Add(acc[i : i+160])
	}
	ro, co := NewOsc(770, -10), NewOsc(1336, -8)
	want := make([]float64, 800)
	ro.Add(want)
	co.Add(want)
	for i := range acc {
		if math.Abs(acc[i]-want[i]) > 1e-6 {
			t.Fatalf("sample %d: %v, want %v", i, acc[i], want[i])
		}
	}
	if _, err := NewPair('x', -10, -8); err == nil {
		t.Error("x made a tone pair")
	}
}
