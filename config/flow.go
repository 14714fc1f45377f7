package config

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time routing by IANA zone on a box without /usr/share/zoneinfo
)

// IVR is what every flow shares: the calendar of time routing.
type IVR struct {
	// Timezone is where older configs set the box's time zone; [box]
	// timezone is its place now (Config.Location).
	Timezone string `toml:"timezone"`
	// Holidays are the dates ("2026-10-01") on which time nodes take
	// their holiday branch.
	Holidays []string `toml:"holidays"`
}

// Flow is one IVR flow: a graph of nodes entered at Start.
type Flow struct {
	Start string `toml:"start"`
	// Operator is the node that 0 leads to from every menu and play node
	// of the flow (a transfer to a person), unless the menu uses 0 itself
	// or the node sets no_operator. Empty: 0 has no special meaning.
	Operator string          `toml:"operator"`
	Nodes    map[string]Node `toml:"node"`
}

// Node is one step of a flow. Type says which of the other keys apply;
// nodeKeys lists them per type, and validation rejects the others.
type Node struct {
	Type       string   `toml:"type"`
	Prompts    []string `toml:"prompts"` // prompt ids, "${var}", or KIND:${var} read-back
	Next       string   `toml:"next"`
	Fail       string   `toml:"fail"` // after the retries, a failed lookup or transfer
	NoOperator bool     `toml:"no_operator"`

	Keys    map[string]string `toml:"keys"`     // menu: digit -> node
	Timeout string            `toml:"timeout"`  // menu: wait for a key; collect: for the first digit; lookup: for the answer
	Retries int               `toml:"retries"`  // menu, collect: tries after a timeout or invalid input
	NoInput []string          `toml:"no_input"` // prompts after a timeout
	Invalid []string          `toml:"invalid"`  // prompts after invalid input

	Var          string `toml:"var"`           // collect: where the digits go; tier: var holding the tier
	Min          int    `toml:"min"`           // collect: fewest digits
	Max          int    `toml:"max"`           // collect: most digits (ends collection)
	DigitTimeout string `toml:"digit_timeout"` // collect: between digits
	Terminator   string `toml:"terminator"`    // collect: "#" (default), "*" or "none"

	Language string     `toml:"language"` // language: "zh" or "en"
	Rules    []TimeRule `toml:"rules"`    // time: first match wins
	Holiday  string     `toml:"holiday"`  // time: node on a holiday
	From     string     `toml:"from"`     // tier: "table" (the store's table by caller number) or "var"

	URL     string   `toml:"url"`     // lookup: http(s):// or builtin:NAME
	Send    []string `toml:"send"`    // lookup: vars posted
	Results []string `toml:"results"` // lookup: nodes the answer may choose

	Mailbox   string `toml:"mailbox"`    // voicemail, mailbox
	MaxLength string `toml:"max_length"` // voicemail, record: longest recording
	Silence   string `toml:"silence"`    // voicemail, record: silence that ends it
	Prompt    string `toml:"prompt"`     // record: the prompt id replaced

	List   string `toml:"list"`   // subscribe: notice list
	Action string `toml:"action"` // subscribe: subscribe or unsubscribe

	Target string `toml:"target"` // transfer: queue:NAME, agent:N, ext:N, trunk:NAME/N (N may be ${var})
}

// TimeRule matches days of the week and a time of day.
type TimeRule struct {
	Days  string `toml:"days"`  // "mon-fri", "sat,sun", "mon-sun"
	Hours string `toml:"hours"` // "08:00-20:00"; end 24:00 allowed
	Next  string `toml:"next"`
}

// nodeKeys lists, per node type, the keys that apply besides type,
// prompts and no_operator; inputs marks the types that wait for the
// caller (a loop must pass one of them).
var nodeKeys = map[string][]string{
	"play":      {"next"},
	"menu":      {"keys", "timeout", "retries", "no_input", "invalid", "fail"},
	"collect":   {"var", "min", "max", "timeout", "digit_timeout", "terminator", "retries", "no_input", "invalid", "next", "fail"},
	"language":  {"language", "next"},
	"time":      {"rules", "holiday", "next"},
	"tier":      {"from", "var", "next"},
	"lookup":    {"url", "send", "timeout", "results", "fail"},
	"voicemail": {"mailbox", "max_length", "silence", "next"},
	"mailbox":   {"mailbox", "next"},
	"record":    {"prompt", "max_length", "silence", "next"},
	"subscribe": {"list", "action", "next"},
	"transfer":  {"target", "fail"},
	"hangup":    {},
}

var inputs = map[string]bool{"menu": true, "collect": true, "voicemail": true, "record": true, "mailbox": true}

// NodeTypes lists the node types, sorted.
func NodeTypes() []string {
	var ts []string
	for t := range nodeKeys {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// ReadBackKinds are the KIND: prefixes of a prompt item.
var ReadBackKinds = []string{"digits", "number", "amount", "date", "duration"}

var (
	varRef  = regexp.MustCompile(`^\$\{([a-z][a-z0-9_]*)\}$`)
	varName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func varNameOK(s string) bool { return varName.MatchString(s) }

// VarRef returns the variable a "${name}" item names.
func VarRef(s string) (string, bool) {
	m := varRef.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ParseDays reads "mon-fri", "sat,sun" into a set of weekdays.
func ParseDays(s string) ([7]bool, error) {
	var set [7]bool
	names := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	day := func(n string) (int, error) {
		if i := slices.Index(names, strings.TrimSpace(n)); i >= 0 {
			return i, nil
		}
		return 0, fmt.Errorf("%q is not a day; use mon, tue, wed, thu, fri, sat, sun", n)
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, err := day(a)
		if err != nil {
			return set, err
		}
		to := from
		if isRange {
			if to, err = day(b); err != nil {
				return set, err
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			set[d] = true
			if d == to {
				break
			}
		}
	}
	return set, nil
}

// ParseHours reads "08:00-20:00" into minutes of the day, end exclusive.
func ParseHours(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("hours %q: want HH:MM-HH:MM, e.g. \"08:00-20:00\"", s)
	}
	clock := func(t string) (int, error) {
		h, m, ok := strings.Cut(strings.TrimSpace(t), ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
			return 0, fmt.Errorf("hours %q: %q is not a time of day HH:MM", s, t)
		}
		return hh*60 + mm, nil
	}
	if from, err = clock(a); err != nil {
		return
	}
	if to, err = clock(b); err != nil {
		return
	}
	if from >= to {
		err = fmt.Errorf("hours %q: the end must come after the start (split a night across midnight into two rules)", s)
	}
	return
}

// ParseTarget splits a transfer target "KIND:WHAT".
func ParseTarget(s string) (kind, what string, err error) {
	kind, what, ok := strings.Cut(s, ":")
	if !ok || what == "" || !oneOf(kind, "queue", "agent", "ext", "trunk") {
		return "", "", fmt.Errorf("target %q: want queue:NAME, agent:NUMBER, ext:NUMBER or trunk:NAME/NUMBER (NUMBER may be ${var})", s)
	}
	return kind, what, nil
}

// DurationOr reads an optional duration key of a validated config: def
// when it is left out.
func DurationOr(s string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && s != "" {
		return d
	}
	return def
}

// duration validates an optional duration key.
func (v *validator) duration(path, s string, lo, hi time.Duration) {
	if s == "" {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		v.report(path, "%s %q: want a duration from %v to %v, e.g. \"5s\"", path[strings.LastIndexByte(path, '.')+1:], s, lo, hi)
	}
}

// flows checks every flow: node types and the keys that apply to them,
// references to nodes, queues and trunks, digits, durations, prompts in
// every language the flow can speak, nodes that cannot be reached, and
// loops that would spin without waiting for the caller.
func (v *validator) flows(c *Config, env Env) {
	for i, d := range c.IVR.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			v.report(fmt.Sprintf("ivr.holidays.%d", i), "holiday %q is not a date YYYY-MM-DD", d)
		}
	}
	queues := map[string]bool{}
	for _, q := range c.Queues {
		queues[q.Name] = true
	}
	trunks := c.trunkGroups()
	names := make([]string, 0, len(c.Flows))
	for n := range c.Flows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		v.flow("flow."+name, c.Flows[name], c, env, queues, trunks)
	}
}

func (v *validator) flow(p string, f Flow, c *Config, env Env, queues, trunks map[string]bool) {
	if len(f.Nodes) == 0 {
		v.report(p, "flow has no nodes; add [%s.node.NAME] tables", p)
		return
	}
	ids := make([]string, 0, len(f.Nodes))
	for id := range f.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ref := func(path, to string, required bool) {
		switch {
		case to == "" && required:
			v.report(path, "%s is required", path[strings.LastIndexByte(path, '.')+1:])
		case to != "" && !hasNode(f, to):
			v.report(path, "no node %q in this flow; it has %s", to, strings.Join(ids, ", "))
		}
	}
	ref(p+".start", f.Start, true)
	ref(p+".operator", f.Operator, false)
	langs := []string{c.Box.Language}
	for _, n := range f.Nodes {
		if n.Type == "language" && n.Language != "" && !slices.Contains(langs, n.Language) {
			langs = append(langs, n.Language)
		}
	}
	for _, id := range ids {
		n, np := f.Nodes[id], p+".node."+id
		keys, ok := nodeKeys[n.Type]
		if !ok {
			v.report(np+".type", "node type %q: use one of %s", n.Type, strings.Join(quoteAll(NodeTypes()), ", "))
			continue
		}
		v.keysApply(np, n, keys)
		v.prompts(np+".prompts", n.Prompts, langs, env)
		v.prompts(np+".no_input", n.NoInput, langs, env)
		v.prompts(np+".invalid", n.Invalid, langs, env)
		ref(np+".next", n.Next, slices.Contains(keys, "next"))
		ref(np+".fail", n.Fail, n.Type == "lookup")
		v.duration(np+".timeout", n.Timeout, 100*time.Millisecond, time.Minute)
		v.duration(np+".digit_timeout", n.DigitTimeout, 100*time.Millisecond, time.Minute)
		v.duration(np+".max_length", n.MaxLength, time.Second, 10*time.Minute)
		v.duration(np+".silence", n.Silence, 500*time.Millisecond, time.Minute)
		if n.Retries < 0 || n.Retries > 9 {
			v.report(np+".retries", "retries must be from 0 to 9, not %d", n.Retries)
		}
		switch n.Type {
		case "menu":
			if len(n.Keys) == 0 {
				v.report(np, "menu needs keys, e.g. keys = { \"1\" = \"info\" }")
			}
			for k, to := range n.Keys {
				if len(k) != 1 || !strings.Contains("0123456789*#ABCD", k) {
					v.reportKey(np+".keys."+k, "key %q is not a DTMF digit: use one of 0-9, *, #, A-D", k)
				}
				ref(np+".keys."+k, to, true)
			}
		case "collect":
			if !varName.MatchString(n.Var) {
				v.report(np+".var", "var %q: name the digits with lower-case letters, digits and _", n.Var)
			}
			if n.Min < 1 || n.Max > 32 || n.Min > n.Max {
				v.report(np+".min", "min and max must satisfy 1 <= min <= max <= 32, not min %d max %d", n.Min, n.Max)
			}
			if !oneOf(n.Terminator, "", "#", "*", "none") {
				v.report(np+".terminator", "terminator must be \"#\", \"*\" or \"none\", not %q", n.Terminator)
			}
		case "language":
			v.enum(np+".language", n.Language, "zh", "en")
		case "time":
			for i, r := range n.Rules {
				rp := fmt.Sprintf("%s.rules.%d", np, i)
				if _, err := ParseDays(r.Days); err != nil {
					v.report(rp+".days", "%v", err)
				}
				if _, _, err := ParseHours(r.Hours); err != nil {
					v.report(rp+".hours", "%v", err)
				}
				ref(rp+".next", r.Next, true)
			}
			ref(np+".holiday", n.Holiday, false)
		case "tier":
			v.enum(np+".from", n.From, "table", "var")
			if n.From == "var" && !varName.MatchString(n.Var) {
				v.report(np+".var", "tier from a var needs var, the name of a var a lookup set")
			}
		case "lookup":
			if u, err := url.Parse(n.URL); err != nil || !oneOf(u.Scheme, "http", "https", "builtin") || (u.Scheme != "builtin" && u.Host == "") {
				v.report(np+".url", "url %q: want http://HOST/PATH, https://... or builtin:NAME", n.URL)
			}
			for i, s := range n.Send {
				if !varName.MatchString(s) {
					v.report(fmt.Sprintf("%s.send.%d", np, i), "%q is not a var name", s)
				}
			}
			if len(n.Results) == 0 {
				v.report(np, "lookup needs results: the nodes its answer may choose")
			}
			for i, r := range n.Results {
				ref(fmt.Sprintf("%s.results.%d", np, i), r, true)
			}
		case "voicemail", "mailbox":
			if !varName.MatchString(n.Mailbox) {
				v.report(np+".mailbox", "mailbox %q: name it with lower-case letters, digits and _", n.Mailbox)
			}
		case "record":
			for _, l := range langs {
				if env.Prompt != nil && !env.Prompt(l, n.Prompt) {
					v.report(np+".prompt", "no prompt %q in %s to replace", n.Prompt, l)
					break
				}
			}
		case "subscribe":
			if !varName.MatchString(n.List) {
				v.report(np+".list", "list %q: name it with lower-case letters, digits and _", n.List)
			}
			v.enum(np+".action", n.Action, "subscribe", "unsubscribe")
		case "transfer":
			kind, what, err := ParseTarget(n.Target)
			switch {
			case err != nil:
				v.report(np+".target", "%v", err)
			case kind == "queue" && !queues[what]:
				v.report(np+".target", "no [[queue]] named %q", what)
			case kind == "trunk":
				t, num, ok := strings.Cut(what, "/")
				if !ok || num == "" {
					v.report(np+".target", "target %q: want trunk:NAME/NUMBER", n.Target)
				} else if !trunks[t] {
					v.report(np+".target", "no [[trunk]], span group or fxo port group named %q", t)
				}
			}
		}
	}
	v.reachable(p, f, ids)
	v.inputLoops(p, f, ids)
}

func hasNode(f Flow, id string) bool { _, ok := f.Nodes[id]; return ok }

// keysApply reports keys set on a node whose type does not use them.
func (v *validator) keysApply(np string, n Node, keys []string) {
	rv, rt := reflect.ValueOf(n), reflect.TypeOf(n)
	for i := 0; i < rt.NumField(); i++ {
		tag := rt.Field(i).Tag.Get("toml")
		f := rv.Field(i)
		empty := f.IsZero() || ((f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0)
		if oneOf(tag, "type", "prompts", "no_operator") || slices.Contains(keys, tag) || empty {
			continue
		}
		v.report(np+"."+tag, "%s does not apply to a %s node; it takes %s", tag, n.Type, strings.Join(append([]string{"prompts"}, keys...), ", "))
	}
}

// prompts checks prompt items: ids that exist in every language, ${var},
// or KIND:${var} read-back.
func (v *validator) prompts(p string, items []string, langs []string, env Env) {
	for i, it := range items {
		ip := fmt.Sprintf("%s.%d", p, i)
		if kind, val, ok := strings.Cut(it, ":"); ok {
			if !slices.Contains(ReadBackKinds, kind) {
				v.report(ip, "read-back %q: kind must be one of %s", it, strings.Join(quoteAll(ReadBackKinds), ", "))
			} else if _, isVar := VarRef(val); !isVar {
				v.report(ip, "read-back %q: the value must be a ${var}", it)
			}
			continue
		}
		if strings.HasPrefix(it, "$") {
			if _, isVar := VarRef(it); !isVar {
				v.report(ip, "%q: a var is written ${name}", it)
			}
			continue
		}
		if env.Prompt == nil {
			continue
		}
		for _, l := range langs {
			if !env.Prompt(l, it) {
				v.report(ip, "no prompt %q in %s", it, l)
				break
			}
		}
	}
}

// edges lists where a node can go next, operator included.
func edges(f Flow, n Node) []string {
	out := []string{n.Next, n.Fail, n.Holiday}
	for _, to := range n.Keys {
		out = append(out, to)
	}
	for _, r := range n.Rules {
		out = append(out, r.Next)
	}
	out = append(out, n.Results...)
	if f.Operator != "" && !n.NoOperator && (n.Type == "menu" || n.Type == "play") {
		out = append(out, f.Operator)
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" || !hasNode(f, s) })
}

func (v *validator) reachable(p string, f Flow, ids []string) {
	if !hasNode(f, f.Start) {
		return
	}
	seen := map[string]bool{f.Start: true}
	for queue := []string{f.Start}; len(queue) > 0; queue = queue[1:] {
		for _, to := range edges(f, f.Nodes[queue[0]]) {
			if !seen[to] {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	for _, id := range ids {
		if !seen[id] {
			v.report(p+".node."+id, "node %q cannot be reached from start %q", id, f.Start)
		}
	}
}

// inputLoops finds cycles through nodes that never wait for the caller: a
// call would spin in them forever.
func (v *validator) inputLoops(p string, f Flow, ids []string) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, to := range edges(f, f.Nodes[id]) {
			if inputs[f.Nodes[to].Type] {
				continue
			}
			switch color[to] {
			case grey:
				i := slices.Index(stack, to)
				loop := append(append([]string(nil), stack[i:]...), to)
				v.report(p+".node."+to, "loop without input: %s; put a menu or collect in it", strings.Join(loop, " -> "))
				return true
			case white:
				if visit(to) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, id := range ids {
		if color[id] == white && !inputs[f.Nodes[id].Type] {
			stack = stack[:0]
			if visit(id) { // one report per loop: what it left grey is done
				for _, s := range stack {
					color[s] = black
				}
			}
		}
	}
}
