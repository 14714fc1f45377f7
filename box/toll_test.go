package box_test

import (
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/store"
)

// A phone dials out: 9 and a number goes through the [[outbound]] route's
// SIP trunk (SIPp as the carrier, answering one call), after the phone
// proved its extension by digest. The international number the config
// does not allow never reaches the carrier: the phone hears the refusal,
// the box records a DialDenied; a caller without the extension's
// password gets no way out at all.
func TestPhoneDialsOut(t *testing.T) {
	_, port, _ := strings.Cut(testenv.FreeAddr(t), ":")
	host := "127.0.0.2"
	sipp := startSIPp(t, "carrier-401.xml", host, port)
	toml := strings.Replace(string(config.Default()), `trunks = ["pri", "pstn"]`, `trunks = ["carrier"]`, 1) + `
[[trunk]]
name = "carrier"
host = "` + host + ":" + port + `"
username = "0755000000"
password = "secret"
destination = "100"
`
	dir := t.TempDir()
	sipAddr, httpAddr, stop := startConfig(t, dir, []byte(toml))
	pw := password(t, dir, "1001")

	// No password: challenged, and without an answer no call.
	if call, err := invite(sipAddr, "995555", "1001", ""); err == nil {
		call.Close()
		t.Fatal("a caller without the extension's password was let out")
	}
	// International: answered, told, hung up; nothing reaches the carrier.
	call := dial(t, sipAddr, "90044201234567", "1001", pw)
	select {
	case <-call.Dialog.Context().Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the refused call was not hung up")
	}
	// A national service number: out through the carrier, who answers
	// and hangs up, which ends the phone's call.
	call = dial(t, sipAddr, "995555", "1001", pw)
	select {
	case <-call.Dialog.Context().Done():
	case <-time.After(15 * time.Second):
		t.Errorf("the phone's call did not end with the carrier's:\n%s", sipp.out.String())
	}
	if err := sipp.wait(10 * time.Second); err != nil {
		t.Errorf("SIPp carrier: %v\n%s", err, sipp.out.String())
	}
	var evs []store.SecurityEvent
	testenv.GetJSON(t, "http://"+httpAddr+"/security/events?limit=1000", &evs)
	var denied []string
	for _, e := range evs {
		if e.Name == "DialDenied" {
			denied = append(denied, e.Account+": "+e.Detail)
		}
	}
	if len(denied) != 1 || !strings.HasPrefix(denied[0], "1001: 0044201234567 (international) through carrier: international numbers are not among the config's dial classes") {
		t.Errorf("DialDenied events %q", denied)
	}
	var breakers map[string]time.Time
	testenv.GetJSON(t, "http://"+httpAddr+"/security/breakers", &breakers)
	if len(breakers) != 0 {
		t.Errorf("breakers open: %v", breakers)
	}
	stop()
	cdrs, _ := openStore(t, dir).CDRs(0, 20)
	var out []string
	for _, c := range cdrs {
		if c.Direction == "out" {
			out = append(out, c.Trunk+" "+c.From+" "+c.To+" "+c.Disposition)
		}
	}
	if len(out) != 1 || out[0] != "carrier 1001 95555 answered" {
		t.Errorf("calls out on record: %q", out)
	}
}
