package acd

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"jinyin/media"
	"jinyin/media/wav"
	"jinyin/store"
)

// talk is a queue call between a caller and an agent, with what can join
// it: a recording and a supervisor. Each party's received audio goes
// through a Fanout so that the other party, the supervisor and the
// recording all hear it; what each party hears is a Mix rebuilt whenever
// the supervisor comes, changes mode or goes:
//
//	mode     caller hears          agent hears            supervisor hears
//	(none)   agent                 caller                 -
//	listen   agent                 caller                 caller + agent
//	whisper  agent                 caller + supervisor    caller + agent
//	barge    agent + supervisor    caller + supervisor    caller + agent
type talk struct {
	d             *ACD
	e             *entry
	a             *agent
	caller, agent media.Channel
	callerIn      *media.Fanout
	agentIn       *media.Fanout
	rec           *recording
	ended         chan struct{}

	mu      sync.Mutex
	sup     media.Channel
	supIn   *media.Fanout
	supMode string
}

// Monitoring modes, and the digits a supervisor keys to change mode.
const (
	Listen  = "listen"
	Whisper = "whisper"
	Barge   = "barge"
)

var modeKeys = map[byte]string{'4': Listen, '5': Whisper, '6': Barge}

func (d *ACD) newTalk(e *entry, a *agent, caller, agentCh media.Channel) (*talk, error) {
	lc, ok1 := caller.(media.Listener)
	la, ok2 := agentCh.(media.Listener)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("acd: a queue call needs channels whose audio can be heard")
	}
	t := &talk{d: d, e: e, a: a, caller: caller, agent: agentCh, callerIn: media.NewFanout(lc.Listen()), agentIn: media.NewFanout(la.Listen()), ended: make(chan struct{})}
	if e.q.cfg.Record && d.data != "" {
		r, err := d.startRecording(e, a)
		if err != nil {
			d.log.Error("acd: recording not started; the call goes on", "err", err)
		}
		t.rec = r
	}
	d.mu.Lock()
	d.talks[a] = t
	d.mu.Unlock()
	t.wire()
	return t, nil
}

// wire gives each party what it hears now.
func (t *talk) wire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	fromCaller, fromAgent := t.callerIn.Reader(), t.agentIn.Reader()
	if t.rec != nil {
		fromCaller = &media.Tee{Src: fromCaller, Tap: t.rec.tap(0)}
		fromAgent = &media.Tee{Src: fromAgent, Tap: t.rec.tap(1)}
	}
	callerHears, agentHears := []media.Source{fromAgent}, []media.Source{fromCaller}
	if t.sup != nil {
		if t.supMode == Barge {
			callerHears = append(callerHears, t.supIn.Reader())
		}
		if t.supMode == Barge || t.supMode == Whisper {
			agentHears = append(agentHears, t.supIn.Reader())
		}
		t.sup.Play(media.MixOf(t.callerIn.Reader(), t.agentIn.Reader()))
	}
	t.caller.Play(media.MixOf(callerHears...))
	t.agent.Play(media.MixOf(agentHears...))
}

// run carries the call until a party hangs up, relaying out-of-band
// digits; it reports whether the caller left (else the agent did, and the
// caller is still up).
func (t *talk) run() (callerLeft bool) {
	defer func() {
		close(t.ended)
		t.d.mu.Lock()
		delete(t.d.talks, t.a)
		t.d.mu.Unlock()
		if t.rec != nil {
			t.rec.finish(t.d)
		}
	}()
	return media.Relay(t.caller, t.agent)
}

// Monitor joins a supervisor's call to the call an agent is on, in mode
// (listen, whisper or barge; 4, 5 and 6 switch), until the supervisor hangs
// up or the call ends. Each join and mode is a queue event naming who.
func (d *ACD) Monitor(sup media.Channel, supervisor, agentExt, mode string) error {
	d.mu.Lock()
	a := d.agents[agentExt]
	var t *talk
	if a != nil {
		t = d.talks[a]
	}
	d.mu.Unlock()
	if t == nil {
		return fmt.Errorf("acd: agent %q is not on a queue call", agentExt)
	}
	ls, ok := sup.(media.Listener)
	if !ok {
		return fmt.Errorf("acd: the supervisor's audio cannot be heard")
	}
	t.mu.Lock()
	if t.sup != nil {
		t.mu.Unlock()
		return fmt.Errorf("acd: agent %q's call is already monitored", agentExt)
	}
	t.sup, t.supIn, t.supMode = sup, media.NewFanout(ls.Listen()), mode
	t.mu.Unlock()
	t.wire()
	d.event(store.QueueEvent{Kind: store.QueueMonitor, Queue: t.e.q.cfg.Name, Call: t.e.call, Agent: agentExt, Reason: mode + " by " + supervisor})
	defer func() {
		t.mu.Lock()
		t.sup, t.supIn = nil, nil
		t.mu.Unlock()
		select {
		case <-t.ended:
		default:
			t.wire()
		}
	}()
	for {
		select {
		case <-t.ended:
			sup.Hangup()
			return nil
		case ev, ok := <-sup.Events():
			if !ok || ev.Kind == media.EventHangup {
				return nil
			}
			if m, ok := modeKeys[ev.Digit]; ok && ev.Kind == media.EventDigit {
				t.mu.Lock()
				t.supMode = m
				t.mu.Unlock()
				t.wire()
				d.event(store.QueueEvent{Kind: store.QueueMonitor, Queue: t.e.q.cfg.Name, Call: t.e.call, Agent: agentExt, Reason: m + " by " + supervisor})
			}
		}
	}
}

// recording writes a queue call to a stereo WAV: caller left, agent
// right. The media ticks of the two legs hand it frames (tap), which it
// holds in bounded buffers; a goroutine of its own writes them to disk, so
// the media path never waits for the disk.
type recording struct {
	row      store.Recording
	path     string
	f        *os.File
	w        *wav.StereoWriter
	mu       sync.Mutex
	pending  [2][]int16 // capacity fixed: a full buffer drops frames, counted
	dropped  int
	finished bool // the file is closed: taps add nothing
	stop     chan struct{}
	done     chan struct{}
}

// recordBuffer is how much audio each side may queue for the writer.
const recordBuffer = 5 * media.RateHz

func (d *ACD) startRecording(e *entry, a *agent) (*recording, error) {
	if d.short != nil && d.short() {
		return nil, store.ErrShort
	}
	now := d.clk.Now()
	id := now.UTC().Format("20060102T150405.000") + "-" + a.ext
	rel := filepath.Join("recordings", now.Format("2006-01-02"), id+".wav")
	path := filepath.Join(d.data, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := wav.NewStereoWriter(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r := &recording{row: store.Recording{ID: id, Queue: e.q.cfg.Name, Agent: a.ext, Caller: e.caller, Call: e.call, Start: now, File: rel},
		path: path, f: f, w: w, stop: make(chan struct{}), done: make(chan struct{})}
	r.pending[0] = make([]int16, 0, recordBuffer)
	r.pending[1] = make([]int16, 0, recordBuffer)
	go r.writer(d)
	return r, nil
}

func (r *recording) tap(side int) func([]int16) {
	return func(s []int16) {
		r.mu.Lock()
		if r.finished { // a tap left on a channel after the call
			r.mu.Unlock()
			return
		}
		if room := cap(r.pending[side]) - len(r.pending[side]); room >= len(s) {
			r.pending[side] = append(r.pending[side], s...)
		} else {
			r.dropped += len(s)
		}
		r.mu.Unlock()
	}
}

// writer moves what both sides have queued to the file every 200 ms.
func (r *recording) writer(d *ACD) {
	defer close(r.done)
	var l, rt []int16
	// Real time: this only batches disk writes (what the file holds does
	// not depend on when they happen, and stop writes the rest), so a test
	// on a fake clock need not step it.
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for stopping := false; ; {
		select {
		case <-t.C:
		case <-r.stop:
			stopping = true
		}
		r.mu.Lock()
		n := min(len(r.pending[0]), len(r.pending[1]))
		if stopping {
			n = max(len(r.pending[0]), len(r.pending[1])) // the shorter side ends in silence
		}
		l = append(l[:0], r.pending[0][:min(n, len(r.pending[0]))]...)
		rt = append(rt[:0], r.pending[1][:min(n, len(r.pending[1]))]...)
		r.pending[0] = r.pending[0][:copy(r.pending[0], r.pending[0][len(l):])]
		r.pending[1] = r.pending[1][:copy(r.pending[1], r.pending[1][len(rt):])]
		r.mu.Unlock()
		for len(l) < n {
			l = append(l, 0)
		}
		for len(rt) < n {
			rt = append(rt, 0)
		}
		if err := r.w.Write(l, rt); err != nil {
			d.log.Error("acd: recording", "file", r.path, "err", err)
		}
		r.row.Duration += time.Duration(n) * time.Second / media.RateHz
		if stopping {
			return
		}
	}
}

// finish completes the file and stores its row, sampled for review at
// the configured share.
func (r *recording) finish(d *ACD) {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	r.pending = [2][]int16{} // 160 KB a call: not kept by a tap that outlives the call
	r.finished = true
	dropped := r.dropped
	r.mu.Unlock()
	err := r.w.Close()
	if err == nil {
		err = r.f.Sync()
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if fi, serr := os.Stat(r.path); serr == nil {
		r.row.Bytes = fi.Size()
	}
	if dropped > 0 {
		d.log.Warn("acd: recording lost audio: the disk fell behind", "file", r.path, "samples", dropped)
	}
	r.row.Sampled = d.sampled(r.row.Agent, r.row.Start)
	if err == nil && d.db != nil {
		err = d.db.AddRecording(r.row)
	}
	if err != nil {
		d.log.Error("acd: recording", "file", r.path, "err", err)
	}
}

// sampled decides whether a recording is marked for review: at random
// with the configured share, and also whenever an agent's sampled
// recordings of the day have fallen below that share, so that each agent
// gets their share each day, not only on average.
func (d *ACD) sampled(agent string, start time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sample <= 0 {
		return false
	}
	k := agent + start.Format(" 2006-01-02")
	c := d.samples[k]
	if c == nil {
		if len(d.samples) > 10000 { // a new day: forget the old ones
			clear(d.samples)
		}
		c = &[2]int{}
		d.samples[k] = c
	}
	c[0]++
	pick := d.rng.Float64() < d.sample || float64(c[1]) < d.sample*float64(c[0])-1
	if pick {
		c[1]++
	}
	return pick
}

// Sweep deletes recordings older than the retention days, then the oldest
// while all of them take more than the disk allowance.
func (d *ACD) Sweep() error {
	if d.db == nil {
		return nil
	}
	recs, err := d.db.Recordings()
	if err != nil {
		return err
	}
	var total int64
	for _, r := range recs {
		total += r.Bytes
	}
	cutoff := d.clk.Now().AddDate(0, 0, -d.keepDays)
	for _, r := range recs {
		old := d.keepDays > 0 && r.Start.Before(cutoff)
		over := d.keepBytes > 0 && total > d.keepBytes
		if !old && !over {
			continue
		}
		if err := os.Remove(filepath.Join(d.data, r.File)); err != nil && !os.IsNotExist(err) {
			return err
		}
		if err := d.db.DeleteRecording(r.ID); err != nil {
			return err
		}
		total -= r.Bytes
	}
	return nil
}
