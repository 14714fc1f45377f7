package box_test

import (
	"strings"
	"testing"
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
