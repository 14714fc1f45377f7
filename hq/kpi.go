package hq

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	"jinyin/internal/httpapi"
	"jinyin/kpi"
	"jinyin/store"
)

// siteRecords are one site's queue events (in its log's order) and CDRs.
type siteRecords struct {
	events []store.QueueEvent
	cdrs   []store.CDR
}

// records reads what a report over o reads, by site.
func (h *HQ) records(ctx context.Context, o kpi.Options) (map[string]*siteRecords, error) {
	rd := kpi.ReadsFor(o)
	out := map[string]*siteRecords{}
	site := func(s string) *siteRecords {
		if out[s] == nil {
			out[s] = &siteRecords{}
		}
		return out[s]
	}
	rows, err := h.pool.Query(ctx, `SELECT site, kind, body FROM events
		WHERE (kind = 'queue' AND time BETWEEN $1 AND $2) OR (kind = 'cdr' AND time BETWEEN $3 AND $4)
		ORDER BY site, kind, seq`, rd.EventsFrom, rd.EventsTo, rd.CDRsFrom, rd.CDRsTo)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s, kind string
		var body []byte
		if err := rows.Scan(&s, &kind, &body); err != nil {
			return nil, err
		}
		if kind == "queue" {
			var e store.QueueEvent
			if err := json.Unmarshal(body, &e); err != nil {
				return nil, fmt.Errorf("hq: a queue event of %s: %w", s, err)
			}
			site(s).events = append(site(s).events, e)
		} else {
			var c store.CDR
			if err := json.Unmarshal(body, &c); err != nil {
				return nil, fmt.Errorf("hq: a CDR of %s: %w", s, err)
			}
			site(s).cdrs = append(site(s).cdrs, c)
		}
	}
	return out, rows.Err()
}

// Fleet is the fleet's figures over a range: each site's, and all of
// them as one call centre.
type Fleet struct {
	From  time.Time              `json:"from"`
	To    time.Time              `json:"to"`
	Sites map[string]*kpi.Report `json:"sites"`
	Total *kpi.Report            `json:"total"`
}

// KPI computes the fleet's figures from from to to by the single box's
// definitions. In the total, the sites' queues of one name are one queue
// (a central queue served from several boxes), while calls and agents
// are told apart by their site ("sh-01/1001"); the IVR's node counters
// are not streamed, so there is no IVR ranking here.
func (h *HQ) KPI(ctx context.Context, from, to time.Time) (*Fleet, error) {
	o := h.o.KPI
	o.From, o.To, o.Interval = from, to, 0
	if o.Loc == nil {
		o.Loc = h.o.Loc
	}
	if err := kpi.CheckRange(from, to, 0); err != nil {
		return nil, err
	}
	recs, err := h.records(ctx, o)
	if err != nil {
		return nil, err
	}
	f := &Fleet{From: from, To: to, Sites: map[string]*kpi.Report{}}
	total := kpi.NewCalc(o)
	var sites []string
	for s := range recs {
		sites = append(sites, s)
	}
	sort.Strings(sites)
	heads := map[string]int{}
	for _, s := range sites {
		c := kpi.NewCalc(o)
		for _, e := range recs[s].events {
			c.Event(e)
		}
		for _, r := range recs[s].cdrs {
			c.CDR(r)
			r.Call = s + "/" + r.Call
			total.CDR(r)
		}
		f.Sites[s] = c.Report()
	}
	// The total takes the sites' events merged by time, each site's in
	// its own order.
	for {
		next := ""
		for _, s := range sites {
			if i := heads[s]; i < len(recs[s].events) && (next == "" || recs[s].events[i].Time.Before(recs[next].events[heads[next]].Time)) {
				next = s
			}
		}
		if next == "" {
			break
		}
		e := recs[next].events[heads[next]]
		heads[next]++
		e.Call = next + "/" + e.Call
		if e.Agent != "" {
			e.Agent = next + "/" + e.Agent
		}
		total.Event(e)
	}
	f.Total = total.Report()
	return f, nil
}

// Alarms are the alarms open at each site: raised and not cleared since.
func (h *HQ) Alarms(ctx context.Context) (map[string][]string, error) {
	rows, err := h.pool.Query(ctx, `SELECT DISTINCT ON (site, body->>'alarm') site, body->>'alarm', body->>'state'
		FROM events WHERE kind = 'alarm' ORDER BY site, body->>'alarm', seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var site, alarm, state string
		if err := rows.Scan(&site, &alarm, &state); err != nil {
			return nil, err
		}
		if state == "raised" {
			out[site] = append(out[site], alarm)
		}
	}
	return out, rows.Err()
}

// Handler serves the fleet's figures: GET /kpi?from=&to= as JSON (today
// in the fleet's zone by default), GET /alarms, and GET / the fleet
// wallboard, a page of each site's and the total's figures of today.
func (h *HQ) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kpi", func(w http.ResponseWriter, r *http.Request) {
		from, to := kpi.Today(time.Now(), h.o.Loc)
		var err error
		if s := r.URL.Query().Get("from"); s != "" {
			if from, err = kpi.ParseTime(s, h.o.Loc); err != nil {
				httpapi.Error(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		if s := r.URL.Query().Get("to"); s != "" {
			if to, err = kpi.ParseTime(s, h.o.Loc); err != nil {
				httpapi.Error(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		f, err := h.KPI(r.Context(), from, to)
		if err != nil {
			httpapi.Error(w, http.StatusBadRequest, err.Error())
			return
		}
		httpapi.JSON(w, f, nil)
	})
	mux.HandleFunc("GET /alarms", func(w http.ResponseWriter, r *http.Request) {
		a, err := h.Alarms(r.Context())
		httpapi.JSON(w, a, err)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		from, to := kpi.Today(time.Now(), h.o.Loc)
		f, err := h.KPI(r.Context(), from, to)
		if err != nil {
			httpapi.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		alarms, err := h.Alarms(r.Context())
		if err != nil {
			httpapi.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		type line struct {
			Site   string
			Q      *kpi.Queue
			Alarms []string
		}
		var lines []line
		for s, rep := range f.Sites {
			lines = append(lines, line{s, rep.Total.All, alarms[s]})
		}
		sort.Slice(lines, func(i, j int) bool { return lines[i].Site < lines[j].Site })
		lines = append(lines, line{"all sites", f.Total.Total.All, nil})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		board.Execute(w, struct {
			Lines []line
			Now   string
		}{lines, time.Now().In(h.o.Loc).Format(time.DateTime)})
	})
	return mux
}

var board = template.Must(template.New("board").Funcs(template.FuncMap{
	"pct": func(r kpi.Rate) string {
		if !r.Defined() {
			return "-"
		}
		return fmt.Sprintf("%.0f %%", 100*r.Value())
	},
	"secs": func(s kpi.Seconds) string { return fmt.Sprintf("%.0f s", time.Duration(s).Seconds()) },
}).Parse(`<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10"><title>jinyin fleet</title>
<style>body{font:16px sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ccc;text-align:right}td:first-child,th:first-child,td:last-child{text-align:left}.alarm{color:#b00}</style></head>
<body><h1>Fleet today</h1><p>{{.Now}}</p>
<table><tr><th>site</th><th>offered</th><th>answered</th><th>abandoned</th><th>waiting</th><th>service level</th><th>abandon rate</th><th>ASA</th><th>alarms</th></tr>
{{range .Lines}}<tr><td>{{.Site}}</td><td>{{.Q.Offered}}</td><td>{{.Q.Answered}}</td><td>{{.Q.Abandoned}}</td><td>{{.Q.Waiting}}</td><td>{{pct .Q.SLAgainst}}</td><td>{{pct .Q.AbandonRate}}</td><td>{{secs .Q.ASA}}</td><td class="alarm">{{range .Alarms}}{{.}}<br>{{end}}</td></tr>
{{end}}</table></body></html>
`))
