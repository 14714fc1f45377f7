package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/acd"
	"jinyin/box"
	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/internal/siptest"
	"jinyin/internal/testenv"
	"jinyin/kpi"
	"jinyin/media"
	"jinyin/media/dtmf"
	"jinyin/media/prompt"
	"jinyin/media/tone"
	"jinyin/media/wav"
	"jinyin/store"
)

// dial calls ext on the box as from, with media running; the call is hung
// up and closed at cleanup.
func dial(t *testing.T, sipAddr, ext, from, password string) *siptest.Call {
	t.Helper()
	call, err := invite(sipAddr, ext, from, password)
	if err != nil {
		t.Fatal(err)
	}
	return hangUpAtCleanup(t, call)
}

// invite calls ext as from and starts media once answered.
func invite(sipAddr, ext, from, password string) (*siptest.Call, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := siptest.InviteFrom(ctx, sipAddr, ext, from)
	if err != nil {
		return nil, err
	}
	call.Username, call.Password = from, password
	if err := call.Answered(ctx); err != nil {
		call.Close()
		return nil, err
	}
	if err := call.StartMedia(); err != nil {
		call.Close()
		return nil, err
	}
	return call, nil
}

func hangUpAtCleanup(t *testing.T, call *siptest.Call) *siptest.Call {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		call.Dialog.Bye(ctx)
		call.Close()
	})
	return call
}

// clip is the first 200 ms of a prompt as the box sends it (A-law).
func clip(t *testing.T, set *prompt.Set, lang, id string) []byte {
	t.Helper()
	p, err := set.Player(lang, id)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, p.Samples())
	p.FillALaw(b)
	return b[:min(len(b), 1600)]
}

// hearer follows what a call has heard, prompt by prompt.
type hearer struct {
	t    *testing.T
	call *siptest.Call
	set  *prompt.Set
	from int // offset in Heard() already matched
}

func listen(t *testing.T, call *siptest.Call) *hearer {
	set, err := prompt.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &hearer{t: t, call: call, set: set}
}

// hear waits until the prompts have been heard in order after what was
// matched before.
func (h *hearer) hear(lang string, ids ...string) {
	h.t.Helper()
	h.hearBytes(lang+strings.Join(ids, ","), func() [][]byte {
		var cs [][]byte
		for _, id := range ids {
			cs = append(cs, clip(h.t, h.set, lang, id))
		}
		return cs
	}()...)
}

// hearEnd waits for the last 200 ms of a prompt.
func (h *hearer) hearEnd(lang, id string) {
	h.t.Helper()
	p, err := h.set.Player(lang, id)
	if err != nil {
		h.t.Fatal(err)
	}
	b := make([]byte, p.Samples())
	p.FillALaw(b)
	h.hearBytes(lang+" end of "+id, b[max(0, len(b)-1600):])
}

func (h *hearer) hearBytes(what string, clips ...[]byte) {
	h.t.Helper()
	if len(clips) == 0 || slices.ContainsFunc(clips, func(c []byte) bool { return len(c) == 0 }) {
		h.t.Fatalf("nothing to hear for %s", what)
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		heard := h.call.Heard()
		at, ok := h.from, true
		for _, c := range clips {
			i := bytes.Index(heard[at:], c)
			if i < 0 {
				ok = false
				break
			}
			at += i + len(c)
		}
		if ok {
			h.from = at
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("did not hear %s (heard %d bytes)", what, len(heard))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The demo's self-service ordering: 6 at the menu, an item code and a
// quantity keyed, read back, confirmed with 1, posted to the order desk
// (builtin:demo-shop), and the order number read out.
func TestDemoSelfServiceOrderOverSIP(t *testing.T) {
	sipAddr, httpAddr, _ := startBox(t, t.TempDir())
	call := dial(t, sipAddr, "100", "13800000001", "")
	h := listen(t, call)
	h.hear("zh", "welcome", "main-menu")
	call.SendDigits("6")
	h.hear("zh", "ars-item")
	call.SendDigits("1234#")
	h.hear("zh", "ars-quantity")
	call.SendDigits("3#")
	h.hear("zh", "ars-you-ordered", "d1", "d2", "d3", "d4", "ars-quantity-is")
	h.hear("zh", "ars-confirm")
	call.SendDigits("1")
	day := time.Now().In(time.FixedZone("CST", 8*3600)).Format("060102") // the demo's zone
	var order []string
	for _, d := range day + "0001" {
		order = append(order, "d"+string(d))
	}
	h.hear("zh", append([]string{"ars-placed"}, order...)...)
	h.hear("zh", "main-menu")
	if n := node(t, httpAddr, "main", "ars-placed"); n.Visits != 1 {
		t.Errorf("ars-placed visited %d times", n.Visits)
	}
}

// The demo as the issue tells it: call 100, hear the menu, press 2, key an
// order number, hear its status. The 2 goes as an RFC 4733 event, the
// order number as tones in the audio; 8 switches to English.
func TestDemoOrderStatusOverSIP(t *testing.T) {
	sipAddr, httpAddr, stop := startBox(t, t.TempDir())
	call := dial(t, sipAddr, "100", "13800000001", "")
	h := listen(t, call)
	h.hear("zh", "welcome", "main-menu")
	call.SendDigits("2") // barges in: the menu is 26 s long
	h.hear("zh", "enter-order")
	time.Sleep(300 * time.Millisecond) // tones just after an event are taken for its echo
	if err := call.SendTones("4567#"); err != nil {
		t.Fatal(err)
	}
	h.hear("zh", "order-status-is", "order-delivered", "order-date")
	h.hear("zh", "order-amount", "d4", "hundred", "d6", "n10", "d6", "yuan", "d7", "jiao")
	h.hear("zh", "main-menu")
	call.SendDigits("8")
	h.hear("en", "main-menu")
	call.SendDigits("1")
	h.hear("en", "information", "info-today")

	// The API ranks the menu and shows the lookup's result.
	res, err := http.Get("http://" + httpAddr + "/ivr/stats")
	if err != nil {
		t.Fatal(err)
	}
	var report []kpi.IVRNode
	json.NewDecoder(res.Body).Decode(&report)
	res.Body.Close()
	found := map[string]kpi.IVRNode{}
	for _, r := range report {
		found[r.Flow+"/"+r.Node] = r
	}
	if m := found["main/menu"]; m.Visits < 2 || m.Exits["key:2"] != 1 || m.Exits["key:8"] != 1 {
		t.Errorf("menu report %+v", m)
	}
	if l := found["main/order-lookup"]; l.Exits["result:order-found"] != 1 {
		t.Errorf("lookup report %+v", l)
	}
	stop()
}

// ivrConfig is the demo with short timeouts, a holiday, and the order
// lookup pointed at url.
func ivrConfig(url string) []byte {
	s := string(config.Default())
	s = strings.Replace(s, `holidays = []`, `holidays = ["2026-10-01"]`, 1)
	s = strings.Replace(s, `url = "builtin:demo-orders"`, `url = "`+url+`"`, 1)
	s = strings.Replace(s, `silence = "5s"`, `silence = "1s"`, -1)
	return []byte(s)
}

// password reads an extension's password from credentials.txt.
func password(t *testing.T, dir, ext string) string {
	data, err := os.ReadFile(filepath.Join(dir, "credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == ext {
			return f[1]
		}
	}
	t.Fatalf("no password for %s", ext)
	return ""
}

func tone400(seconds float64) []int16 { return tone.Sine(400, -12, int(seconds*media.RateHz)) }

// A failing order service sends the caller to the fallback; a voicemail
// left over SIP is played back by *97 to an agent who authenticates; a
// caller who cannot authenticate does not get in.
func TestLookupFallbackAndVoicemailOverSIP(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }))
	defer down.Close()
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startConfig(t, dir, ivrConfig(down.URL))

	call := dial(t, sipAddr, "100", "13800000002", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("2")
	h.hear("zh", "enter-order")
	call.SendDigits("1234#")
	h.hear("zh", "service-unavailable", "main-menu")

	call.SendDigits("4")
	h.hearEnd("zh", "voicemail-intro")
	time.Sleep(400 * time.Millisecond) // the beep
	call.Send(tone400(1.5))            // then a second of silence ends it
	h.hear("zh", "voicemail-saved")

	res, err := http.Get("http://" + httpAddr + "/voicemail?mailbox=main")
	if err != nil {
		t.Fatal(err)
	}
	var vms []store.Voicemail
	json.NewDecoder(res.Body).Decode(&vms)
	res.Body.Close()
	if len(vms) != 1 || vms[0].Caller != "13800000002" || vms[0].Duration < time.Second {
		t.Fatalf("voicemail %+v", vms)
	}
	res, err = http.Get("http://" + httpAddr + "/voicemail/main/" + vms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := wav.Decode(res.Body)
	res.Body.Close()
	if err != nil || len(a.Samples) < media.RateHz {
		t.Fatalf("voicemail audio: %v", err)
	}

	// *97 without credentials: refused.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bad, err := siptest.InviteFrom(ctx, sipAddr, "*97", "1001")
	if err != nil {
		t.Fatal(err)
	}
	bad.Username, bad.Password = "1001", "wrong"
	if err := bad.Answered(ctx); err == nil {
		t.Error("*97 answered a caller with the wrong password")
	}
	bad.Close()

	agent := dial(t, sipAddr, "*97", "1001", password(t, dir, "1001"))
	ha := listen(t, agent)
	ha.hear("zh", "you-have", "d1", "new-messages", "message-from", "d1", "d3", "d8")
	// The message itself: what the caller sent, as the box recorded it.
	msg := make([]byte, 800)
	media.PCMA.Encode(msg, a.Samples[len(a.Samples)/2:len(a.Samples)/2+800])
	ha.hearBytes("the message", msg)
	ha.hear("zh", "end-of-messages", "goodbye")
}

// On a holiday the demo plays the holiday message and hangs up; the
// clock is moved, the box is real.
func TestHolidayRoutingOverSIP(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	holiday := time.Date(2026, 10, 1, 10, 0, 0, 0, loc)
	sipAddr, _, _ := startConfig(t, t.TempDir(), ivrConfig("builtin:demo-orders"), box.WithClock(clock.Shifted{Offset: time.Until(holiday)}))
	call := dial(t, sipAddr, "100", "1", "")
	h := listen(t, call)
	h.hear("zh", "holiday")
	select {
	case <-call.Dialog.Context().Done(): // the box's BYE
	case <-time.After(15 * time.Second):
		t.Error("the box did not hang up after the holiday message")
	}
}

// A prompt uploaded over HTTP plays on the next call, without a restart,
// and the one before is kept.
func TestPromptUploadedOverHTTP(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startConfig(t, dir, config.Default())
	news := tone400(2)
	var buf bytes.Buffer
	wav.Encode(&buf, wav.PCM, news)
	req, _ := http.NewRequest(http.MethodPut, "http://"+httpAddr+"/prompts/zh/info-today", &buf)
	res, err := supervisor.Do(req)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %v %v", err, res.Status)
	}
	req, _ = http.NewRequest(http.MethodPut, "http://"+httpAddr+"/prompts/zh/info-today", strings.NewReader("not a wav"))
	if res, err := supervisor.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad upload was not refused: %v", res.Status)
	}
	call := dial(t, sipAddr, "100", "1", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("1")
	h.hear("zh", "information")
	want := make([]byte, 1600)
	media.PCMA.Encode(want, news[:1600])
	h.hearBytes("the uploaded announcement", want)
	if old, _ := filepath.Glob(filepath.Join(dir, "prompts", "zh", "old", "info-today-*.wav")); len(old) != 1 {
		t.Errorf("previous versions kept: %v", old)
	}
}

// An IVR transfer to a trunk number: the caller keys a number, the box
// dials it through the trunk to SIPp as the carrier, answers its 401
// with the trunk's credentials, and bridges; the carrier's hang-up ends
// the caller's leg, and the outbound leg is on record with its trunk.
func TestTransferToTrunkNumber(t *testing.T) {
	// The carrier on 127.0.0.2: the box tells trunk calls by source address.
	_, port, _ := strings.Cut(testenv.FreeAddr(t), ":")
	host := "127.0.0.2"
	carrier := host + ":" + port
	sipp := startSIPp(t, "carrier-401.xml", host, port)
	// The caller is a guest, from outside: the flow may send it back out
	// to local numbers (relay_classes).
	toml := strings.Replace(string(config.Default()), "relay_classes = []", `relay_classes = ["local"]`, 1) + `
[[trunk]]
name = "carrier"
host = "` + carrier + `"
username = "0755000000"
password = "secret"
destination = "100"

[[extension]]
number = "200"
kind = "ivr"
flow = "out"

[flow.out]
start = "number"
[flow.out.node.number]
type = "collect"
var = "number"
min = 3
max = 20
next = "dial"
[flow.out.node.dial]
type = "transfer"
target = "trunk:carrier/${number}"
`
	dir := t.TempDir()
	sipAddr, _, stop := startConfig(t, dir, []byte(toml))
	call := dial(t, sipAddr, "200", "1001", "")
	call.SendDigits("95555#")
	// The carrier answers, then hangs up: the box hangs up the caller.
	select {
	case <-call.Dialog.Context().Done():
	case <-time.After(15 * time.Second):
		t.Errorf("the caller was not hung up after the carrier hung up:\n%s", sipp.out.String())
	}
	if err := sipp.wait(10 * time.Second); err != nil {
		t.Errorf("SIPp carrier: %v\n%s", err, sipp.out.String())
	}
	stop()
	db := openStore(t, dir)
	cdrs, _ := db.CDRs(0, 10)
	var found bool
	for _, c := range cdrs {
		if c.Direction == "out" && c.Trunk == "carrier" && c.To == "95555" && c.Disposition == "answered" {
			found = true
		}
	}
	if !found {
		t.Errorf("no answered outbound leg on the carrier trunk: %+v", cdrs)
	}
}

// 0 in the demo's menu rings the general queue's agents: baresip,
// registered as agent 1002, answers and the caller hears the digits it
// plays, through the box.
func TestDemoZeroReachesAnAgent(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startBox(t, dir)
	out := startBaresip(t, dir, sipAddr, httpAddr, "1002")
	res, err := supervisor.Post("http://"+httpAddr+"/agents/1002/login", "", nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login over the API: %v %v", err, res.Status)
	}
	call := dial(t, sipAddr, "100", "13800000003", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hear("zh", "transfer")
	h.hearDigits("2580", out)
}

// hearDigits waits until the DTMF digits want are heard in the audio
// after what was matched before (a phone playing them through the box);
// logs are the peers' output, shown if they are not.
func (h *hearer) hearDigits(want string, logs ...*testenv.Buffer) {
	h.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(heardDigits(h.call.Heard()[h.from:]), want); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			var peers strings.Builder
			for _, l := range logs {
				peers.WriteString(l.String() + "\n")
			}
			h.t.Fatalf("did not hear %s:\n%s", want, peers.String())
		}
	}
}

// heardDigits runs the DTMF detector over received A-law.
func heardDigits(alaw []byte) string {
	var digits string
	det := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			digits += string(e.Digit)
		}
	})
	pcm := make([]int16, len(alaw))
	media.PCMA.Decode(pcm, alaw)
	det.Process(pcm)
	return digits
}

// The queue as the issue tells it: agent 1001 registers a softphone
// (baresip), logs in with *11, a caller calls 100 and presses 0, talks to
// the agent (hears the digits baresip plays), the agent hangs up, the
// caller rates the call 5; the survey, the queue events and the CDRs are
// in the store.
func TestDemoQueueLoginTalkSurvey(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, stop := startBox(t, dir)
	out, ctl := startBaresipCtl(t, dir, sipAddr, httpAddr, "1001", nil)

	login := dial(t, sipAddr, "*11", "1001", password(t, dir, "1001"))
	listen(t, login).hear("zh", "logged-in")

	call := dial(t, sipAddr, "100", "13800000005", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hear("zh", "transfer")
	h.hearDigits("2580", out)
	baresipCommand(t, ctl, "hangup")
	h.hear("zh", "survey")
	call.SendDigits("5")
	h.hear("zh", "thanks")
	stop()

	db := openStore(t, dir)
	evs, _ := db.QueueEvents(0, 100)
	kinds := map[store.QueueKind]store.QueueEvent{}
	for _, e := range evs {
		kinds[e.Kind] = e
	}
	if e := kinds["login"]; e.Agent != "1001" {
		t.Errorf("login %+v", e)
	}
	if e := kinds["connect"]; e.Agent != "1001" || e.Queue != "general" || e.Caller != "13800000005" {
		t.Errorf("connect %+v", e)
	}
	if e := kinds["complete"]; e.Reason != "agent" || e.Talk <= 0 {
		t.Errorf("complete %+v", e)
	}
	if e := kinds["survey"]; e.Value != 5 || e.Agent != "1001" {
		t.Errorf("survey %+v (events %+v)", e, evs)
	}
	if recs, _ := db.Recordings(); len(recs) != 1 || recs[0].Agent != "1001" || recs[0].Bytes < 44+4*media.RateHz {
		t.Errorf("recordings %+v", recs)
	}
	cdrs, _ := db.CDRs(0, 10)
	legs := 0
	for _, c := range cdrs {
		if (c.To == "100" && c.From == "13800000005") || (c.Direction == "out" && c.From == "13800000005") {
			legs++
		}
	}
	if legs != 2 {
		t.Errorf("CDRs of the caller's and the agent's legs: %+v", cdrs)
	}
}

// An agent whose phone rings and is not answered (SIPp) is paused with
// reason no-answer, and the call goes to the next agent (baresip), who
// answers.
func TestQueueAgentThatDoesNotAnswer(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(string(config.Default()), `ring_timeout = "20s"`, `ring_timeout = "5s"`, 1)
	sipAddr, httpAddr, _ := startConfig(t, dir, []byte(cfg))
	host, _, _ := strings.Cut(sipAddr, ":")
	_, phonePort, _ := strings.Cut(testenv.FreeAddr(t), ":")
	phone := startSIPp(t, "agent-no-answer.xml", host, phonePort)
	registerPhone(t, sipAddr, dir, "1001", phonePort)
	out := startBaresip(t, dir, sipAddr, httpAddr, "1002")
	for _, a := range []string{"1001", "1002"} { // 1001 first: the longest idle
		if res, err := supervisor.Post("http://"+httpAddr+"/agents/"+a+"/login", "", nil); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("login %s: %v", a, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	call := dial(t, sipAddr, "100", "13800000006", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hearDigits("2580", out, &phone.out)
	if err := phone.wait(15 * time.Second); err != nil {
		t.Errorf("SIPp phone: %v\n%s", err, phone.out.String())
	}
	res, err := http.Get("http://" + httpAddr + "/queues")
	if err != nil {
		t.Fatal(err)
	}
	var st acd.Status
	err = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if err != nil {
		t.Fatalf("GET /queues: %v", err)
	}
	agents := map[string]acd.AgentStatus{}
	for _, a := range st.Agents {
		agents[a.Ext] = a
	}
	if a, ok := agents["1001"]; !ok || !a.Paused || a.Reason != "no-answer" {
		t.Errorf("1001 after ringing out: %+v (listed %v)", a, ok)
	}
	if a, ok := agents["1002"]; !ok || a.State != "busy" {
		t.Errorf("1002 while talking: %+v (listed %v)", a, ok)
	}
}

// A callback over SIP, across a restart: the caller (extension 1003's
// phone) waits in the general queue with no agent logged in, keys 1 and
// hangs up; the box restarts; agent 1002 (baresip) logs in, is rung for
// the callback, answers, and the box calls 1003 back (SIPp answers).
func TestCallbackOverSIPAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	sipAddr, _, stop := startConfig(t, dir, cfg)
	call := dial(t, sipAddr, "100", "1003", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hear("zh", "queue-hold", "callback-offer")
	call.SendDigits("1")
	h.hear("zh", "callback-when")
	call.SendDigits("#") // when my turn comes
	h.hear("zh", "callback-booked")
	stop()

	sipAddr, httpAddr, _ := startConfig(t, dir, cfg)
	res, err := http.Get("http://" + httpAddr + "/callbacks")
	if err != nil {
		t.Fatal(err)
	}
	var cbs []store.Callback
	json.NewDecoder(res.Body).Decode(&cbs)
	res.Body.Close()
	if len(cbs) != 1 || cbs[0].Number != "1003" || cbs[0].Queue != "general" || cbs[0].Attempts != 0 {
		t.Fatalf("callbacks after the restart: %+v", cbs)
	}
	host, _, _ := strings.Cut(sipAddr, ":")
	_, phonePort, _ := strings.Cut(testenv.FreeAddr(t), ":")
	customer := startSIPp(t, "customer-answers.xml", host, phonePort)
	registerPhone(t, sipAddr, dir, "1003", phonePort)
	out := startBaresip(t, dir, sipAddr, httpAddr, "1002")
	if res, err := supervisor.Post("http://"+httpAddr+"/agents/1002/login", "", nil); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login: %v", err)
	}
	if err := customer.wait(30 * time.Second); err != nil {
		t.Fatalf("the customer's phone: %v\n%s\nbaresip:\n%s", err, customer.out.String(), out.String())
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := http.Get("http://" + httpAddr + "/queue/events")
		if err != nil {
			t.Fatal(err)
		}
		var evs []store.QueueEvent
		json.NewDecoder(res.Body).Decode(&evs)
		res.Body.Close()
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, string(e.Kind))
		}
		got := strings.Join(kinds, " ")
		if strings.Contains(got, "callback-requested") && strings.Contains(got, "callback-dialled") && strings.Contains(got, "callback-answered") && strings.Contains(got, "complete") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue events: %s", got)
		}
	}
	res, _ = http.Get("http://" + httpAddr + "/callbacks")
	json.NewDecoder(res.Body).Decode(&cbs)
	res.Body.Close()
	if len(cbs) != 0 {
		t.Errorf("callbacks left after it was answered: %+v", cbs)
	}
}

// sippProc is SIPp playing one call of a scenario (testdata/sipp) at
// host:port.
type sippProc struct {
	out  testenv.Buffer
	done chan error
}

func startSIPp(t *testing.T, scenario, host, port string) *sippProc {
	t.Helper()
	return startSIPpIn(t, "", scenario, host, port, "-m", "1")
}

// startSIPpIn is startSIPp run in dir (where a scenario's files are),
// with args (-m N for N calls).
func startSIPpIn(t *testing.T, dir, scenario, host, port string, args ...string) *sippProc {
	t.Helper()
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.LookPath(t, "sipp", "sip-tester"), append([]string{"-sf", sf,
		"-i", host, "-p", port, "-nostdin", "-timeout", "30s", "-timeout_error"}, args...)...)
	cmd.Dir = dir
	p := &sippProc{done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { p.done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	return p
}

// wait is how SIPp's call went: nil when the scenario ran to its end.
func (p *sippProc) wait(d time.Duration) error {
	select {
	case err := <-p.done:
		return err
	case <-time.After(d):
		return fmt.Errorf("SIPp did not finish within %v", d)
	}
}

// registerPhone registers ext at the box, with its password from
// credentials.txt, for a SIPp phone (startSIPp) listening on port.
func registerPhone(t *testing.T, sipAddr, dir, ext, port string) {
	t.Helper()
	host, _, _ := strings.Cut(sipAddr, ":")
	reg := exec.Command(testenv.LookPath(t, "sipp", "sip-tester"), sipAddr, "-sf", filepath.Join("testdata", "sipp", "agent-register.xml"),
		"-i", host, "-p", "0", "-m", "1", "-nostdin", "-timeout", "10s", "-timeout_error",
		"-s", ext, "-au", ext, "-ap", password(t, dir, ext), "-key", "agent_port", port)
	if out, err := reg.CombinedOutput(); err != nil {
		t.Fatalf("SIPp registering %s: %v\n%s", ext, err, out)
	}
}
