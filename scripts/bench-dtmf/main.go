// Command bench-dtmf scores jinyin's DTMF receiver against spandsp's on the
// same corpus and prints the speed ratio. scripts/bench-dtmf.sh builds the
// spandsp peer and runs this; see there.
//
// The corpus: every ITU-T Q.24 accept/reject condition of
// media/dtmf/dtmftest (16 digits each), and talk-off material (espeak-ng
// speech in Mandarin and English at several pitches and rates, synthetic
// chords, melody and whistles) in which no digit may be found. Both
// receivers get each file in 20 ms chunks from memory, a fresh receiver per
// file; the time is the fastest of -repeats passes over the whole corpus.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"jinyin/media/dtmf"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/wav"
)

type item struct {
	name, want string
	talkoff    bool
	pcm        []int16
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-measure" {
		measure(os.Args[2:])
		return
	}
	peer := flag.String("spandsp", "", "path of the spandsp dtmf_rx helper")
	repeats := flag.Int("repeats", 5, "timed passes over the corpus")
	keep := flag.String("dir", "", "write the corpus here (default: a temporary directory)")
	jinyin := flag.String("jinyin", "", "path of the jinyin binary, for the end-to-end run")
	wavPeer := flag.String("spandsp-wav", "", "path of the spandsp dtmf_wav helper, for the end-to-end run")
	files := flag.Int("files", 4, "end to end: recordings")
	minutes := flag.Float64("minutes", 10, "end to end: minutes of audio per recording")
	flag.Parse()
	if *peer == "" {
		fmt.Fprintln(os.Stderr, "usage: bench-dtmf -spandsp PATH [-repeats N] [-dir DIR] [-jinyin PATH -spandsp-wav PATH [-files N] [-minutes M]]")
		os.Exit(2)
	}
	items, err := corpus()
	check(err)
	dir := *keep
	if dir == "" {
		dir, err = os.MkdirTemp("", "bench-dtmf-")
		check(err)
		defer os.RemoveAll(dir)
	}
	var paths []string
	var samples int
	for i, it := range items {
		p := filepath.Join(dir, fmt.Sprintf("%03d.s16", i))
		b := make([]byte, 2*len(it.pcm))
		for j, s := range it.pcm {
			binary.LittleEndian.PutUint16(b[2*j:], uint16(s))
		}
		check(os.WriteFile(p, b, 0o644))
		paths = append(paths, p)
		samples += len(it.pcm)
	}

	ours, oursSec := runJinyin(items, *repeats)
	theirs, theirSec := runSpandsp(*peer, *repeats, paths)

	fmt.Printf("%-40s %-17s %-17s %-17s\n", "condition", "want", "jinyin", "spandsp")
	score := func(got []string) (right, talkoff int) {
		for i, it := range items {
			if got[i] == it.want {
				right++
			}
			if it.talkoff {
				talkoff += len(got[i])
			}
		}
		return
	}
	mark := func(got, want string) string {
		if got == want {
			return "ok"
		}
		if len(want) > 16 { // a long string: how many found, and how many not keyed
			f := dtmftest.Found(got, want)
			return fmt.Sprintf("%d/%d +%d", f, len(want), len(got)-f)
		}
		if got == "" {
			return "MISS (none)"
		}
		return "WRONG " + trunc(got)
	}
	for i, it := range items {
		fmt.Printf("%-40s %-17s %-17s %-17s\n", trunc40(it.name), trunc(it.want), mark(ours[i], it.want), mark(theirs[i], it.want))
	}
	or, ot := score(ours)
	tr, tt := score(theirs)
	fmt.Printf("\ncases right: jinyin %d/%d, spandsp %d/%d\n", or, len(items), tr, len(items))
	fmt.Printf("talk-off digits (in %d files of speech and music): jinyin %d, spandsp %d\n", countTalkoff(items), ot, tt)
	fmt.Println("talk-off digits per file, where either receiver found any (jinyin, spandsp):")
	for i, it := range items {
		if it.talkoff && len(ours[i])+len(theirs[i]) > 0 {
			fmt.Printf("  %-48s %3d %3d\n", strings.TrimPrefix(it.name, "talk-off "), len(ours[i]), len(theirs[i]))
		}
	}
	worse := 0
	for i, it := range items {
		if it.talkoff && len(ours[i]) > len(theirs[i]) {
			worse++
			fmt.Printf("talk-off file where jinyin finds more than spandsp: %s (%d against %d)\n", it.name, len(ours[i]), len(theirs[i]))
		}
	}
	fmt.Printf("talk-off files where jinyin finds more than spandsp: %d\n", worse)
	oRate, tRate := float64(samples)/oursSec, float64(samples)/theirSec
	fmt.Printf("speed: jinyin %.1f M samples/s (%.2f ns/sample), spandsp %.1f M samples/s (%.2f ns/sample) on one core\n",
		oRate/1e6, 1e9/oRate, tRate/1e6, 1e9/tRate)
	fmt.Printf("ratio jinyin/spandsp: %.2f\n", oRate/tRate)
	if *jinyin != "" && *wavPeer != "" {
		endToEnd(items, dir, *jinyin, *wavPeer, *files, *minutes, *repeats)
	}
}

func corpus() ([]item, error) {
	var items []item
	for _, c := range dtmftest.Q24() {
		items = append(items, item{name: c.Name, want: c.Want, pcm: dtmftest.Signal(100, c.Tones, c.SNRdB, 1)})
	}
	for seed := uint64(1); seed <= 3; seed++ {
		pcm, want := dtmftest.RandomString(200, seed)
		items = append(items, item{name: fmt.Sprintf("200 random digits in noise, seed %d", seed), want: want, pcm: pcm})
	}
	for i, s := range dtmftest.Speech {
		for _, v := range []struct{ pitch, rate int }{{30, 150}, {50, 175}, {80, 200}} {
			pcm, err := dtmftest.Espeak(s.Voice, s.Text, v.pitch, v.rate)
			if err != nil {
				return nil, err
			}
			items = append(items, item{name: fmt.Sprintf("talk-off speech %d %s p%d s%d", i+1, s.Voice, v.pitch, v.rate), talkoff: true, pcm: pcm})
		}
	}
	for _, s := range dtmftest.TalkOff() {
		items = append(items, item{name: "talk-off " + s.Name, talkoff: true, pcm: s.PCM})
	}
	return items, nil
}

func runJinyin(items []item, repeats int) ([]string, float64) {
	got := make([]string, len(items))
	best := time.Duration(1 << 62)
	for r := 0; r < repeats; r++ {
		t0 := time.Now()
		for i, it := range items {
			var digits []byte
			d := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
				if !e.End {
					digits = append(digits, e.Digit)
				}
			})
			for j := 0; j < len(it.pcm); j += 160 {
				d.Process(it.pcm[j:min(j+160, len(it.pcm))])
			}
			got[i] = string(digits)
		}
		best = min(best, time.Since(t0))
	}
	return got, best.Seconds()
}

func runSpandsp(peer string, repeats int, files []string) ([]string, float64) {
	out, err := exec.Command(peer, append([]string{strconv.Itoa(repeats)}, files...)...).Output()
	check(err)
	got := make([]string, len(files))
	index := map[string]int{}
	for i, f := range files {
		index[f] = i
	}
	var sec float64
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "samples ") {
			var n int
			fmt.Sscanf(line, "samples %d seconds %f", &n, &sec)
			continue
		}
		f, digits, _ := strings.Cut(line, ": ")
		if i, ok := index[f]; ok {
			got[i] = strings.TrimSuffix(digits, ":")
		}
	}
	if sec == 0 {
		check(fmt.Errorf("spandsp helper printed no timing:\n%s", out))
	}
	return got, sec
}

func countTalkoff(items []item) (n int) {
	for _, it := range items {
		if it.talkoff {
			n++
		}
	}
	return
}

func trunc(s string) string {
	if len(s) > 16 {
		return s[:13] + "..."
	}
	return s
}

func trunc40(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-dtmf:", err)
		os.Exit(1)
	}
}

// endToEnd writes long recordings as WAV files (A-law, 16-bit PCM and
// µ-law in turn) and times `jinyin dtmf` and spandsp's dtmf_wav helper on
// them, each a whole process reading the files from disk: CPU (user +
// system, the best of repeats) and peak memory. A recording is what a
// call-centre line carries: speech from the talk-off set, pauses with line
// noise at -60 dBm0, hold music, and every 20-40 s a string of digits
// keyed at random levels and twist within the Q.24 limits.
func endToEnd(items []item, dir, jinyin, peer string, files int, minutes float64, repeats int) {
	var speech, music [][]int16
	for _, it := range items {
		switch {
		case strings.HasPrefix(it.name, "talk-off speech"):
			speech = append(speech, it.pcm)
		case strings.Contains(it.name, "hold music") || strings.Contains(it.name, "common progression") || strings.Contains(it.name, "flute"):
			music = append(music, it.pcm)
		}
	}
	r := rand.New(rand.NewPCG(5, 8))
	var names, want []string
	formats := []wav.Format{wav.ALaw, wav.PCM, wav.MuLaw}
	for f := range files {
		n := int(minutes * 60 * 8000)
		pcm := make([]int16, 0, n+8000*60)
		var digits []byte
		nextDigits := 8000 * (5 + r.IntN(10))
		for len(pcm) < n {
			switch {
			case len(pcm) >= nextDigits:
				var ts []dtmftest.Tone
				for range 4 + r.IntN(8) {
					d := "0123456789*#"[r.IntN(12)]
					row := -24 + 18*r.Float64()
					ts = append(ts, dtmftest.Tone{Digit: d, RowDBm0: row, ColDBm0: row - 6 + 9*r.Float64(),
						DurationMs: 60 + r.IntN(80), GapMs: 60 + r.IntN(80)})
					digits = append(digits, d)
				}
				pcm = append(pcm, dtmftest.Signal(50, ts, 25, r.Uint64())...)
				nextDigits = len(pcm) + 8000*(20+r.IntN(20))
			case r.IntN(4) == 0:
				m := music[r.IntN(len(music))]
				pcm = append(pcm, m...)
			case r.IntN(3) == 0:
				k := 8000 * (1 + r.IntN(3))
				for range k {
					pcm = append(pcm, int16(r.NormFloat64()*22827*0.001)) // -60 dBm0
				}
			default:
				pcm = append(pcm, speech[r.IntN(len(speech))]...)
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("call%d.wav", f))
		var b bytes.Buffer
		check(wav.Encode(&b, formats[f%len(formats)], pcm))
		check(os.WriteFile(p, b.Bytes(), 0o644))
		names = append(names, p)
		want = append(want, string(digits))
	}
	self, err := os.Executable()
	check(err)
	run := func(prog string) (out string, cpu float64, rss int64) {
		cpu = 1e9
		for range max(repeats, 1) {
			args := append([]string{"-measure", prog}, names...)
			if prog == jinyin {
				args = append([]string{"-measure", prog, "dtmf"}, names...)
			}
			o, err := exec.Command(self, args...).Output()
			check(err)
			text, last, _ := strings.Cut(string(o), "rusage ")
			var t float64
			var r int64
			_, err = fmt.Sscanf(last, "%f %d", &t, &r)
			check(err)
			cpu, rss, out = min(cpu, t), max(rss, r), text
		}
		return
	}
	right := func(out string) (n int) {
		for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if i < len(want) && line == names[i]+": "+want[i] {
				n++
			}
		}
		return
	}
	jo, jcpu, jrss := run(jinyin)
	so, scpu, srss := run(peer)
	fmt.Printf("\nend to end: %d recordings of %.0f min (A-law, PCM, µ-law), %d digits keyed\n", files, minutes, len(strings.Join(want, "")))
	fmt.Printf("  jinyin dtmf: CPU %.3f s, peak RSS %.1f MiB, recordings with every digit right %d/%d\n", jcpu, float64(jrss)/(1<<20), right(jo), files)
	fmt.Printf("  spandsp:     CPU %.3f s, peak RSS %.1f MiB, recordings with every digit right %d/%d\n", scpu, float64(srss)/(1<<20), right(so), files)
	fmt.Printf("end-to-end CPU ratio spandsp/jinyin: %.2f\n", scpu/jcpu)
}

// measure runs a command and prints its output, then "rusage CPU-SECONDS
// PEAK-RSS-BYTES". It runs in a process of its own (bench-dtmf -measure):
// Linux counts into a child's peak RSS what the process that forked it
// held, and the benchmark holds its whole corpus.
func measure(args []string) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	check(cmd.Run())
	u := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Printf("rusage %.6f %d\n", time.Duration(u.Utime.Nano()+u.Stime.Nano()).Seconds(), u.Maxrss*1024)
}
