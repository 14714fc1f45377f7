package box

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"jinyin/acd"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/sip"
	"jinyin/store"
)

// dialer is how the queue reaches phones: agents by their registration,
// customers through a trunk or, for one of the box's extensions, its phone.
type dialer struct{ b *Box }

func (d dialer) Ring(ctx context.Context, agent, from string) (media.Channel, error) {
	return d.b.dialExt(ctx, agent, from)
}

func (d dialer) Dial(ctx context.Context, trunk, number string) (media.Channel, error) {
	if d.b.sip.Registrar.Has(number) {
		return d.b.dialExt(ctx, number, d.b.cfg.Box.Name)
	}
	if trunk == "" {
		return nil, fmt.Errorf("no trunk to call %s back through (queue callback_trunk)", number)
	}
	return d.b.dialOut(ctx, trunk, number, "")
}

// channel keeps a failed call from becoming a non-nil Channel holding a
// nil *sip.Call.
func channel(c *sip.Call, err error) (media.Channel, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (d dialer) Registered(agent string) bool { return d.b.sip.Registrar.Has(agent) }

var _ acd.Dialer = dialer{}

// queueTransfer hands an IVR call to the queue: queue:NAME waits in that
// queue; agent:N waits for that agent, then for the direct queue.
func (b *Box) queueTransfer(ch media.Channel, t ivr.Target) error {
	c := acd.Caller{Call: ch.ID(), Number: t.Caller, Tier: t.Tier, Lang: t.Lang}
	queue := t.What
	if t.Kind == "agent" {
		c.Agent, queue = t.What, ""
	}
	return b.acd.Wait(ch, queue, c)
}

// Agents' feature codes, dialled from their own phones (authenticated):
// *11 log in, *12 log out, *13 pause (*13 and a reason code, e.g. *1302),
// *14 available again.
var agentCodes = []string{"*11", "*12", "*13", "*14"}

// Supervisors' feature codes: *15, *16 or *17 and an agent's number
// listen to, whisper to, or barge in on that agent's queue call; during
// it 4, 5 and 6 switch between the three.
var monitorCodes = map[string]string{"*15": acd.Listen, "*16": acd.Whisper, "*17": acd.Barge}

// agentRoute routes a feature code, or reports that to is not one.
func (b *Box) agentRoute(to, from string) (sip.Route, bool) {
	if len(to) > 3 {
		if mode, ok := monitorCodes[to[:3]]; ok && strings.Trim(to[3:], "0123456789") == "" {
			agent := to[3:]
			return sip.Route{Auth: true, App: func(ch media.Channel) {
				if !b.acd.IsSupervisor(from) {
					b.log.Warn("monitoring refused: not a supervisor", "from", from, "agent", agent)
					return
				}
				if err := b.acd.Monitor(ch, from, agent, mode); err != nil {
					b.log.Info("monitoring", "supervisor", from, "agent", agent, "err", err)
				}
			}}, true
		}
	}
	code := ""
	for _, c := range agentCodes {
		if to == c || (c == "*13" && strings.HasPrefix(to, c) && strings.Trim(to[3:], "0123456789") == "") {
			code = c
		}
	}
	if code == "" {
		return sip.Route{}, false
	}
	return sip.Route{Auth: true, App: func(ch media.Channel) {
		reply := "not-an-agent"
		var err error
		switch code {
		case "*11":
			err, reply = b.acd.Login(from), "logged-in"
		case "*12":
			err, reply = b.acd.Logout(from), "logged-out"
		case "*13":
			reason := strings.TrimPrefix(to, "*13")
			if reason == "" {
				reason = "break"
			}
			err, reply = b.acd.Pause(from, reason), "paused"
		case "*14":
			err, reply = b.acd.Unpause(from), "unpaused"
		}
		if err != nil {
			reply = "not-an-agent"
		}
		b.log.Info("agent feature code", "agent", from, "code", to, "err", err)
		if p, perr := b.prompts.Player(b.cfg.Box.Language, reply); perr == nil {
			ch.Play(p)
			for e := range ch.Events() {
				if e.Kind == media.EventPlayDone || e.Kind == media.EventHangup {
					break
				}
			}
		}
	}}, true
}

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
