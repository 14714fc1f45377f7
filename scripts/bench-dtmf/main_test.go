package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"jinyin/internal/testenv"
)

// TestBenchScript runs scripts/bench-dtmf.sh once (one timed pass, one
// minute per end-to-end recording) against the real spandsp: every Q.24
// condition right for jinyin, no talk-off file where jinyin finds more
// digits than spandsp, every keyed digit found end to end, and the ratios
// printed. The ratios themselves are the script's to report, not a test's
// to assert: they depend on the machine.
func TestBenchScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the spandsp helpers and renders speech")
	}
	for _, p := range []struct{ prog, pkg string }{{"gcc", "gcc"}, {"pkg-config", "pkg-config"}, {"espeak-ng", "espeak-ng"}, {"sox", "sox"}} {
		testenv.LookPath(t, p.prog, p.pkg)
	}
	if err := exec.Command("pkg-config", "--exists", "spandsp").Run(); err != nil {
		testenv.Missing(t, "spandsp (Debian package libspandsp-dev)")
	}
	cmd := exec.Command("bash", "../bench-dtmf.sh", "-files", "3", "-minutes", "1")
	cmd.Env = append(cmd.Environ(), "REPEATS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	// Rows are "%-40s %-17s %-17s %-17s": condition, want, jinyin, spandsp.
	rows := 0
	table, _, _ := strings.Cut(text, "cases right")
	for _, line := range strings.Split(table, "\n") {
		if len(line) < 60 || strings.HasPrefix(line, "condition") || strings.HasPrefix(line, "talk-off") || strings.HasPrefix(line, "speed:") {
			continue
		}
		rows++
		if strings.HasPrefix(line, "200 random digits") {
			continue // scored as found/keyed: at least spandsp's, checked in media/dtmf
		}
		if got := strings.TrimSpace(line[59:min(77, len(line))]); got != "ok" {
			t.Errorf("jinyin fails a Q.24 condition: %s", line)
		}
	}
	if rows < 28 {
		t.Fatalf("only %d Q.24 rows in:\n%s", rows, text)
	}
	m := regexp.MustCompile(`talk-off files where jinyin finds more than spandsp: (\d+)`).FindStringSubmatch(text)
	if m == nil || m[1] != "0" {
		t.Errorf("talk-off worse than spandsp on some file:\n%s", text)
	}
	if !regexp.MustCompile(`jinyin dtmf: CPU \d+\.\d+ s, peak RSS \d+\.\d MiB, recordings with every digit right 3/3`).MatchString(text) {
		t.Errorf("end to end, jinyin missed digits:\n%s", text)
	}
	for _, r := range []string{`ratio jinyin/spandsp: \d+\.\d\d`, `end-to-end CPU ratio spandsp/jinyin: \d+\.\d\d`} {
		if !regexp.MustCompile(r).MatchString(text) {
			t.Errorf("no %s in:\n%s", r, text)
		}
	}
	t.Logf("\n%s", text[strings.Index(text, "cases right"):])
}
