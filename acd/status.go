package acd

import (
	"sort"
	"time"
)

// QueueStatus is a queue as the API and the console show it.
type QueueStatus struct {
	Name        string        `json:"name"`
	Waiting     int           `json:"waiting"` // callers and callbacks
	Callbacks   int           `json:"callbacks"`
	LongestWait time.Duration `json:"longest_wait"`
	Available   int           `json:"available"`
	Busy        int           `json:"busy"`    // ringing, talking or in wrap-up
	WrapUp      int           `json:"wrap_up"` // of Busy, in wrap-up
	Paused      int           `json:"paused"`
	// PausedFor counts the paused agents by their reason ("" when none).
	PausedFor map[string]int `json:"paused_for,omitempty"`
	LoggedOut int            `json:"logged_out"`
	NoPhone   int            `json:"no_phone"` // logged in, but their phone is not registered
}

// AgentStatus is an agent as the API and the console show it.
type AgentStatus struct {
	Ext        string        `json:"ext"`
	LoggedIn   bool          `json:"logged_in"`
	Paused     bool          `json:"paused"`
	Reason     string        `json:"reason,omitempty"`
	State      string        `json:"state"`
	Registered bool          `json:"registered"`
	Calls      int           `json:"calls"`
	Talk       time.Duration `json:"talk"`
	// Caller is who the agent talks to now, and Data what the call
	// brought (a campaign contact's variables: the agent's screen).
	Caller string            `json:"caller,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// Status is every queue and agent now.
type Status struct {
	Queues []QueueStatus `json:"queues"`
	Agents []AgentStatus `json:"agents"`
}

// Status reports the queues and agents.
func (d *ACD) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clk.Now()
	var st Status
	for _, q := range d.queues {
		qs := QueueStatus{Name: q.cfg.Name, Waiting: q.waiting.len()}
		for _, e := range q.waiting.items {
			if e.cb != nil {
				qs.Callbacks++
			}
			qs.LongestWait = max(qs.LongestWait, now.Sub(e.joined))
		}
		for _, a := range q.members {
			switch {
			case !a.state.presence.isLoggedIn():
				qs.LoggedOut++
			case a.state.presence == paused:
				qs.Paused++
				if qs.PausedFor == nil {
					qs.PausedFor = map[string]int{}
				}
				qs.PausedFor[a.reason]++
			case !d.dial.Registered(a.ext):
				qs.NoPhone++
			case a.state.activity != idle:
				qs.Busy++
				if a.state.activity == wrapUp {
					qs.WrapUp++
				}
			default:
				qs.Available++
			}
		}
		st.Queues = append(st.Queues, qs)
	}
	for _, a := range d.sorted {
		as := AgentStatus{Ext: a.ext, LoggedIn: a.state.presence.isLoggedIn(), Paused: a.state.presence.isPaused(), Reason: a.reason, State: a.state.activity.String(),
			Registered: d.dial.Registered(a.ext), Calls: a.calls, Talk: a.talk}
		if a.on != nil {
			as.Caller, as.Data = a.on.caller, a.on.data
		}
		st.Agents = append(st.Agents, as)
	}
	sort.Slice(st.Queues, func(i, j int) bool { return st.Queues[i].Name < st.Queues[j].Name })
	return st
}
