package box_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	boardsim "jinyin/board/sim"
	"jinyin/box"
	"jinyin/fleet"
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

// Headquarters' commands over NATS request/reply: live state read, a bad
// configuration refused whole with its issues, a good one written in
// place (the one before kept) and the box restarting on it after its
// drain; each command on record as a security event.
func TestHeadquartersCommands(t *testing.T) {
	hq := natstest.Start(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "jinyin.toml")
	overlay := "[box]\nmemory_limit_mb = 0\n[fleet]\nenabled = true\nsite = \"sh-01\"\nservers = [\"" + hq.URL() + "\"]\n"
	os.WriteFile(file, []byte(overlay), 0o640)
	_, httpAddr, _ := startConfig(t, dir, []byte(overlay), box.WithConfigFile(file, nil))
	nc, err := nats.Connect(hq.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	command := func(req fleet.Request) fleet.Reply {
		t.Helper()
		data, _ := json.Marshal(req)
		var m *nats.Msg
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if m, err = nc.Request("jinyin.sh-01.cmd", data, 5*time.Second); err == nil || time.Now().After(deadline) {
				break // before the box has subscribed there are no responders
			}
		}
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.Path, err)
		}
		var rep fleet.Reply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			t.Fatalf("%s %s: %v: %q %v", req.Method, req.Path, err, m.Data, m.Header)
		}
		return rep
	}

	rep := command(fleet.Request{Method: "GET", Path: "/status"})
	var st box.Status
	if json.Unmarshal(rep.Body, &st); rep.Status != 200 || st.Name != "jinyin-demo" || st.Fleet == nil {
		t.Errorf("GET /status: %d %s", rep.Status, rep.Body)
	}
	bad := overlay + "[sip]\nmax_calls = -1\n"
	if rep := command(fleet.Request{Method: "PUT", Path: "/config", Body: []byte(bad)}); rep.Status != 422 || !strings.Contains(string(rep.Body), "max_calls must be 0") {
		t.Errorf("PUT /config with an issue: %d %s", rep.Status, rep.Body)
	}
	if got, _ := os.ReadFile(file); string(got) != overlay {
		t.Errorf("the refused config was written:\n%s", got)
	}
	good := overlay + "[sip]\nmax_calls = 50\n"
	if rep := command(fleet.Request{Method: "PUT", Path: "/config?max_wait=5s", Body: []byte(good)}); rep.Status != 202 {
		t.Errorf("PUT /config: %d %s", rep.Status, rep.Body)
	}
	if got, _ := os.ReadFile(file); string(got) != good {
		t.Errorf("the config file after the push:\n%s", got)
	}
	if prev, _ := os.ReadFile(file + ".prev"); string(prev) != overlay {
		t.Errorf("the config before was not kept:\n%s", prev)
	}
	waitFor(t, "the box to restart on its new config", func() bool {
		res, err := http.Get("http://" + httpAddr + "/status")
		if err == nil {
			res.Body.Close()
		}
		return err != nil
	})
	evs, err := openStore(t, dir).SecurityEvents(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, e := range evs {
		if e.Name == "RemoteCommand" {
			cmds = append(cmds, e.Detail)
		}
	}
	if strings.Join(cmds, "; ") != "GET /status: 200; PUT /config: 422; PUT /config: 202" {
		t.Errorf("commands on record: %q", cmds)
	}
}
