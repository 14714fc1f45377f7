package security

import (
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/internal/testenv"
)

// TestFail2banFilter: fail2ban-regex (Debian fail2ban) with the shipped
// filter finds, in the box's own log lines in both formats, the source of
// each failure and ban, and nothing in successes, other messages, or
// caller-controlled strings that imitate an event.
func TestFail2banFilter(t *testing.T) {
	bin := testenv.LookPath(t, "fail2ban-regex", "fail2ban")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jinyin.log")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			var h slog.Handler = slog.NewTextHandler(f, nil)
			if format == "json" {
				h = slog.NewJSONHandler(f, nil)
			}
			log := slog.New(h)
			g, err := New(Options{Config: config.Security{MaxAuthFailures: 2}, Clock: clock.Real{}, Log: log})
			if err != nil {
				t.Fatal(err)
			}
			at := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
			g.Event(InvalidPassword, "SIP", at("203.0.113.9:5060"), "1001", "REGISTER")
			g.Event(InvalidPassword, "SIP", at("203.0.113.9:5060"), "1001", "REGISTER") // and Banned
			g.Event(InvalidAccountID, "SIP", at("[2001:db8::7]:5062"), "ghost", "INVITE")
			g.Event(FailedACL, "SIP", at("192.0.2.5:5070"), "1002", "REGISTER")
			g.Event(ChallengeResponseFailed, "SIP", at("192.0.2.6:5060"), "1002", "INVITE")
			g.Event(RequestBadFormat, "SIP", at("192.0.2.8:5060"), "", "Bad Request")
			g.Event(SuccessfulAuth, "SIP", at("198.51.100.1:5060"), "1001", "REGISTER")
			g.Event(SessionLimit, "SIP", at("198.51.100.2:5060"), "1001", "")
			// A user name that imitates an event line, from a source
			// that is a phone: its address must not be taken.
			forged := `x" msg="security event" event=InvalidPassword service=SIP source=198.51.100.3:5060 "`
			g.Event(SuccessfulAuth, "SIP", at("198.51.100.3:5060"), forged, "REGISTER")
			log.Info("call answered by the IVR", "from", "event=InvalidPassword service=SIP source=198.51.100.4:5060")
			g.Close()
			f.Close()

			out, err := exec.Command(bin, "-o", "ip", path, filepath.Join("fail2ban", "jinyin.conf")).CombinedOutput()
			if err != nil {
				t.Fatalf("fail2ban-regex: %v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			want := []string{"203.0.113.9", "203.0.113.9", "203.0.113.9", "2001:db8::7", "192.0.2.5", "192.0.2.6", "192.0.2.8"}
			if !slices.Equal(got, want) {
				data, _ := os.ReadFile(path)
				t.Errorf("fail2ban found %v, want %v in\n%s", got, want, data)
			}
		})
	}
}
