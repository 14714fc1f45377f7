package box_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"jinyin/acd"
	boardsim "jinyin/board/sim"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/internal/testenv"
	"jinyin/store"
)

// TestWallboardInChromium drives Debian's chromium, headless, through the
// supervisor's wallboard on the demo box: a wrong password is refused; the
// supervisor logs in; a caller entering the general queue shows on its
// tile within a second; an agent paused over the API shows paused with
// its reason. The screenshot is kept in the test's artifacts (go test
// -artifacts) or logged where it was written.
func TestWallboardInChromium(t *testing.T) {
	chrome := testenv.LookPath(t, "chromium", "chromium")
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startConfig(t, dir, config.Default())
	base := "http://" + httpAddr

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.WindowSize(1280, 800))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	var errText string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/wallboard"), // not logged in: to the login page
		chromedp.WaitVisible("#user", chromedp.ByID),
		chromedp.SendKeys("#user", testSupervisor, chromedp.ByID),
		chromedp.SendKeys("#password", "not the password", chromedp.ByID),
		chromedp.Click("#login", chromedp.ByID),
		chromedp.WaitVisible("#error", chromedp.ByID),
		chromedp.Text("#error", &errText, chromedp.ByID),
	); err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	if !strings.Contains(errText, "wrong name or password") {
		t.Errorf("wrong password answered %q", errText)
	}
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible("#user", chromedp.ByID),
		chromedp.SendKeys("#user", testSupervisor, chromedp.ByID),
		chromedp.SendKeys("#password", testSupervisorPassword, chromedp.ByID),
		chromedp.Click("#login", chromedp.ByID),
		chromedp.WaitVisible("#waiting-general", chromedp.ByID),
	); err != nil {
		t.Fatalf("login: %v", err)
	}
	waitText := func(sel, want string, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		var got string
		for time.Since(start) < within {
			// The page replaces its tiles on each push: a node found and
			// gone before it is read is read again.
			if err := chromedp.Run(ctx, chromedp.Text(sel, &got, chromedp.ByID)); err != nil {
				got = err.Error()
			} else if strings.Contains(got, want) {
				return time.Since(start)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s shows %q, not %q, after %v", sel, got, want, within)
		return 0
	}
	waitText("waiting-general", "0", 5*time.Second)

	// A caller keys 0 for the general queue; no agent is logged in.
	call := dial(t, sipAddr, "100", "13800000007", "")
	listen(t, call).hear("zh", "main-menu")
	call.SendDigits("0")
	// The caller joins the queue after the transfer prompt: from the
	// moment the API first lists it waiting to the moment the page shows
	// it, under a second.
	var joined, shown time.Time
	for deadline := time.Now().Add(20 * time.Second); shown.IsZero(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the caller did not show on the wallboard (in the queue since %v)", joined)
		}
		if joined.IsZero() {
			var st acd.Status
			testenv.GetJSON(t, base+"/queues", &st)
			for _, q := range st.Queues {
				if q.Name == "general" && q.Waiting == 1 {
					joined = time.Now()
				}
			}
		}
		var got string
		if err := chromedp.Run(ctx, chromedp.Text("waiting-general", &got, chromedp.ByID)); err != nil {
			continue // the tile replaced as it was read: read it again
		}
		if strings.HasPrefix(got, "1") {
			shown = time.Now()
		}
	}
	if took := shown.Sub(joined); joined.IsZero() || took > time.Second {
		t.Errorf("the caller showed %v after joining the queue (joined at %v)", took, joined)
	} else {
		t.Logf("the caller showed on the wallboard %v after the API listed it", took.Round(time.Millisecond))
	}

	// The agent logs in and pauses for lunch: its row and the tile say so.
	for _, action := range []string{"login", "pause?reason=lunch"} {
		res, err := supervisor.Post(base+"/agents/1001/"+action, "", nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", action, err, res)
		}
		res.Body.Close()
	}
	waitText("paused-general", "lunch", 3*time.Second)
	waitText("agent-1001", "paused", 3*time.Second)

	// A callback booked over the API is listed; the supervisor lifts it
	// with its button, and it is gone from the page and the store.
	res, err := supervisor.Post(base+"/callbacks", "application/json", strings.NewReader(`{"queue":"general","number":"13900000001"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("booking: %v %v", err, res)
	}
	res.Body.Close()
	waitText("callback-13900000001", "general", 3*time.Second)
	if err := chromedp.Run(ctx, chromedp.Click("#callback-13900000001 button", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var cbs []store.Callback
		testenv.GetJSON(t, base+"/callbacks", &cbs)
		var rows int
		chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#callbacks tbody tr").length`, &rows))
		if len(cbs) == 0 && rows == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after lift: stored %+v, %d rows shown", cbs, rows)
		}
	}

	// A span losing its signal raises the alarm banner.
	boardsim.Opened(1).InjectAlarms(hal.AlarmLOS)
	waitText("alarms", "span 1: LOS", 3*time.Second)

	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatal(err)
	}
	out := t.ArtifactDir()
	path := filepath.Join(out, "wallboard.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
