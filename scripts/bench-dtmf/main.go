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
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"jinyin/media/dtmf"
	"jinyin/media/dtmf/dtmftest"
)

type item struct {
	name, want string
	talkoff    bool
	pcm        []int16
}

func main() {
	peer := flag.String("spandsp", "", "path of the spandsp dtmf_rx helper")
	repeats := flag.Int("repeats", 5, "timed passes over the corpus")
	keep := flag.String("dir", "", "write the corpus here (default: a temporary directory)")
	flag.Parse()
	if *peer == "" {
		fmt.Fprintln(os.Stderr, "usage: bench-dtmf -spandsp PATH [-repeats N] [-dir DIR]")
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
	var files []string
	var samples int
	for i, it := range items {
		p := filepath.Join(dir, fmt.Sprintf("%03d.s16", i))
		b := make([]byte, 2*len(it.pcm))
		for j, s := range it.pcm {
			binary.LittleEndian.PutUint16(b[2*j:], uint16(s))
		}
		check(os.WriteFile(p, b, 0o644))
		files = append(files, p)
		samples += len(it.pcm)
	}

	ours, oursSec := runJinyin(items, *repeats)
	theirs, theirSec := runSpandsp(*peer, *repeats, files)

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
	oRate, tRate := float64(samples)/oursSec, float64(samples)/theirSec
	fmt.Printf("speed: jinyin %.1f M samples/s (%.2f ns/sample), spandsp %.1f M samples/s (%.2f ns/sample) on one core\n",
		oRate/1e6, 1e9/oRate, tRate/1e6, 1e9/tRate)
	fmt.Printf("ratio jinyin/spandsp: %.2f\n", oRate/tRate)
}

func corpus() ([]item, error) {
	var items []item
	for _, c := range dtmftest.Q24() {
		items = append(items, item{name: c.Name, want: c.Want, pcm: dtmftest.Signal(100, c.Tones, c.SNRdB, 1)})
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
	music := dtmftest.Music()
	var names []string
	for n := range music {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		items = append(items, item{name: "talk-off music " + n, talkoff: true, pcm: music[n]})
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
