package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"jinyin/internal/siptest"
	"jinyin/internal/testenv"
)

// TestCPUStarvedBoxRefusesNewCalls: the real binary, short of CPU for
// real. With calls up in the IVR, the test puts the box in a cgroup of
// its own and gives it 1 % of a core (the CFS quota) while 60 calls
// need more: the media pacer's ticks run late, the overload gate closes
// on the pacer's load (its own measure, no stub), and a new INVITE gets 503
// with Retry-After; with the quota lifted the gate opens again and a call
// is taken. The box runs without CAP_SYS_NICE (setpriv), so its pacer is
// an ordinary thread the quota reaches; on the appliance it is SCHED_FIFO
// and only a box short of CPU at real-time priority is overloaded.
func TestCPUStarvedBoxRefusesNewCalls(t *testing.T) {
	cg := newCPUGroup(t)
	setpriv := testenv.LookPath(t, "setpriv", "util-linux")
	dir := t.TempDir()
	sipAddr, httpAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	cmd := exec.Command(setpriv, "--inh-caps=-sys_nice", "--bounding-set=-sys_nice", bin, "run", "--data", filepath.Join(dir, "data"),
		"--set", "sip.listen="+sipAddr, "--set", "http.listen="+httpAddr, "--set", "sip.rtp_ports=38000-38999",
		"--set", "security.flood_density=1000") // 60 INVITEs and ACKs from one address in a few seconds are the test, not a flood
	cmd.Dir = dir
	p := startCmd(t, cmd)
	waitSIP(t, p, sipAddr)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for i := range 60 { // calls up: the pacer's ticks have work to stretch
		call, err := siptest.InviteFrom(ctx, sipAddr, "100", fmt.Sprintf("1380000%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(call.Close)
		if err := call.Answered(ctx); err != nil {
			t.Fatalf("call %d before the starvation: %v\n%s", i, err, tail(p.stderr.String()))
		}
		if err := call.StartMedia(); err != nil {
			t.Fatal(err)
		}
	}

	cg.limit(t, p.cmd.Process.Pid, 1)
	refused := false
	for deadline := time.Now().Add(30 * time.Second); !refused && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		status, retry := tryCall(ctx, sipAddr)
		refused = status == 503 && retry != ""
	}
	if !refused {
		t.Fatalf("no 503 with Retry-After in 30 s with 1 %% of a core\n%s", tail(p.stderr.String()))
	}
	if !strings.Contains(p.stderr.String(), "the media pacer's frames leave") {
		t.Errorf("the 503 was not the overload gate's, on the pacer's load:\n%s", tail(p.stderr.String()))
	}

	cg.unlimit(t)
	taken := false
	for deadline := time.Now().Add(30 * time.Second); !taken && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		status, _ := tryCall(ctx, sipAddr)
		taken = status == 200
	}
	if !taken {
		t.Fatalf("no call taken in 30 s once the CPU was back\n%s", tail(p.stderr.String()))
	}
}

// tryCall places a call to the IVR and reports the final status (with
// any Retry-After), hanging up one that is answered.
func tryCall(ctx context.Context, sipAddr string) (status int, retryAfter string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, sipAddr, "100")
	if err != nil {
		return 0, ""
	}
	defer call.Close()
	err = call.Dialog.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var final *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &final):
		if h := final.Res.GetHeader("Retry-After"); h != nil {
			retryAfter = h.Value()
		}
		return final.Res.StatusCode, retryAfter
	case err != nil:
		return 0, ""
	}
	call.Dialog.Ack(ctx)
	call.Dialog.Bye(ctx)
	return 200, ""
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

// cpuGroup is a cgroup with a CPU quota of its own, v1 (the cpu
// controller's hierarchy) or v2 (cpu.max); it is removed at cleanup.
type cpuGroup struct {
	dir string
	v2  bool
}

func newCPUGroup(t *testing.T) *cpuGroup {
	t.Helper()
	name := fmt.Sprintf("jinyin-test-%d", os.Getpid())
	for _, g := range []cpuGroup{{dir: "/sys/fs/cgroup/cpu"}, {dir: "/sys/fs/cgroup", v2: true}} {
		if g.v2 {
			ctl, err := os.ReadFile(filepath.Join(g.dir, "cgroup.controllers"))
			if err != nil || !strings.Contains(" "+string(ctl)+" ", " cpu ") {
				continue
			}
		} else if _, err := os.Stat(filepath.Join(g.dir, "cpu.cfs_quota_us")); err != nil {
			continue
		}
		g.dir = filepath.Join(g.dir, name)
		if err := os.Mkdir(g.dir, 0o755); err != nil {
			continue
		}
		t.Cleanup(func() {
			g.unlimit(t)
			// Its process is killed by startCmd's cleanup, which runs first
			// (registered later); a group is removed once empty.
			for deadline := time.Now().Add(5 * time.Second); os.Remove(g.dir) != nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			}
		})
		return &g
	}
	testenv.Missing(t, "a cgroup with a CPU quota (root, with /sys/fs/cgroup/cpu or cgroup v2's cpu controller)")
	return nil
}

// limit moves pid into the group and gives it percent of one core.
func (g *cpuGroup) limit(t *testing.T, pid, percent int) {
	t.Helper()
	quota := strconv.Itoa(100000*percent/100) + " 100000"
	files := [][2]string{{"cgroup.procs", strconv.Itoa(pid)}, {"cpu.max", quota}}
	if !g.v2 {
		files = [][2]string{{"cpu.cfs_period_us", "100000"}, {"cpu.cfs_quota_us", strconv.Itoa(100000 * percent / 100)}, {"cgroup.procs", strconv.Itoa(pid)}}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(g.dir, f[0]), []byte(f[1]), 0o644); err != nil {
			t.Fatalf("cgroup %s: %v", f[0], err)
		}
	}
}

// unlimit lifts the quota.
func (g *cpuGroup) unlimit(t *testing.T) {
	file, v := "cpu.cfs_quota_us", "-1"
	if g.v2 {
		file, v = "cpu.max", "max 100000"
	}
	if err := os.WriteFile(filepath.Join(g.dir, file), []byte(v), 0o644); err != nil {
		t.Errorf("cgroup %s: %v", file, err)
	}
}
