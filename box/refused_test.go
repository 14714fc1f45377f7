package box_test

import (
	"encoding/json"
	"jinyin/store"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every call the box turns away leaves a record with its cause, so that
// an operator can count what was refused: a number it does not have
// (404), an agent with no phone registered (480). A caller asked for its
// password (407) is not a refused call: it is challenged, and counted in
// the security events.
func TestRefusedCallsAreOnRecord(t *testing.T) {
	dir := t.TempDir()
	sipAddr, _, stop := startBox(t, dir)
	pw := password(t, dir, "1001")
	for _, c := range []struct{ to, status string }{{"555", "404"}, {"1003", "480"}} {
		if call, err := invite(sipAddr, c.to, "1001", pw); err == nil {
			call.Close()
			t.Errorf("a call to %s was taken", c.to)
		} else if !strings.Contains(err.Error(), c.status) {
			t.Errorf("a call to %s: %v, want %s", c.to, err, c.status)
		}
	}
	stop()
	cdrs, err := openStore(t, dir).CDRs(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range cdrs {
		got = append(got, r.Direction+" "+r.From+" "+r.To+" "+r.Disposition+" "+r.Cause)
		if r.Call == "" || r.Start.IsZero() || r.End.Before(r.Start) {
			t.Errorf("record %+v", r)
		}
	}
	want := []string{"in 1001 555 refused SIP 404 Not Found", "in 1001 1003 refused SIP 480 Temporarily Unavailable"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A caller to an extension whose phone is busy is refused with 486 Busy
// Here once the phone says so, not answered and hung up; the record says
// so. The phone is baresip, ringing until it rejects the
// call (its "hangup" of an incoming call answers 486).
func TestBusyExtensionRefusesTheCaller(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, stop := startBox(t, dir)
	out, ctl := startBaresipCtl(t, dir, sipAddr, httpAddr, "1002", func(_, conf, pw string) (string, string) {
		return conf + "sip_trans_def udp\n", "<sip:1002@" + sipAddr + ";transport=udp>;auth_pass=" + pw + ";answermode=manual;regint=600"
	})
	refused := make(chan error, 1)
	go func() {
		call, err := invite(sipAddr, "1002", "1001", password(t, dir, "1001"))
		if err == nil {
			call.Close()
		}
		refused <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "Incoming call"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not ring:\n%s", out.String())
		}
	}
	select {
	case err := <-refused:
		t.Fatalf("the caller's call ended while the phone rang: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	baresipCommand(t, ctl, "hangup")
	select {
	case err := <-refused:
		if err == nil || !strings.Contains(err.Error(), "486") {
			t.Fatalf("the caller got %v, want 486 Busy Here", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the caller heard nothing once the phone rejected the call")
	}
	stop()
	cdrs, err := openStore(t, dir).CDRs(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range cdrs {
		got = append(got, r.Direction+" "+r.From+" "+r.To+" "+r.Disposition+" "+r.Cause)
		if r.Disposition == "refused" && (!r.Answer.IsZero() || r.End.Sub(r.Start) < 200*time.Millisecond) {
			t.Errorf("record %+v: a refusal after the phone rang", r)
		}
	}
	if want := "in 1001 1002 refused SIP 486 Busy Here"; strings.Join(got, "\n") != want {
		t.Errorf("records:\n%s\nwant:\n%s\n%+v", strings.Join(got, "\n"), want, cdrs)
	}
}

// A supervisor lifts a waiting callback (204, then 404: it is gone); a
// callback not held for review cannot be resumed (404).
func TestCallbackLiftAndResumeOverTheAPI(t *testing.T) {
	dir := t.TempDir()
	_, httpAddr, _ := startBox(t, dir)
	base := "http://" + httpAddr
	res, err := supervisor.Post(base+"/callbacks", "application/json", strings.NewReader(`{"queue":"general","number":"13800000001"}`))
	if err != nil {
		t.Fatal(err)
	}
	var cb store.Callback
	json.NewDecoder(res.Body).Decode(&cb)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || cb.ID == "" {
		t.Fatalf("book: %s %+v", res.Status, cb)
	}
	do := func(method, path string) int {
		req, _ := http.NewRequest(method, base+path, nil)
		res, err := supervisor.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/callbacks/" + cb.ID + "/resume", http.StatusNotFound}, // waiting, not in review
		{http.MethodDelete, "/callbacks/" + cb.ID, http.StatusNoContent},
		{http.MethodDelete, "/callbacks/" + cb.ID, http.StatusNotFound},
	} {
		if got := do(c.method, c.path); got != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}
}
