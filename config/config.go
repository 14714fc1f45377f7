// Package config is the box's configuration: the TOML schema (Config), the
// embedded default (the demo call centre), strict decoding, validation that
// reports every problem at its FILE:LINE:COL, and --set KEY=VALUE overrides.
//
// It sits at the bottom of the dependency graph: it imports only the standard
// library, go-toml and hal (whose CheckBChannel is the one rule of which
// channels of a span carry calls). What it validates against that lives
// elsewhere (the board profiles and the span drivers each provides) is
// passed in as an Env.
package config

import (
	_ "embed"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed default.toml
var defaultTOML []byte

// Default returns the embedded default configuration text: the simulated
// board, SIP on 127.0.0.1:5060, the demo call centre. It is commented and is
// the starting point for a real configuration (`jinyin config default`).
func Default() []byte { return append([]byte(nil), defaultTOML...) }

// DefaultName is the name under which problems in the embedded default are reported.
const DefaultName = "(embedded default)"

// Config is the whole configuration of one box. Field tags are the TOML keys.
type Config struct {
	Box        Box             `toml:"box"`
	Log        Log             `toml:"log"`
	SIP        SIP             `toml:"sip"`
	HTTP       HTTP            `toml:"http"`
	Console    Console         `toml:"console"`
	Security   Security        `toml:"security"`
	Fleet      Fleet           `toml:"fleet"`
	Spans      []Span          `toml:"span"`
	Ports      []Port          `toml:"port"`
	Extensions []Extension     `toml:"extension"`
	Trunks     []Trunk         `toml:"trunk"`
	Outbound   []Outbound      `toml:"outbound"`
	Queues     []Queue         `toml:"queue"`
	Campaigns  []Campaign      `toml:"campaign"`
	ACD        ACD             `toml:"acd"`
	IVR        IVR             `toml:"ivr"`
	Flows      map[string]Flow `toml:"flow"`

	dir string // the config file's folder, that relative paths start from
}

// Path resolves a path the configuration names (a queue's music): a
// relative path starts from the folder of the config file, the embedded
// default's from the working directory; absolute paths and built-in
// names ("builtin:hold") stay as they are.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "builtin:") {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Campaign is an outbound campaign (package campaign): its contacts are
// imported over the API and called through a trunk group in their own
// time zone's windows; a contact answered hears an IVR flow, or, in an
// agent-assisted campaign, is put to a queue's agents.
type Campaign struct {
	Name string `toml:"name"`
	Flow string `toml:"flow"` // the flow a contact who answers hears
	// Queue makes the campaign agent-assisted: a person who answers goes
	// to this [[queue]]'s agents with the contact's variables (their
	// screen: GET /queues), and calls are dialled ahead of the free
	// agents only while the abandons predicted fit the 3 % cap
	// (campaign.Pacing); Lines is then the most calls out at once, and
	// Flow, optional, is what a machine gets (machine = "message").
	Queue string `toml:"queue"`
	// CapWindow is the abandon cap's rolling window besides the whole
	// campaign: "720h" (30 days, the US FTC's rule) when "", "24h" for
	// Ofcom's.
	CapWindow string `toml:"cap_window"`
	// A person no agent was found for within 2 s hears AbandonPrompt
	// (a prompt naming the caller, a recording of the company's name;
	// the prompt campaign-caller when "") and a message asking them to call
	// CallbackNumber (CallerID when ""), read digit by digit.
	AbandonPrompt  string `toml:"abandon_prompt"`
	CallbackNumber string `toml:"callback_number"`
	// Purpose is "service" (the default: notices, follow-ups, surveys of
	// the box's own customers) or "marketing". A marketing campaign is
	// kept apart: it calls only contacts with consent evidence (their
	// consent column), and from a caller ID of its own, never a service
	// campaign's, so that a person can tell the two and refuse one.
	Purpose string `toml:"purpose"`
	// RestHours are hours no call starts in, windows or not, in the
	// contact's zone ("12:00-14:00", a rest at noon).
	RestHours []string `toml:"rest_hours"`
	// RingFor is how long an attempt rings before it is no answer,
	// "40s" when "".
	RingFor string `toml:"ring_for"`
	// AMD tunes the answering-machine detection of detect = "amd";
	// app_amd's defaults where unset.
	AMD AMD `toml:"amd"`
	// Trunk is the trunk group that calls go out through: a [[trunk]], a
	// span group or an FXO line group.
	Trunk string `toml:"trunk"`
	// CallerID is the number the contacts see, the box's name when "".
	CallerID string `toml:"caller_id"`
	Lines    int    `toml:"lines"` // calls out at once, 1 when 0
	// Windows are the hours contacts may be called, "09:00-12:00", in
	// the contact's time zone (its tz column), else Timezone, else the
	// box's; none: any hour.
	Windows  []string `toml:"windows"`
	Timezone string   `toml:"timezone"`
	// MaxAttempts bounds the calls to one contact, 3 when 0; Retry is
	// the wait before the next, by outcome (busy, no-answer, congestion,
	// failed); an outcome not there is not retried. A vacant number or a
	// rejected call is never retried.
	MaxAttempts int               `toml:"max_attempts"`
	Retry       map[string]string `toml:"retry"`
	// Start runs the campaign as the box starts; otherwise it waits for
	// POST /campaigns/{name}/start (and keeps the state it was left in).
	Start bool `toml:"start"`
	// Detect listens to the first seconds of an answered call before the
	// flow starts: "amd" tells an answering machine from a person
	// (media/amd, app_amd's parameters) and hears a network's special
	// information tones (media/sit); "" or "none" starts the flow at once.
	Detect string `toml:"detect"`
	// Machine is what an answering machine gets when Detect is "amd":
	// "hangup" (the default; the contact is tried again after retry
	// "machine") or "message" (the flow plays once the greeting ends,
	// and the contact is done).
	Machine string `toml:"machine"`
}

// AMD is media/amd's parameters (amd.Config), durations as "2500ms".
type AMD struct {
	InitialSilence       string `toml:"initial_silence"`        // 2500ms
	Greeting             string `toml:"greeting"`               // 1500ms
	AfterGreetingSilence string `toml:"after_greeting_silence"` // 800ms
	Total                string `toml:"total"`                  // 5000ms
	MinWord              string `toml:"min_word"`               // 100ms
	BetweenWords         string `toml:"between_words"`          // 50ms
	MaxWords             int    `toml:"max_words"`              // 3
	MaxWordLength        string `toml:"max_word_length"`        // 5000ms
	SilenceThreshold     int    `toml:"silence_threshold"`      // 256 (16-bit linear mean magnitude)
}

// Box names the appliance and the board profile it runs on.
type Box struct {
	Name     string `toml:"name"`
	Board    string `toml:"board"`    // board profile: "sim" or a real board
	Country  string `toml:"country"`  // call-progress tones and ring cadence: "cn", "itu"
	Language string `toml:"language"` // default prompt language: "zh" or "en"
	// MemoryLimitMB is the Go runtime's soft memory limit: the garbage
	// collector works harder as the heap nears it. 0 leaves it unset.
	MemoryLimitMB int `toml:"memory_limit_mb"`
	// Timezone is the IANA zone ("Asia/Shanghai") of the box's calendar:
	// the IVR's time routing and the hours callers choose for a callback.
	// Empty takes [ivr] timezone, where older configs set it, else the
	// system's local time.
	Timezone string `toml:"timezone"`
	// DiskLowMB: below this much free space on the data directory's
	// filesystem, recordings and voicemail are refused, an alarm is
	// raised and the reserve (DiskReserveMB, held in DATA/reserve while
	// there is room) is given back for the records. 0 takes the defaults,
	// 64 and 16.
	DiskLowMB     int `toml:"disk_low_mb"`
	DiskReserveMB int `toml:"disk_reserve_mb"`
}

// Target is a queue's service level target (see Queue.ServiceLevel) as
// a share and a time: 0.8 and 20 s for "80/20", the default.
func (q Queue) Target() (goal float64, answer time.Duration) {
	g, a, err := parseServiceLevel(q.ServiceLevel)
	if err != nil || q.ServiceLevel == "" {
		return 0.8, 20 * time.Second
	}
	return g, a
}

// parseServiceLevel reads "80/20": a percentage (1-99: Erlang C never
// promises all calls) and seconds
// (1-3600).
func parseServiceLevel(s string) (float64, time.Duration, error) {
	p, t, ok := strings.Cut(s, "/")
	pct, err1 := strconv.Atoi(strings.TrimSpace(p))
	secs, err2 := strconv.Atoi(strings.TrimSpace(t))
	if !ok || err1 != nil || err2 != nil || pct < 1 || pct > 99 || secs < 1 || secs > 3600 {
		return 0, 0, fmt.Errorf("service_level %q is not a percentage and seconds like \"80/20\"", s)
	}
	return float64(pct) / 100, time.Duration(secs) * time.Second, nil
}

// Location is the box's time zone (see Box.Timezone) of a validated
// config.
func (c *Config) Location() *time.Location {
	zone := c.Box.Timezone
	if zone == "" {
		zone = c.IVR.Timezone
	}
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
		return loc
	}
	return time.Local
}

// Log selects the slog level and format.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// SIP is the signalling side: where the box listens and how much it admits.
type SIP struct {
	Listen     string   `toml:"listen"`     // host:port for UDP and TCP
	Transports []string `toml:"transports"` // udp, tcp, tls
	// TLS (transport "tls") listens at TLSListen, default the port above
	// Listen's (5061), with the certificate and key of TLSCert and TLSKey
	// (PEM files) or, when they are empty, a self-signed one the box makes
	// at its first start and keeps in its data folder (tls/). TLSCA (PEM)
	// holds the authorities the box checks phones' and carriers'
	// certificates against when it connects to them; empty, it connects
	// encrypted without checking (phones' certificates are self-signed).
	TLSListen         string   `toml:"tls_listen"`
	TLSCert           string   `toml:"tls_cert"`
	TLSKey            string   `toml:"tls_key"`
	TLSCA             string   `toml:"tls_ca"`
	Realm             string   `toml:"realm"`     // digest realm; empty means the box name
	Digest            []string `toml:"digest"`    // digest algorithms offered, most preferred first
	RTPPorts          string   `toml:"rtp_ports"` // "10000-19999": even start, RTCP on port+1
	MaxCalls          int      `toml:"max_calls"` // concurrent calls admitted; 0 means no limit
	MaxCallsPerSecond int      `toml:"max_calls_per_second"`
	AnswerDelayMs     int      `toml:"answer_delay_ms"` // ring this long before the box answers
	// Guests lets callers who are neither a trunk nor authenticated reach
	// the IVR extensions without auth (the public numbers). Off, every
	// such caller is asked for a digest whatever it dials, and learns
	// nothing of the dial plan; callers from the public then come in
	// through trunks.
	Guests bool `toml:"guests"`
}

// HTTP is the local API (status, prompt uploads). An empty listen disables it.
type HTTP struct {
	Listen string `toml:"listen"`
}

// Fleet sends the box's records to headquarters over NATS JetStream
// (package fleet). Off unless Enabled.
type Fleet struct {
	Enabled bool   `toml:"enabled"`
	Site    string `toml:"site"` // the box's name in the subjects: jinyin.SITE.cdr
	// Servers are NATS URLs: nats://host:4222, or tls://host:4222.
	Servers []string `toml:"servers"`
	// Credentials is a .creds file (user JWT and NKey seed), NKey a file
	// holding a user's NKey seed; one of them is needed unless every
	// server is on this box's loopback.
	Credentials string `toml:"credentials"`
	NKey        string `toml:"nkey"`
	// CA verifies the servers' TLS certificates; Cert and Key are the
	// box's own, when the servers ask for one.
	CA     string `toml:"ca"`
	Cert   string `toml:"cert"`
	Key    string `toml:"key"`
	Stream string `toml:"stream"` // the JetStream stream of the events (fleet.StreamSubjects), made if missing
	// OutboxMax bounds the events kept only for headquarters (alarms,
	// KPI snapshots) while it is out of reach; the oldest KPI snapshots
	// go first. CDRs, queue and security events are sent from the
	// store's own records, so they are never dropped for it.
	OutboxMax int `toml:"outbox_max"`
}

// Console is the technician's serial console. An empty device disables it.
type Console struct {
	Device string `toml:"device"`
	Baud   int    `toml:"baud"`
}

// Span is one E1/T1 line-card span.
type Span struct {
	ID        int    `toml:"id"`
	Type      string `toml:"type"`      // e1 or t1
	Driver    string `toml:"driver"`    // sim, socket, or a chip driver of the board
	DChannel  string `toml:"dchannel"`  // socket path for the socket driver
	BChannels string `toml:"bchannels"` // socket driver: path of the B-channels' audio socket (optional)
	// E1D is the osmo-e1d driver's line: "interface/line" ("0/0" when
	// empty), and E1DSocket the daemon's control socket
	// (/tmp/osmo-e1d.ctl when empty).
	E1D        string `toml:"e1d"`
	E1DSocket  string `toml:"e1d_socket"`
	Signalling string `toml:"signalling"` // pri-cpe or pri-net
	SwitchType string `toml:"switchtype"` // euroisdn, qsig, ni2
	Framing    string `toml:"framing"`    // e1: crc4, no-crc4; t1: esf, d4
	Coding     string `toml:"coding"`     // e1: hdb3, ami; t1: b8zs, ami
	Clock      string `toml:"clock"`      // line or internal
	Channels   string `toml:"channels"`   // B-channels in service, "1-15,17-31"
	Group      string `toml:"group"`      // trunk group name
	// T309 is how long a call up survives the span losing its signal or
	// its D-channel before it is cleared (cause 27); default 90s.
	T309 string `toml:"t309"`
}

// Port is one analog port of a line card.
type Port struct {
	ID          int    `toml:"id"`
	Kind        string `toml:"kind"`        // fxs (a phone on it) or fxo (an exchange line)
	Driver      string `toml:"driver"`      // sim, or a chip driver of the board
	Extension   string `toml:"extension"`   // fxs: the extension the phone answers as
	Destination string `toml:"destination"` // fxo: the extension inbound calls land on
	Group       string `toml:"group"`       // fxo: the trunk group that dials out through it
	CallerID    string `toml:"callerid"`    // fsk-v23, fsk-bell202, dtmf or none
	Rings       int    `toml:"rings"`       // fxo: answer on this ring; 0 chooses by callerid
	Line        string `toml:"line"`        // socket driver: path of the SEQPACKET socket the phone or exchange is at
}

// Extension is a number callers and the routing can reach.
type Extension struct {
	Number      string `toml:"number"`
	Name        string `toml:"name"`
	Kind        string `toml:"kind"`         // agent, phone, ivr
	Flow        string `toml:"flow"`         // for kind ivr: the flow that answers
	MaxContacts int    `toml:"max_contacts"` // registrations kept at once
	// Remote makes an agent a seat at another box of the fleet: the queue
	// rings the agent's number through this [[trunk]] (to the box its
	// phone is registered at, where it is an extension) instead of a
	// phone registered here. It logs in and out on this box (its API,
	// console or wallboard), whose queue it serves.
	Remote string `toml:"remote"`
	// Auth makes callers prove, by digest, that they are one of the box's
	// agents or phones: for feature codes such as listening to voicemail.
	Auth bool `toml:"auth"`
	// ACL lists the networks ("192.168.1.0/24", "203.0.113.9") that may
	// register as this extension and call from it; empty allows any.
	ACL []string `toml:"acl"`

	// What the extension's phone may dial out ([[outbound]]); a zero
	// value takes [security]'s.
	DialClasses []string `toml:"dial_classes"` // instead of security.dial_classes
	// PIN is keyed after dialling a number of one of security.pin_classes
	// (4-12 digits); without one those classes are refused.
	PIN               string `toml:"pin"`
	MaxOutbound       int    `toml:"max_outbound"`        // concurrent calls out, default 2
	OutboundPerMinute int    `toml:"outbound_per_minute"` // calls out started in any minute, default 5
	// MaxDestinations stops the extension (its breaker, for
	// security.breaker_time) when it dials more distinct numbers than
	// this within security.destination_window; default 10, under the
	// trunk group's, so a hijacked phone is stopped before it stops the
	// office's trunks.
	MaxDestinations int `toml:"max_destinations"`
	// SRTP is the extension's media encryption (SDES, RFC 4568, over
	// TLS only: the keys travel in the SDP): "" none, "optional" when its
	// phone offers or accepts it, "required" (its calls without are
	// refused, 488).
	SRTP string `toml:"srtp"`
}

// Registers reports whether the extension has phones that register (and
// are rung): agents and phones do, IVR extensions answer themselves.
func (e Extension) Registers() bool { return e.Kind == "agent" || e.Kind == "phone" }

// Extension is the [[extension]] with that number.
func (c *Config) Extension(number string) (Extension, bool) {
	for _, e := range c.Extensions {
		if e.Number == number {
			return e, true
		}
	}
	return Extension{}, false
}

// Outbound is a way out for the box's phones: a number dialled with
// Prefix goes out, Prefix stripped, through the first of Trunks (SIP
// trunks, PRI span groups, FXO line groups) that takes it.
type Outbound struct {
	Prefix string   `toml:"prefix"` // digits, e.g. "9"
	Trunks []string `toml:"trunks"` // tried in order
}

// Queue is a skill group of agents that callers wait in for the next
// one free (IVR transfer "queue:NAME"). Durations are Go durations ("20s").
type Queue struct {
	Name   string         `toml:"name"`
	Agents []string       `toml:"agents"` // agent extensions with this skill
	Levels map[string]int `toml:"levels"` // agent -> skill level 1-10 (5 when left out)
	// Strategy picks among agents equally fit for a caller: longest-idle
	// (default), ring-all, fewest-calls, round-robin, least-talk, random.
	Strategy string `toml:"strategy"`
	// Priority is added to every caller's score here, in seconds of
	// waiting: 120 puts a complaint two minutes ahead of a general call.
	Priority      int    `toml:"priority"`
	RingTimeout   string `toml:"ring_timeout"`    // default 20s; no answer pauses the agent
	WrapUp        string `toml:"wrap_up"`         // after each call, default 10s
	MaxWait       string `toml:"max_wait"`        // then to max_wait_dest, or the transfer's fail
	MaxWaitDest   string `toml:"max_wait_dest"`   // queue
	MaxLength     int    `toml:"max_length"`      // callers waiting; 0 no limit
	MaxLengthDest string `toml:"max_length_dest"` // queue
	OverflowAfter string `toml:"overflow_after"`  // then to overflow, keeping the caller's place in time
	Overflow      string `toml:"overflow"`        // queue
	// WhenEmpty is what a caller meets when no agent is logged in: "join"
	// (default: wait anyway), "leave" (the transfer's fail) or "overflow".
	WhenEmpty string `toml:"when_empty"`
	Announce  string `toml:"announce"` // position and estimated wait every; default 30s, "0s" never
	// Callback offers key 1 while waiting: the box calls back, keeping the
	// caller's place, through CallbackTrunk (or the extension, for a caller
	// who is one).
	Callback           bool   `toml:"callback"`
	CallbackTrunk      string `toml:"callback_trunk"`
	CallbackRetries    int    `toml:"callback_retries"`     // after no answer or busy, default 2
	CallbackRetryDelay string `toml:"callback_retry_delay"` // default 5m
	CallbackPromise    string `toml:"callback_promise"`     // promised within, default 1h
	Survey             bool   `toml:"survey"`               // 1-5 after the agent hangs up
	// ServiceLevel is the queue's target, "80/20": 80 % of calls answered
	// within 20 s (the KPIs' service level counts against it).
	ServiceLevel string `toml:"service_level"`
	Record       bool   `toml:"record"` // stereo WAV of each call: caller left, agent right
	// Music plays while callers wait, between the hold and position
	// prompts: a WAV file (8 kHz mono, 16-bit PCM, A-law or µ-law), a
	// folder of them played in name order, or "builtin:hold", the demo's.
	// It loops, and every caller of the queue hears it at the same place.
	// A relative path starts from the config file's folder (Config.Path).
	// Empty: silence between prompts.
	Music string `toml:"music"`
}

// ACD is what every queue shares.
type ACD struct {
	// Tiers weighs caller tiers in seconds of waiting: with
	// {"key-account" = 300}, a key account is served before anyone who
	// has waited less than 5 minutes longer. Tiers not listed weigh 0.
	Tiers map[string]int `toml:"tiers"`
	// DirectWait is how long a caller who keyed an agent's number waits
	// for that agent before DirectQueue takes over (default 20s).
	DirectWait  string `toml:"direct_wait"`
	DirectQueue string `toml:"direct_queue"`
	// Recordings older than RecordDays, and the oldest beyond RecordMaxMB
	// in all, are deleted; SampleShare of them (0 to 1) are marked for
	// quality review.
	RecordDays  int     `toml:"record_days"`
	RecordMaxMB int     `toml:"record_max_mb"`
	SampleShare float64 `toml:"sample_share"`
	// Supervisors may listen (*15), whisper (*16) or barge (*17) on an
	// agent's call: *15 and the agent's number.
	Supervisors []string `toml:"supervisors"`
	// The KPIs' rules: callers hanging up within ShortAbandon (default
	// 5s) are short abandons, left out of the service level and abandon
	// rate; a caller calling again within RepeatWindow (default 24h) of an
	// answered call makes it not resolved at first contact.
	ShortAbandon string `toml:"short_abandon"`
	RepeatWindow string `toml:"repeat_window"`
}

// Trunk is a SIP trunk to a carrier or a peer PBX.
type Trunk struct {
	Name     string `toml:"name"`
	Host     string `toml:"host"` // host:port of the peer
	Username string `toml:"username"`
	Password string `toml:"password"`
	Register bool   `toml:"register"` // register outbound to the carrier
	Channels int    `toml:"channels"` // concurrent calls; 0 means no limit
	// Destination is the extension inbound calls land on, whatever they
	// dialled (a carrier's DIDs); empty (a trunk from another box of the
	// fleet) lets them dial this box's extensions by number, and nothing
	// else.
	Destination string `toml:"destination"`
	// ACL lists the networks that may send calls as this trunk, beside
	// its host; empty means its host alone.
	ACL []string `toml:"acl"`
	// Transport is how the box reaches the carrier: "udp" (default),
	// "tcp" or "tls"; SRTP as an extension's, over "tls".
	Transport string `toml:"transport"`
	SRTP      string `toml:"srtp"`
	// Qualify is how often the box sends the carrier an OPTIONS ("30s");
	// two going unanswered mark the trunk down, its calls go to the next
	// trunk of their route, and the first answer brings it back. Empty
	// sends none (some carriers do not answer OPTIONS).
	Qualify string `toml:"qualify"`
}
