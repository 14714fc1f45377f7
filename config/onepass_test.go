package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestEveryProblemInOnePass: a hand-written file with problems of every
// kind (misspelt keys, a value of the wrong type, bad values, a
// reference to nothing) gets all of them at once, each at its
// FILE:LINE:COL, in the file's order, in the user's words.
func TestEveryProblemInOnePass(t *testing.T) {
	src := `[log]
level = "loud"

[sip]
lisen = "127.0.0.1:5060"
max_calls = "many"
transports = ["udp", 5]

[acd]
direct_wait = 20

[[queue]]
name = "sales"
agents = ["1001"]
strategy = "fastest"
strtegy = "ring-all"
overflow = "nowhere"
`
	_, err := Load("f.toml", []byte(src), nil, testEnv)
	var issues Issues
	if !errors.As(err, &issues) {
		t.Fatalf("accepted: %v", err)
	}
	want := []string{
		`f.toml:2:9: level must be one of "debug", "info", "warn", "error", not "loud"`,
		`f.toml:5:1: unknown key "sip.lisen": did you mean "listen"?`,
		`f.toml:6:13: sip.max_calls: want a whole number, got the string "many"`,
		`f.toml:7:22: sip.transports.1: want a string (in quotes), got the number 5`,
		`f.toml:10:15: acd.direct_wait: want a string (in quotes), got the number 20`,
		`f.toml:14:11: "1001" is not an extension of kind "agent"`, // a site of its own: none of the demo's agents
		`f.toml:15:12: strategy must be one of`,
		`f.toml:16:1: unknown key "queue.0.strtegy": did you mean "strategy"?`,
		`f.toml:17:12: `,
	}
	if len(issues) != len(want) {
		t.Fatalf("got %d issues, want %d:\n%v", len(issues), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(issues[i].String(), w) {
			t.Errorf("issue %d: %s\nwant %s…", i, issues[i], w)
		}
	}
	if !strings.Contains(issues[8].Msg, "nowhere") {
		t.Errorf("the overflow to nowhere: %s", issues[8])
	}
}

// TestMinimalConfig: a file of one [sip] listen line runs the demo: every
// other key is the embedded default's, and the merged result reads back
// as itself (what `jinyin config show` prints).
func TestMinimalConfig(t *testing.T) {
	cfg, err := Load("f.toml", []byte("[sip]\nlisten = \"127.0.0.1:15060\"\n"), nil, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	def, err := Load(DefaultName, Default(), []string{"sip.listen=127.0.0.1:15060"}, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if Text(cfg) != Text(def) {
		t.Errorf("the minimal file is not the default with its listen:\n%s", Text(cfg))
	}
	// The tree's way round (parse, check, merge, write, decode) loses
	// nothing: the default decoded straight from its text is the same.
	var direct Config
	if err := toml.NewDecoder(bytes.NewReader(Default())).DisallowUnknownFields().Decode(&direct); err != nil {
		t.Fatal(err)
	}
	direct.SIP.Listen = "127.0.0.1:15060"
	if Text(&direct) != Text(def) {
		t.Errorf("the default through the tree differs from the default decoded straight")
	}
	if len(cfg.Extensions) == 0 || len(cfg.Queues) == 0 || cfg.Flows["main"].Start == "" || cfg.SIP.MaxCalls == 0 {
		t.Error("the demo's site or settings are missing")
	}
	again, err := Load("shown", []byte(Text(cfg)), nil, testEnv)
	if err != nil || Text(again) != Text(cfg) {
		t.Errorf("the merged text does not read back: %v", err)
	}
}

// TestOwnSiteReplacesTheDemo: a file with a site of its own (here one
// extension) takes none of the demo's extensions, queues, flows, spans,
// ports, trunks, routes or supervisors, whose references would dangle,
// but still takes the default's settings.
func TestOwnSiteReplacesTheDemo(t *testing.T) {
	src := "[[extension]]\nnumber = \"100\"\nname = \"desk\"\nkind = \"phone\"\n"
	cfg, err := Load("f.toml", []byte(src), nil, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Extensions) != 1 || len(cfg.Queues) != 0 || len(cfg.Flows) != 0 || len(cfg.Spans) != 0 || len(cfg.Ports) != 0 ||
		len(cfg.Outbound) != 0 || len(cfg.ACD.Supervisors) != 0 || cfg.ACD.DirectQueue != "" {
		t.Errorf("the demo's site came along: %d extensions, %d queues, %d flows, %d spans, %d ports, %d routes, supervisors %v, direct queue %q",
			len(cfg.Extensions), len(cfg.Queues), len(cfg.Flows), len(cfg.Spans), len(cfg.Ports), len(cfg.Outbound), cfg.ACD.Supervisors, cfg.ACD.DirectQueue)
	}
	if cfg.SIP.Listen == "" || cfg.Security.FloodDensity != 100 || cfg.ACD.RecordDays != 90 {
		t.Error("the default's settings did not come along")
	}
}

// TestMissingKeyAtItsTable: a key with nothing to take it from (an
// element of an array of tables the file wrote) is reported as missing,
// at the table that lacks it.
func TestMissingKeyAtItsTable(t *testing.T) {
	src := "[sip]\nlisten = \"127.0.0.1:15060\"\n\n[[span]]\nid = 1\ntype = \"e1\"\ndriver = \"sim\"\nsignalling = \"pri-cpe\"\nswitchtype = \"euroisdn\"\nframing = \"crc4\"\ncoding = \"hdb3\"\nchannels = \"1-15,17-31\"\n"
	_, err := Load("f.toml", []byte(src), nil, testEnv)
	if err == nil || !strings.Contains(err.Error(), `f.toml:4:3: clock is missing: set it to one of "line", "internal"`) {
		t.Errorf("got %v", err)
	}
}

// TestSetReachesFlowNodes: --set reaches keys inside [flow.NAME.node.ID]
// tables and their inline tables, and says which names exist when one
// does not.
func TestSetReachesFlowNodes(t *testing.T) {
	cfg, err := Load(DefaultName, Default(), []string{"flow.main.node.menu.timeout=9s", "flow.main.node.menu.keys.7=welcome"}, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Flows["main"].Nodes["menu"]
	if n.Timeout != "9s" || n.Keys["7"] != "welcome" || n.Keys["9"] != "agent-id" || n.Type != "menu" {
		t.Errorf("menu %+v, start %q", n, cfg.Flows["main"].Start)
	}
	for _, tc := range []struct{ set, want string }{
		{"flow.nowhere.start=x", `--set flow.nowhere.start: flow has no "nowhere"; it has "announcement"`},
		{"flow.main.node.menu.timeout=9", `--set flow.main.node.menu.timeout: `},
		{"flow.main.node.menu.retries=many", `--set flow.main.node.menu.retries: want a whole number, not "many"`},
		{"flow.main.node=1", `--set flow.main.node: flow.main.node is a table; set one of its keys`},
	} {
		_, err := Load(DefaultName, Default(), []string{tc.set}, testEnv)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("--set %s: got %v, want %s…", tc.set, err, tc.want)
		}
	}
}

// TestDefaultsKeepTheirPlace: what a file leaves out is the default's,
// but not where that would change a file's meaning. A box of its own site
// keeps guests out unless its file lets them in; an older file's [ivr]
// timezone is the box's zone; a table of names ([acd] tiers) is the
// file's whole; a site key the checks dropped still means a site of the
// file's own; a problem in the file is not blamed on an unrelated --set.
func TestDefaultsKeepTheirPlace(t *testing.T) {
	own := "[[extension]]\nnumber = \"100\"\nname = \"desk\"\nkind = \"phone\"\n"
	if cfg, err := Load("f.toml", []byte(own), nil, testEnv); err != nil || cfg.SIP.Guests {
		t.Errorf("a site of its own: guests %v (%v), want off", cfg != nil && cfg.SIP.Guests, err)
	}
	if cfg, err := Load("f.toml", []byte("[sip]\nlisten = \"127.0.0.1:15060\"\n"), nil, testEnv); err != nil || !cfg.SIP.Guests {
		t.Errorf("the demo's site: guests off (%v), want the demo's on", err)
	}
	cfg, err := Load("f.toml", []byte("[ivr]\ntimezone = \"Europe/Berlin\"\n"), nil, testEnv)
	if err != nil || cfg.Location().String() != "Europe/Berlin" {
		t.Errorf("an older file's [ivr] timezone: %v", err)
	}
	cfg, err = Load("f.toml", []byte("[acd]\ntiers = { vip = 500 }\n"), nil, testEnv)
	if err != nil || len(cfg.ACD.Tiers) != 1 || cfg.ACD.Tiers["vip"] != 500 {
		t.Errorf("tiers %v (%v), want the file's vip alone", cfg.ACD.Tiers, err)
	}
	if cfg.ACD.RecordDays != 90 {
		t.Errorf("[acd] record_days %d, want the default's 90 beside the file's tiers", cfg.ACD.RecordDays)
	}
	_, err = Load("f.toml", []byte("[[extension]]\nnumber = 100\n"), nil, testEnv)
	if err == nil || strings.Contains(err.Error(), "embedded default") {
		t.Errorf("an extension of the wrong type brought the demo's site back: %v", err)
	}
	_, err = Load("f.toml", []byte("[acd]\nrecord_days = -1\n"), []string{"acd.tiers.vip=1"}, testEnv)
	if err == nil || !strings.HasPrefix(err.Error(), "f.toml:2:15: record_days") {
		t.Errorf("a file's problem beside an unrelated --set: %v", err)
	}
}
