package main

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"jinyin/internal/testenv"
)

// TestBenchScript runs scripts/bench-dtmf.sh once (one timed pass) against
// the real spandsp: every Q.24 condition right for jinyin, at most the one
// known talk-off digit, and a ratio printed.
func TestBenchScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the spandsp helper and renders speech")
	}
	for _, p := range []struct{ prog, pkg string }{{"gcc", "gcc"}, {"pkg-config", "pkg-config"}, {"espeak-ng", "espeak-ng"}, {"sox", "sox"}} {
		testenv.LookPath(t, p.prog, p.pkg)
	}
	if err := exec.Command("pkg-config", "--exists", "spandsp").Run(); err != nil {
		testenv.Missing(t, "spandsp (Debian package libspandsp-dev)")
	}
	cmd := exec.Command("bash", "../bench-dtmf.sh")
	cmd.Env = append(cmd.Environ(), "REPEATS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := string(out)
	// Rows are "%-40s %-17s %-17s %-17s": condition, want, jinyin, spandsp.
	rows := 0
	for _, line := range strings.Split(text, "\n") {
		if len(line) < 60 || strings.HasPrefix(line, "condition") || strings.HasPrefix(line, "talk-off") || strings.HasPrefix(line, "speed:") {
			continue
		}
		rows++
		if got := strings.TrimSpace(line[59:min(77, len(line))]); got != "ok" {
			t.Errorf("jinyin fails a Q.24 condition: %s", line)
		}
	}
	if rows < 20 {
		t.Fatalf("only %d Q.24 rows in:\n%s", rows, text)
	}
	m := regexp.MustCompile(`talk-off digits .*: jinyin (\d+), spandsp (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no talk-off line:\n%s", text)
	}
	if n, _ := strconv.Atoi(m[1]); n > 1 {
		t.Errorf("jinyin talk-off digits %d, want at most 1", n)
	}
	if !regexp.MustCompile(`ratio jinyin/spandsp: \d+\.\d\d`).MatchString(text) {
		t.Errorf("no speed ratio:\n%s", text)
	}
	t.Logf("\n%s", text[strings.Index(text, "cases right"):])
}
