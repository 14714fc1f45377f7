package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testEnv = Env{Boards: map[string][]string{"sim": {"sim", "socket", "osmo-e1d"}, "armbox": {"ds26521", "socket"}}}

func TestDefaultIsValid(t *testing.T) {
	cfg, err := Load(DefaultName, Default(), nil, testEnv)
	if err != nil {
		t.Fatalf("embedded default rejected:\n%v", err)
	}
	if cfg.SIP.Listen != "127.0.0.1:5060" || cfg.Box.Board != "sim" {
		t.Errorf("default sip.listen=%q board=%q; the mission fixes 127.0.0.1:5060 on sim", cfg.SIP.Listen, cfg.Box.Board)
	}
}

func TestExamplesAreValid(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.toml")
	if len(files) == 0 {
		t.Fatal("no example configs in examples/")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(f, data, nil, testEnv); err != nil {
			t.Errorf("%s rejected:\n%v", f, err)
		}
	}
}

// base is a minimal valid configuration; each case below edits one line.
const base = `[box]
name = "t"
board = "sim"
country = "cn"
language = "zh"
[log]
level = "info"
format = "text"
[sip]
listen = "127.0.0.1:5060"
transports = ["udp", "tcp"]
digest = ["MD5"]
rtp_ports = "10000-10999"
[http]
listen = ""
[console]
device = "/dev/ttyS0"
baud = 115200
[[span]]
id = 1
type = "e1"
driver = "sim"
signalling = "pri-cpe"
switchtype = "euroisdn"
framing = "crc4"
coding = "hdb3"
clock = "line"
channels = "1-15,17-31"
group = "pri"
[[extension]]
number = "100"
kind = "ivr"
flow = "main"
[flow.main]
start = "bye"
[flow.main.node.bye]
type = "hangup"
`

func TestCheckReportsPosition(t *testing.T) {
	cases := []struct {
		kind      string
		old, new  string // replace old with new in base (old "" appends new)
		wantLine  int
		wantCol   int
		wantInMsg string
	}{
		{"syntax error", `name = "t"`, `name = "t`, 2, 10, "new lines"},
		{"unknown key", `format = "text"`, `fromat = "text"`, 8, 1, `unknown key "log.fromat"`},
		{"wrong type", `baud = 115200`, `baud = "fast"`, 18, 8, "want a whole number, got the string \"fast\""},
		{"bad listen address", `listen = "127.0.0.1:5060"`, `listen = "127.0.0.1"`, 10, 10, "not host:port"},
		{"port out of range", `listen = "127.0.0.1:5060"`, `listen = "127.0.0.1:70000"`, 10, 10, "0 to 65535"},
		{"unknown transport", `["udp", "tcp"]`, `["udp", "sctp"]`, 11, 22, `"sctp" is not supported`},
		{"API off loopback", `listen = ""`, `listen = "0.0.0.0:8080"`, 15, 10, "must be a loopback address"},
		{"unknown digest algorithm", `digest = ["MD5"]`, `digest = ["SHA-1"]`, 12, 11, `digest algorithm "SHA-1"`},
		{"odd rtp range", `"10000-10999"`, `"10001-10999"`, 13, 13, "even port"},
		{"unknown board", `board = "sim"`, `board = "moon"`, 3, 9, `unknown board profile "moon"`},
		{"unknown country", `country = "cn"`, `country = "mars"`, 4, 11, "country must be one of"},
		{"bad log level", `level = "info"`, `level = "loud"`, 7, 9, "level must be one of"},
		{"non-standard baud", `baud = 115200`, `baud = 12345`, 18, 8, "not a standard rate"},
		{"bad span type", `type = "e1"`, `type = "j1"`, 21, 8, "type must be one of"},
		{"driver not on board", `driver = "sim"`, `driver = "ds26521"`, 22, 10, `board "sim" has no span driver "ds26521"`},
		{"socket without dchannel", `driver = "sim"`, `driver = "socket"`, 19, 3, "needs dchannel"},
		{"framing of other type", `framing = "crc4"`, `framing = "esf"`, 25, 11, "framing must be one of"},
		{"D-channel as B-channel", `"1-15,17-31"`, `"1-31"`, 28, 12, "channel 16 is the D-channel"},
		{"channel past the span", `"1-15,17-31"`, `"1-15,17-32"`, 28, 12, "channel 32 does not exist"},
		{"malformed channel list", `"1-15,17-31"`, `"1-15,x"`, 28, 12, `"x" is not a channel`},
		{"duplicate span id", "", "[[span]]\nid = 1\ntype = \"e1\"\ndriver = \"sim\"\nsignalling = \"pri-net\"\nswitchtype = \"qsig\"\nframing = \"no-crc4\"\ncoding = \"ami\"\nclock = \"internal\"\nchannels = \"1\"\n", 39, 6, "span id 1 is already used"},
		{"ivr without flow", `flow = "main"`, `name = "menu"`, 30, 3, "needs a flow"},
		{"trunk to unknown extension", "", "[[trunk]]\nname = \"c\"\nhost = \"10.0.0.1:5060\"\ndestination = \"999\"\n", 41, 15, `destination "999" is not a configured extension`},
		{"registering trunk without secret", "", "[[trunk]]\nname = \"c\"\nhost = \"10.0.0.1:5060\"\nregister = true\ndestination = \"100\"\n", 41, 12, "needs username and password"},
		{"duplicate extension", "", "[[extension]]\nnumber = \"100\"\nkind = \"phone\"\n", 39, 10, "extension 100 is defined twice"},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			src := base + tc.new
			if tc.old != "" {
				if !strings.Contains(base, tc.old) {
					t.Fatalf("base lacks %q", tc.old)
				}
				src = strings.Replace(base, tc.old, tc.new, 1)
			}
			_, err := Load("f.toml", []byte(src), nil, testEnv)
			var issues Issues
			if !errors.As(err, &issues) || len(issues) == 0 {
				t.Fatalf("accepted; want an issue at %d:%d (%s)", tc.wantLine, tc.wantCol, tc.wantInMsg)
			}
			got := issues[0]
			if got.File != "f.toml" || got.Line != tc.wantLine || got.Col != tc.wantCol || !strings.Contains(got.Msg, tc.wantInMsg) {
				t.Errorf("got %v\nwant f.toml:%d:%d: ...%s...", issues, tc.wantLine, tc.wantCol, tc.wantInMsg)
			}
		})
		seen[tc.kind] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d kinds of error covered", len(seen))
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	src := strings.Replace(base, `level = "info"`, `level = "loud"`, 1)
	src = strings.Replace(src, `type = "e1"`, `type = "j1"`, 1)
	src = strings.Replace(src, `country = "cn"`, `country = "xx"`, 1)
	_, err := Load("f.toml", []byte(src), nil, testEnv)
	var issues Issues
	if !errors.As(err, &issues) || len(issues) != 3 {
		t.Fatalf("want 3 issues, got %v", err)
	}
	if issues[0].Line != 4 || issues[1].Line != 7 || issues[2].Line != 21 {
		t.Errorf("issues not in file order: %v", issues)
	}
	unknown := strings.Replace(base, "format =", "fmt =", 1)
	unknown = strings.Replace(unknown, "clock =", "clk =", 1)
	// Both unknown keys, and the key the misspelt one left missing (a
	// [[span]] has no default to take it from).
	if _, err := Load("f.toml", []byte(unknown), nil, testEnv); !errors.As(err, &issues) || len(issues) != 3 ||
		!strings.Contains(issues[0].Msg, `"log.fmt": did you mean "format"?`) || !strings.Contains(issues[1].Msg, "clock is missing") ||
		!strings.Contains(issues[2].Msg, `"span.0.clk": did you mean "clock"?`) {
		t.Fatalf("want both unknown keys and the missing clock reported, got %v", err)
	}
}

func TestSet(t *testing.T) {
	cfg, err := Load("f.toml", []byte(base), []string{
		"sip.listen=127.0.0.1:15060",
		"console.device=/dev/ttyUSB0",
		"console.baud=9600",
		"span.0.clock=internal",
		`sip.transports=["tcp"]`,
		`extension.0.number="200"`,
	}, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SIP.Listen != "127.0.0.1:15060" || cfg.Console.Device != "/dev/ttyUSB0" || cfg.Console.Baud != 9600 ||
		cfg.Spans[0].Clock != "internal" || len(cfg.SIP.Transports) != 1 || cfg.Extensions[0].Number != "200" {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	for _, tc := range []struct{ set, want string }{
		{"sip.lisen=x", `--set sip.lisen: unknown key "sip.lisen"`},
		{"console.baud=fast", "--set console.baud: want a whole number"},
		{"span.3.clock=line", "--set span.3.clock: span has 1 entries"},
		{"sip", "--set sip: want KEY=VALUE"},
		{"sip.listen=nowhere", `--set sip.listen: "nowhere" is not host:port`},
		{"sip=1", "--set sip: sip is a table"},
	} {
		_, err := Load("f.toml", []byte(base), []string{tc.set}, testEnv)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("--set %s: got %v, want %s", tc.set, err, tc.want)
		}
	}
}

func TestParseChannels(t *testing.T) {
	got, err := ParseChannels("17-19, 1,3")
	if err != nil || len(got) != 5 || got[0] != 1 || got[4] != 19 {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range []string{"", "3-1", "0", "1,1", "a-b", "1-"} {
		if _, err := ParseChannels(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(base))
	f.Add(Default())
	f.Add([]byte(flowBase))
	f.Add([]byte("[flow.a]\nstart = \"x\"\n[flow.a.node.x]\ntype = \"time\"\nrules = [{days = \"sun-sat\", hours = \"00:00-24:00\", next = \"x\"}]\n"))
	f.Add([]byte("[[span]]\n[span.x]\na=1\n[[span]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load("f", data, nil, testEnv)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("want exactly one of config and error, got %v and %v", cfg, err)
		}
		var issues Issues
		if err != nil && (!errors.As(err, &issues) || len(issues) == 0) {
			t.Fatalf("error is not Issues: %v", err)
		}
	})
}

// Text (what the console's config save writes) reads back as the same
// configuration.
func TestTextRoundTrips(t *testing.T) {
	cfg, err := Load(DefaultName, Default(), nil, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Load("saved", []byte(Text(cfg)), nil, testEnv)
	if err != nil {
		t.Fatalf("saved text rejected:\n%v", err)
	}
	if Text(again) != Text(cfg) {
		t.Error("the saved text does not read back as the same configuration")
	}
}

// TestLocation: the box has one time zone, [box] timezone; older configs
// set it in [ivr], which still counts; two different ones are a problem.
func TestLocation(t *testing.T) {
	for _, tc := range []struct {
		box, ivr string
		want     string // the zone's name, or the problem
	}{
		{"", "", "Local"}, // set empty
		{"Asia/Shanghai", "", "Asia/Shanghai"},
		{"", "Asia/Shanghai", "Asia/Shanghai"},
		{"Europe/Berlin", "Europe/Berlin", "Europe/Berlin"},
		{"Mars/Olympus", "", `unknown time zone "Mars/Olympus"`},
		{"Asia/Shanghai", "Europe/Berlin", `the box has one time zone: [box] timezone is "Asia/Shanghai"`},
	} {
		var sets []string
		sets = append(sets, "box.timezone="+tc.box) // "" too: a file that leaves it out takes the default's

		if tc.ivr != "" {
			sets = append(sets, "ivr.timezone="+tc.ivr)
		}
		cfg, err := Load("f.toml", []byte(base), sets, testEnv)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("box %q, ivr %q: %v, want %s", tc.box, tc.ivr, err, tc.want)
			}
		case cfg.Location().String() != tc.want:
			t.Errorf("box %q, ivr %q: zone %s, want %s", tc.box, tc.ivr, cfg.Location(), tc.want)
		}
	}
}

func TestQueueTarget(t *testing.T) {
	for _, c := range []struct {
		sl   string
		goal float64
		ans  time.Duration
	}{{"", 0.8, 20 * time.Second}, {"90/30", 0.9, 30 * time.Second}, {"99/1", 0.99, time.Second}, {"100/1", 0.8, 20 * time.Second}, {"bad", 0.8, 20 * time.Second}} {
		if g, a := (Queue{ServiceLevel: c.sl}).Target(); g != c.goal || a != c.ans {
			t.Errorf("%q: %v/%v, want %v/%v", c.sl, g, a, c.goal, c.ans)
		}
	}
}

// TestParseWindow: calling windows as HH:MM-HH:MM, 24:00 the end of the
// day, the end after the start.
func TestParseWindow(t *testing.T) {
	for _, c := range []struct {
		in         string
		start, end time.Duration
		ok         bool
	}{
		{"09:00-21:00", 9 * time.Hour, 21 * time.Hour, true},
		{"13:30-24:00", 13*time.Hour + 30*time.Minute, 24 * time.Hour, true},
		{"00:00-00:01", 0, time.Minute, true},
		{"21:00-09:00", 0, 0, false},
		{"09:00-09:00", 0, 0, false},
		{"9-21", 0, 0, false},
		{"09:00", 0, 0, false},
		{"24:00-24:00", 0, 0, false},
		{"09:60-10:00", 0, 0, false},
	} {
		start, end, err := ParseWindow(c.in)
		if (err == nil) != c.ok || start != c.start || end != c.end {
			t.Errorf("ParseWindow(%q) = %v, %v, %v; want %v, %v, ok %v", c.in, start, end, err, c.start, c.end, c.ok)
		}
	}
}
