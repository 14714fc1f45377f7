package box

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"jinyin/acd"
	"jinyin/store"
)

// The queue's part of the local API.
func (b *Box) acdAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /queues", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, b.acd.Status(), nil)
	})
	mux.HandleFunc("POST /agents/{ext}/{action}", func(w http.ResponseWriter, r *http.Request) {
		ext := r.PathValue("ext")
		var err error
		switch r.PathValue("action") {
		case "login":
			err = b.acd.Login(ext)
		case "logout":
			err = b.acd.Logout(ext)
		case "pause":
			err = b.acd.Pause(ext, r.URL.Query().Get("reason"))
		case "unpause":
			err = b.acd.Unpause(ext)
		default:
			http.Error(w, "action is login, logout, pause or unpause", http.StatusNotFound)
			return
		}
		if errors.Is(err, acd.ErrNoAgent) {
			http.Error(w, err.Error(), http.StatusNotFound)
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
			http.Error(w, "want JSON {queue, number, tier, not_before}: "+err.Error(), http.StatusBadRequest)
			return
		}
		cb, err := b.acd.Book(req.Queue, req.Number, req.Tier, req.NotBefore)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, cb, nil)
	})
	mux.HandleFunc("GET /callbacks", func(w http.ResponseWriter, r *http.Request) {
		cbs, err := b.db.Callbacks()
		writeJSON(w, cbs, err)
	})
	mux.HandleFunc("GET /recordings", func(w http.ResponseWriter, r *http.Request) {
		recs, err := b.db.Recordings()
		if r.URL.Query().Get("sampled") != "" {
			recs = slices.DeleteFunc(recs, func(x store.Recording) bool { return !x.Sampled })
		}
		writeJSON(w, recs, err)
	})
	mux.HandleFunc("GET /recordings/{id}", func(w http.ResponseWriter, r *http.Request) {
		rec, err := b.db.Recording(r.PathValue("id"))
		if err != nil {
			http.Error(w, "no such recording", http.StatusNotFound)
			return
		}
		b.serveWAV(w, r, rec.File)
	})
	mux.HandleFunc("GET /queue/events", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		evs, err := b.db.QueueEvents(since, 1000)
		writeJSON(w, evs, err)
	})
}

// queueRecorder batches queue events to the store every 50 ms.
func (b *Box) newQueueRecorder() *store.Recorder[store.QueueEvent] {
	return store.NewQueueRecorder(b.db, 50*time.Millisecond, func(err error) { b.log.Error("queue events", "err", err) })
}
