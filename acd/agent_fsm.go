package acd

import "jinyin/store"

// An agent's state is two things that change apart: whether they take
// calls (presence: logged in or out, paused or not) and what their phone
// is doing in the queue (activity). An agent may pause or log out while
// on a call: the call goes on to its end and wrap-up, and the agent is
// offered nothing after it. Every change of either goes through on, the
// one transition function, under the ACD's mutex.

// presence is whether an agent takes calls.
type presence uint8

const (
	loggedOut       presence = iota // not taking calls
	loggedOutPaused                 // logged out with a pause still set: shown and stored, cleared at login
	ready                           // logged in, offered calls when idle
	paused                          // logged in, offered nothing (Reason says why)
)

func (p presence) String() string {
	return [...]string{"logged-out", "logged-out-paused", "ready", "paused"}[p]
}

func (p presence) isLoggedIn() bool { return p == ready || p == paused }
func (p presence) isPaused() bool   { return p == paused || p == loggedOutPaused }

// activity is what an agent's phone is doing in the queue.
type activity uint8

const (
	idle    activity = iota
	ringing          // offered a call: ringing, or answered and dialling a callback's customer
	busy             // on a queue call
	wrapUp           // after a call, for the queue's wrap_up
)

func (a activity) String() string { return [...]string{"idle", "ringing", "busy", "wrap-up"}[a] }

// agentState is an agent's presence and activity.
type agentState struct {
	presence presence
	activity activity
}

func (s agentState) String() string { return s.presence.String() + "/" + s.activity.String() }

// available is whether the queue may offer the agent a call (the phone
// being registered aside).
func (s agentState) available() bool { return s == agentState{ready, idle} }

// agentEvent is what happens to an agent.
type agentEvent uint8

const (
	evLogin    agentEvent = iota + 1 // logs in (and is unpaused)
	evLogout                         // logs out; a pause stays set
	evPause                          // pauses, with a reason
	evUnpause                        // unpauses
	evOffer                          // the queue offers them a call: it rings
	evWithdraw                       // the offer ends before they answer: the caller left, another agent answered
	evRingOut                        // they let it ring to the end or refused it: paused, "no-answer"
	evAnswer                         // they answered the call, which is bridged
	evRelease                        // they answered a callback whose customer could not be reached
	evHangup                         // the call ended: wrap-up
	evWrapEnd                        // wrap-up is over
)

func (e agentEvent) String() string {
	return [...]string{"", "Login", "Logout", "Pause", "Unpause", "Offer", "Withdraw", "RingOut", "Answer", "Release", "Hangup", "WrapEnd"}[e]
}

// agentEvents is every agentEvent, for the table test.
var agentEvents = []agentEvent{evLogin, evLogout, evPause, evUnpause, evOffer, evWithdraw, evRingOut, evAnswer, evRelease, evHangup, evWrapEnd}

// presence changes apply in any activity; the same event twice changes
// nothing the second time but is still an event (the queue records each).
var (
	loginTo   = [...]presence{loggedOut: ready, loggedOutPaused: ready, ready: ready, paused: ready}
	logoutTo  = [...]presence{loggedOut: loggedOut, loggedOutPaused: loggedOutPaused, ready: loggedOut, paused: loggedOutPaused}
	pauseTo   = [...]presence{loggedOut: loggedOutPaused, loggedOutPaused: loggedOutPaused, ready: paused, paused: paused}
	unpauseTo = [...]presence{loggedOut: loggedOut, loggedOutPaused: loggedOut, ready: ready, paused: ready}
)

// activityTo is, for the events that move the phone, the activity each
// leaves from and the one it goes to.
var activityTo = map[agentEvent]struct{ from, to activity }{
	evOffer:    {idle, ringing},
	evWithdraw: {ringing, idle},
	evRingOut:  {ringing, idle},
	evAnswer:   {ringing, busy},
	evRelease:  {ringing, idle},
	evHangup:   {busy, wrapUp},
	evWrapEnd:  {wrapUp, idle},
}

// on is the agent state machine: the state after e, or false when e
// cannot happen in s (and s stays).
func (s agentState) on(e agentEvent) (agentState, bool) {
	switch e {
	case evLogin:
		s.presence = loginTo[s.presence]
	case evLogout:
		s.presence = logoutTo[s.presence]
	case evPause:
		s.presence = pauseTo[s.presence]
	case evUnpause:
		s.presence = unpauseTo[s.presence]
	default:
		t, ok := activityTo[e]
		if !ok || s.activity != t.from || e == evOffer && s.presence != ready {
			return s, false
		}
		s.activity = t.to
		if e == evRingOut {
			s.presence = pauseTo[s.presence]
		}
	}
	return s, true
}

// do applies e to an agent, under d.mu, keeping the reason of a pause
// and when an agent became idle (for longest-idle); it reports whether e
// could happen.
func (d *ACD) do(a *agent, e agentEvent, reason string) bool {
	next, ok := a.state.on(e)
	if !ok {
		return false
	}
	switch {
	case e == evLogin || e == evUnpause:
		a.reason = ""
	case e == evPause:
		a.reason = reason
	case e == evRingOut:
		a.reason = "no-answer"
	}
	if e == evLogin || e == evUnpause || e == evRelease || e == evWrapEnd {
		a.idleSince = d.clk.Now()
	}
	a.state = next
	return true
}

// stored is what survives a restart of an agent's state, taken under
// d.mu.
func (a *agent) stored() store.AgentState {
	return store.AgentState{LoggedIn: a.state.presence.isLoggedIn(), Paused: a.state.presence.isPaused(), Reason: a.reason}
}

// restored is the presence a stored state gives back; the phone starts
// idle.
func restored(s store.AgentState) presence {
	switch {
	case s.LoggedIn && s.Paused:
		return paused
	case s.LoggedIn:
		return ready
	case s.Paused:
		return loggedOutPaused
	}
	return loggedOut
}
