package acd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"jinyin/media"
	"jinyin/store"
)

// callback serves a callback that reached the head of its queue with an
// agent free: the agent's phone rings first (showing the customer's
// number); once the agent answers, the attempt is stored and the customer
// is dialled, so a restart never repeats a dial. No answer or busy puts the
// callback back in its place after the retry delay, up to the queue's
// retries; then it is given up. Promise and answer times go to the events,
// for the on-time rate.
func (d *ACD) callback(e *entry, o offer) {
	defer d.workers.Done()
	q := e.q
	res := <-d.ring(e, o, e.caller).done
	if res.ch == nil {
		d.release(e, res.rangOut, true)
		d.free(o.agents)
		return
	}
	d.free(without(o.agents, res.agent))
	agentCh, a := res.ch, res.agent
	if p, err := d.prompts.Player(d.lang, "callback-calling"); err == nil {
		agentCh.Play(p)
	}
	e.cb.Attempts++
	e.cb.Dialling = true
	if d.db != nil {
		if err := d.db.SaveCallback(*e.cb); err != nil {
			d.log.Error("acd: callback attempt not stored; not dialling", "number", e.cb.Number, "err", err)
			agentCh.Hangup()
			d.release(e, nil, true)
			d.agentIdle(a)
			return
		}
	}
	d.event(store.QueueEvent{Kind: store.QueueCallbackDialled, Queue: q.cfg.Name, Call: e.call, Caller: e.cb.Number, Agent: a.ext, Value: e.cb.Attempts})
	ctx, cancel := context.WithCancel(d.ctx)
	t := d.clk.AfterFunc(2*q.ring, cancel) // the customer rings twice as long as an agent
	defer t.Stop()
	dialled := make(chan struct{})
	watched := make(chan struct{})
	go func() { // the agent hanging up stops the dial
		defer close(watched)
		for {
			select {
			case ev, ok := <-agentCh.Events():
				if !ok || ev.Kind == media.EventHangup {
					cancel()
					return
				}
			case <-dialled:
				return
			}
		}
	}()
	cust, err := d.dial.Dial(ctx, q.cfg.CallbackTrunk, e.cb.Number)
	close(dialled)
	<-watched // from here the bridge reads the agent's events
	if err != nil {
		cancel()
		agentCh.Hangup()
		e.cb.Dialling = false
		if d.db != nil && e.cb.Attempts <= q.cfg.CallbackRetries {
			if err := d.db.SaveCallback(*e.cb); err != nil { // kept Dialling: review at the next start, not redialled
				d.log.Error("acd: callback attempt's outcome not stored", "number", e.cb.Number, "err", err)
			}
		}
		d.agentIdle(a)
		d.event(store.QueueEvent{Kind: store.QueueCallbackFailed, Queue: q.cfg.Name, Call: e.call, Caller: e.cb.Number, Agent: a.ext, Reason: err.Error(), Value: e.cb.Attempts})
		if e.cb.Attempts > q.cfg.CallbackRetries {
			d.giveUp(e, "no answer after retries")
			return
		}
		d.mu.Lock()
		e.offered = false
		d.schedule(e, d.clk.Now().Add(q.retry))
		d.mu.Unlock()
		return
	}
	now := d.clk.Now()
	onTime := 0
	if !now.After(e.cb.Promised) {
		onTime = 1
	}
	d.event(store.QueueEvent{Time: now, Kind: store.QueueCallbackAnswered, Queue: q.cfg.Name, Call: e.call, Caller: e.cb.Number, Agent: a.ext,
		Wait: now.Sub(e.cb.Requested), Value: onTime})
	d.mu.Lock()
	delete(d.callbacks, e.cb.ID)
	d.mu.Unlock()
	if d.db != nil {
		if err := d.db.DeleteCallback(e.cb.ID); err != nil {
			d.log.Error("acd: answered callback not removed", "err", err)
		}
	}
	d.connected(e, a, o.at)
	start := d.clk.Now()
	custLeft := true
	if tk, err := d.newTalk(e, a, cust, agentCh); err == nil {
		custLeft = tk.run()
	} else {
		agentCh.Hangup()
	}
	cancel()
	by := "agent"
	if custLeft {
		by = "caller"
	} else {
		cust.Hangup()
	}
	d.completed(e, a, d.clk.Now().Sub(start), by)
	d.match()
}

func (d *ACD) agentIdle(a *agent) {
	d.mu.Lock()
	d.do(a, evRelease, "")
	d.mu.Unlock()
	d.match()
}

func (d *ACD) giveUp(e *entry, why string) {
	d.mu.Lock()
	e.gone = true
	delete(d.callbacks, e.cb.ID)
	d.mu.Unlock()
	if d.db != nil {
		d.db.DeleteCallback(e.cb.ID)
	}
	d.event(store.QueueEvent{Kind: store.QueueCallbackFailed, Queue: e.q.cfg.Name, Call: e.call, Caller: e.cb.Number, Reason: why, Value: e.cb.Attempts})
}

// ErrNoCallback is Lift's answer for a callback that is not waiting (it
// was answered, given up, lifted, or is being dialled now).
var ErrNoCallback = errors.New("acd: no such callback waiting")

// Lift takes back a callback that is waiting (a supervisor's action): it
// leaves its queue and the store, and is recorded as given up, "lifted by"
// who.
func (d *ACD) Lift(id, by string) error {
	d.mu.Lock()
	e := d.callbacks[id]
	if e == nil || e.gone || e.offered {
		d.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNoCallback, id)
	}
	e.gone = true
	if e.idx >= 0 {
		e.q.waiting.remove(e)
	}
	delete(d.callbacks, id)
	d.mu.Unlock()
	if d.db != nil {
		if err := d.db.DeleteCallback(id); err != nil {
			return err
		}
	}
	d.event(store.QueueEvent{Kind: store.QueueCallbackFailed, Queue: e.q.cfg.Name, Call: e.call, Caller: e.cb.Number, Reason: "lifted by " + by, Value: e.cb.Attempts})
	return nil
}

// Resume sends a callback held for review (its dial cut short by a stop)
// back to its place in the queue, to be dialled again.
func (d *ACD) Resume(id string) error {
	d.mu.Lock()
	e := d.callbacks[id]
	if e == nil || e.gone || !e.cb.Review {
		d.mu.Unlock()
		return fmt.Errorf("%w in review: %q", ErrNoCallback, id)
	}
	e.cb.Review = false
	cb := *e.cb
	d.mu.Unlock()
	if d.db != nil {
		if err := d.db.SaveCallback(cb); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.schedule(e, d.clk.Now())
	d.mu.Unlock()
	d.match()
	return nil
}

// Book asks for a callback outside a waiting call (the API, a web form, an
// agent): it joins the queue now, or at notBefore, the window the customer
// chose; it is stored before Book returns.
func (d *ACD) Book(queue, number, tier string, notBefore time.Time) (store.Callback, error) {
	d.mu.Lock()
	q := d.queues[queue]
	d.mu.Unlock()
	if q == nil {
		return store.Callback{}, fmt.Errorf("%w %q", ErrNoQueue, queue)
	}
	if number == "" || strings.Trim(number, "+0123456789") != "" {
		return store.Callback{}, fmt.Errorf("acd: %q is not a number to call back", number)
	}
	if d.callbacksFull() {
		return store.Callback{}, ErrCallbacksFull
	}
	now := d.clk.Now()
	joined := now
	if notBefore.After(now) {
		joined = notBefore
	}
	cb := store.Callback{ID: strconv.FormatInt(now.UnixNano(), 36) + "-" + number, Queue: queue, Number: number, Tier: tier,
		Joined: joined, Requested: now, Promised: joined.Add(q.promise), NotBefore: notBefore}
	if d.db != nil {
		if err := d.db.SaveCallback(cb); err != nil {
			return cb, err
		}
	}
	d.mu.Lock()
	e := d.newEntry(q, "callback-"+cb.ID, number, tier, joined)
	e.cb = &cb
	d.callbacks[cb.ID] = e
	d.schedule(e, notBefore)
	d.mu.Unlock()
	d.event(store.QueueEvent{Kind: store.QueueCallbackRequested, Queue: queue, Caller: number, Tier: tier})
	d.match()
	return cb, nil
}
