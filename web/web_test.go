package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/acd"
	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/kpi"
	"jinyin/security"
	"jinyin/store"
)

type fixture struct {
	s     *Server
	srv   *httptest.Server
	clk   *clock.Fake
	guard *security.Guard
	acted int
}

func newFixture(t *testing.T) *fixture {
	db, err := store.Open(filepath.Join(t.TempDir(), "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range [][3]string{{"boss", Supervisor, "boss-password"}, {"tv", Viewer, "tv-password"}} {
		if err := SetPassword(db, u[0], u[1], u[2]); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{clk: clock.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))}
	f.guard, err = security.New(security.Options{Config: config.Security{}, Clock: f.clk}) // events in memory
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.guard.Close)
	s := New(Options{Clock: f.clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Guard: f.guard, Name: "test box",
		Queues: func() acd.Status {
			return acd.Status{Queues: []acd.QueueStatus{{Name: "general", Waiting: 3, Callbacks: 1, Busy: 2, WrapUp: 1, Paused: 1, PausedFor: map[string]int{"lunch": 1}}}}
		},
		KPI: func(from, to time.Time, iv time.Duration) (*kpi.Report, error) {
			c := kpi.NewCalc(kpi.Options{From: from, To: to, Interval: iv})
			c.Event(store.QueueEvent{Time: from, Kind: store.QueueEnter, Queue: "general", Call: "a"})
			c.Event(store.QueueEvent{Time: from.Add(time.Second), Kind: store.QueueConnect, Queue: "general", Call: "a", Wait: time.Second})
			return c.Report(), nil
		},
		Targets: map[string]kpi.Target{"general": {Goal: 0.9, Answer: 30 * time.Second}},
		Alarms:  func() []string { return []string{"span 1: LOS"} }})
	f.s = s
	mux := http.NewServeMux()
	s.Routes(mux)
	mux.HandleFunc("POST /agents/{ext}/{action}", func(w http.ResponseWriter, r *http.Request) { f.acted++ })
	mux.HandleFunc("GET /queues", func(w http.ResponseWriter, r *http.Request) {})
	f.srv = httptest.NewServer(s.Protect(mux))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a browser: it keeps cookies and does not follow redirects.
func (f *fixture) client() *http.Client {
	jar := &jarOf{m: map[string]*http.Cookie{}}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type jarOf struct{ m map[string]*http.Cookie }

func (j *jarOf) SetCookies(_ *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		j.m[c.Name] = c
	}
}

func (j *jarOf) Cookies(*url.URL) (out []*http.Cookie) {
	for _, c := range j.m {
		if c.MaxAge >= 0 {
			out = append(out, c)
		}
	}
	return out
}

func (f *fixture) login(t *testing.T, c *http.Client, user, pw string) *http.Response {
	t.Helper()
	res, err := c.PostForm(f.srv.URL+"/login", url.Values{"user": {user}, "password": {pw}, "next": {"/history"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func status(t *testing.T, c *http.Client, method, url string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestWritesNeedASupervisor(t *testing.T) {
	f := newFixture(t)
	pause := f.srv.URL + "/agents/1001/pause"
	anon := f.client()
	if got := status(t, anon, "POST", pause); got != http.StatusUnauthorized || f.acted != 0 {
		t.Errorf("without a login: %d, acted %d", got, f.acted)
	}
	if got := status(t, anon, "GET", f.srv.URL+"/queues"); got != http.StatusOK {
		t.Errorf("a GET of the API: %d", got)
	}
	tv := f.client()
	if res := f.login(t, tv, "tv", "tv-password"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/history" {
		t.Fatalf("viewer login: %s %s", res.Status, res.Header.Get("Location"))
	}
	if got := status(t, tv, "POST", pause); got != http.StatusForbidden || f.acted != 0 {
		t.Errorf("a viewer: %d, acted %d", got, f.acted)
	}
	if got := status(t, tv, "GET", f.srv.URL+"/wallboard"); got != http.StatusOK {
		t.Errorf("a viewer's wallboard: %d", got)
	}
	boss := f.client()
	f.login(t, boss, "boss", "boss-password")
	if got := status(t, boss, "POST", pause); got != http.StatusOK || f.acted != 1 {
		t.Errorf("a supervisor: %d, acted %d", got, f.acted)
	}
	// Another site's page cannot use the supervisor's session.
	req, _ := http.NewRequest("POST", pause, nil)
	req.Header.Set("Origin", "http://evil.example")
	if res, err := boss.Do(req); err != nil || res.StatusCode != http.StatusForbidden || f.acted != 1 {
		t.Errorf("cross-site POST: %v %v, acted %d", res.Status, err, f.acted)
	}
	// Scripts log in with Basic.
	req, _ = http.NewRequest("POST", pause, nil)
	req.SetBasicAuth("boss", "boss-password")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK || f.acted != 2 {
		t.Errorf("Basic: %v %v", res.Status, err)
	}
	req, _ = http.NewRequest("POST", pause, nil)
	req.SetBasicAuth("boss", "wrong")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized || f.acted != 2 {
		t.Errorf("Basic, wrong password: %v %v", res.Status, err)
	}
	// Logged out, the session is gone.
	if res, err := boss.Post(f.srv.URL+"/logout", "", nil); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout %v", err)
	}
	if got := status(t, boss, "POST", pause); got != http.StatusUnauthorized {
		t.Errorf("after logout: %d", got)
	}
}

func TestLoginRefusesAndSessionsExpire(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for _, cred := range [][2]string{{"boss", "wrong-password"}, {"nobody", "boss-password"}, {"boss", ""}} {
		res, err := c.PostForm(f.srv.URL+"/login", url.Values{"user": {cred[0]}, "password": {cred[1]}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "wrong name or password") || len(res.Cookies()) != 0 {
			t.Errorf("%v: %s, cookies %v", cred, res.Status, res.Cookies())
		}
	}
	evs, _ := f.guard.Newest(10)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Name+"/"+e.Service)
	}
	if got := strings.Join(kinds, " "); !strings.Contains(got, "InvalidPassword/HTTP") || !strings.Contains(got, "InvalidAccountID/HTTP") {
		t.Errorf("security events %s", got)
	}
	if got := status(t, c, "GET", f.srv.URL+"/wallboard"); got != http.StatusSeeOther {
		t.Errorf("wallboard without a login: %d, want a redirect to the login", got)
	}
	f.login(t, c, "boss", "boss-password")
	if got := status(t, c, "GET", f.srv.URL+"/wallboard"); got != http.StatusOK {
		t.Fatalf("wallboard: %d", got)
	}
	f.clk.Advance(IdleTimeout - time.Second)
	if got := status(t, c, "GET", f.srv.URL+"/history"); got != http.StatusOK {
		t.Errorf("within the idle timeout: %d", got)
	}
	f.clk.Advance(IdleTimeout + time.Second)
	if got := status(t, c, "GET", f.srv.URL+"/wallboard"); got != http.StatusSeeOther {
		t.Errorf("after the idle timeout: %d", got)
	}
	// Kept busy, a session still ends at MaxAge.
	f.login(t, c, "boss", "boss-password")
	for range int(MaxAge / (IdleTimeout / 2)) {
		f.clk.Advance(IdleTimeout / 2)
		status(t, c, "GET", f.srv.URL+"/wallboard")
	}
	f.clk.Advance(time.Second)
	if got := status(t, c, "GET", f.srv.URL+"/wallboard"); got != http.StatusSeeOther {
		t.Errorf("after %v: %d", MaxAge, got)
	}
	// Redirects stay on the box.
	for _, next := range []string{"//evil.example/x", "http://evil.example", "/\\evil.example", "/\t/evil.example", "/wallboard/../x", ""} {
		if got := safeNext(next); got != "/wallboard" {
			t.Errorf("safeNext(%q) = %q: a redirect may leave the box", next, got)
		}
	}
	if safeNext("/history") != "/history" {
		t.Error("safeNext refuses the history page")
	}
}

func TestSetPasswordRules(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct{ user, role, pw, want string }{
		{"", Supervisor, "long enough", "needs a name"},
		{"a", "admin", "long enough", `role "admin"`},
		{"a", Viewer, "short", "at least 8"},
	} {
		if err := SetPassword(db, c.user, c.role, c.pw); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if users, _ := db.WebUsers(); len(users) != 0 {
		t.Errorf("refused accounts stored: %v", users)
	}
}

func TestBoard(t *testing.T) {
	f := newFixture(t)
	_ = f
	s := New(Options{Clock: f.clk, DB: mustDB(t), Queues: func() acd.Status {
		return acd.Status{Queues: []acd.QueueStatus{{Name: "general", Waiting: 3, Callbacks: 1, Available: 4, Busy: 2, WrapUp: 1}}}
	}, KPI: func(from, to time.Time, iv time.Duration) (*kpi.Report, error) {
		c := kpi.NewCalc(kpi.Options{From: from, To: to})
		c.Event(store.QueueEvent{Time: from, Kind: store.QueueEnter, Queue: "general", Call: "a"})
		c.Event(store.QueueEvent{Time: from, Kind: store.QueueConnect, Queue: "general", Call: "a", Wait: time.Second})
		return c.Report(), nil
	}, Targets: map[string]kpi.Target{"general": {Goal: 0.9, Answer: 30 * time.Second}}})
	b := s.Board()
	if len(b.Queues) != 1 {
		t.Fatalf("%+v", b)
	}
	if j, _ := json.Marshal(b); !strings.Contains(string(j), `"agents":[]`) || !strings.Contains(string(j), `"callbacks":[]`) || !strings.Contains(string(j), `"alarms":[]`) {
		t.Errorf("the page maps over the lists; none may be null: %s", j)
	}
	q := b.Queues[0]
	if q.Waiting != 2 || q.CallbacksDue != 1 || q.Available != 4 || q.OnCall != 1 || q.WrapUp != 1 || q.Target != "90/30" || q.SL.Value() != 1 || q.Offered != 1 {
		t.Errorf("tile %+v", q)
	}
}

func mustDB(t *testing.T) *store.DB {
	db, err := store.Open(filepath.Join(t.TempDir(), "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The history page draws a bar group per interval and the SL line, for
// all queues or one.
func TestHistoryPage(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	f.login(t, c, "tv", "tv-password")
	for _, q := range []string{"", "general"} {
		res, err := c.Get(f.srv.URL + "/history?from=2026-12-01&to=2026-12-01T03:00:00Z&interval=1h&queue=" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page := string(b)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, `data-bars="3"`) || strings.Count(page, `class="off"`) != 3 ||
			!strings.Contains(page, "<polyline") {
			t.Errorf("queue %q: %s\n%s", q, res.Status, page)
		}
		if q == "general" && !strings.Contains(page, "against 90 %") {
			t.Errorf("general's own goal not shown:\n%s", page)
		}
	}
}

// A viewer may log out; a browser whose session is gone is not asked for
// Basic credentials (it would pop a dialog); a password changed on the
// running box ends the account's sessions, and its wallboard stream.
func TestLogoutRevokeAndStream(t *testing.T) {
	f := newFixture(t)
	tv := f.client()
	f.login(t, tv, "tv", "tv-password")
	res, err := tv.Post(f.srv.URL+"/logout", "", nil)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a viewer's logout: %v %v", err, res.Status)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/agents/1001/pause", nil)
	req.Header.Set("Sec-Fetch-Mode", "cors") // as the wallboard's fetch sends it
	res, _ = tv.Do(req)
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("a browser with an ended session: %s, WWW-Authenticate %q", res.Status, res.Header.Get("WWW-Authenticate"))
	}
	res, _ = http.Post(f.srv.URL+"/agents/1001/pause", "", nil)
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Error("a script is not told it may answer Basic")
	}

	boss := f.client()
	f.login(t, boss, "boss", "boss-password")
	stream, err := boss.Get(f.srv.URL + "/wallboard/events")
	if err != nil || stream.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", err, stream.Status)
	}
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, stream.Body); close(ended) }()
	if err := f.s.SetPassword("boss", Supervisor, "a new password"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; f.clk.Advance(250 * time.Millisecond) {
		select {
		case <-ended:
		default:
			if time.Now().After(deadline) {
				t.Fatal("the stream outlived the session")
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		break
	}
	if got := status(t, boss, "GET", f.srv.URL+"/wallboard"); got != http.StatusSeeOther {
		t.Errorf("the old session after the password changed: %d", got)
	}
}

// A report's range is bounded: an unbounded one would hold millions of
// intervals.
func TestKPIRangeBounded(t *testing.T) {
	f := newFixture(t)
	for _, q := range []string{"from=1000-01-01&to=9999-12-31", "from=2026-01-01&to=2026-12-01&interval=15m", "from=2026-12-02&to=2026-12-01"} {
		if got := status(t, http.DefaultClient, "GET", f.srv.URL+"/kpi?"+q); got != http.StatusBadRequest {
			t.Errorf("%s: %d", q, got)
		}
	}
	if got := status(t, http.DefaultClient, "GET", f.srv.URL+"/kpi?from=2026-11-01&to=2026-12-01&interval=15m"); got != http.StatusOK {
		t.Errorf("a month of quarter hours: %d", got)
	}
}
