package ivr

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"jinyin/config"
	"jinyin/internal/fsutil"
	"jinyin/media"
	"jinyin/media/prompt"
	"jinyin/media/wav"
	"jinyin/store"
)

// call is one caller's way through a flow: the state is the node it is
// at; each node's step plays, waits for keys and timers, and returns the
// next node and the exit taken (counted in Stats).
type call struct {
	e    *Engine
	ch   media.Channel
	flow config.Flow
	name string
	info CallInfo
	lang string
	tier string
	vars map[string]string
	// keyed are the variables the caller keyed in collect nodes: a
	// survey's answers, what Run returns.
	keyed map[string]string

	node    string       // the node the call is at
	pending []byte       // digits keyed ahead, for the next node that reads keys
	playing media.PlayID // the Play whose end the call waits for; 0 when none
	hungUp  bool
}

// Defaults where a node leaves a key out.
const (
	defaultTimeout      = 5 * time.Second
	defaultDigitTimeout = 3 * time.Second
	defaultRetries      = 2
	defaultLookup       = 3 * time.Second
	defaultMaxLength    = 2 * time.Minute
	defaultSilence      = 5 * time.Second
)

func (c *call) run() {
	node := c.flow.Start
	for steps := 0; node != ""; steps++ {
		if steps == maxSteps {
			c.e.Log.Warn("ivr: call passed too many nodes; hanging up", "call", c.ch.ID(), "flow", c.name)
			break
		}
		n := c.flow.Nodes[node]
		c.node = node
		c.count(node, "visit")
		next, exit, err := c.step(node, n)
		if err != nil {
			c.count(node, "hangup")
			return
		}
		c.count(node, exit)
		c.e.Log.Debug("ivr: node", "call", c.ch.ID(), "flow", c.name, "node", node, "exit", exit, "next", next)
		node = next
	}
	c.ch.Hangup()
}

func (c *call) count(node, exit string) { c.e.Stats.count(c.name, node, exit) }

func (c *call) step(id string, n config.Node) (next, exit string, err error) {
	switch n.Type {
	case "play":
		return c.playNode(n)
	case "menu":
		return c.menu(n)
	case "collect":
		return c.collect(n)
	case "language":
		c.lang = n.Language
		return n.Next, "next", nil
	case "time":
		return c.timeRoute(n)
	case "tier":
		return c.setTier(n)
	case "lookup":
		return c.lookupNode(id, n)
	case "voicemail", "record":
		return c.record(n)
	case "mailbox":
		return c.mailbox(n)
	case "subscribe":
		return c.subscribe(n)
	case "transfer":
		return c.transfer(n)
	case "hangup":
		if c.play(n.Prompts) {
			for {
				if _, ok, err := c.listen(0); err != nil || !ok {
					return "", "end", err
				}
			}
		}
		return "", "end", nil
	}
	return "", "unknown-type", nil
}

// start plays src, replacing whatever played.
func (c *call) start(src media.Source) { c.playing = c.ch.Play(src) }

// stopPlay silences the channel; nothing counts as playing.
func (c *call) stopPlay() {
	c.ch.Play(nil)
	c.playing = 0
}

// ended notes the end of a Play; it reports whether that was the one
// playing. The end of a prompt that another replaced (its done event can
// come after the new Play) is not the end of the new one.
func (c *call) ended(id media.PlayID) bool {
	if id == 0 || id != c.playing {
		return false
	}
	c.playing = 0
	return true
}

// play starts the prompt items; false when there is nothing to play.
func (c *call) play(items []string) bool {
	ids := c.resolve(items)
	if len(ids) == 0 {
		c.stopPlay()
		return false
	}
	p, err := c.e.Prompts.Player(c.lang, ids...)
	if err != nil {
		c.e.Log.Warn("ivr: prompt", "call", c.ch.ID(), "err", err)
		c.stopPlay()
		return false
	}
	c.start(p)
	return true
}

// say plays prompt items until they end or a key is pressed (the key is
// dropped); the error is errHungUp when the caller hung up.
func (c *call) say(items ...string) error {
	if !c.play(items) {
		return nil
	}
	_, _, err := c.listen(0)
	return err
}

// resolve turns prompt items into prompt ids: an id as it is, ${var} as
// the prompt id the var holds, KIND:${var} as the read-back of its value.
// An item that cannot be said is left out and logged: a caller hears the
// rest rather than silence.
func (c *call) resolve(items []string) []string {
	var ids []string
	for _, it := range items {
		kind, ref, typed := strings.Cut(it, ":")
		if !typed {
			ref = it
		}
		val := it
		if name, isVar := config.VarRef(ref); isVar {
			val = c.vars[name]
		}
		if !typed {
			if val != "" && c.e.Prompts.Has(c.lang, val) {
				ids = append(ids, val)
			} else {
				c.e.Log.Warn("ivr: no prompt to play", "call", c.ch.ID(), "item", it, "value", val)
			}
			continue
		}
		said, err := readBack(c.lang, kind, val)
		if err != nil {
			c.e.Log.Warn("ivr: cannot read back", "call", c.ch.ID(), "item", it, "value", val, "err", err)
			continue
		}
		ids = append(ids, said...)
	}
	return ids
}

func readBack(lang, kind, val string) ([]string, error) {
	switch kind {
	case "digits":
		return prompt.Digits(val)
	case "number":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return nil, err
		}
		return prompt.Number(lang, n)
	case "amount":
		fen, err := parseYuan(val)
		if err != nil {
			return nil, err
		}
		return prompt.Amount(lang, fen)
	case "date":
		t, err := time.Parse(time.DateOnly, val)
		if err != nil {
			return nil, err
		}
		return prompt.Date(lang, t)
	case "duration":
		d, err := time.ParseDuration(val)
		if err != nil {
			s, err2 := strconv.Atoi(val)
			if err2 != nil {
				return nil, err
			}
			d = time.Duration(s) * time.Second
		}
		return prompt.Duration(lang, d)
	}
	return nil, fmt.Errorf("no read-back %q", kind)
}

// parseYuan reads "129.5" or "129.50" yuan as fen.
func parseYuan(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	y, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || y < 0 || len(frac) > 2 {
		return 0, fmt.Errorf("amount %q: want yuan with at most two decimals", s)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt((frac + "0")[:2], 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q: want yuan with at most two decimals", s)
		}
	}
	return y*100 + f, nil
}

// listen waits for a key: first any keyed ahead, then while the current
// prompt plays, then for up to d after it ends (d = 0: not at all). ok is
// false when the time ran out; err is errHungUp when the caller hung up.
func (c *call) listen(d time.Duration) (digit byte, ok bool, err error) {
	if len(c.pending) > 0 {
		digit, c.pending = c.pending[0], c.pending[1:]
		return digit, true, nil
	}
	if c.hungUp {
		return 0, false, errHungUp
	}
	var timeout chan struct{}
	var timer interface{ Stop() bool }
	arm := func() {
		if d <= 0 {
			return
		}
		timeout = make(chan struct{})
		fire := timeout
		timer = c.e.Clock.AfterFunc(d, func() { close(fire) })
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	if c.playing == 0 {
		if d <= 0 {
			return 0, false, nil
		}
		arm()
	}
	for {
		select {
		case e, open := <-c.ch.Events():
			if !open || e.Kind == media.EventHangup {
				c.hungUp = true
				return 0, false, errHungUp
			}
			if e.Kind == media.EventDigit {
				return e.Digit, true, nil
			}
			if e.Kind != media.EventPlayDone || !c.ended(e.Play) {
				continue
			}
			if d <= 0 {
				return 0, false, nil
			}
			arm()
		case <-timeout:
			return 0, false, nil
		}
	}
}

func (c *call) operator(n config.Node, digit byte) bool {
	_, own := n.Keys["0"]
	return digit == '0' && c.flow.Operator != "" && !n.NoOperator && !own
}

func (c *call) playNode(n config.Node) (string, string, error) {
	if !c.play(n.Prompts) {
		return n.Next, "next", nil
	}
	d, ok, err := c.listen(0)
	switch {
	case err != nil:
		return "", "", err
	case !ok:
		return n.Next, "next", nil
	case c.operator(n, d):
		c.stopPlay()
		return c.flow.Operator, "operator", nil
	}
	// Barge-in: the key stops the prompt and is kept for the next node
	// that reads keys (a menu picks it as its choice).
	c.stopPlay()
	c.pending = append(c.pending, d)
	return n.Next, "barge-in", nil
}

func retries(n config.Node) int {
	if n.Retries == 0 {
		return defaultRetries
	}
	return n.Retries
}

func orPrompts(items []string, def string) []string {
	if len(items) == 0 {
		return []string{def}
	}
	return items
}

// again says why a try failed and replays the node's prompts, unless the
// tries are used up: then it reports the node's fail.
func (c *call) again(n config.Node, tries *int, why string, items *[]string) (fail bool) {
	c.count(c.node, why)
	*tries++
	if *tries > retries(n) {
		return true
	}
	reason := orPrompts(n.NoInput, "no-input")
	if why == "invalid" {
		reason = orPrompts(n.Invalid, "invalid")
	}
	*items = append(append([]string(nil), reason...), n.Prompts...)
	return false
}

func (c *call) menu(n config.Node) (string, string, error) {
	timeout := config.DurationOr(n.Timeout, defaultTimeout)
	items, tries := n.Prompts, 0
	for {
		if len(c.pending) == 0 {
			c.play(items)
		}
		d, ok, err := c.listen(timeout)
		if err != nil {
			return "", "", err
		}
		if ok {
			c.stopPlay()
		}
		switch to, known := n.Keys[string(d)]; {
		case !ok:
			if c.again(n, &tries, "timeout", &items) {
				return n.Fail, "fail", nil
			}
		case known:
			return to, "key:" + string(d), nil
		case d == '*':
			c.count(c.node, "repeat")
			items = n.Prompts
		case c.operator(n, d):
			return c.flow.Operator, "operator", nil
		default:
			if c.again(n, &tries, "invalid", &items) {
				return n.Fail, "fail", nil
			}
		}
	}
}

func (c *call) collect(n config.Node) (string, string, error) {
	first := config.DurationOr(n.Timeout, defaultTimeout)
	between := config.DurationOr(n.DigitTimeout, defaultDigitTimeout)
	term := byte('#')
	switch n.Terminator {
	case "*":
		term = '*'
	case "none":
		term = 0
	}
	items, tries := n.Prompts, 0
	for {
		if len(c.pending) == 0 {
			c.play(items)
		}
		var digits []byte
		invalid, ended := false, false
		for !ended {
			wait := first
			if len(digits) > 0 {
				wait = between
			}
			d, ok, err := c.listen(wait)
			switch {
			case err != nil:
				return "", "", err
			case !ok:
				ended = true
			case term != 0 && d == term:
				c.stopPlay()
				ended = true
			case d < '0' || d > '9':
				c.stopPlay()
				invalid, ended = true, true
			default:
				c.stopPlay()
				digits = append(digits, d)
				ended = len(digits) == n.Max
			}
		}
		switch {
		case !invalid && len(digits) >= n.Min:
			c.vars[n.Var] = string(digits)
			if c.keyed == nil {
				c.keyed = map[string]string{}
			}
			c.keyed[n.Var] = string(digits)
			return n.Next, "collected", nil
		case !invalid && len(digits) == 0:
			if c.again(n, &tries, "timeout", &items) {
				return n.Fail, "fail", nil
			}
		default:
			if c.again(n, &tries, "invalid", &items) {
				return n.Fail, "fail", nil
			}
		}
	}
}

func (c *call) timeRoute(n config.Node) (string, string, error) {
	now := c.e.Clock.Now().In(c.e.Location)
	if c.e.holidays[now.Format(time.DateOnly)] && n.Holiday != "" {
		return n.Holiday, "holiday", nil
	}
	minute := now.Hour()*60 + now.Minute()
	for i, r := range c.e.hours[c.name+"/"+c.node] {
		if r.days[now.Weekday()] && minute >= r.from && minute < r.to {
			return r.next, "rule:" + strconv.Itoa(i), nil
		}
	}
	return n.Next, "closed", nil
}

func (c *call) setTier(n config.Node) (string, string, error) {
	tier := ""
	switch n.From {
	case "table":
		t, err := c.e.DB.Tier(c.info.Caller)
		if err != nil {
			c.e.Log.Error("ivr: tier", "call", c.ch.ID(), "err", err)
		}
		tier = t
	case "var":
		tier = c.vars[n.Var]
	}
	if tier == "" {
		tier = "other"
	}
	c.tier = tier
	c.vars["tier"] = tier
	return n.Next, "tier:" + tier, nil
}

func (c *call) lookupNode(id string, n config.Node) (string, string, error) {
	req := LookupRequest{Flow: c.name, Node: id, Call: c.ch.ID(), Caller: c.info.Caller, Dialled: c.info.Dialled,
		Language: c.lang, Tier: c.tier, Time: c.e.Clock.Now(), Vars: map[string]string{}}
	for _, v := range n.Send {
		req.Vars[v] = c.vars[v]
	}
	c.play(n.Prompts) // "one moment", if the flow has it
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		ans LookupAnswer
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := c.e.lookup(ctx, n.URL, config.DurationOr(n.Timeout, defaultLookup), req, n.Results)
		done <- result{a, err}
	}()
	for {
		select {
		case e, open := <-c.ch.Events():
			if !open || e.Kind == media.EventHangup {
				c.hungUp = true
				return "", "", errHungUp
			}
			switch e.Kind {
			case media.EventDigit:
				c.pending = append(c.pending, e.Digit)
			case media.EventPlayDone:
				c.ended(e.Play)
			}
		case r := <-done:
			c.stopPlay()
			if r.err != nil {
				c.e.Log.Warn("ivr: lookup failed; caller goes to the fallback", "call", c.ch.ID(), "url", n.URL, "err", r.err)
				return n.Fail, "fail", nil
			}
			for k, v := range r.ans.Vars {
				c.vars[k] = v
			}
			if r.ans.Tier != "" {
				c.tier, c.vars["tier"] = r.ans.Tier, r.ans.Tier
			}
			return r.ans.Next, "result:" + r.ans.Next, nil
		}
	}
}

// record runs a voicemail or record node: the prompts, the beep, then the
// caller's audio until #, silence, the maximum length or hang-up.
func (c *call) record(n config.Node) (string, string, error) {
	lst, ok := c.ch.(media.Listener)
	if !ok {
		c.e.Log.Error("ivr: this channel cannot be recorded", "call", c.ch.ID())
		return n.Next, "fail", nil
	}
	c.pending = c.pending[:0]
	if c.e.Short != nil && c.e.Short() {
		if err := c.say("recording-unavailable"); err != nil {
			return "", "", err
		}
		return n.Next, "short", nil
	}
	if err := c.say(n.Prompts...); err != nil { // a key skips the prompt
		return "", "", err
	}
	c.pending = c.pending[:0]
	maxLen := config.DurationOr(n.MaxLength, defaultMaxLength)
	silence := config.DurationOr(n.Silence, defaultSilence)
	rec := newRecorder(lst.Listen(), int(maxLen.Seconds()*media.RateHz), int(silence.Seconds()*media.RateHz))
	began := c.e.Clock.Now()
	c.start(rec)
	var hangErr error
	for {
		d, ok, err := c.listen(0)
		if err != nil {
			hangErr = err
			break
		}
		if !ok || d == '#' {
			break
		}
	}
	pcm, heard := rec.stop()
	c.stopPlay()
	if !heard || len(pcm) < media.RateHz/2 {
		return n.Next, "empty", hangErr
	}
	var err error
	if n.Type == "record" {
		err = c.savePrompt(n.Prompt, pcm)
	} else {
		err = c.saveVoicemail(n.Mailbox, began, pcm)
	}
	if err != nil {
		c.e.Log.Error("ivr: saving a recording", "call", c.ch.ID(), "err", err)
		return n.Next, "fail", hangErr
	}
	return n.Next, "saved", hangErr
}

func (c *call) savePrompt(id string, pcm []int16) error {
	if c.e.SavePrompt == nil {
		return fmt.Errorf("prompts cannot be recorded on this box")
	}
	return c.e.SavePrompt(c.lang, id, pcm)
}

func (c *call) saveVoicemail(mailbox string, at time.Time, pcm []int16) error {
	caller := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, c.info.Caller)
	id := at.UTC().Format("20060102T150405.000") + "-" + caller
	rel := filepath.Join("voicemail", mailbox, id+".wav")
	if err := os.MkdirAll(c.e.voicemailDir(mailbox), 0o750); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := wav.Encode(&buf, wav.ALaw, pcm); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(c.e.Data, rel), buf.Bytes(), 0o640); err != nil {
		return err
	}
	return c.e.DB.AddVoicemail(store.Voicemail{Mailbox: mailbox, ID: id, Caller: c.info.Caller, Time: at,
		Duration: time.Duration(len(pcm)) * time.Second / media.RateHz, File: rel})
}

// mailbox plays a mailbox's new messages, oldest first, each with who left
// it and when; # skips to the next. Each is marked heard once played.
func (c *call) mailbox(n config.Node) (string, string, error) {
	all, err := c.e.DB.Voicemails(n.Mailbox)
	if err != nil {
		c.e.Log.Error("ivr: voicemail list", "err", err)
		return n.Next, "fail", nil
	}
	var fresh []store.Voicemail
	for _, v := range all {
		if !v.Heard {
			fresh = append(fresh, v)
		}
	}
	c.vars["count"] = strconv.Itoa(len(fresh))
	intro := []string{"no-new-messages"}
	if len(fresh) > 0 {
		intro = []string{"you-have", "number:${count}", "new-messages"}
	}
	for _, step := range [][]string{n.Prompts, intro} {
		if err := c.say(step...); err != nil {
			return "", "", err
		}
	}
	for _, v := range fresh {
		c.vars["from"], c.vars["when"] = v.Caller, v.Time.In(c.e.Location).Format(time.DateOnly)
		if err := c.say("message-from", "digits:${from}", "message-time", "date:${when}"); err != nil {
			return "", "", err
		}
		data, err := os.ReadFile(filepath.Join(c.e.Data, v.File))
		var a *wav.Audio
		if err == nil {
			a, err = wav.Decode(bytes.NewReader(data))
		}
		if err != nil && a == nil {
			c.e.Log.Error("ivr: voicemail audio", "file", v.File, "err", err)
			continue
		}
		c.start(prompt.PlayerOf(a.Samples))
		if _, _, err := c.listen(0); err != nil { // any key (#) skips
			return "", "", err
		}
		c.stopPlay()
		if err := c.e.DB.MarkHeard(v.Mailbox, v.ID); err != nil {
			c.e.Log.Error("ivr: voicemail heard", "err", err)
		}
	}
	if len(fresh) > 0 {
		if err := c.say("end-of-messages"); err != nil {
			return "", "", err
		}
	}
	return n.Next, "played:" + strconv.Itoa(len(fresh)), nil
}

func (c *call) subscribe(n config.Node) (string, string, error) {
	on := n.Action == "subscribe"
	if err := c.e.DB.Subscribe(n.List, c.info.Caller, on, c.e.Clock.Now()); err != nil {
		c.e.Log.Warn("ivr: subscription not changed", "call", c.ch.ID(), "err", err)
		return n.Next, "fail", c.say("service-unavailable")
	}
	if err := c.say(n.Prompts...); err != nil {
		return "", "", err
	}
	return n.Next, n.Action, nil
}

func (c *call) transfer(n config.Node) (string, string, error) {
	kind, what, _ := config.ParseTarget(n.Target)
	t := Target{Kind: kind, Caller: c.info.Caller, Tier: c.tier, Lang: c.lang, Outside: c.info.Outside}
	if kind == "trunk" {
		what, t.Number, _ = strings.Cut(what, "/")
		t.Number = c.expand(t.Number)
	}
	t.What = c.expand(what)
	if err := c.say(n.Prompts...); err != nil {
		return "", "", err
	}
	c.pending = c.pending[:0]
	if c.e.Transfer == nil {
		return n.Fail, "fail", nil
	}
	if err := c.e.Transfer(c.ch, t); err != nil {
		c.e.Log.Info("ivr: transfer failed", "call", c.ch.ID(), "target", n.Target, "err", err)
		if c.hungUp || isClosed(c.ch) {
			return "", "", errHungUp
		}
		return n.Fail, "fail", nil
	}
	return "", "transferred", nil
}

// expand replaces a whole-value ${var} with its value.
func (c *call) expand(s string) string {
	if name, ok := config.VarRef(s); ok {
		return c.vars[name]
	}
	return s
}

// isClosed reports whether the channel's events have ended (the call is
// gone), without taking an event that is still to come.
func isClosed(ch media.Channel) bool {
	select {
	case e, open := <-ch.Events():
		return !open || e.Kind == media.EventHangup
	default:
		return false
	}
}
