package acd

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/internal/testenv"
	"jinyin/media"
	"jinyin/media/tone"
)

// voiced is a line that speaks a steady tone of its own frequency and
// keeps what it was last played, for the test to pull frames from as a
// media tick would.
type voiced struct {
	*line
	hz    float64
	mu    sync.Mutex
	osc   tone.Osc
	src   media.Source
	plays media.PlayID
}

func newVoiced(id string, hz float64) *voiced {
	return &voiced{line: newLine(id), hz: hz, osc: tone.NewOsc(hz, -10)}
}

func (v *voiced) Play(src media.Source) media.PlayID {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.src = src
	v.plays++
	return v.plays
}

func (v *voiced) Listen() media.Source { return speaker{v} }

type speaker struct{ v *voiced }

func (s speaker) Fill(dst []int16) int {
	acc := make([]float64, len(dst))
	s.v.mu.Lock()
	s.v.osc.Add(acc)
	s.v.mu.Unlock()
	tone.Mix(dst, acc)
	return len(dst)
}

// hear pulls n frames from what the line is played, as its media tick.
func (v *voiced) hear(n int) []int16 {
	out := make([]int16, 0, n*media.FrameSamples)
	frame := make([]int16, media.FrameSamples)
	for i := 0; i < n; i++ {
		v.mu.Lock()
		src := v.src
		v.mu.Unlock()
		clear(frame)
		if src != nil {
			src.Fill(frame)
		}
		out = append(out, frame...)
	}
	return out
}

// power is the Goertzel power of hz in x, relative to a full-scale sine.
func power(x []int16, hz float64) float64 {
	w := 2 * math.Pi * hz / media.RateHz
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(x))
	return p / (n * n / 4 * 32767 * 32767)
}

func hears(t *testing.T, who string, x []int16, want map[string]float64, not map[string]float64) {
	t.Helper()
	for name, hz := range want {
		if p := power(x, hz); p < 1e-3 {
			t.Errorf("%s does not hear %s (power %.2g)", who, name, p)
		}
	}
	for name, hz := range not {
		if p := power(x, hz); p > 1e-5 {
			t.Errorf("%s hears %s (power %.2g)", who, name, p)
		}
	}
}

// Listen, whisper and barge: each party hears what the table in talk.go
// says, and the recording has the caller on the left, the agent on the
// right, and neither hears nor records the supervisor in listen mode.
func TestMonitorAudioPathsAndStereoRecording(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data = h.dir
	h.d.sups["1003"] = true
	h.d.queues["general"].cfg.Record = true
	h.d.queues["general"].cfg.Survey = false
	h.login(t, "1001")
	const callerHz, agentHz, supHz = 500, 900, 1400
	caller := newVoiced("caller", callerHz)
	done := make(chan error, 1)
	go func() { done <- h.d.Wait(caller, "general", Caller{Call: "c", Number: "138"}) }()
	r := h.nextRing(t)
	agentLine := newVoiced("agent", agentHz)
	r.answer <- agentLine
	h.waitFor(t, "busy", func() bool { s, _, _ := h.agentState("1001"); return s == busy })
	var tk *talk
	h.waitFor(t, "the talk", func() bool {
		h.d.mu.Lock()
		defer h.d.mu.Unlock()
		tk = h.d.talks[h.d.agents["1001"]]
		return tk != nil
	})

	all := map[string]float64{"caller": callerHz, "agent": agentHz, "supervisor": supHz}
	only := func(keep ...string) (map[string]float64, map[string]float64) {
		want, not := map[string]float64{}, map[string]float64{}
		for k, v := range all {
			not[k] = v
		}
		for _, k := range keep {
			want[k] = all[k]
			delete(not, k)
		}
		return want, not
	}
	check := func(step string, callerHears, agentHears, supHears []string) {
		t.Helper()
		for _, c := range []struct {
			who  string
			line *voiced
			keep []string
		}{{"caller", caller, callerHears}, {"agent", agentLine, agentHears}} {
			w, n := only(c.keep...)
			delete(n, c.who) // no one is played their own voice
			hears(t, step+": "+c.who, c.line.hear(25), w, n)
		}
	}
	check("two-party", []string{"agent"}, []string{"caller"}, nil)

	sup := newVoiced("supervisor", supHz)
	monitored := make(chan error, 1)
	go func() { monitored <- h.d.Monitor(sup, "1003", "1001", Whisper) }()
	h.waitFor(t, "supervisor on", func() bool { tk.mu.Lock(); defer tk.mu.Unlock(); return tk.sup != nil })
	check("whisper", []string{"agent"}, []string{"caller", "supervisor"}, nil)
	w, n := only("caller", "agent")
	hears(t, "whisper: supervisor", sup.hear(25), w, n)

	sup.press('6')
	h.waitFor(t, "barge", func() bool { tk.mu.Lock(); defer tk.mu.Unlock(); return tk.supMode == Barge })
	time.Sleep(10 * time.Millisecond)
	check("barge", []string{"agent", "supervisor"}, []string{"caller", "supervisor"}, nil)

	sup.press('4')
	h.waitFor(t, "listen", func() bool { tk.mu.Lock(); defer tk.mu.Unlock(); return tk.supMode == Listen })
	time.Sleep(10 * time.Millisecond)
	check("listen", []string{"agent"}, []string{"caller"}, nil)
	w, n = only("caller", "agent")
	hears(t, "listen: supervisor", sup.hear(25), w, n)

	caller.farHangup()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-monitored; err != nil {
		t.Fatal(err)
	}
	<-sup.hung // the call ended: the supervisor is hung up
	if m := h.events(t, "monitor"); len(m) != 3 || m[0].Reason != "whisper by 1003" || m[2].Reason != "listen by 1003" {
		t.Errorf("monitor events %+v", m)
	}

	recs, err := h.db.Recordings()
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %+v %v", recs, err)
	}
	data, err := os.ReadFile(filepath.Join(h.dir, recs[0].File))
	if err != nil || len(data) < 44+4*1000 || string(data[:4]) != "RIFF" || binary.LittleEndian.Uint16(data[22:]) != 2 {
		t.Fatalf("recording file: %v, %d bytes", err, len(data))
	}
	if int(binary.LittleEndian.Uint32(data[40:])) != len(data)-44 {
		t.Errorf("data size %d in the header, %d in the file", binary.LittleEndian.Uint32(data[40:]), len(data)-44)
	}
	var left, right []int16
	for i := 44; i+4 <= len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	hears(t, "recording left", left, map[string]float64{"caller": callerHz}, map[string]float64{"agent": agentHz, "supervisor": supHz})
	hears(t, "recording right", right, map[string]float64{"agent": agentHz}, map[string]float64{"caller": callerHz, "supervisor": supHz})
	// sox reads it as the stereo 8 kHz file it is.
	soxi := testenv.LookPath(t, "soxi", "sox")
	out, err := exec.Command(soxi, "-c", filepath.Join(h.dir, recs[0].File)).CombinedOutput()
	if err != nil || strings.Fields(string(out))[0] != "2" {
		t.Errorf("soxi: %s %v", out, err)
	}
}

// Retention: recordings past the days kept, then the oldest beyond the
// disk allowance, are deleted with their files.
func TestRecordingRetention(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data, h.d.keepDays, h.d.keepBytes = h.dir, 30, 2500
	now := h.clk.Now()
	for i, age := range []int{40, 10, 5, 1} {
		rel := filepath.Join("recordings", "r"+string(rune('a'+i))+".wav")
		os.MkdirAll(filepath.Join(h.dir, "recordings"), 0o750)
		os.WriteFile(filepath.Join(h.dir, rel), make([]byte, 1000), 0o640)
		h.db.AddRecording(storeRecording(string(rune('a'+i)), rel, now.AddDate(0, 0, -age)))
	}
	if err := h.d.Sweep(); err != nil {
		t.Fatal(err)
	}
	recs, _ := h.db.Recordings()
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "c,d" { // a: too old; b: the oldest while over 2,500 bytes
		t.Errorf("kept %v, want c,d", ids)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "recordings", "ra.wav")); !os.IsNotExist(err) {
		t.Error("file of a deleted recording kept")
	}
}

// Sampling gives each agent their share of each day's recordings.
func TestSamplingSharePerAgentPerDay(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.sample = 0.2
	day := h.clk.Now()
	for _, agent := range []string{"1001", "1002", "1003"} {
		n := 0
		for i := 0; i < 50; i++ {
			if h.d.sampled(agent, day) {
				n++
			}
		}
		if n < 9 || n > 20 {
			t.Errorf("agent %s: %d of 50 sampled, want about 10", agent, n)
		}
	}
	h.d.sample = 0
	if h.d.sampled("1001", day) {
		t.Error("sampled with a share of 0")
	}
}
