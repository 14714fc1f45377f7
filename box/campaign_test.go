package box_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/acd"
	"jinyin/campaign"
	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/media"
	"jinyin/media/tone"
	"jinyin/pri/libpritest"
	"jinyin/store"
)

// writeALaw writes pcm as raw A-law (what SIPp's rtp_stream plays).
func writeALaw(t *testing.T, path string, pcm ...[]int16) {
	t.Helper()
	var all []int16
	for _, p := range pcm {
		all = append(all, p...)
	}
	b := make([]byte, len(all))
	media.PCMA.Encode(b, all)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func ms(n int) int { return n * 8 }

// surveyFlow asks for a score from 1 to 5 and thanks.
const surveyFlow = `
[flow.survey]
start = "ask"

[flow.survey.node.ask]
type = "collect"
prompts = ["survey"]
var = "score"
min = 1
max = 1
timeout = "8s"
next = "bye"
fail = "bye"

[flow.survey.node.bye]
type = "hangup"
prompts = ["thanks"]
`

// sippCarrier starts SIPp in work on 127.0.0.3 as the callees of
// scenario, for calls calls (120 s at most), and returns it with the [[trunk]] "carrier"
// that reaches it.
func sippCarrier(t *testing.T, work, scenario string, calls int) (*sippProc, string) {
	host := "127.0.0.3"
	_, port, _ := strings.Cut(testenv.FreeAddr(t), ":")
	_, mport, _ := strings.Cut(testenv.FreeAddr(t), ":")
	// SIPp's own limit on its whole run (the last -timeout counts): the
	// calls follow one another, each as long as its test makes it.
	p := startSIPpIn(t, work, scenario, host, port, "-m", fmt.Sprint(calls), "-mi", host, "-mp", mport, "-timeout", "120s")
	return p, fmt.Sprintf("\n[[trunk]]\nname = \"carrier\"\nhost = \"%s:%s\"\ndestination = \"100\"\n", host, port)
}

// A survey campaign over a SIP trunk, SIPp playing the five numbers it
// calls (testdata/sipp/campaign-contacts.xml): a person who says hello
// and keys 4, a busy line, one that rings out, an answering machine and
// a vacant number's SIT, and the same SIT as early media on a call never
// answered (the box hears it and cancels). Each ends with its outcome in the store, the
// person's score among the contact's answers and in the report, and
// nobody but the person hears the survey.
func TestCampaignOverSIP(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	four, err := tone.DTMF("4", 100, -10)
	if err != nil {
		t.Fatal(err)
	}
	writeALaw(t, filepath.Join(work, "hello.al"), tone.Sine(300, -15, ms(400)), make([]int16, ms(2600)), four, make([]int16, ms(2000)))
	writeALaw(t, filepath.Join(work, "greeting.al"), tone.Sine(300, -15, ms(4000)))
	writeALaw(t, filepath.Join(work, "sit.al"), make([]int16, ms(300)), tone.Sine(913.8, -24, ms(274)), tone.Sine(1370.6, -24, ms(274)),
		tone.Sine(1776.7, -24, ms(380)), tone.Sine(300, -15, ms(3000)))
	sipp, trunk := sippCarrier(t, work, "campaign-contacts.xml", 6)
	extra := trunk + `
[[campaign]]
name = "survey"
flow = "survey"
trunk = "carrier"
lines = 6
start = true
max_attempts = 1
detect = "amd"
` + surveyFlow
	_, httpAddr, stop := startConfig(t, dir, append(config.Default(), extra...))
	base := "http://" + httpAddr
	res, err := supervisor.Post(base+"/campaigns/survey/contacts", "text/csv",
		strings.NewReader("number\n13900000001\n13900000002\n13900000003\n13900000004\n13900000005\n13900000006\n"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("import: %s", res.Status)
	}
	var p campaign.Progress
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		p = campaign.Progress{}
		testenv.GetJSON(t, base+"/campaigns/survey", &p)
		if p.Contacts == 6 && p.ByState["waiting"] == 0 && p.ByState["dialling"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish: %+v\nSIPp:\n%s", p, sipp.out.String())
		}
	}
	if err := sipp.wait(30 * time.Second); err != nil {
		t.Errorf("SIPp: %v\n%s", err, sipp.out.String())
	}
	var rep []campaign.Interval
	testenv.GetJSON(t, base+"/campaigns/survey/report?every=24h", &rep)
	stop()
	db := openStore(t, dir)
	want := map[string]string{
		"13900000001": "done answered score=4",
		"13900000002": "failed busy",
		"13900000003": "failed no-answer",
		"13900000004": "failed machine",
		"13900000005": "failed vacant",
		"13900000006": "failed vacant",
	}
	db.EachContact("survey", 0, func(c store.Contact) bool {
		got := string(c.State) + " " + c.Outcome
		if s, ok := c.Answers["score"]; ok {
			got += " score=" + s
		}
		if got != want[c.Number] {
			t.Errorf("%s: %s, want %s", c.Number, got, want[c.Number])
		}
		return true
	})
	if len(rep) != 1 || rep[0].Attempts != 6 || rep[0].Reached != 1 || rep[0].Scores["score"].Mean != 4 {
		t.Errorf("report: %+v", rep)
	}
}

// The same survey over the E1: the campaign dials through the span group
// (the box the CPE, libpri the network); libpri answers the first number
// and keys 4 in the B-channel audio (spandsp's DTMF), refuses the second
// as busy (cause 17) and the third as unallocated (cause 1).
func TestCampaignOverPRI(t *testing.T) {
	peer := libpritest.Start(t, "net")
	dir := t.TempDir()
	extra := `
[[campaign]]
name = "survey"
flow = "survey"
trunk = "pri"
lines = 1
start = true
max_attempts = 1
` + surveyFlow
	_, httpAddr, stop := startConfig(t, dir, priConfig(t, peer, "pri-cpe", extra))
	peer.Expect("UP")
	base := "http://" + httpAddr
	res, err := supervisor.Post(base+"/campaigns/survey/contacts", "text/csv", strings.NewReader("number\n13900000001\n13900000002\n13900000003\n"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, callee := range []struct{ number, do string }{{"13900000001", "answer"}, {"13900000002", "hangup 17"}, {"13900000003", "hangup 1"}} {
		ring := peer.Expect("RING")
		var ch int
		if _, err := fmt.Sscanf(ring, "RING ch=%d called="+callee.number, &ch); err != nil {
			t.Fatalf("%q, want a SETUP to %s", ring, callee.number)
		}
		peer.Send(callee.do)
		if callee.do == "answer" {
			time.Sleep(time.Second) // the survey question begins
			peer.Send(fmt.Sprintf("dtmf %d 4", ch))
			peer.Expect("HANGUP_REQ") // the flow thanks and hangs up
		}
	}
	var p campaign.Progress
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		p = campaign.Progress{}
		testenv.GetJSON(t, base+"/campaigns/survey", &p)
		if p.ByState["waiting"] == 0 && p.ByState["dialling"] == 0 || time.Now().After(deadline) {
			break
		}
	}
	stop()
	want := map[string]string{"13900000001": "done answered score=4", "13900000002": "failed busy", "13900000003": "failed vacant"}
	openStore(t, dir).EachContact("survey", 0, func(c store.Contact) bool {
		got := string(c.State) + " " + c.Outcome
		if s, ok := c.Answers["score"]; ok {
			got += " score=" + s
		}
		if got != want[c.Number] {
			t.Errorf("%s: %s, want %s", c.Number, got, want[c.Number])
		}
		delete(want, c.Number)
		return true
	})
	if len(want) != 0 {
		t.Errorf("not in the list: %v", want)
	}
}

// An agent-assisted follow-up over a SIP trunk, SIPp playing the people
// called (testdata/sipp/campaign-people.xml). The first is put to agent
// 1002 (baresip), whose screen (GET /queues) shows the contact's order
// while they talk; the agent hangs up and the attempt keeps the agent's
// time. Then the only agent is 1001, whose phone (SIPp) rings and is not
// answered: 2 s after the second person answered the box gives up, stops
// the ring, tells the person where to call back and hangs up; the
// abandon is counted against the cap and recorded with its reason.
func TestAssistedCampaignOverSIP(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	writeALaw(t, filepath.Join(work, "hello.al"), tone.Sine(300, -15, ms(400)), make([]int16, ms(1000)))
	people, trunk := sippCarrier(t, work, "campaign-people.xml", 2)
	extra := trunk + `
[[campaign]]
name = "follow-up"
queue = "general"
trunk = "carrier"
caller_id = "4008001234"
lines = 1
start = true
max_attempts = 1
`
	sipAddr, httpAddr, stop := startConfig(t, dir, append(config.Default(), extra...))
	base := "http://" + httpAddr
	post := func(path, body string) {
		t.Helper()
		res, err := supervisor.Post(base+path, "text/csv", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %s", path, res.Status)
		}
	}
	settled := func(number string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var p campaign.Progress
			testenv.GetJSON(t, base+"/campaigns/follow-up", &p)
			if p.ByState["waiting"] == 0 && p.ByState["dialling"] == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not settled: %+v\nSIPp:\n%s", number, p, people.out.String())
			}
		}
	}

	out, ctl := startBaresipCtl(t, dir, sipAddr, httpAddr, "1002", nil)
	post("/agents/1002/login", "")
	post("/campaigns/follow-up/contacts", "number,order\n13900000001,A1\n")
	var onScreen acd.AgentStatus
	for deadline := time.Now().Add(30 * time.Second); onScreen.Caller == ""; time.Sleep(100 * time.Millisecond) {
		var st acd.Status
		testenv.GetJSON(t, base+"/queues", &st)
		for _, a := range st.Agents {
			if a.Ext == "1002" && a.Caller != "" {
				onScreen = a
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent 1002 never talked to the contact\nbaresip:\n%s\nSIPp:\n%s", out.String(), people.out.String())
		}
	}
	if onScreen.Caller != "13900000001" || onScreen.Data["order"] != "A1" {
		t.Errorf("the agent's screen: %+v, want the contact and its order", onScreen)
	}
	time.Sleep(time.Second)
	baresipCommand(t, ctl, "hangup")
	settled("13900000001")

	post("/agents/1002/logout", "")
	_, phonePort, _ := strings.Cut(testenv.FreeAddr(t), ":")
	phone := startSIPp(t, "agent-no-answer.xml", "127.0.0.1", phonePort)
	registerPhone(t, sipAddr, dir, "1001", phonePort)
	post("/agents/1001/login", "")
	post("/campaigns/follow-up/contacts", "number,order\n13900000002,A2\n")
	settled("13900000002")
	if err := phone.wait(10 * time.Second); err != nil {
		t.Errorf("the agent's phone was not rung and cancelled: %v\n%s", err, phone.out.String())
	}
	if err := people.wait(30 * time.Second); err != nil {
		t.Errorf("SIPp people: %v\n%s", err, people.out.String())
	}
	var p campaign.Progress
	testenv.GetJSON(t, base+"/campaigns/follow-up", &p)
	if p.Abandon == nil || p.Abandon.Live != 2 || p.Abandon.Abandoned != 1 || p.Abandon.Cap != 0.03 {
		t.Errorf("abandons %+v, want 1 of 2 live", p.Abandon)
	}
	stop()

	db := openStore(t, dir)
	want := map[string]string{"13900000001": "done answered", "13900000002": "failed abandoned"}
	db.EachContact("follow-up", 0, func(c store.Contact) bool {
		if got := string(c.State) + " " + c.Outcome; got != want[c.Number] {
			t.Errorf("%s: %s, want %s", c.Number, got, want[c.Number])
		}
		return true
	})
	var agentTime time.Duration
	db.Attempts("follow-up", time.Time{}, time.Now().Add(time.Hour), func(a store.Attempt) bool {
		if a.Number == "13900000001" {
			agentTime = a.Agent
		}
		return true
	})
	if agentTime < 11*time.Second { // a second's talk at least, and the queue's 10 s wrap-up
		t.Errorf("the agent's time on the first call: %v", agentTime)
	}
	evs, _ := db.QueueEvents(0, 1000)
	var abandon, connect bool
	for _, e := range evs {
		abandon = abandon || (e.Kind == store.QueueAbandon && e.Caller == "13900000002" && e.Reason == "no agent within 2s")
		connect = connect || (e.Kind == store.QueueConnect && e.Caller == "13900000001" && e.Agent == "1002")
	}
	if !abandon || !connect {
		t.Errorf("queue events (abandon %v, connect %v): %+v", abandon, connect, evs)
	}
	// The person abandoned heard the 2 s of silence, then who called (5 s),
	// the message (10 s) and the ten digits of the number to call back:
	// over 15 s on the line.
	cdrs, _ := db.CDRs(0, 100)
	var heard time.Duration
	for _, c := range cdrs {
		if c.To == "13900000002" && !c.Answer.IsZero() {
			heard = c.End.Sub(c.Answer)
		}
	}
	if heard < 15*time.Second {
		t.Errorf("the abandoned person was on the line %v after answering: no message told", heard)
	}
}
