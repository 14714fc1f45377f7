package sip

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"jinyin/internal/testenv"
)

// sendRaw sends one raw message over UDP from c and returns the status
// line of the first final response to it (same Call-ID) received within
// wait, or "" for none.
func sendRaw(t *testing.T, c *net.UDPConn, to *net.UDPAddr, msg []byte, wait time.Duration) string {
	t.Helper()
	callID := string(header(msg, "Call-ID", "i"))
	c.WriteToUDP(msg, to)
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	for {
		c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return ""
		}
		line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
		if !strings.Contains(line, " 100 ") && string(header(buf[:n], "Call-ID", "i")) == callID {
			return line
		}
	}
}

// rfc4475 is what the box must answer each torture message with: a status
// code, "final" for any final response, "none" for silence (a response
// sent to a UAS), or "not2xx" for any refusal. From RFC 4475's guidance
// for a UAS; where sipgo's parser refuses a message the RFC calls legal,
// the entry says so and pins the 400 so a change is noticed.
var rfc4475 = map[string]string{
	// 3.1.1 valid
	"dblreq.dat": "final", "esc01.dat": "final", "esc02.dat": "final", "escnull.dat": "final",
	"intmeth.dat": "501", "longreq.dat": "final", "lwsdisp.dat": "final", "mpart01.dat": "final",
	"noreason.dat": "none", "unreason.dat": "none", "semiuri.dat": "final", "transports.dat": "final",
	"wsinv.dat": "400", // legal per the RFC; sipgo's parser rejects its folded lines
	// 3.1.2 invalid
	"badinv01.dat": "400", "clerr.dat": "400", "scalar02.dat": "400", "scalarlg.dat": "none", // a response
	"quotbal.dat": "400", "ltgtruri.dat": "400", "lwsruri.dat": "400", "lwsstart.dat": "400",
	"trws.dat": "400", "escruri.dat": "not2xx", "baddate.dat": "not2xx", "regbadct.dat": "not2xx",
	"badaspec.dat": "400", "baddn.dat": "400", "badvers.dat": "505", "mismatch01.dat": "400",
	"mismatch02.dat": "400", "bigcode.dat": "none", "invut.dat": "not2xx", "insuf.dat": "not2xx",
	"multi01.dat": "400", "mcl01.dat": "400", "ncl.dat": "400", "sdp01.dat": "not2xx",
	"test.dat": "none", // no SIP version and no Via: nowhere to answer
	// 3.2, 3.3 transaction and application layer
	"badbranch.dat": "final", // the RFC lets an element fall back to RFC 2543 matching
	"bext01.dat":    "420", "novelsc.dat": "416", "unkscm.dat": "416", "unksm2.dat": "not2xx",
	"regaut01.dat": "401", "cparam01.dat": "401", "cparam02.dat": "401", "regescrt.dat": "401",
	"zeromf.dat":  "final", // an endpoint processes Max-Forwards 0
	"bcast.dat":   "none",
	"inv2543.dat": "400", // legal RFC 2543 INVITE; sipgo's parser wants a Via branch
}

var topVia = regexp.MustCompile(`(?mi)^(via|v)([ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*)\w+([ \t]+)[^;,\s]+`)

// inNetns re-runs the calling test in a new network namespace that has only
// loopback, and reports whether the caller is already inside one. The
// RFC 4475 messages name hosts in 192.0.2.0/24 and 255.255.255.255 in their
// Via headers; inside the namespace an answer that goes there fails at
// once instead of leaving the machine.
func inNetns(t *testing.T, name string) bool {
	if os.Getenv("JINYIN_IN_NETNS") == "1" {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		var ifr [40]byte // struct ifreq: name, then flags
		copy(ifr[:], "lo")
		unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0])))
		*(*uint16)(unsafe.Pointer(&ifr[16])) |= unix.IFF_UP
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
			t.Fatalf("bring lo up: %v", e)
		}
		return true
	}
	unshare := testenv.LookPath(t, "unshare", "util-linux")
	flags := "-n"
	if os.Geteuid() != 0 {
		flags = "-rn"
	}
	args := []string{flags, os.Args[0], "-test.run", "^" + name + "$", "-test.count", "1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), "JINYIN_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "unshare failed") {
		testenv.Missing(t, "permission to create a network namespace")
	}
	if err != nil {
		t.Fatalf("in its network namespace: %v\n%s", err, out)
	}
	t.Logf("in its network namespace:\n%s", out)
	return false
}

// TestRFC4475 sends every torture message of RFC 4475 to the box: each
// valid request gets a final response and each invalid one a 4xx/5xx or
// nothing, never a success, and the box answers a plain OPTIONS afterwards.
func TestRFC4475(t *testing.T) {
	if !inNetns(t, "TestRFC4475") {
		return
	}
	_, addr := startServer(t)
	to, _ := net.ResolveUDPAddr("udp", addr)
	for _, set := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "rfc4475", set, "*.dat"))
		if len(files) < 10 {
			t.Fatalf("%s: only %d messages", set, len(files))
		}
		for _, f := range files {
			data, _ := os.ReadFile(f)
			// Each message from a socket of its own, as from its own
			// sender; answers come back to it, not to the RFC's hosts.
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			msg := topVia.ReplaceAll(data, []byte("${1}${2}UDP${3}"+c.LocalAddr().String()))
			name := filepath.Base(f)
			got := sendRaw(t, c, to, msg, time.Second)
			c.Close()
			t.Logf("%-8s %-16s %q", set, name, got)
			code := ""
			if f := strings.Fields(got); len(f) > 1 {
				code = f[1]
			}
			want, ok := rfc4475[name]
			switch {
			case !ok:
				t.Errorf("%s: no expectation in the table", name)
			case want == "none" && code != "":
				t.Errorf("%s: want no answer, got %s", name, got)
			case want == "final" && (code == "" || code[0] == '1'):
				t.Errorf("%s: want a final response, got %q", name, got)
			case want == "not2xx" && (code == "" || code[0] == '1' || code[0] == '2'):
				t.Errorf("%s: want a refusal, got %q", name, got)
			case len(want) == 3 && want[0] >= '0' && want[0] <= '9' && code != want:
				t.Errorf("%s: want %s, got %q", name, want, got)
			}
		}
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opt := []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bKafter\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: after\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	if got := sendRaw(t, c, to, opt, time.Second); got != "SIP/2.0 200 OK" {
		t.Fatalf("after the torture messages OPTIONS got %q", got)
	}
}
