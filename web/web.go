// Package web is the box's HTTP side for people: the supervisor's live
// wallboard (pushed to the browser by server-sent events), the KPI
// history page, the KPIs as JSON, and the one rule that guards the API:
// every request that changes something (any method but GET and HEAD)
// needs a supervisor's login, by session cookie or HTTP Basic.
//
// Built on net/http and html/template only: the pages are rendered on the
// box and carry their few lines of script, with no build step and nothing
// fetched from elsewhere. Accounts have no default password: the first is
// set on the console (`web passwd`) or with `jinyin passwd`.
//
// Layer: above acd, kpi, security and store; box wires it.
package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"jinyin/acd"
	"jinyin/internal/clock"
	"jinyin/internal/httpapi"
	"jinyin/kpi"
	"jinyin/security"
	"jinyin/store"
)

//go:embed page/*.html
var pages embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"pct":  func(r kpi.Rate) string { return pctText(r) },
	"secs": func(s kpi.Seconds) string { return time.Duration(s).Round(time.Second).String() },
	"sub":  func(a, b float64) float64 { return a - b },
	"add":  func(a, b float64) float64 { return a + b },
}).ParseFS(pages, "page/*.html"))

// Options is what the web side reads and how.
type Options struct {
	Clock    clock.Clock
	Log      *slog.Logger
	DB       *store.DB
	Guard    *security.Guard
	Name     string // the box's name, in the titles
	Location *time.Location
	// Queues is the live state of the queues and agents (acd.Status).
	Queues func() acd.Status
	// KPI computes the figures over a range (kpi.FromStore with the
	// box's rules).
	KPI func(from, to time.Time, interval time.Duration) (*kpi.Report, error)
	// Targets are the queues' service level targets (kpi.OptionsFor).
	Targets map[string]kpi.Target
	// Alarms are the box's faults now, one line each: spans, trunks,
	// toll-fraud breakers.
	Alarms func() []string
	// Push is how often the wallboard looks for a change to push (250 ms
	// when 0); KPIEvery how often today's figures are computed again (5 s).
	Push, KPIEvery time.Duration
}

// Server serves the pages and guards the API.
type Server struct {
	o    Options
	auth *Auth

	streams atomic.Int32 // wallboard streams open

	boardMu sync.Mutex // boardJSON's
	board   []byte     // the board's JSON, as of boardAt
	boardAt time.Time

	reports chan struct{} // reports computed at once (kpiJSON, history)

	mu        sync.Mutex
	today     *kpi.Report // today's figures, computed at most every KPIEvery
	todayAt   time.Time
	todayCost time.Duration // what computing them took last
}

// New makes the web side of a box.
func New(o Options) *Server {
	if o.Push == 0 {
		o.Push = 250 * time.Millisecond
	}
	if o.KPIEvery == 0 {
		o.KPIEvery = 5 * time.Second
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return &Server{o: o, auth: NewAuth(o.DB, o.Clock, o.Guard), reports: make(chan struct{}, maxReports)}
}

// Routes adds the pages to mux.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/wallboard", http.StatusSeeOther) })
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginPost)
	mux.HandleFunc("POST /logout", s.logoutPost)
	mux.HandleFunc("GET /wallboard", s.page(s.wallboard))
	mux.HandleFunc("GET /wallboard/events", s.page(s.events))
	mux.HandleFunc("GET /history", s.page(s.history))
	mux.HandleFunc("GET /kpi", s.kpiJSON)
}

// SetPassword makes or changes a web account on the running box and ends
// the sessions it had.
func (s *Server) SetPassword(user, role, password string) error {
	if err := SetPassword(s.o.DB, user, role, password); err != nil {
		return err
	}
	s.auth.Revoke(user)
	return nil
}

// Protect guards h: a request that changes something needs a supervisor
// (401 without a login, 403 for a viewer), and one carrying a browser's
// Origin must come from the box's own pages.
func (s *Server) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.ServeHTTP(w, r)
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				httpError(w, http.StatusForbidden, "a request from another site's page")
				return
			}
		}
		if r.URL.Path == "/login" || r.URL.Path == "/logout" { // anyone may log in, any role out
			h.ServeHTTP(w, r)
			return
		}
		user, role, ok := s.auth.Who(r)
		switch {
		case !ok:
			if r.Header.Get("Sec-Fetch-Mode") == "" { // a script may answer Basic; a browser (it sends Sec-Fetch-*) would pop a dialog
				w.Header().Set("WWW-Authenticate", `Basic realm="jinyin"`)
			}
			httpError(w, http.StatusUnauthorized, "log in as a supervisor to change anything")
		case role != Supervisor:
			httpError(w, http.StatusForbidden, "a viewer may not change anything")
		default:
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
		}
	})
}

type userKey struct{}

// Trusted serves h to a caller authenticated elsewhere, as the
// supervisor user: headquarters, whose NATS account alone may send the
// box commands (package fleet).
func Trusted(h http.Handler, user string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

// userOf is the supervisor a request that Protect let through acts as.
func userOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

// httpError is the API's one error convention (httpapi.Error).
var httpError = httpapi.Error

// page requires a login of any role, sending a browser to the login page.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, user, role string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, role, ok := s.auth.Who(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		h(w, r, user, role)
	}
}

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		s.o.Log.Error("web: page", "page", name, "err", err)
		http.Error(w, "page error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Write(b.Bytes())
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, "login.html", map[string]any{"Name": s.o.Name, "Next": safeNext(r.URL.Query().Get("next")), "Error": ""})
}

// safeNext keeps a redirect after login on the box: only the box's own
// pages (browsers read "/\\host" and "/\t/host" as another site's).
func safeNext(next string) string {
	switch next {
	case "/wallboard", "/history":
		return next
	}
	return "/wallboard"
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	user, pass, next := r.PostFormValue("user"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	role, err := s.auth.check(source(r), user, pass)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, "login.html", map[string]any{"Name": s.o.Name, "Next": next, "Error": err.Error()})
		return
	}
	token := s.auth.login(user, role)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int(MaxAge / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logoutPost(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.auth.logout(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) wallboard(w http.ResponseWriter, r *http.Request, user, role string) {
	s.render(w, "wallboard.html", map[string]any{"Name": s.o.Name, "User": user, "Supervisor": role == Supervisor})
}

// events streams the board as server-sent events: the whole board when
// it changes (looked at every Push), and a comment every 15 s to keep
// proxies from closing an idle stream.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _, _ string) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if n := s.streams.Add(1); n > maxStreams {
		s.streams.Add(-1)
		httpError(w, http.StatusServiceUnavailable, "too many wallboards open")
		return
	}
	defer s.streams.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	tick := s.o.Clock.NewTicker(s.o.Push)
	defer tick.Stop()
	cookie, _ := r.Cookie(cookieName)
	var last []byte
	quiet := 0
	for {
		// The session is looked at each tick: a logout, an expiry or a
		// changed password ends the stream (the page then goes to the
		// login); a stream open keeps its session alive.
		if cookie != nil && !s.auth.alive(cookie.Value) {
			return
		}
		b := s.boardJSON()
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second)) // real time: a client that stops reading is let go
		if !bytes.Equal(b, last) {
			fmt.Fprintf(w, "data: %s\n\n", b)
			last, quiet = b, 0
		} else if quiet++; time.Duration(quiet)*s.o.Push >= 15*time.Second {
			fmt.Fprint(w, ": still here\n\n")
			quiet = 0
		}
		if fl.Flush(); r.Context().Err() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C():
		}
	}
}

// maxStreams bounds the wallboards open at once.
const maxStreams = 64

// boardJSON is the board as JSON, made at most once a Push for all the
// streams open.
func (s *Server) boardJSON() []byte {
	s.boardMu.Lock()
	defer s.boardMu.Unlock()
	if now := s.o.Clock.Now(); s.board == nil || now.Sub(s.boardAt) >= s.o.Push || now.Before(s.boardAt) {
		b, err := json.Marshal(s.Board())
		if err != nil {
			s.o.Log.Error("web: board", "err", err)
		}
		s.board, s.boardAt = b, now
	}
	return s.board
}

// Tile is one queue on the wallboard.
type Tile struct {
	Queue        string         `json:"queue"`
	Waiting      int            `json:"waiting"`
	LongestWait  kpi.Seconds    `json:"longest_wait"`
	Target       string         `json:"target"` // "80/20"
	SL           kpi.Rate       `json:"sl"`     // today, abandons counted against
	AbandonRate  kpi.Rate       `json:"abandon_rate"`
	Offered      int            `json:"offered"`
	Answered     int            `json:"answered"`
	Available    int            `json:"available"`
	OnCall       int            `json:"on_call"`
	WrapUp       int            `json:"wrap_up"`
	Paused       int            `json:"paused"`
	PausedFor    map[string]int `json:"paused_for,omitempty"`
	NoPhone      int            `json:"no_phone"`
	CallbacksDue int            `json:"callbacks_due"` // in the queue now, waiting for an agent
	Callbacks    int            `json:"callbacks"`     // booked, due or later
}

// Board is what the wallboard shows.
type Board struct {
	Name   string            `json:"name"`
	Queues []Tile            `json:"queues"`
	Agents []acd.AgentStatus `json:"agents"`
	Alarms []string          `json:"alarms"`
	// Callbacks are the first maxListed booked, soonest promised first.
	Callbacks []store.Callback `json:"callbacks"`
}

// maxListed bounds the callbacks the board lists.
const maxListed = 20

// Board is the wallboard now: the queues' live state, today's service
// level and abandon rate, the callbacks booked, the alarms.
func (s *Server) Board() Board {
	st := s.o.Queues()
	today := s.todays()
	booked := map[string]int{}
	cbs, err := s.o.DB.Callbacks()
	if err != nil {
		s.o.Log.Error("web: callbacks", "err", err)
	}
	for _, c := range cbs {
		booked[c.Queue]++
	}
	slices.SortFunc(cbs, func(a, b store.Callback) int { return a.Promised.Compare(b.Promised) })
	// Lists are never null in the JSON: the page maps over them.
	b := Board{Name: s.o.Name, Queues: []Tile{}, Agents: append([]acd.AgentStatus{}, st.Agents...), Alarms: []string{},
		Callbacks: append([]store.Callback{}, cbs[:min(len(cbs), maxListed)]...)}
	if s.o.Alarms != nil {
		b.Alarms = append(b.Alarms, s.o.Alarms()...)
	}
	for _, q := range st.Queues {
		// The longest wait in whole seconds: a push a second, not a tick.
		t := Tile{Queue: q.Name, Waiting: q.Waiting - q.Callbacks, LongestWait: kpi.Seconds(q.LongestWait.Truncate(time.Second)), Available: q.Available,
			OnCall: q.Busy - q.WrapUp, WrapUp: q.WrapUp, Paused: q.Paused, PausedFor: q.PausedFor, NoPhone: q.NoPhone,
			CallbacksDue: q.Callbacks, Callbacks: booked[q.Name]}
		if today != nil {
			if k := today.Total.Queues[q.Name]; k != nil {
				t.SL, t.AbandonRate, t.Offered, t.Answered = k.SLAgainst, k.AbandonRate, k.Offered, k.Answered
			}
		}
		t.Target = s.target(q.Name)
		b.Queues = append(b.Queues, t)
	}
	return b
}

func (s *Server) target(queue string) string {
	t, ok := s.o.Targets[queue]
	if !ok {
		t = kpi.DefaultTarget
	}
	return fmt.Sprintf("%.0f/%.0f", 100*t.Goal, t.Answer.Seconds())
}

// todays is today's figures, computed again when older than KPIEvery, or
// than ten times what computing them took (a day of a million calls takes
// seconds: the wallboard then spends at most a tenth of a core on them).
func (s *Server) todays() *kpi.Report {
	now := s.o.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.today == nil || now.Sub(s.todayAt) >= max(s.o.KPIEvery, 10*s.todayCost) {
		from, to := kpi.Today(now, s.o.Location)
		start := time.Now() // real time: what the computation cost, whatever the clock
		r, err := s.o.KPI(from, to, 0)
		s.todayCost, s.todayAt = time.Since(start), now // a failure waits its turn too
		if err != nil {
			s.o.Log.Error("web: today's KPIs", "err", err)
			return s.today
		}
		s.today = r
	}
	return s.today
}

// kpiJSON is GET /kpi?from=&to=&interval=&queue=: the figures as JSON
// (today when no range is given), as `jinyin report --json` prints them.
func (s *Server) kpiJSON(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, to := kpi.Today(s.o.Clock.Now(), s.o.Location)
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = kpi.ParseTime(v, s.o.Location); err != nil {
			httpError(w, http.StatusBadRequest, "from: "+err.Error())
			return
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = kpi.ParseTime(v, s.o.Location); err != nil {
			httpError(w, http.StatusBadRequest, "to: "+err.Error())
			return
		}
	}
	interval, err := kpi.ParseInterval(q.Get("interval"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, ok := s.compute(w, from, to, interval)
	if !ok {
		return
	}
	if err := rep.Only(q.Get("queue")); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

// compute is a report for the API or a page, answering the error itself
// (ok false): a range refused, or no turn free.
func (s *Server) compute(w http.ResponseWriter, from, to time.Time, interval time.Duration) (*kpi.Report, bool) {
	if err := kpi.CheckRange(from, to, interval); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	if !s.report() {
		httpError(w, http.StatusServiceUnavailable, "reports are being computed; try again in a moment")
		return nil, false
	}
	defer s.reported()
	rep, err := s.o.KPI(from, to, interval)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return nil, false
	}
	return rep, true
}

// maxReports bounds the reports the API computes at once (each may take
// seconds of a core and a few hundred MiB on a busy day).
const maxReports = 2

// report takes a report's turn, false when none is free; reported gives
// it back.
func (s *Server) report() bool {
	select {
	case s.reports <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Server) reported() { <-s.reports }

// history is the page of today's intervals (or ?from&to&interval), for
// every queue or ?queue=: offered, answered and abandoned per interval,
// and the service level against the goal (the queue's own, or the
// default for all), drawn as SVG on the box.
func (s *Server) history(w http.ResponseWriter, r *http.Request, user, _ string) {
	q := r.URL.Query()
	from, to := kpi.Today(s.o.Clock.Now(), s.o.Location)
	if v, err := kpi.ParseTime(q.Get("from"), s.o.Location); err == nil {
		from = v
	}
	if v, err := kpi.ParseTime(q.Get("to"), s.o.Location); err == nil {
		to = v
	}
	interval, err := kpi.ParseInterval(q.Get("interval"))
	if err != nil || interval == 0 {
		interval = time.Hour
	}
	if !from.Before(to) {
		from = to.Add(-interval)
	}
	rep, ok := s.compute(w, from, to, interval)
	if !ok {
		return
	}
	queue := q.Get("queue")
	goal := kpi.DefaultTarget.Goal
	if t, ok := s.o.Targets[queue]; ok {
		goal = t.Goal
	}
	s.render(w, "history.html", historyData(s.o.Name, user, rep, queue, goal, s.o.Location))
}

// bar is one interval of the history chart, in SVG units.
type bar struct {
	Label                         string
	X, Offered, Answered, Abandon float64
	Counts                        string
}

// historyData lays out the chart: a bar group per interval, the SL line
// over them and the goal's; one queue's figures, or all when queue is "".
func historyData(name, user string, r *kpi.Report, queue string, goal float64, loc *time.Location) map[string]any {
	const height, step = 200.0, 40.0
	figures := func(p *kpi.Period) *kpi.Queue {
		if queue == "" {
			return p.All
		}
		if q := p.Queues[queue]; q != nil {
			return q
		}
		return &kpi.Queue{}
	}
	peak := 1
	for _, p := range r.Intervals {
		peak = max(peak, figures(p).Offered)
	}
	scale := func(n int) float64 { return height * float64(n) / float64(peak) }
	var bars []bar
	var line []string
	for i, p := range r.Intervals {
		a := figures(p)
		b := bar{Label: p.Start.In(loc).Format("15:04"), X: float64(i) * step,
			Offered: scale(a.Offered), Answered: scale(a.Answered), Abandon: scale(a.Abandoned),
			Counts: fmt.Sprintf("%d offered, %d answered, %d abandoned, SL %s", a.Offered, a.Answered, a.Abandoned, pctText(a.SLAgainst))}
		if a.SLAgainst.Defined() {
			line = append(line, fmt.Sprintf("%.1f,%.1f", b.X+15, height*(1-a.SLAgainst.Value())))
		}
		bars = append(bars, b)
	}
	queues := slices.Sorted(maps.Keys(r.Total.Queues))
	shown := queue
	if shown == "" {
		shown = "all queues"
	}
	return map[string]any{"Name": name, "User": user, "Bars": bars, "Width": max(float64(len(bars))*step, step), "Height": height,
		"SLLine": strings.Join(line, " "), "Goal": height * (1 - goal), "GoalPct": fmt.Sprintf("%.0f %%", 100*goal),
		"Total": r.Total, "Queues": queues, "Queue": shown,
		"From": r.From.In(loc).Format("2006-01-02 15:04"), "To": r.To.In(loc).Format("2006-01-02 15:04")}
}

func pctText(r kpi.Rate) string {
	if !r.Defined() {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*r.Value())
}
