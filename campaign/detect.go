package campaign

import (
	"sync"
	"sync/atomic"
	"time"

	"jinyin/config"
	"jinyin/media"
	"jinyin/media/amd"
	"jinyin/media/sit"
)

// Outcomes that only listening to an answered call tells.
const (
	Machine     Outcome = "machine"      // an answering machine (AMD), hung up on
	MessageLeft Outcome = "message-left" // an answering machine that got the flow after its greeting
	SIT         Outcome = "sit"          // a network announcement without a code read as vacant or congested
)

// sitOutcome is what a SIT's Telcordia code means for the contact:
// intercept and vacant code are a number that does not work (never
// tried again); no circuit and reorder a network that could not carry
// the call (tried again later, as congestion).
func sitOutcome(c sit.Code) Outcome {
	switch c {
	case sit.Intercept, sit.VacantCode:
		return Vacant
	case sit.NoCircuit, sit.NoCircuitCarrier, sit.Reorder, sit.ReorderCarrier:
		return Congestion
	}
	return SIT
}

// greetingWait bounds how long a machine's greeting is waited out
// before the message plays anyway (machine = "message").
const greetingWait = 30 * time.Second

// detect listens to the first seconds of an answered call (the box
// silent, as a person expects to speak first): an answering machine or a
// SIT ends the attempt with its outcome, a person (or AMD not sure: the
// message is better played than lost) is Answered, and the flow runs. A
// digit keyed is a person. With machine = "message", a machine's
// greeting is waited out (its after-greeting silence) and the flow plays
// to it. A channel whose audio cannot be read is Answered.
//
// since is how long before detect returned the person's greeting ended
// (AMD's after-greeting silence, for its "human" verdict): the time an
// agent-assisted campaign already spent of the 2 s it has to find an
// agent.
func (r *Runner) detect(ch media.Channel, c config.Campaign) (o Outcome, heard string, since time.Duration) {
	l, ok := ch.(media.Listener)
	if c.Detect != "amd" || !ok {
		return Answered, "", 0
	}
	cfg := amdConfig(c.AMD)
	a := &analyser{in: l.Listen(), cfg: cfg, amd: amd.New(cfg), sit: sit.New(), message: c.Machine == "message"}
	id := ch.Play(a)
	limit := make(chan struct{}) // a channel that stopped pulling its audio
	t := r.o.Clock.AfterFunc(cfg.Total+greetingWait+5*time.Second, func() { close(limit) })
	defer t.Stop()
	for done := false; !done; {
		select {
		case e, ok := <-ch.Events():
			switch {
			case !ok || e.Kind == media.EventHangup:
				done = true
			case e.Kind == media.EventDigit:
				ch.Play(nil)
				return Answered, "a digit keyed during detection", 0
			case e.Kind == media.EventPlayDone && e.Play == id:
				done = true
			}
		case <-limit:
			done = true
		}
	}
	s, m, waited := a.result()
	switch {
	case s.Code != "":
		return sitOutcome(s.Code), "SIT " + string(s.Code), 0
	case m.Verdict == amd.Machine && a.message && waited:
		return MessageLeft, "AMD " + m.Cause, 0
	case m.Verdict == amd.Machine:
		return Machine, "AMD " + m.Cause, 0
	case m.Verdict == amd.Human:
		return Answered, "AMD " + m.Cause, cfg.AfterGreetingSilence
	}
	return Answered, "AMD " + m.Cause, 0
}

// analyser is the source played while detect listens: silence to the
// far end, and each 20 ms of its audio through AMD and the SIT detector,
// until a verdict (then, for a machine that gets a message, until its
// greeting ends).
type analyser struct {
	in      media.Source
	cfg     amd.Config
	message bool

	mu       sync.Mutex
	amd      *amd.Detector
	sit      *sit.Detector
	silence  time.Duration // after AMD's machine verdict: silence heard
	waited   bool          // the greeting ended
	after    time.Duration // time since the verdict
	finished bool
	frame    [media.FrameSamples * 2]int16
}

func (a *analyser) Fill(dst []int16) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.finished {
		return 0
	}
	n := min(len(dst), len(a.frame))
	got := a.frame[:n]
	a.in.Fill(got)
	clear(dst)
	s := a.sit.Process(got)
	m := a.amd.Process(got)
	switch {
	case s.Code != "":
		a.finished = true
	case m.Verdict == amd.Machine && a.message:
		a.awaitGreetingEnd(got)
	case m.Verdict != amd.Undecided:
		a.finished = true
	}
	return len(dst)
}

// awaitGreetingEnd follows a machine's greeting after the verdict: it
// has ended once AfterGreetingSilence passes without voice (the beep
// is voice, and the silence after it is what the recorder hears).
func (a *analyser) awaitGreetingEnd(pcm []int16) {
	d := time.Duration(len(pcm)) * time.Second / media.RateHz
	a.after += d
	if amd.Silent(pcm, a.cfg.SilenceThreshold) {
		a.silence += d
		if a.silence >= a.cfg.AfterGreetingSilence {
			a.waited, a.finished = true, true
		}
	} else {
		a.silence = 0
	}
	if a.after >= greetingWait {
		a.waited, a.finished = true, true
	}
}

func (a *analyser) result() (sit.Result, amd.Result, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.finished = true
	return a.sit.Result(), a.amd.Result(), a.waited
}

// amdConfig is a campaign's [campaign.amd] over app_amd's defaults.
func amdConfig(c config.AMD) amd.Config {
	a := amd.Defaults()
	for _, d := range []struct {
		s  string
		to *time.Duration
	}{{c.InitialSilence, &a.InitialSilence}, {c.Greeting, &a.Greeting}, {c.AfterGreetingSilence, &a.AfterGreetingSilence}, {c.Total, &a.Total},
		{c.MinWord, &a.MinWord}, {c.BetweenWords, &a.BetweenWords}, {c.MaxWordLength, &a.MaxWordLength}} {
		*d.to = config.DurationOr(d.s, *d.to)
	}
	a.MaxWords = or(c.MaxWords, a.MaxWords)
	a.SilenceThreshold = or(c.SilenceThreshold, a.SilenceThreshold)
	return a
}

// earlySIT listens to a dial's early media (a network's announcement
// before any answer, the usual place of a SIT) and gives the dial up once
// it hears one: the SIT's code is the attempt's outcome.
type earlySIT struct {
	det    *sit.Detector // used on the media tick only
	cancel func()        // the dial's: only while it rings (over false)
	found  atomic.Pointer[sit.Code]
	over   atomic.Bool // the dial has returned: a call answered is not given up
}

func (e *earlySIT) hear(pcm []int16) {
	if e.found.Load() != nil || e.over.Load() {
		return
	}
	if r := e.det.Process(pcm); r.Code != "" {
		e.found.Store(&r.Code)
		e.cancel()
	}
}

// code is the SIT heard, "" when none.
func (e *earlySIT) code() sit.Code {
	if c := e.found.Load(); c != nil {
		return *c
	}
	return ""
}
