package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"jinyin/acd"
	"jinyin/internal/httpapi"
	"jinyin/kpi"
	"jinyin/media/wav"
	"jinyin/store"
)

// ErrNotFound, wrapped in what an API function returns, answers 404.
var ErrNotFound = errors.New("not found")

// API is what the JSON API reaches: the queues, the records and the
// prompts. Its handlers answer JSON, and errors as Protect's do: a status
// and {"error": why}.
type API struct {
	ACD  *acd.ACD
	DB   *store.DB
	Data string // the data directory, that recordings and voicemail are in
	// Prompt is a prompt's samples; PutPrompt replaces one from a WAV
	// (an error wrapping ErrNotFound for a prompt the box does not have,
	// any other for a WAV it cannot use).
	Prompt    func(lang, id string) ([]int16, error)
	PutPrompt func(lang, id string, wav []byte) error
	// FlushIVR writes the IVR's counters so GET /ivr/stats is current.
	FlushIVR func() error
	Location *time.Location
}

// APIRoutes adds the JSON API to mux: queues, agents, callbacks,
// recordings, queue events, prompts, voicemail, IVR stats, tiers,
// subscriptions and the exports.
func (s *Server) APIRoutes(mux *http.ServeMux, a API) {
	mux.HandleFunc("GET /queues", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.ACD.Status(), nil) })
	mux.HandleFunc("POST /agents/{ext}/{action}", func(w http.ResponseWriter, r *http.Request) {
		ext := r.PathValue("ext")
		var err error
		switch r.PathValue("action") {
		case "login":
			err = a.ACD.Login(ext)
		case "logout":
			err = a.ACD.Logout(ext)
		case "pause":
			err = a.ACD.Pause(ext, r.URL.Query().Get("reason"))
		case "unpause":
			err = a.ACD.Unpause(ext)
		default:
			httpError(w, http.StatusNotFound, "action is login, logout, pause or unpause")
			return
		}
		if errors.Is(err, acd.ErrNoAgent) {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		writeJSON(w, nil, err)
	})
	mux.HandleFunc("POST /callbacks", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Queue     string    `json:"queue"`
			Number    string    `json:"number"`
			Tier      string    `json:"tier"`
			NotBefore time.Time `json:"not_before"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
			httpError(w, http.StatusBadRequest, "want JSON {queue, number, tier, not_before}: "+err.Error())
			return
		}
		cb, err := a.ACD.Book(req.Queue, req.Number, req.Tier, req.NotBefore)
		switch {
		case errors.Is(err, acd.ErrCallbacksFull):
			httpError(w, http.StatusServiceUnavailable, err.Error())
			return
		case err != nil:
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, cb, nil)
	})
	mux.HandleFunc("DELETE /callbacks/{id}", func(w http.ResponseWriter, r *http.Request) {
		callbackDone(w, a.ACD.Lift(r.PathValue("id"), userOf(r)))
	})
	mux.HandleFunc("POST /callbacks/{id}/resume", func(w http.ResponseWriter, r *http.Request) {
		callbackDone(w, a.ACD.Resume(r.PathValue("id")))
	})
	mux.HandleFunc("GET /callbacks", func(w http.ResponseWriter, r *http.Request) {
		cbs, err := a.DB.Callbacks()
		writeJSON(w, cbs, err)
	})
	mux.HandleFunc("GET /recordings", func(w http.ResponseWriter, r *http.Request) {
		recs, err := a.DB.Recordings()
		if r.URL.Query().Get("sampled") != "" {
			recs = slices.DeleteFunc(recs, func(x store.Recording) bool { return !x.Sampled })
		}
		writeJSON(w, recs, err)
	})
	mux.HandleFunc("GET /recordings/{id}", func(w http.ResponseWriter, r *http.Request) {
		rec, err := a.DB.Recording(r.PathValue("id"))
		if err != nil {
			httpError(w, http.StatusNotFound, "no such recording")
			return
		}
		a.serveWAV(w, r, rec.File)
	})
	mux.HandleFunc("GET /queue/events", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		evs, err := a.DB.QueueEvents(since, 1000)
		writeJSON(w, evs, err)
	})
	mux.HandleFunc("PUT /prompts/{lang}/{id}", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err == nil {
			err = a.PutPrompt(r.PathValue("lang"), r.PathValue("id"), data)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			httpError(w, http.StatusNotFound, err.Error())
		case err != nil:
			httpError(w, http.StatusBadRequest, err.Error())
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("GET /prompts/{lang}/{id}", func(w http.ResponseWriter, r *http.Request) {
		pcm, err := a.Prompt(r.PathValue("lang"), r.PathValue("id"))
		if err != nil {
			httpError(w, http.StatusNotFound, err.Error())
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		wav.Encode(w, wav.ALaw, pcm)
	})
	mux.HandleFunc("GET /voicemail", func(w http.ResponseWriter, r *http.Request) {
		vms, err := a.DB.Voicemails(r.URL.Query().Get("mailbox"))
		writeJSON(w, vms, err)
	})
	mux.HandleFunc("GET /voicemail/{mailbox}/{id}", func(w http.ResponseWriter, r *http.Request) {
		vm, err := a.DB.Voicemail(r.PathValue("mailbox"), r.PathValue("id"))
		if err != nil {
			httpError(w, http.StatusNotFound, "no such message")
			return
		}
		a.serveWAV(w, r, vm.File)
	})
	mux.HandleFunc("GET /ivr/stats", func(w http.ResponseWriter, r *http.Request) {
		if err := a.FlushIVR(); err != nil {
			s.o.Log.Error("ivr counters", "err", err)
		}
		counts, err := a.DB.IVRCounts()
		writeJSON(w, kpi.Ranking(counts), err)
	})
	mux.HandleFunc("PUT /tiers/{number}", func(w http.ResponseWriter, r *http.Request) {
		tier, _ := io.ReadAll(io.LimitReader(r.Body, 64))
		writeJSON(w, nil, a.DB.SetTier(r.PathValue("number"), strings.TrimSpace(string(tier))))
	})
	mux.HandleFunc("GET /subscriptions/{list}", func(w http.ResponseWriter, r *http.Request) {
		subs, err := a.DB.Subscribers(r.PathValue("list"))
		writeJSON(w, subs, err)
	})
	mux.HandleFunc("GET /export/master.csv", func(w http.ResponseWriter, r *http.Request) {
		from, to, ok := exportRange(w, r, a.Location)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		out := kpi.NewMasterCSV(w, a.Location)
		err := a.DB.EachCDR(func(c store.CDR) (bool, error) {
			if kpi.Within(c.Start, from, to) {
				return true, out.Write(c)
			}
			return true, nil
		})
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			s.o.Log.Error("web: Master.csv export", "err", err)
		}
	})
	mux.HandleFunc("GET /export/queue_log", func(w http.ResponseWriter, r *http.Request) {
		from, to, ok := exportRange(w, r, a.Location)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		out := kpi.NewQueueLog(w)
		err := a.DB.EachQueueEvent(func(e store.QueueEvent) (bool, error) {
			if kpi.Within(e.Time, from, to) {
				return true, out.Write(e)
			}
			return true, nil
		})
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			s.o.Log.Error("web: queue_log export", "err", err)
		}
	})
}

// exportRange reads an export's ?from= and ?to= (either may be left out).
func exportRange(w http.ResponseWriter, r *http.Request, loc *time.Location) (from, to time.Time, ok bool) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			t, err := kpi.ParseTime(v, loc)
			if err != nil {
				httpError(w, http.StatusBadRequest, p.name+": "+err.Error())
				return from, to, false
			}
			*p.t = t
		}
	}
	return from, to, true
}

// serveWAV answers with a WAV file of the data directory.
func (a API) serveWAV(w http.ResponseWriter, r *http.Request, file string) {
	w.Header().Set("Content-Type", "audio/wav")
	http.ServeFile(w, r, filepath.Join(a.Data, file))
}

// writeJSON answers v as JSON, or err as a 500 (httpapi.JSON).
var writeJSON = httpapi.JSON

// callbackDone answers a change to one callback: 204, 404 when there is
// no such callback (or none in the state the change needs), else 500.
func callbackDone(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, acd.ErrNoCallback):
		httpError(w, http.StatusNotFound, err.Error())
	case err != nil:
		writeJSON(w, nil, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
