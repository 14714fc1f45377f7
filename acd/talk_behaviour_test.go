package acd

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/media"
)

// frames is n frames of samples counting up from base, so that each
// sample says where it came from.
func frames(n int, base int16) []int16 {
	s := make([]int16, n*media.FrameSamples)
	for i := range s {
		s[i] = base + int16(i%1000)
	}
	return s
}

// Each side of a recording may queue five seconds (40,000 samples at
// 8 kHz) for the writer: a frame that still fits is kept, even the one
// that fills the buffer to the brim; the next is dropped and counted; the
// other side's buffer is its own.
func TestRecordingBufferHoldsFiveSecondsASide(t *testing.T) {
	r := &recording{}
	r.pending[0] = make([]int16, 0, recordBuffer)
	r.pending[1] = make([]int16, 0, recordBuffer)
	if recordBuffer != 5*8000 {
		t.Fatalf("recordBuffer %d samples, want five seconds at 8 kHz", recordBuffer)
	}
	left, right := r.tap(0), r.tap(1)
	frame := frames(1, 1)
	for i := 0; i < 5*8000/media.FrameSamples; i++ { // 250 frames: exactly full
		left(frame)
	}
	if len(r.pending[0]) != 40000 || r.dropped != 0 {
		t.Fatalf("after five seconds: %d queued, %d dropped; want 40000, 0", len(r.pending[0]), r.dropped)
	}
	left(frame)
	if len(r.pending[0]) != 40000 || r.dropped != media.FrameSamples {
		t.Errorf("a frame past five seconds: %d queued, %d dropped; want 40000, %d", len(r.pending[0]), r.dropped, media.FrameSamples)
	}
	right(frame)
	if len(r.pending[1]) != media.FrameSamples || r.dropped != media.FrameSamples {
		t.Errorf("the other side: %d queued, %d dropped; want %d, %d", len(r.pending[1]), r.dropped, media.FrameSamples, media.FrameSamples)
	}
}

// readStereo reads a stereo 16-bit WAV written by the recorder: the
// header's data size and the two channels.
func readStereo(t *testing.T, path string) (size int, left, right []int16, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil || len(data) < 44 || string(data[:4]) != "RIFF" {
		t.Fatalf("recording file: %v, %d bytes", err, len(data))
	}
	for i := 44; i+4 <= len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return int(binary.LittleEndian.Uint32(data[40:])), left, right, len(data)
}

// The writer writes what both sides have queued, frame for frame; while
// the call goes on the longer side waits for the other, and at the end the
// shorter side is filled with silence. The stored row has the call's
// duration (samples at 8 kHz), the file's size and its place.
func TestRecordingWriterPadsTheShorterSideAtTheEnd(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data = h.dir
	e := h.joinAt(t, "general", "13800000007", "")
	a := h.d.agents["1001"]
	r, err := h.d.startRecording(e, a)
	if err != nil {
		t.Fatal(err)
	}
	caller1, caller2, agent1 := frames(2, 100), frames(2, 3000), frames(1, -2000)
	r.tap(0)(caller1)
	r.tap(1)(agent1)
	// The writer takes the frame both sides have; the caller's second
	// frame waits for the agent's.
	h.waitFor(t, "the writer's first batch", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.pending[1]) == 0
	})
	r.mu.Lock()
	waiting := len(r.pending[0])
	r.mu.Unlock()
	if waiting != media.FrameSamples {
		t.Errorf("%d caller samples wait for the agent's, want %d", waiting, media.FrameSamples)
	}
	r.tap(0)(caller2)
	r.finish(h.d)

	wantLeft := append(append([]int16{}, caller1...), caller2...)
	wantRight := append(append([]int16{}, agent1...), make([]int16, 3*media.FrameSamples)...)
	size, left, right, fileBytes := readStereo(t, filepath.Join(h.dir, r.row.File))
	if size != 4*len(wantLeft) || fileBytes != 44+4*len(wantLeft) {
		t.Fatalf("data size %d in the header, file %d bytes; want %d and %d", size, fileBytes, 4*len(wantLeft), 44+4*len(wantLeft))
	}
	for i := range wantLeft {
		if left[i] != wantLeft[i] || right[i] != wantRight[i] {
			t.Fatalf("frame %d: %d|%d, want %d|%d", i, left[i], right[i], wantLeft[i], wantRight[i])
		}
	}
	recs, err := h.db.Recordings()
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %+v %v", recs, err)
	}
	got := recs[0]
	if got.Duration != 80*time.Millisecond { // 640 samples at 8 kHz
		t.Errorf("duration %v, want 80ms", got.Duration)
	}
	if got.Bytes != int64(fileBytes) {
		t.Errorf("bytes %d, the file has %d", got.Bytes, fileBytes)
	}
	start := h.clk.Now()
	if got.Queue != "general" || got.Agent != "1001" || got.Caller != "13800000007" || got.Call != "13800000007" || !got.Start.Equal(start) ||
		got.File != filepath.Join("recordings", "2026-11-23", got.ID+".wav") || !strings.HasSuffix(got.ID, "-1001") || got.Sampled {
		t.Errorf("row %+v", got)
	}
}

// A queue call with recording on, but no data directory, is not recorded.
func TestNoRecordingWithoutADataDirectory(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.queues["general"].cfg.Record = true
	h.d.queues["general"].cfg.Survey = false
	h.login(t, "1001")
	caller, done := h.waitCall("general", Caller{Call: "c", Number: "138"})
	r := h.nextRing(t)
	r.answer <- newLine("agent")
	h.waitAgent(t, "1001", busy)
	h.d.mu.Lock()
	tk := h.d.talks[h.d.agents["1001"]]
	h.d.mu.Unlock()
	if tk == nil || tk.rec != nil {
		t.Fatalf("talk %+v: want one, not recorded", tk)
	}
	caller.farHangup()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if recs, _ := h.db.Recordings(); len(recs) != 0 {
		t.Errorf("recordings %+v", recs)
	}
}

// fixedDraw is a random source whose Float64 is always the same: v/2^53.
type fixedDraw uint64

func (f fixedDraw) Uint64() uint64 { return uint64(f) }

// The draw decides at random with the share: a draw below the share
// picks, one at it or above does not.
func TestSamplingDraw(t *testing.T) {
	h := newHarness(t, "", "")
	day := h.clk.Now()
	h.d.sample = 0.25
	h.d.rng = rand.New(fixedDraw(0)) // draws 0
	for i := 0; i < 10; i++ {
		if !h.d.sampled("1001", day) {
			t.Fatalf("recording %d: a draw of 0 under a share of 0.25 not sampled", i+1)
		}
	}
	h.d.sample = 0
	if h.d.sampled("1002", day) {
		t.Error("sampled with a share of 0")
	}
}

// Whatever the draws, each agent's sampled recordings of the day keep up
// with the share: never more than one recording below it, and (with draws
// that never pick) never above it. A draw exactly at the share does not
// pick.
func TestSamplingCatchesUpEachDay(t *testing.T) {
	h := newHarness(t, "", "")
	day := h.clk.Now()
	h.d.sample = 0.25
	h.d.rng = rand.New(fixedDraw(1 << 51)) // every draw is exactly 0.25
	for _, agent := range []string{"1001", "1002"} {
		n := 0
		for i := 1; i <= 50; i++ {
			if h.d.sampled(agent, day) {
				n++
			}
			if share := 0.25 * float64(i); float64(n) < share-1 || float64(n) > share {
				t.Fatalf("agent %s: %d of %d sampled, want between %.2f and %.2f", agent, n, i, share-1, share)
			}
		}
	}
	// The next day starts again from nothing.
	if h.d.sampled("1001", day.AddDate(0, 0, 1)) {
		t.Error("the first recording of a new day sampled though no draw picks it")
	}
}

// The per-agent day counts are kept up to 10,000 of them; past that, a
// new one forgets the old (a new day).
func TestSamplingForgetsPastTenThousandCounts(t *testing.T) {
	h := newHarness(t, "", "")
	day := h.clk.Now()
	h.d.sample = 0.25
	h.d.rng = rand.New(fixedDraw(1 << 51)) // draws never pick
	behind := "1002" + day.Format(" 2006-01-02")
	for i := 0; len(h.d.samples) < 9999; i++ {
		h.d.samples[strings.Repeat("x", 1+i%7)+day.AddDate(0, 0, -1-i/7).Format(" 2006-01-02")] = &[2]int{1, 0}
	}
	h.d.samples[behind] = &[2]int{4, 0} // none of four sampled
	h.d.sampled("1001", day)            // the 10,000th count is still no reason to forget
	if !h.d.sampled("1002", day) {
		t.Fatal("1002's fifth recording with none sampled is not sampled: its count was forgotten at 10,000")
	}
	h.d.samples[behind] = &[2]int{4, 0}
	h.d.sampled("1003", day) // 10,002nd: forget
	if h.d.sampled("1002", day) {
		t.Error("1002's count survived the 10,002nd count")
	}
	if len(h.d.samples) != 2 {
		t.Errorf("%d counts after forgetting, want 2", len(h.d.samples))
	}
}

// sweepFixture stores recordings a, b, c, d (oldest first) of 1,000 bytes
// each, started ages days ago, with their files.
func sweepFixture(t *testing.T, h *harness, ages ...int) {
	t.Helper()
	now := h.clk.Now()
	if err := os.MkdirAll(filepath.Join(h.dir, "recordings"), 0o750); err != nil {
		t.Fatal(err)
	}
	for i, age := range ages {
		id := string(rune('a' + i))
		rel := filepath.Join("recordings", "r"+id+".wav")
		if err := os.WriteFile(filepath.Join(h.dir, rel), make([]byte, 1000), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := h.db.AddRecording(storeRecording(id, rel, now.AddDate(0, 0, -age))); err != nil {
			t.Fatal(err)
		}
	}
}

func kept(t *testing.T, h *harness) string {
	t.Helper()
	if err := h.d.Sweep(); err != nil {
		t.Fatal(err)
	}
	recs, err := h.db.Recordings()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
		if _, err := os.Stat(filepath.Join(h.dir, r.File)); err != nil {
			t.Errorf("kept %s without its file: %v", r.ID, err)
		}
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		if !strings.Contains(strings.Join(ids, ","), id) {
			if _, err := os.Stat(filepath.Join(h.dir, "recordings", "r"+id+".wav")); !os.IsNotExist(err) {
				t.Errorf("%s deleted, its file kept", id)
			}
		}
	}
	return strings.Join(ids, ",")
}

// Days alone: only what started before the cut-off (so many days ago)
// goes, however much they take.
func TestSweepByDaysOnly(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data, h.d.keepDays, h.d.keepBytes = h.dir, 30, 0
	sweepFixture(t, h, 40, 31, 29, 1)
	if got := kept(t, h); got != "c,d" {
		t.Errorf("kept %s, want c,d (a and b older than 30 days)", got)
	}
}

// The allowance alone: the oldest go while all of them take more than it;
// exactly the allowance is not more. Age is no reason.
func TestSweepByBytesOnly(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data, h.d.keepDays, h.d.keepBytes = h.dir, 0, 4000
	sweepFixture(t, h, 400, 300, 200, 100)
	if got := kept(t, h); got != "a,b,c,d" {
		t.Errorf("kept %s at exactly the allowance, want all", got)
	}
	h.d.keepBytes = 2999
	if got := kept(t, h); got != "c,d" {
		t.Errorf("kept %s with 2,999 bytes allowed, want c,d", got)
	}
}

// Neither days nor an allowance: nothing is deleted; a recording whose
// file is already gone still loses its row.
func TestSweepUnboundedAndMissingFile(t *testing.T) {
	h := newHarness(t, "", "")
	h.d.data, h.d.keepDays, h.d.keepBytes = h.dir, 0, 0
	sweepFixture(t, h, 400, 300, 200, 100)
	if got := kept(t, h); got != "a,b,c,d" {
		t.Errorf("kept %s with no bounds, want all", got)
	}
	if err := os.Remove(filepath.Join(h.dir, "recordings", "ra.wav")); err != nil {
		t.Fatal(err)
	}
	h.d.keepDays = 250
	if got := kept(t, h); got != "c,d" {
		t.Errorf("kept %s, want c,d", got)
	}
}
