package box_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/siptest"
	"jinyin/internal/testenv"

	"bytes"
)

// startKamailio runs examples/kamailio/kamailio.cfg over boxes, probing
// them every second; it is stopped at cleanup.
func startKamailio(t *testing.T, boxes ...string) string {
	t.Helper()
	bin := testenv.LookPath(t, "kamailio", "kamailio")
	dir := t.TempDir()
	var list strings.Builder
	for _, b := range boxes {
		fmt.Fprintf(&list, "1 sip:%s\n", b)
	}
	os.WriteFile(filepath.Join(dir, "dispatcher.list"), []byte(list.String()), 0o644)
	addr := testenv.FreeAddr(t)
	log := &testenv.Buffer{}
	cmd := exec.Command(bin, "-f", "../examples/kamailio/kamailio.cfg", "-DD", "-E", "-w", dir, "-P", filepath.Join(dir, "pid"),
		"-A", "LISTEN=udp:"+addr, "-A", `DSLIST="`+filepath.Join(dir, "dispatcher.list")+`"`, "-A", "PING=1")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children hold the log's pipe: all go at the end
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("kamailio:\n%s", log)
		}
	})
	waitFor(t, "kamailio listening", func() bool {
		return strings.Contains(log.String(), "listening on") || strings.Contains(log.String(), "main(): processes")
	})
	return addr
}

// callVia places a call to the IVR through the dispatcher and returns
// it answered, with media running.
func callVia(t *testing.T, kam, from string) *siptest.Call {
	t.Helper()
	call, err := invite(kam, "100", from, "")
	if err != nil {
		t.Fatalf("a call through kamailio: %v", err)
	}
	return hangUpAtCleanup(t, call)
}

// Kamailio's dispatcher in front of two boxes: calls are spread over
// both; a box draining for an update answers the dispatcher's OPTIONS
// 503, is taken out of the rotation and is sent no new call (not even
// one to refuse) while its calls up go on; it reboots once they end.
func TestDispatcherSkipsADrainingBox(t *testing.T) {
	a := newABBoard(t)
	toml := bytes.Replace(config.Default(), []byte(`board = "sim"`), []byte(`board = "sim-ab"`), 1)
	sipA, httpA, _ := startConfig(t, a.data, toml)
	sipB, httpB, _ := startConfig(t, t.TempDir(), config.Default())
	kam := startKamailio(t, sipA, sipB)

	calls := map[string]int{}
	var onA []*siptest.Call
	for i := 0; i < 4; i++ {
		c := callVia(t, kam, fmt.Sprintf("1380000000%d", i))
		nA, nB := status(t, httpA).Calls, status(t, httpB).Calls
		if nA+nB != i+1 {
			t.Fatalf("after call %d: %d calls on A, %d on B", i+1, nA, nB)
		}
		if nA > calls["A"] {
			onA = append(onA, c)
		}
		calls["A"], calls["B"] = nA, nB
	}
	if calls["A"] == 0 || calls["B"] == 0 {
		t.Fatalf("round robin put %d calls on A and %d on B", calls["A"], calls["B"])
	}
	listen(t, onA[0]).hear("zh", "welcome")

	if code := postUpdate(t, supervisor, httpA, "?reboot=drain&max_wait=60s", a.bundle(a.priv, "1.1.0")); code != http.StatusAccepted {
		t.Fatalf("the update to A: %d", code)
	}
	refusedA := status(t, httpA).Refused
	time.Sleep(2500 * time.Millisecond) // two probes: A answers 503 and is out
	before := status(t, httpB).Calls
	for i := 0; i < 4; i++ {
		callVia(t, kam, fmt.Sprintf("1390000000%d", i))
	}
	if got := status(t, httpB).Calls - before; got != 4 {
		t.Errorf("B took %d of the 4 calls made while A drained", got)
	}
	if got := status(t, httpA).Refused; got != refusedA {
		t.Errorf("the dispatcher sent the draining box %d calls to refuse", got-refusedA)
	}
	heard := len(onA[0].Heard())
	time.Sleep(time.Second)
	if got := len(onA[0].Heard()) - heard; got < 6000 {
		t.Errorf("a call up on A heard %d bytes in a second of the drain", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, c := range onA {
		c.Dialog.Bye(ctx)
	}
	select {
	case <-a.reboots:
	case <-time.After(20 * time.Second):
		t.Fatal("A did not reboot once its call ended")
	}
}
