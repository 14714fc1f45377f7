package campaign

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"jinyin/internal/httpapi"
)

// Routes serves the campaigns on the box's HTTP API (writes need the
// supervisor login, as every write there):
//
//	GET  /campaigns                      every campaign's Progress
//	GET  /campaigns/{name}               one campaign's Progress
//	POST /campaigns/{name}/contacts      a CSV contact list (ImportCSV): {"added": N}
//	POST /campaigns/{name}/start|pause|stop
//	GET  /campaigns/{name}/review        contacts whose last attempt's outcome was lost
//	POST /campaigns/{name}/review/{seq}?again=1   settle one: call again (again=1) or not
//	GET  /campaigns/{name}/report?from=T&to=T&every=1h   Report's intervals (RFC 3339
//	     times; the last 24 hours by the hour when left out)
func (r *Runner) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /campaigns", func(w http.ResponseWriter, req *http.Request) {
		var out []Progress
		for _, n := range r.Names() {
			p, err := r.Progress(n)
			if err != nil {
				httpapi.JSON(w, nil, err)
				return
			}
			out = append(out, p)
		}
		httpapi.JSON(w, out, nil)
	})
	mux.HandleFunc("GET /campaigns/{name}", func(w http.ResponseWriter, req *http.Request) {
		p, err := r.Progress(req.PathValue("name"))
		reply(w, p, err)
	})
	mux.HandleFunc("POST /campaigns/{name}/contacts", func(w http.ResponseWriter, req *http.Request) {
		n, err := r.Import(req.PathValue("name"), http.MaxBytesReader(w, req.Body, 64<<20))
		if err != nil && !errors.Is(err, ErrNoCampaign) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			httpapi.JSON(w, map[string]any{"added": n, "error": err.Error()}, nil)
			return
		}
		reply(w, map[string]int{"added": n}, err)
	})
	for action, state := range map[string]string{"start": Running, "pause": Paused, "stop": Stopped} {
		mux.HandleFunc("POST /campaigns/{name}/"+action, func(w http.ResponseWriter, req *http.Request) {
			name := req.PathValue("name")
			if err := r.Set(name, state); err != nil {
				reply(w, nil, err)
				return
			}
			p, err := r.Progress(name)
			reply(w, p, err)
		})
	}
	mux.HandleFunc("GET /campaigns/{name}/report", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		to, from, every := r.o.Clock.Now(), time.Time{}, time.Hour
		var err error
		if s := q.Get("to"); s != "" {
			to, err = time.Parse(time.RFC3339, s)
		}
		from = to.Add(-24 * time.Hour)
		if s := q.Get("from"); s != "" && err == nil {
			from, err = time.Parse(time.RFC3339, s)
		}
		if s := q.Get("every"); s != "" && err == nil {
			every, err = time.ParseDuration(s)
		}
		if err != nil {
			httpapi.Error(w, http.StatusBadRequest, "from and to are RFC 3339 times, every a duration (1h): "+err.Error())
			return
		}
		out, err := r.Report(req.PathValue("name"), from, to, every)
		reply(w, out, err)
	})
	mux.HandleFunc("GET /campaigns/{name}/review", func(w http.ResponseWriter, req *http.Request) {
		cs, err := r.Review(req.PathValue("name"))
		reply(w, cs, err)
	})
	mux.HandleFunc("POST /campaigns/{name}/review/{seq}", func(w http.ResponseWriter, req *http.Request) {
		seq, err := strconv.ParseUint(req.PathValue("seq"), 10, 64)
		if err != nil {
			httpapi.Error(w, http.StatusBadRequest, "seq: a contact's place in the list")
			return
		}
		if err := r.Release(req.PathValue("name"), seq, req.URL.Query().Get("again") == "1"); err != nil {
			reply(w, nil, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func reply(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, ErrNoCampaign):
		httpapi.Error(w, http.StatusNotFound, err.Error())
	case err != nil:
		httpapi.Error(w, http.StatusBadRequest, err.Error())
	default:
		httpapi.JSON(w, v, nil)
	}
}
