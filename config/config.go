// Package config is the box's configuration: the TOML schema (Config), the
// embedded default (the demo call centre), strict decoding, validation that
// reports every problem at its FILE:LINE:COL, and --set KEY=VALUE overrides.
//
// It sits at the bottom of the dependency graph: it imports only the standard
// library and go-toml. What it validates against that lives elsewhere (the
// board profiles and the span drivers each provides) is passed in as an Env.
package config

import (
	_ "embed"
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
	Spans      []Span          `toml:"span"`
	Extensions []Extension     `toml:"extension"`
	Trunks     []Trunk         `toml:"trunk"`
	Queues     []Queue         `toml:"queue"`
	IVR        IVR             `toml:"ivr"`
	Flows      map[string]Flow `toml:"flow"`
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
}

// Log selects the slog level and format.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// SIP is the signalling side: where the box listens and how much it admits.
type SIP struct {
	Listen            string   `toml:"listen"`     // host:port for every transport
	Transports        []string `toml:"transports"` // udp, tcp
	Realm             string   `toml:"realm"`      // digest realm; empty means the box name
	Digest            []string `toml:"digest"`     // digest algorithms offered, most preferred first
	RTPPorts          string   `toml:"rtp_ports"`  // "10000-19999": even start, RTCP on port+1
	MaxCalls          int      `toml:"max_calls"`  // concurrent calls admitted; 0 means no limit
	MaxCallsPerSecond int      `toml:"max_calls_per_second"`
	AnswerDelayMs     int      `toml:"answer_delay_ms"` // ring this long before the box answers
}

// HTTP is the local API (status, prompt uploads). An empty listen disables it.
type HTTP struct {
	Listen string `toml:"listen"`
}

// Console is the technician's serial console. An empty device disables it.
type Console struct {
	Device string `toml:"device"`
	Baud   int    `toml:"baud"`
}

// Span is one E1/T1 line-card span.
type Span struct {
	ID         int    `toml:"id"`
	Type       string `toml:"type"`       // e1 or t1
	Driver     string `toml:"driver"`     // sim, socket, or a chip driver of the board
	DChannel   string `toml:"dchannel"`   // socket path for the socket driver
	Signalling string `toml:"signalling"` // pri-cpe or pri-net
	SwitchType string `toml:"switchtype"` // euroisdn, qsig, ni2
	Framing    string `toml:"framing"`    // e1: crc4, no-crc4; t1: esf, d4
	Coding     string `toml:"coding"`     // e1: hdb3, ami; t1: b8zs, ami
	Clock      string `toml:"clock"`      // line or internal
	Channels   string `toml:"channels"`   // B-channels in service, "1-15,17-31"
	Group      string `toml:"group"`      // trunk group name
}

// Extension is a number callers and the routing can reach.
type Extension struct {
	Number      string `toml:"number"`
	Name        string `toml:"name"`
	Kind        string `toml:"kind"`         // agent, phone, ivr
	Flow        string `toml:"flow"`         // for kind ivr: the flow that answers
	MaxContacts int    `toml:"max_contacts"` // registrations kept at once
	// Auth makes callers prove, by digest, that they are one of the box's
	// agents or phones: for feature codes such as listening to voicemail.
	Auth bool `toml:"auth"`
}

// Queue is a group of agents that IVR transfers ("queue:NAME") ring.
type Queue struct {
	Name   string   `toml:"name"`
	Agents []string `toml:"agents"` // agent extensions
}

// Trunk is a SIP trunk to a carrier or a peer PBX.
type Trunk struct {
	Name        string `toml:"name"`
	Host        string `toml:"host"` // host:port of the peer
	Username    string `toml:"username"`
	Password    string `toml:"password"`
	Register    bool   `toml:"register"`    // register outbound to the carrier
	Channels    int    `toml:"channels"`    // concurrent calls; 0 means no limit
	Destination string `toml:"destination"` // extension inbound calls land on
}
