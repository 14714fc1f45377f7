package ivr

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"path/filepath"
	"time"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/store"
)

// Options is what an Engine is made of (New).
type Options struct {
	Flows map[string]config.Flow
	// IVR holds the holidays; the time zone is Location.
	IVR     config.IVR
	Lang    string // the language calls start in
	Prompts *prompt.Set
	DB      *store.DB
	// Data is the data directory: voicemail goes under Data/voicemail.
	Data string
	// Transfer hands the call to a queue, agent, extension or trunk
	// number and returns when the call is over; an error means the target
	// could not take it and the flow goes on at the node's fail.
	Transfer func(ch media.Channel, t Target) error
	// SavePrompt keeps a prompt recorded by phone (the record node) and
	// puts it in Prompts; nil refuses such recordings.
	SavePrompt func(lang, id string, pcm []int16) error
	// Short reports that the data directory is short of space
	// (store.Space): a voicemail or record node then says
	// recording-unavailable and goes on at its next, exit "short". Nil
	// never is.
	Short func() bool
	// HTTP posts lookups; its transport serves builtin: URLs (Builtin).
	// Nil is a plain client.
	HTTP *http.Client
	// Location is the box's time zone, which the time nodes read; nil is
	// time.Local.
	Location *time.Location
	Clock    clock.Clock // nil is real time
	Log      *slog.Logger
	Stats    *Stats // nil makes new counters
}

// Engine runs the configured flows on calls. One Engine serves every IVR
// call of the box; each call runs in its caller's goroutine (Run).
type Engine struct {
	Options
	holidays map[string]bool
	hours    map[string][]hours // "flow/node" -> the time node's rules, parsed
}

// hours is a time node's rule, parsed once.
type hours struct {
	days     [7]bool
	from, to int // minutes of the day, to exclusive
	next     string
}

// Target is where a transfer node sends a call.
type Target struct {
	Kind   string // queue, agent, ext, trunk
	What   string // queue name, number, or trunk name
	Number string // for trunk: the number dialled
	Caller string
	Tier   string
	Lang   string
	// Outside is the call's CallInfo.Outside: a transfer out through a
	// trunk relays an outside caller back out (the dial plan decides).
	Outside bool
}

// CallInfo is what the IVR knows of a call besides its audio.
type CallInfo struct {
	Caller  string // the calling number; "" when withheld
	Dialled string
	// Outside is a caller from outside the box: through a trunk or an
	// exchange line, or a SIP caller that did not authenticate.
	Outside bool
	// Vars start the call's variables (${name} in prompts): a campaign
	// contact's columns, read back to the person called.
	Vars map[string]string
}

// maxSteps bounds the nodes one call may pass through: flows are checked
// for loops without input, so this only stops a caller who keys forever.
const maxSteps = 500

// New parses the flows' calendars and returns the engine.
func New(o Options) (*Engine, error) {
	e := &Engine{Options: o, hours: map[string][]hours{}, holidays: map[string]bool{}}
	if e.Location == nil {
		e.Location = time.Local
	}
	for name, f := range e.Flows {
		for id, n := range f.Nodes {
			for _, r := range n.Rules {
				days, err := config.ParseDays(r.Days)
				if err != nil {
					return nil, fmt.Errorf("ivr: flow %s node %s: %w", name, id, err)
				}
				from, to, err := config.ParseHours(r.Hours)
				if err != nil {
					return nil, fmt.Errorf("ivr: flow %s node %s: %w", name, id, err)
				}
				e.hours[name+"/"+id] = append(e.hours[name+"/"+id], hours{days, from, to, r.Next})
			}
		}
	}
	for _, d := range e.IVR.Holidays {
		e.holidays[d] = true
	}
	if e.Stats == nil {
		e.Stats = NewStats()
	}
	if e.Clock == nil {
		e.Clock = clock.Real{}
	}
	if e.HTTP == nil {
		e.HTTP = &http.Client{}
	}
	return e, nil
}

// Run answers a call with a flow and returns when the flow hangs up, the
// caller does, or a transfer has ended. It returns what the caller keyed
// in the flow's collect nodes, by variable (nil: nothing): a campaign's
// survey answers.
func (e *Engine) Run(ch media.Channel, flow string, info CallInfo) map[string]string {
	f, ok := e.Flows[flow]
	if !ok {
		e.Log.Error("ivr: no such flow", "flow", flow, "call", ch.ID())
		ch.Hangup()
		return nil
	}
	c := &call{e: e, ch: ch, flow: f, name: flow, info: info, lang: e.Lang, vars: map[string]string{}}
	maps.Copy(c.vars, info.Vars)
	c.vars["caller"], c.vars["dialled"] = info.Caller, info.Dialled
	c.run()
	return c.keyed
}

func (e *Engine) voicemailDir(mailbox string) string {
	return filepath.Join(e.Data, "voicemail", mailbox)
}

var errHungUp = errors.New("ivr: the caller hung up")
