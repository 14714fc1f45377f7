package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"jinyin/hal"
)

type validator struct {
	file   string
	pos    map[string]pos
	def    map[string]pos  // the embedded default's, for what the file took from it
	tree   map[string]any  // what was decoded: the file over the default
	set    map[string]bool // keys overridden by --set
	issues Issues
}

// report records a problem with the value at path ("sip.listen",
// "span.0.channels"). It points at the value, else the key, else the nearest
// enclosing table that stands in the file, else 1:1 (a key left out).
func (v *validator) report(path, format string, args ...any) {
	v.reportAt(path, true, format, args...)
}

// reportKey is report pointing at the key rather than its value: for a
// key that is itself wrong, such as a menu digit.
func (v *validator) reportKey(path, format string, args ...any) {
	v.reportAt(path, false, format, args...)
}

func (v *validator) reportAt(path string, value bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if k, ok := v.setFor(path); ok {
		v.issues = append(v.issues, Issue{Set: k, Msg: msg})
		return
	}
	file := v.file
	p, ok := lookup(v.pos, path, value)
	if !ok && v.def != nil {
		// Not in the file: the file took it from the embedded default.
		file = DefaultName
		p, ok = lookup(v.def, path, value)
	}
	if !ok {
		p = pos{1, 1}
	}
	v.issues = append(v.issues, Issue{File: file, Line: p.line, Col: p.col, Msg: msg})
}

// setFor is the --set key a problem at path came from: path itself, or
// a table or list holding it ("security.rates" for "security.rates.mars").
func (v *validator) setFor(path string) (string, bool) {
	if v.set[path] {
		return path, true
	}
	for _, k := range slices.Sorted(maps.Keys(v.set)) {
		if strings.HasPrefix(path, k+".") {
			return k, true
		}
	}
	return "", false
}

// lookup finds where path stands in idx: its value (when value is set),
// else its key, else the nearest table that holds it.
func lookup(idx map[string]pos, path string, value bool) (pos, bool) {
	if p, ok := idx[path+"="]; ok && value {
		return p, true
	}
	for q := path; q != ""; {
		if p, ok := idx[q]; ok {
			return p, true
		}
		i := strings.LastIndexByte(q, '.')
		if i < 0 {
			break
		}
		q = q[:i]
	}
	return pos{}, false
}

func oneOf(s string, allowed ...string) bool { return slices.Contains(allowed, s) }

func (v *validator) enum(path, got string, allowed ...string) {
	switch key := path[strings.LastIndexByte(path, '.')+1:]; {
	case oneOf(got, allowed...):
	case got == "" && v.missing(path):
		v.report(path, "%s is missing: set it to one of %s", key, strings.Join(quoteAll(allowed), ", "))
	default:
		v.report(path, "%s must be one of %s, not %q", key, strings.Join(quoteAll(allowed), ", "), got)
	}
}

// missing reports whether the key at path was written nowhere: not in
// the file, not by --set, not in the default the file took it from.
func (v *validator) missing(path string) bool {
	if _, ok := v.setFor(path); ok {
		return false
	}
	if _, ok := v.pos[path]; ok {
		return false
	}
	var at any = v.tree
	for _, part := range strings.Split(path, ".") {
		switch x := at.(type) {
		case map[string]any:
			at = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return true
			}
			at = x[i]
		default:
			return true
		}
	}
	return at == nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func (v *validator) hostPort(path, addr string, required bool) {
	if addr == "" {
		if required {
			v.report(path, "%s is required (host:port, e.g. 127.0.0.1:5060)", path)
		}
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.report(path, "%q is not host:port (e.g. 127.0.0.1:5060)", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.report(path, "port %q is not a number from 0 to 65535", port)
	}
	if host == "" {
		v.report(path, "%q has no host; use 0.0.0.0 for every interface or 127.0.0.1 for loopback", addr)
	}
}

var standardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400}

func (v *validator) validate(c *Config, env Env) {
	drivers, boardKnown := env.Boards[c.Box.Board]
	if !boardKnown {
		var names []string
		for n := range env.Boards {
			names = append(names, n)
		}
		slices.Sort(names)
		v.report("box.board", "unknown board profile %q; this firmware has %s", c.Box.Board, strings.Join(quoteAll(names), ", "))
	}
	v.enum("box.country", c.Box.Country, "cn", "itu")
	if c.Box.MemoryLimitMB != 0 && (c.Box.MemoryLimitMB < 32 || c.Box.MemoryLimitMB > 65536) {
		v.report("box.memory_limit_mb", "memory_limit_mb must be 0 (unset) or from 32 to 65536, not %d", c.Box.MemoryLimitMB)
	}
	v.enum("box.language", c.Box.Language, "zh", "en")
	for _, z := range []struct{ path, zone string }{{"box.timezone", c.Box.Timezone}, {"ivr.timezone", c.IVR.Timezone}} {
		if _, err := time.LoadLocation(z.zone); err != nil && z.zone != "" {
			v.report(z.path, "unknown time zone %q; use an IANA name such as \"Asia/Shanghai\"", z.zone)
		}
	}
	if c.Box.Timezone != "" && c.IVR.Timezone != "" && c.Box.Timezone != c.IVR.Timezone {
		v.report("ivr.timezone", "the box has one time zone: [box] timezone is %q; leave [ivr] timezone out", c.Box.Timezone)
	}
	v.enum("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.enum("log.format", c.Log.Format, "text", "json")

	v.hostPort("sip.listen", c.SIP.Listen, true)
	if len(c.SIP.Transports) == 0 {
		v.report("sip.transports", "sip.transports needs at least one of \"udp\", \"tcp\", \"tls\"")
	}
	for i, t := range c.SIP.Transports {
		if !oneOf(t, "udp", "tcp", "tls") {
			v.report(fmt.Sprintf("sip.transports.%d", i), "transport %q is not supported; use \"udp\", \"tcp\" or \"tls\"", t)
		}
	}
	v.hostPort("sip.tls_listen", c.SIP.TLSListen, false)
	if (c.SIP.TLSCert == "") != (c.SIP.TLSKey == "") {
		v.report("sip.tls_cert", "tls_cert and tls_key go together: both, or neither for a self-signed certificate")
	}
	tls := slices.Contains(c.SIP.Transports, "tls")
	for i, e := range c.Extensions {
		v.srtp(fmt.Sprintf("extension.%d.srtp", i), e.SRTP, tls)
	}
	for i, t := range c.Trunks {
		p := fmt.Sprintf("trunk.%d", i)
		if t.Transport != "" {
			v.enum(p+".transport", t.Transport, "udp", "tcp", "tls")
		}
		v.duration(p+".qualify", t.Qualify, 5*time.Second, time.Hour)
		if t.SRTP != "" && t.Transport != "tls" {
			v.report(p+".srtp", "SRTP keys travel in the SDP: a trunk with srtp needs transport \"tls\"")
		} else {
			v.srtp(p+".srtp", t.SRTP, true)
		}
	}
	if len(c.SIP.Digest) == 0 {
		v.report("sip.digest", "sip.digest needs at least one of \"MD5\", \"SHA-256\"")
	}
	for i, a := range c.SIP.Digest {
		if !oneOf(a, "MD5", "SHA-256") || slices.Index(c.SIP.Digest, a) != i {
			v.report(fmt.Sprintf("sip.digest.%d", i), "digest algorithm %q: use \"MD5\" and/or \"SHA-256\", each once", a)
		}
	}
	if lo, hi, err := ParsePortRange(c.SIP.RTPPorts); err != nil {
		v.report("sip.rtp_ports", "%v", err)
	} else if hi-lo < 1 {
		v.report("sip.rtp_ports", "rtp_ports %q holds no RTP/RTCP pair", c.SIP.RTPPorts)
	}
	if c.SIP.MaxCalls < 0 {
		v.report("sip.max_calls", "max_calls must be 0 (no limit) or more, not %d", c.SIP.MaxCalls)
	}
	if c.SIP.MaxCallsPerSecond < 0 {
		v.report("sip.max_calls_per_second", "max_calls_per_second must be 0 (no limit) or more, not %d", c.SIP.MaxCallsPerSecond)
	}
	if c.SIP.AnswerDelayMs < 0 || c.SIP.AnswerDelayMs > 30000 {
		v.report("sip.answer_delay_ms", "answer_delay_ms must be from 0 to 30000, not %d", c.SIP.AnswerDelayMs)
	}
	v.hostPort("http.listen", c.HTTP.Listen, false)
	if host, _, err := net.SplitHostPort(c.HTTP.Listen); err == nil && c.HTTP.Listen != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			v.report("http.listen", "http.listen %q must be a loopback address: the API (status, profiles) has no authentication yet", c.HTTP.Listen)
		}
	}
	if c.Console.Device != "" && !slices.Contains(standardBauds, c.Console.Baud) {
		v.report("console.baud", "baud %d is not a standard rate; use one of %v (115200 is usual)", c.Console.Baud, standardBauds)
	}

	v.security(c.Security)
	v.fleet(c.Fleet)
	v.outbound(c)

	ids := map[int]string{}
	for i, s := range c.Spans {
		p := fmt.Sprintf("span.%d", i)
		if s.ID < 1 {
			v.report(p+".id", "span id must be 1 or more, not %d", s.ID)
		} else if prev, dup := ids[s.ID]; dup {
			v.report(p+".id", "span id %d is already used by %s", s.ID, prev)
		} else {
			ids[s.ID] = p
		}
		v.span(p, s, drivers, boardKnown, c.Box.Board)
	}

	portIDs := map[int]bool{}
	for i, pt := range c.Ports {
		p := fmt.Sprintf("port.%d", i)
		if pt.ID < 1 || portIDs[pt.ID] {
			v.report(p+".id", "port id must be 1 or more and unique, not %d", pt.ID)
		}
		portIDs[pt.ID] = true
		v.enum(p+".kind", pt.Kind, "fxs", "fxo")
		if pdrivers, ok := env.Ports[c.Box.Board]; ok && !slices.Contains(pdrivers, pt.Driver) {
			v.report(p+".driver", "board %q has no analog port driver %q; it has %s", c.Box.Board, pt.Driver, strings.Join(quoteAll(pdrivers), ", "))
		}
		switch {
		case pt.Driver == "socket" && pt.Line == "":
			v.report(p+".line", "driver \"socket\" needs line, the path of the SEQPACKET socket the phone or exchange line is at")
		case pt.Driver != "socket" && pt.Line != "":
			v.report(p+".line", "line is only for driver \"socket\"")
		}
		cid := []string{"none", "fsk-v23", "fsk-bell202", "dtmf"}
		switch pt.Kind {
		case "fxs":
			if e, ok := c.Extension(pt.Extension); !ok || e.Kind != "phone" {
				v.report(p+".extension", "an fxs port needs extension, the number of a [[extension]] of kind \"phone\"; %q is not one", pt.Extension)
			}
		case "fxo":
			if _, ok := c.Extension(pt.Destination); !ok {
				v.report(p+".destination", "an fxo port needs destination, the [[extension]] its inbound calls land on; %q is not one", pt.Destination)
			}
			if pt.Rings < 0 || pt.Rings > 6 {
				v.report(p+".rings", "rings must be from 0 (by callerid) to 6, not %d", pt.Rings)
			}
		}
		if pt.CallerID != "" {
			v.enum(p+".callerid", pt.CallerID, cid...)
		}
	}

	numbers := map[string]bool{}
	for i, e := range c.Extensions {
		p := fmt.Sprintf("extension.%d", i)
		switch {
		case e.Number == "" || strings.Trim(e.Number, "0123456789*#") != "":
			v.report(p+".number", "extension number must be digits (and * or # for feature codes such as *97), not %q", e.Number)
		case numbers[e.Number]:
			v.report(p+".number", "extension %s is defined twice", e.Number)
		}
		numbers[e.Number] = true
		v.enum(p+".kind", e.Kind, "agent", "phone", "ivr")
		if e.Kind == "ivr" && e.Flow == "" {
			v.report(p+".flow", "extension %s of kind \"ivr\" needs a flow", e.Number)
		}
		if e.Kind != "ivr" && e.Flow != "" {
			v.report(p+".flow", "only extensions of kind \"ivr\" have a flow")
		} else if _, ok := c.Flows[e.Flow]; e.Kind == "ivr" && e.Flow != "" && !ok {
			v.report(p+".flow", "no flow %q; define it as [flow.%s]", e.Flow, e.Flow)
		}
		if e.Auth && e.Kind != "ivr" {
			v.report(p+".auth", "auth applies to extensions of kind \"ivr\" (feature codes); agents and phones always authenticate to register")
		}
		v.networks(p+".acl", e.ACL)
		if e.MaxContacts < 0 || e.MaxContacts > 10 {
			v.report(p+".max_contacts", "max_contacts must be from 0 (default 1) to 10, not %d", e.MaxContacts)
		}
	}
	agents := map[string]bool{}
	for _, e := range c.Extensions {
		if e.Kind == "agent" {
			agents[e.Number] = true
		}
	}
	queues := map[string]bool{}
	for i, q := range c.Queues {
		p := fmt.Sprintf("queue.%d", i)
		if !varNameOK(q.Name) {
			v.report(p+".name", "queue name %q: use lower-case letters, digits and _", q.Name)
		} else if queues[q.Name] {
			v.report(p+".name", "queue %q is defined twice", q.Name)
		}
		queues[q.Name] = true
		if len(q.Agents) == 0 {
			v.report(p+".agents", "queue %q needs agents", q.Name)
		}
		for j, a := range q.Agents {
			if !agents[a] {
				v.report(fmt.Sprintf("%s.agents.%d", p, j), "%q is not an extension of kind \"agent\"", a)
			}
		}
		v.queue(p, q)
		if q.Music != "" && env.Music != nil {
			if err := env.Music(c.Path(q.Music)); err != nil {
				v.report(p+".music", "%v", err)
			}
		}
	}
	for i, q := range c.Queues {
		p := fmt.Sprintf("queue.%d", i)
		for _, k := range []struct{ key, val string }{{"overflow", q.Overflow}, {"max_wait_dest", q.MaxWaitDest}, {"max_length_dest", q.MaxLengthDest}} {
			if k.val != "" && (!queues[k.val] || k.val == q.Name) {
				v.report(p+"."+k.key, "%s %q is not another [[queue]]", k.key, k.val)
			}
		}
		if q.WhenEmpty == "overflow" && q.Overflow == "" {
			v.report(p+".when_empty", "when_empty = \"overflow\" needs overflow, the queue to go to")
		}
	}
	for tier, w := range c.ACD.Tiers {
		if !varNameOK(strings.ReplaceAll(tier, "-", "_")) || w < -86400 || w > 86400 {
			v.report("acd.tiers."+tier, "tier %q: name it with lower-case letters, digits, - and _; weigh it from -86400 to 86400 seconds", tier)
		}
	}
	if c.Box.DiskLowMB < 0 || c.Box.DiskLowMB > 1<<20 {
		v.report("box.disk_low_mb", "disk_low_mb is in MB, from 0 (the default, 64) to 1048576, not %d", c.Box.DiskLowMB)
	}
	if c.Box.DiskReserveMB < 0 || c.Box.DiskReserveMB > 1<<16 {
		v.report("box.disk_reserve_mb", "disk_reserve_mb is in MB, from 0 (the default, 16) to 65536, not %d", c.Box.DiskReserveMB)
	}
	v.duration("acd.direct_wait", c.ACD.DirectWait, time.Second, 10*time.Minute)
	v.duration("acd.short_abandon", c.ACD.ShortAbandon, 0, time.Minute)
	v.duration("acd.repeat_window", c.ACD.RepeatWindow, time.Hour, 30*24*time.Hour)
	for _, k := range []struct {
		path string
		bad  bool
	}{
		{"acd.record_days", c.ACD.RecordDays < 0}, {"acd.record_max_mb", c.ACD.RecordMaxMB < 0},
		{"acd.sample_share", c.ACD.SampleShare < 0 || c.ACD.SampleShare > 1},
	} {
		if k.bad {
			v.report(k.path, "record_days and record_max_mb must be 0 (no limit) or more, sample_share from 0 to 1")
		}
	}
	if c.Box.Country == "cn" && c.ACD.RecordDays > 0 && c.ACD.RecordDays < 30 {
		v.report("acd.record_days", "record_days %d: China's MIIT 2020 call-centre notice asks for recordings to be kept at least 30 days (box.country = \"cn\")", c.ACD.RecordDays)
	}
	for i, s := range c.ACD.Supervisors {
		if e, ok := c.Extension(s); !ok || (e.Kind != "agent" && e.Kind != "phone") {
			v.report(fmt.Sprintf("acd.supervisors.%d", i), "supervisor %q is not an agent or phone extension", s)
		}
	}
	if c.ACD.DirectQueue != "" && !queues[c.ACD.DirectQueue] {
		v.report("acd.direct_queue", "direct_queue %q is not a [[queue]]", c.ACD.DirectQueue)
	}
	names := map[string]bool{}
	for i, t := range c.Trunks {
		p := fmt.Sprintf("trunk.%d", i)
		if t.Name == "" {
			v.report(p+".name", "trunk needs a name")
		} else if names[t.Name] {
			v.report(p+".name", "trunk %q is defined twice", t.Name)
		}
		names[t.Name] = true
		v.hostPort(p+".host", t.Host, true)
		v.networks(p+".acl", t.ACL)
		if t.Register && (t.Username == "" || t.Password == "") {
			v.report(p+".register", "a trunk that registers needs username and password")
		}
		if t.Channels < 0 {
			v.report(p+".channels", "channels must be 0 (no limit) or more, not %d", t.Channels)
		}
		if t.Destination != "" && !numbers[t.Destination] {
			v.report(p+".destination", "destination %q is not a configured extension", t.Destination)
		}
	}
	for i, e := range c.Extensions {
		if e.Remote == "" {
			continue
		}
		p := fmt.Sprintf("extension.%d.remote", i)
		if e.Kind != "agent" {
			v.report(p, "remote applies to agents (a seat at another box); %s is of kind %q", e.Number, e.Kind)
		} else if !names[e.Remote] {
			v.report(p, "remote %q is not a [[trunk]]: name the trunk to the box the agent's phone is registered at", e.Remote)
		}
	}
	v.flows(c, env)
	v.campaigns(c)
}

// RetryOutcomes are the outcomes a campaign's retry table may name.
var RetryOutcomes = []string{"busy", "no-answer", "congestion", "failed", "machine", "sit", "abandoned"}

func (v *validator) campaigns(c *Config) {
	names := map[string]bool{}
	groups := c.trunkGroups()
	for i, k := range c.Campaigns {
		p := fmt.Sprintf("campaign.%d", i)
		switch {
		case k.Name == "" || strings.ContainsAny(k.Name, "/\x00 "):
			v.report(p+".name", "a campaign needs a name without spaces or slashes")
		case names[k.Name]:
			v.report(p+".name", "campaign %q is defined twice", k.Name)
		}
		names[k.Name] = true
		if _, ok := c.Flows[k.Flow]; !ok && (k.Flow != "" || k.Queue == "") {
			v.report(p+".flow", "flow %q is not a [flow.NAME]", k.Flow)
		}
		if k.Queue != "" && !slices.ContainsFunc(c.Queues, func(q Queue) bool { return q.Name == k.Queue }) {
			v.report(p+".queue", "queue %q is not a [[queue]]", k.Queue)
		}
		if k.Flow == "" && k.Machine == "message" {
			v.report(p+".machine", "machine = \"message\" plays the campaign's flow: set flow")
		}
		v.duration(p+".cap_window", k.CapWindow, time.Hour, 30*24*time.Hour)
		v.duration(p+".ring_for", k.RingFor, 10*time.Second, 3*time.Minute)
		for j, w := range k.RestHours {
			if _, _, err := ParseWindow(w); err != nil {
				v.report(fmt.Sprintf("%s.rest_hours.%d", p, j), "%v", err)
			}
		}
		switch k.Purpose {
		case "", "service":
		case "marketing":
			if k.CallerID == "" {
				v.report(p+".caller_id", "a marketing campaign calls from a caller_id of its own: set one")
			}
			for _, o := range c.Campaigns {
				if o.Purpose != "marketing" && o.CallerID == k.CallerID && k.CallerID != "" {
					v.report(p+".caller_id", "marketing campaign %q calls from %s, as service campaign %q does: keep them apart", k.Name, k.CallerID, o.Name)
				}
			}
		default:
			v.report(p+".purpose", "purpose is \"service\" or \"marketing\", not %q", k.Purpose)
		}
		a := k.AMD
		for _, d := range []struct{ key, s string }{{"initial_silence", a.InitialSilence}, {"greeting", a.Greeting}, {"after_greeting_silence", a.AfterGreetingSilence},
			{"total", a.Total}, {"min_word", a.MinWord}, {"between_words", a.BetweenWords}, {"max_word_length", a.MaxWordLength}} {
			v.duration(p+".amd."+d.key, d.s, 10*time.Millisecond, 30*time.Second)
		}
		if a.MaxWords < 0 || a.MaxWords > 20 {
			v.report(p+".amd.max_words", "max_words is from 1 to 20 (0: 3), not %d", a.MaxWords)
		}
		if a.SilenceThreshold < 0 || a.SilenceThreshold > 8192 {
			v.report(p+".amd.silence_threshold", "silence_threshold is from 1 to 8192 (0: 256), not %d", a.SilenceThreshold)
		}
		if !groups[k.Trunk] {
			v.report(p+".trunk", "%q is not a [[trunk]], a span group or an FXO line group", k.Trunk)
		}
		if k.Lines < 0 || k.Lines > 480 {
			v.report(p+".lines", "lines is from 1 to 480 (0: 1), not %d", k.Lines)
		}
		if k.MaxAttempts < 0 || k.MaxAttempts > 20 {
			v.report(p+".max_attempts", "max_attempts is from 1 to 20 (0: 3), not %d", k.MaxAttempts)
		}
		for j, w := range k.Windows {
			if _, _, err := ParseWindow(w); err != nil {
				v.report(fmt.Sprintf("%s.windows.%d", p, j), "%v", err)
			}
		}
		if _, err := time.LoadLocation(k.Timezone); err != nil && k.Timezone != "" {
			v.report(p+".timezone", "timezone %q: %v", k.Timezone, err)
		}
		if !slices.Contains([]string{"", "none", "amd"}, k.Detect) {
			v.report(p+".detect", "detect is \"amd\" or \"none\", not %q", k.Detect)
		}
		if !slices.Contains([]string{"", "hangup", "message"}, k.Machine) {
			v.report(p+".machine", "machine is \"hangup\" or \"message\", not %q", k.Machine)
		}
		for o, d := range k.Retry {
			if !slices.Contains(RetryOutcomes, o) {
				v.reportKey(p+".retry."+o, "retry names an outcome: %s", strings.Join(quoteAll(RetryOutcomes), ", "))
				continue
			}
			v.duration(p+".retry."+o, d, time.Minute, 7*24*time.Hour)
		}
	}
}

// ParseWindow reads a calling window, "09:00-21:00": its start and end as
// times of day from midnight; the end is after the start.
func ParseWindow(s string) (start, end time.Duration, err error) {
	of := func(hm string) (time.Duration, bool) {
		if hm == "24:00" {
			return 24 * time.Hour, true
		}
		t, err := time.Parse("15:04", hm)
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, err == nil
	}
	a, b, _ := strings.Cut(s, "-")
	start, okA := of(a)
	end, okB := of(b)
	if !okA || !okB || end <= start {
		return 0, 0, fmt.Errorf("window %q: HH:MM-HH:MM, the end after the start", s)
	}
	return start, end, nil
}

func (v *validator) queue(p string, q Queue) {
	if q.Strategy != "" {
		v.enum(p+".strategy", q.Strategy, Strategies...)
	}
	for a, l := range q.Levels {
		if !slices.Contains(q.Agents, a) || l < 1 || l > 10 {
			v.reportKey(p+".levels."+a, "level of %q: the agent must be in agents, its level from 1 to 10", a)
		}
	}
	if q.Priority < -86400 || q.Priority > 86400 {
		v.report(p+".priority", "priority is in seconds of waiting, from -86400 to 86400, not %d", q.Priority)
	}
	v.duration(p+".ring_timeout", q.RingTimeout, 5*time.Second, 2*time.Minute)
	v.duration(p+".wrap_up", q.WrapUp, 0, 10*time.Minute)
	v.duration(p+".max_wait", q.MaxWait, 10*time.Second, 24*time.Hour)
	v.duration(p+".overflow_after", q.OverflowAfter, 5*time.Second, 24*time.Hour)
	v.duration(p+".announce", q.Announce, 0, 10*time.Minute)
	v.duration(p+".callback_retry_delay", q.CallbackRetryDelay, 10*time.Second, 24*time.Hour)
	v.duration(p+".callback_promise", q.CallbackPromise, time.Minute, 7*24*time.Hour)
	if q.ServiceLevel != "" {
		if _, _, err := parseServiceLevel(q.ServiceLevel); err != nil {
			v.report(p+".service_level", "%v", err)
		}
	}
	if q.MaxLength < 0 {
		v.report(p+".max_length", "max_length must be 0 (no limit) or more")
	}
	if q.OverflowAfter != "" && q.Overflow == "" {
		v.report(p+".overflow_after", "overflow_after needs overflow, the queue to go to")
	}
	if q.WhenEmpty != "" {
		v.enum(p+".when_empty", q.WhenEmpty, "join", "leave", "overflow")
	}
	if q.CallbackRetries < 0 || q.CallbackRetries > 10 {
		v.report(p+".callback_retries", "callback_retries must be from 0 to 10")
	}
}

// ParseE1D reads a span's e1d, "interface/line" as osmo-e1d numbers them
// (0-254 each; 255 is the protocol's "any"): "0/0" when empty.
func ParseE1D(s string) (intf, line int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	intf, err1 := strconv.Atoi(a)
	line, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || intf < 0 || intf > 254 || line < 0 || line > 254 {
		return 0, 0, fmt.Errorf("e1d %q: want interface/line, each 0-254, e.g. \"0/0\"", s)
	}
	return intf, line, nil
}

// Strategies are the queue strategies.
var Strategies = []string{"longest-idle", "ring-all", "fewest-calls", "round-robin", "least-talk", "random"}

func (v *validator) span(p string, s Span, drivers []string, boardKnown bool, board string) {
	v.enum(p+".type", s.Type, "e1", "t1")
	if boardKnown && !slices.Contains(drivers, s.Driver) {
		v.report(p+".driver", "board %q has no span driver %q; it has %s", board, s.Driver, strings.Join(quoteAll(drivers), ", "))
	}
	switch {
	case s.Driver == "socket" && s.DChannel == "":
		v.report(p+".dchannel", "driver \"socket\" needs dchannel, the path of the D-channel's SEQPACKET socket")
	case s.Driver != "socket" && s.DChannel != "":
		v.report(p+".dchannel", "dchannel is only for driver \"socket\"")
	}
	if s.Driver != "socket" && s.BChannels != "" {
		v.report(p+".bchannels", "bchannels is only for driver \"socket\"")
	}
	if s.Driver == "osmo-e1d" {
		if _, _, err := ParseE1D(s.E1D); err != nil {
			v.report(p+".e1d", "%v", err)
		}
		if s.Type != "e1" {
			v.report(p+".type", "driver \"osmo-e1d\" serves E1 lines only")
		}
	} else {
		if s.E1D != "" {
			v.report(p+".e1d", "e1d is only for driver \"osmo-e1d\"")
		}
		if s.E1DSocket != "" {
			v.report(p+".e1d_socket", "e1d_socket is only for driver \"osmo-e1d\"")
		}
	}
	v.enum(p+".signalling", s.Signalling, "pri-cpe", "pri-net")
	v.enum(p+".switchtype", s.SwitchType, "euroisdn", "qsig", "ni2")
	v.enum(p+".clock", s.Clock, "line", "internal")
	v.duration(p+".t309", s.T309, time.Second, 10*time.Minute)
	switch s.Type {
	case "e1":
		v.enum(p+".framing", s.Framing, "crc4", "no-crc4")
		v.enum(p+".coding", s.Coding, "hdb3", "ami")
	case "t1":
		v.enum(p+".framing", s.Framing, "esf", "d4")
		v.enum(p+".coding", s.Coding, "b8zs", "ami")
	default:
		return
	}
	chans, err := ParseChannels(s.Channels)
	if err != nil {
		v.report(p+".channels", "%v", err)
		return
	}
	for _, c := range chans {
		if err := hal.CheckBChannel(s.Type, c); err != nil {
			v.report(p+".channels", "%v", err)
			return
		}
	}
}

// ParseChannels reads a channel list such as "1-15,17-31" into ascending,
// distinct channel numbers.
func ParseChannels(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("channels is empty; list the B-channels in service, e.g. \"1-15,17-31\"")
	}
	seen := map[int]bool{}
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(a)
		hi := lo
		var err2 error
		if isRange {
			hi, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || lo < 1 || hi < lo {
			return nil, fmt.Errorf("channels %q: %q is not a channel or an ascending range like 1-15", s, part)
		}
		for c := lo; c <= hi; c++ {
			if seen[c] {
				return nil, fmt.Errorf("channels %q lists channel %d twice", s, c)
			}
			seen[c] = true
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ParsePortRange reads "LO-HI" as an even first port (RTP) and a last port.
func ParsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("rtp_ports %q is not a range like \"10000-19999\"", s)
	case lo < 1024 || hi > 65535 || lo > hi:
		return 0, 0, fmt.Errorf("rtp_ports %q must lie within 1024-65535, low end first", s)
	case lo%2 != 0:
		return 0, 0, fmt.Errorf("rtp_ports %q must start on an even port (RTP even, RTCP odd)", s)
	}
	return lo, hi, nil
}

// srtp checks a media encryption setting; tls says whether the box
// serves SIP over TLS, which SRTP's keys need.
func (v *validator) srtp(path, mode string, tls bool) {
	switch {
	case mode == "":
	case mode != "optional" && mode != "required":
		v.report(path, "srtp %q: use \"optional\" or \"required\" (or leave it out)", mode)
	case !tls:
		v.report(path, "SRTP keys travel in the SDP, so only over TLS: add \"tls\" to sip.transports")
	}
}

var siteName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (v *validator) fleet(f Fleet) {
	if !f.Enabled {
		return
	}
	if !siteName.MatchString(f.Site) {
		v.report("fleet.site", "site %q must be 1 to 64 letters, digits, - or _ (it is a NATS subject token)", f.Site)
	}
	if !siteName.MatchString(f.Stream) {
		v.report("fleet.stream", "stream %q must be 1 to 64 letters, digits, - or _", f.Stream)
	}
	if len(f.Servers) == 0 {
		v.report("fleet.enabled", "fleet is enabled with no servers; name one, e.g. [\"tls://hq.example.com:4222\"]")
	}
	offBox := ""
	for i, s := range f.Servers {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Hostname() == "" {
			v.report(fmt.Sprintf("fleet.servers.%d", i), "server %q must be nats://HOST:PORT or tls://HOST:PORT", s)
			continue
		}
		if u.User != nil {
			v.report(fmt.Sprintf("fleet.servers.%d", i), "server %q carries a password; use credentials or nkey", u.Redacted())
		}
		if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" && offBox == "" {
			offBox = fmt.Sprintf("fleet.servers.%d", i)
		}
	}
	if f.Credentials != "" && f.NKey != "" {
		v.report("fleet.nkey", "set credentials or nkey, not both")
	}
	if offBox != "" && f.Credentials == "" && f.NKey == "" {
		v.report(offBox, "a server off this box needs credentials (a .creds file) or nkey: headquarters must know who is sending")
	}
	if (f.Cert == "") != (f.Key == "") {
		v.report("fleet.cert", "cert and key go together")
	}
	if f.OutboxMax < 100 || f.OutboxMax > 1_000_000 {
		v.report("fleet.outbox_max", "outbox_max must be from 100 to 1000000, not %d", f.OutboxMax)
	}
}
