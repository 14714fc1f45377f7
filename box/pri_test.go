package box_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/ptytest"
	"jinyin/kpi"
	"jinyin/pri/libpritest"
)

// priConfig is the default config with span 1 on the socket driver to a
// libpri peer, in the given signalling, plus extra TOML.
func priConfig(t *testing.T, peer *libpritest.Peer, signalling, extra string) []byte {
	t.Helper()
	def := string(config.Default())
	span := "driver = \"socket\"\ndchannel = \"" + peer.DPath + "\"\nbchannels = \"" + peer.BPath + "\"\nsignalling = \"" + signalling + "\""
	out := strings.Replace(def, "driver = \"sim\"\nsignalling = \"pri-cpe\"", span, 1)
	if out == def {
		t.Fatal("the default config's span is not where the test expects it")
	}
	return []byte(relayed(out) + "\n" + extra)
}

// relayed is a config that lets IVR transfers send callers from outside
// back out to short numbers (4008, transferOut's): the tests' callers
// come in on lines and as SIP guests.
func relayed(toml string) string {
	return strings.Replace(toml, "relay_classes = []", `relay_classes = ["short"]`, 1)
}

// transferOut is extension 300, an IVR whose only node transfers the
// caller to 4008 through trunk (a SIP trunk, a span group or a line
// group); callers from outside need a relayed config.
func transferOut(trunk string) string {
	return `
[[extension]]
number = "300"
name = "out"
kind = "ivr"
flow = "out"

[flow.out]
start = "go"

[flow.out.node.go]
type = "transfer"
target = "trunk:` + trunk + `/4008"
`
}

func heard(t *testing.T, peer *libpritest.Peer, ch int) float64 {
	t.Helper()
	peer.Send(fmt.Sprintf("heard %d", ch))
	var rms float64
	fmt.Sscanf(peer.Expect(fmt.Sprintf("HEARD ch=%d", ch)), fmt.Sprintf("HEARD ch=%d rms=%%f", ch), &rms)
	return rms
}

// ivrStats is GET /ivr/stats.
func ivrStats(t *testing.T, httpAddr string) []kpi.IVRNode {
	t.Helper()
	res, err := http.Get("http://" + httpAddr + "/ivr/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var nodes []kpi.IVRNode
	if err := json.NewDecoder(res.Body).Decode(&nodes); err != nil {
		t.Fatalf("GET /ivr/stats: %v", err)
	}
	return nodes
}

// node is a node's counters in GET /ivr/stats (zero before its first
// visit).
func node(t *testing.T, httpAddr, flow, node string) kpi.IVRNode {
	t.Helper()
	for _, n := range ivrStats(t, httpAddr) {
		if n.Flow == flow && n.Node == node {
			return n
		}
	}
	return kpi.IVRNode{Flow: flow, Node: node}
}

// An inbound PRI call from libpri (the exchange) reaches the demo IVR: the
// caller hears the menu on the B-channel, and a digit pressed (DTMF from
// spandsp in the B-channel audio) routes the call.
func TestPRICallReachesIVR(t *testing.T) {
	peer := libpritest.Start(t, "net")
	dir := t.TempDir()
	_, httpAddr, stop := startConfig(t, dir, priConfig(t, peer, "pri-cpe", ""))
	peer.Expect("UP")
	peer.Send("call 100 1")
	peer.Expect("ANSWER ch=1")
	waitUntil(t, "the greeting", func() bool { return node(t, httpAddr, "main", "welcome").Visits > 0 })
	heard(t, peer, 1)       // reset the meter
	time.Sleep(time.Second) // a second of the greeting
	if rms := heard(t, peer, 1); rms < 300 {
		t.Errorf("the caller hears rms %.0f on B1; the greeting should be playing", rms)
	}
	if node(t, httpAddr, "main", "info").Visits != 0 {
		t.Fatal("info visited before the digit")
	}
	peer.Send("dtmf 1 1")
	for deadline := time.Now().Add(15 * time.Second); node(t, httpAddr, "main", "info").Visits == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("digit 1 on the PRI call did not reach the info node; libpri:\n%s", peer.Log())
		}
	}
	peer.Send("hangup 16")
	peer.Expect("HANGUP")
	// A number the box does not have: refused with cause 1, on record.
	peer.Send("call 555 2")
	if got := peer.Expect("HANGUP"); !strings.Contains(got, "cause=1") {
		t.Errorf("a call to 555: %q, want cause 1 (unallocated number)", got)
	}
	stop()
	db := openStore(t, dir)
	cdrs, err := db.CDRs(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cdrs {
		seen[c.Trunk+" "+c.From+" "+c.To+" "+c.Disposition+" "+c.Cause] = true
	}
	for _, want := range []string{"span1 88880000 100 answered Q.850 16 (normal call clearing)", "span1 88880000 555 refused Q.850 1 (unallocated number)"} {
		if !seen[want] {
			t.Errorf("no call record %q: %v", want, seen)
		}
	}
}

// The box as the network side (pri-net) to libpri as a PBX: a call to an
// IVR extension that transfers out through the span group leaves on a
// second B-channel, and the two are bridged.
func TestPRITransferOutThroughGroup(t *testing.T) {
	peer := libpritest.Start(t, "cpe")
	startConfig(t, t.TempDir(), priConfig(t, peer, "pri-net", transferOut("pri")))
	peer.Expect("UP")
	peer.Send("call 300 1")
	peer.Expect("ANSWER ch=1")
	ring := peer.Expect("RING")
	var ch int
	if _, err := fmt.Sscanf(ring, "RING ch=%d called=4008", &ch); err != nil || ch == 1 {
		t.Fatalf("outbound leg: %q", ring)
	}
	peer.Send("answer")
	// Tones sent on B1 reach the other leg once the box has bridged them.
	for deadline := time.Now().Add(10 * time.Second); ; {
		heard(t, peer, ch) // reset the meter
		peer.Send("dtmf 1 1234567890")
		time.Sleep(time.Second) // the ten digits' audio
		rms := heard(t, peer, ch)
		if rms >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audio sent on B1 reaches B%d at rms %.0f; the legs are not bridged", ch, rms)
		}
	}
	peer.Send("hangup 16")
	peer.Expect("HANGUP")
	peer.Expect("HANGUP") // the bridge ends the other leg too
}

// The console over a pty shows a PRI call decoded (pri debug span 1 on),
// the B-channel's state in show channels and the D-channel in show span.
func TestConsolePRIDebug(t *testing.T) {
	peer := libpritest.Start(t, "net")
	dir := t.TempDir()
	dev, term := ptytest.Pair(t, dir)
	cfg := strings.Replace(string(priConfig(t, peer, "pri-cpe", "")), `device = ""`, `device = "`+dev+`"`, 1)
	startConfig(t, dir, []byte(cfg))
	peer.Expect("UP")
	term.Expect("New password: ")
	term.Type("s3cret-pass\rs3cret-pass\r")
	term.Expect("login: ")
	term.Type("admin\rs3cret-pass\r")
	term.Expect(demoPrompt)

	if out := term.Command("show span 1", demoPrompt); !strings.Contains(out, "D-channel   up") {
		t.Errorf("show span 1:\n%s", out)
	}
	if out := term.Command("pri debug span 2 on", demoPrompt); !strings.Contains(out, "span 2 runs no PRI stack") {
		t.Errorf("pri debug on a span that does not exist:\n%s", out)
	}
	if out := term.Command("pri deb sp 1 on", demoPrompt); !strings.Contains(out, "PRI trace on") {
		t.Errorf("pri debug:\n%s", out)
	}
	peer.Send("call 100 3")
	peer.Expect("ANSWER ch=3")
	term.Expect("< q931 SETUP, call ref")
	term.Expect(`Called Party Number: "100"`)
	term.Expect("> q931 CONNECT")
	term.Type("pri debug span 1 off\r")
	term.Expect("PRI trace off")
	term.Expect(demoPrompt)
	out := term.Command("show channels", demoPrompt)
	if !strings.Contains(out, "span 1/3") || !strings.Contains(out, "Active in 88880000 -> 100") {
		t.Errorf("show channels during the call:\n%s", out)
	}
	peer.Send("hangup 16")
	peer.Expect("HANGUP")
	term.Type("exit\r")
}
