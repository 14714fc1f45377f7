package box_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	boardsim "jinyin/board/sim"
	"jinyin/hal"
	"jinyin/internal/natstest"
	"jinyin/store"
)

// The box reports to headquarters: with [fleet] on and a real
// nats-server, a call through the IVR arrives as a CDR on
// jinyin.SITE.cdr, a span's LOS as an alarm raised then cleared on
// jinyin.SITE.alarm, and /status shows the link up with nothing behind.
func TestFleetReportsToHeadquarters(t *testing.T) {
	hq := natstest.Start(t)
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startConfig(t, dir, []byte("[box]\nmemory_limit_mb = 0\n[fleet]\nenabled = true\nsite = \"sh-01\"\nservers = [\""+hq.URL()+"\"]\n"))
	call := dial(t, sipAddr, "100", "13800000001", "")
	listen(t, call).hear("zh", "welcome")
	boardsim.Opened(1).InjectAlarms(hal.AlarmLOS)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := call.Dialog.Bye(ctx); err != nil {
		t.Fatal(err)
	}

	var cdr store.CDR
	waitFor(t, "the call's CDR at headquarters", func() bool {
		for _, m := range hq.Messages(t, "JINYIN") {
			if m.Subject == "jinyin.sh-01.cdr" && json.Unmarshal(m.Data, &cdr) == nil && cdr.From == "13800000001" {
				return true
			}
		}
		return false
	})
	if cdr.Disposition != "answered" || cdr.To != "100" || cdr.Answer.IsZero() {
		t.Errorf("the CDR at headquarters: %+v", cdr)
	}
	boardsim.Opened(1).InjectAlarms(0)
	var alarms []string
	waitFor(t, "the span's alarm raised and cleared at headquarters", func() bool {
		alarms = nil
		for _, m := range hq.Messages(t, "JINYIN") {
			if m.Subject == "jinyin.sh-01.alarm" && strings.Contains(string(m.Data), "span 1") {
				alarms = append(alarms, string(m.Data))
			}
		}
		return len(alarms) == 2
	})
	if !strings.Contains(alarms[0], `"raised"`) || !strings.Contains(alarms[0], "LOS") || !strings.Contains(alarms[1], `"cleared"`) {
		t.Errorf("alarms at headquarters: %v", alarms)
	}
	waitFor(t, "the link in /status", func() bool {
		f := status(t, httpAddr).Fleet
		return f != nil && f.Connected && f.Backlog["cdr"] == 0 && f.Sent["cdr"] >= 1
	})
}
