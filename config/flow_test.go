package config

import (
	"errors"
	"strings"
	"testing"
)

// flowBase is base with a small valid flow in place of the one-node one:
// a time check, a menu, a collect, a lookup with its results, a transfer.
var flowBase = strings.Replace(base, "[flow.main]\nstart = \"bye\"\n[flow.main.node.bye]\ntype = \"hangup\"\n", `[[queue]]
name = "general"
agents = ["1001"]
[[extension]]
number = "1001"
kind = "agent"
[ivr]
timezone = "Asia/Shanghai"
holidays = ["2026-10-01"]
[flow.main]
start = "hours"
operator = "person"
[flow.main.node.hours]
type = "time"
rules = [{ days = "mon-fri", hours = "08:00-20:00", next = "menu" }]
holiday = "bye"
next = "bye"
[flow.main.node.menu]
type = "menu"
prompts = ["main-menu"]
keys = { "1" = "info", "2" = "order" }
timeout = "5s"
retries = 2
fail = "bye"
[flow.main.node.info]
type = "play"
prompts = ["information"]
next = "menu"
[flow.main.node.order]
type = "collect"
prompts = ["enter-order"]
var = "order"
min = 4
max = 12
next = "lookup"
fail = "menu"
[flow.main.node.lookup]
type = "lookup"
url = "http://127.0.0.1:9/orders"
send = ["order"]
timeout = "2s"
results = ["found"]
fail = "menu"
[flow.main.node.found]
type = "play"
prompts = ["order-status-is", "${status}", "date:${date}"]
next = "menu"
[flow.main.node.person]
type = "transfer"
target = "queue:general"
fail = "bye"
[flow.main.node.bye]
type = "hangup"
prompts = ["goodbye"]
`, 1)

var prompts = map[string]bool{"main-menu": true, "information": true, "enter-order": true, "order-status-is": true, "goodbye": true}

var flowEnv = Env{Boards: testEnv.Boards, Prompt: func(lang, id string) bool { return prompts[id] && (lang == "zh" || id != "goodbye") }}

func TestFlowBaseIsValid(t *testing.T) {
	cfg, err := Load("f.toml", []byte(flowBase), nil, flowEnv)
	if err != nil {
		t.Fatal(err)
	}
	if n := cfg.Flows["main"].Nodes["menu"]; n.Keys["2"] != "order" || n.Retries != 2 {
		t.Errorf("menu decoded as %+v", n)
	}
}

// TestCheckFlows: each case edits flowBase; the issue must point at the
// first occurrence of at in the edited text (its line and column).
func TestCheckFlows(t *testing.T) {
	cases := []struct {
		kind, old, new, at, msg string
	}{
		{"unknown node type", `type = "play"`, `type = "sing"`, `"sing"`, `node type "sing"`},
		{"key of another type", "next = \"menu\"\n[flow.main.node.order]", "next = \"menu\"\nvar = \"x\"\n[flow.main.node.order]", `"x"`, "var does not apply to a play node"},
		{"missing next", "prompts = [\"information\"]\nnext = \"menu\"\n", "prompts = [\"information\"]\n", `[flow.main.node.info]`, "next is required"},
		{"next to no node", `next = "lookup"`, `next = "lokup"`, `"lokup"`, `no node "lokup"`},
		{"menu key to no node", `"2" = "order"`, `"2" = "ordr"`, `"ordr"`, `no node "ordr"`},
		{"menu key not a digit", `"2" = "order"`, `"22" = "order"`, `"22" =`, `key "22" is not a DTMF digit`},
		{"missing prompt", `prompts = ["information"]`, `prompts = ["informatoin"]`, `"informatoin"`, `no prompt "informatoin" in zh`},
		{"prompt missing in a language the flow speaks", "[flow.main.node.person]", "[flow.main.node.en]\ntype = \"language\"\nlanguage = \"en\"\nnext = \"menu\"\n[flow.main.node.person]", `["goodbye"]`, `no prompt "goodbye" in en`},
		{"bad read-back", `"date:${date}"`, `"date:date"`, `"date:date"`, "must be a ${var}"},
		{"unknown read-back kind", `"date:${date}"`, `"money:${date}"`, `"money:${date}"`, `kind must be one of`},
		{"collect bounds", `min = 4`, `min = 14`, `14`, "min <= max"},
		{"collect terminator", "max = 12\n", "max = 12\nterminator = \"x\"\n", `"x"`, "terminator must be"},
		{"bad duration", `timeout = "5s"`, `timeout = "5"`, `"5"`, `timeout "5": want a duration`},
		{"bad days", `days = "mon-fri"`, `days = "mon-fry"`, `"mon-fry"`, `"fry" is not a day`},
		{"bad hours", `hours = "08:00-20:00"`, `hours = "20:00-08:00"`, `"20:00-08:00"`, "end must come after"},
		{"bad holiday", `["2026-10-01"]`, `["2026-13-01"]`, `"2026-13-01"`, "not a date"},
		{"bad zone", `"Asia/Shanghai"`, `"Asia/Shang"`, `"Asia/Shang"`, "unknown time zone"},
		{"lookup without fallback", "results = [\"found\"]\nfail = \"menu\"\n", "results = [\"found\"]\n", `[flow.main.node.lookup]`, "fail is required"},
		{"lookup url", `"http://127.0.0.1:9/orders"`, `"ftp://x/orders"`, `"ftp://x/orders"`, "want http://"},
		{"transfer to no queue", `"queue:general"`, `"queue:sales"`, `"queue:sales"`, `no [[queue]] named "sales"`},
		{"transfer target kind", `"queue:general"`, `"pstn:110"`, `"pstn:110"`, "want queue:NAME"},
		{"queue of a non-agent", `agents = ["1001"]`, `agents = ["100"]`, `"100"]`, `"100" is not an extension of kind "agent"`},
		{"unreachable node", "", "[flow.main.node.lost]\ntype = \"hangup\"\n", `[flow.main.node.lost]`, `node "lost" cannot be reached`},
		{"loop without input", "\"date:${date}\"]\nnext = \"menu\"", "\"date:${date}\"]\nnext = \"found\"", `[flow.main.node.found]`, "loop without input: found -> found"},
		{"start names no node", `start = "hours"`, `start = "open"`, `"open"`, `no node "open"`},
		{"extension to no flow", `flow = "main"`, `flow = "mian"`, `"mian"`, `no flow "mian"`},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			src := flowBase + tc.new
			if tc.old != "" {
				if !strings.Contains(flowBase, tc.old) {
					t.Fatalf("flowBase lacks %q", tc.old)
				}
				src = strings.Replace(flowBase, tc.old, tc.new, 1)
			}
			i := strings.Index(src, tc.at)
			if i < 0 {
				t.Fatalf("edited text lacks %q", tc.at)
			}
			line := strings.Count(src[:i], "\n") + 1
			col := i - strings.LastIndex(src[:i], "\n")
			if strings.HasPrefix(tc.at, "[") {
				col++ // a table is reported at its name, after the bracket
			}
			_, err := Load("f.toml", []byte(src), nil, flowEnv)
			var issues Issues
			if !errors.As(err, &issues) || len(issues) == 0 {
				t.Fatalf("accepted; want %q at %d:%d", tc.msg, line, col)
			}
			for _, is := range issues {
				if strings.Contains(is.Msg, tc.msg) {
					if is.Line != line || is.Col != col {
						t.Errorf("%v\nwant it at %d:%d", is, line, col)
					}
					return
				}
			}
			t.Errorf("got %v\nwant %q at %d:%d", issues, tc.msg, line, col)
		})
	}
}

func TestParseDaysAndHours(t *testing.T) {
	d, err := ParseDays("fri-mon")
	if err != nil || !d[5] || !d[6] || !d[0] || !d[1] || d[2] || d[3] || d[4] {
		t.Errorf("fri-mon = %v, %v", d, err)
	}
	d, err = ParseDays("sat,sun")
	if err != nil || !d[6] || !d[0] || d[1] {
		t.Errorf("sat,sun = %v, %v", d, err)
	}
	from, to, err := ParseHours("08:30-24:00")
	if err != nil || from != 510 || to != 1440 {
		t.Errorf("08:30-24:00 = %d %d %v", from, to, err)
	}
	for _, bad := range []string{"8-20", "08:00-25:00", "08:60-09:00", "10:00-10:00"} {
		if _, _, err := ParseHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
