package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFlowRules: the node rules default.toml documents, each as an edit of
// flowBase (old replaced by new, then add appended) that passes or yields
// the issue msg.
func TestFlowRules(t *testing.T) {
	fxo := "[[port]]\nid = 1\nkind = \"fxo\"\ndriver = \"sim\"\ndestination = \"100\"\ngroup = \"lines\"\n"
	fxs := "[[extension]]\nnumber = \"200\"\nkind = \"phone\"\n[[port]]\nid = 1\nkind = \"fxs\"\ndriver = \"sim\"\nextension = \"200\"\ngroup = \"phones\"\n"
	trunk := "[[trunk]]\nname = \"carrier\"\nhost = \"10.0.0.1:5060\"\ndestination = \"100\"\n"
	for _, c := range []struct {
		name, old, new, add string
		msg                 string // "" accepted
	}{
		{"transfer through a PRI span's group", `"queue:general"`, `"trunk:pri/110"`, "", ""},
		{"transfer through an fxo port's group", `"queue:general"`, `"trunk:lines/110"`, fxo, ""},
		{"transfer through a SIP trunk", `"queue:general"`, `"trunk:carrier/${order}"`, trunk, ""},
		{"an fxs port's group is no trunk", `"queue:general"`, `"trunk:phones/110"`, fxs, `no [[trunk]], span group or fxo port group named "phones"`},
		{"a span without a group is no trunk", "group = \"pri\"\n", "", "", ""},
		{"transfer to a group nothing has", `"queue:general"`, `"trunk:nowhere/110"`, "", `no [[trunk]], span group or fxo port group named "nowhere"`},
		{"trunk target without a number", `"queue:general"`, `"trunk:pri"`, "", `target "trunk:pri": want trunk:NAME/NUMBER`},
		{"trunk target with an empty number", `"queue:general"`, `"trunk:pri/"`, "", `target "trunk:pri/": want trunk:NAME/NUMBER`},
		{"transfer to an agent or an extension", `"queue:general"`, `"agent:1001"`, "", ""},
		{"transfer target with nothing after the kind", `"queue:general"`, `"ext:"`, "", `target "ext:": want queue:NAME, agent:NUMBER, ext:NUMBER or trunk:NAME/NUMBER (NUMBER may be ${var})`},
		{"a required next left out", "prompts = [\"information\"]\nnext = \"menu\"\n", "prompts = [\"information\"]\n", "", "next is required"},
		{"a lookup's fail left out", "results = [\"found\"]\nfail = \"menu\"\n", "results = [\"found\"]\n", "", "fail is required"},
		{"the last minute of the day", `hours = "08:00-20:00"`, `hours = "23:59-24:00"`, "", ""},
		{"a minute of 59", `hours = "08:00-20:00"`, `hours = "08:59-20:00"`, "", ""},
		{"past 24:00", `hours = "08:00-20:00"`, `hours = "08:00-24:30"`, "", `hours "08:00-24:30": "24:30" is not a time of day HH:MM`},
		{"a negative hour", `hours = "08:00-20:00"`, `hours = "08:00--1:00"`, "", `hours "08:00--1:00": "-1:00" is not a time of day HH:MM`},
		{"a negative minute", `hours = "08:00-20:00"`, `hours = "08:00-20:-1"`, "", `hours "08:00-20:-1": "20:-1" is not a time of day HH:MM`},
		{"timeouts at their bounds", `timeout = "5s"`, `timeout = "100ms"`, "", ""},
		{"a timeout of a minute", `timeout = "5s"`, `timeout = "1m"`, "", ""},
		{"a timeout below 100 ms", `timeout = "5s"`, `timeout = "99ms"`, "", `timeout "99ms": want a duration from 100ms to 1m0s, e.g. "5s"`},
		{"retries 9", "retries = 2", "retries = 9", "", ""},
		{"retries 10", "retries = 2", "retries = 10", "", "retries must be from 0 to 9, not 10"},
		{"retries -1", "retries = 2", "retries = -1", "", "retries must be from 0 to 9, not -1"},
		{"collect of 1 to 32 digits", "min = 4\nmax = 12", "min = 1\nmax = 32", "", ""},
		{"collect of 33 digits", "max = 12", "max = 33", "", "min and max must satisfy 1 <= min <= max <= 32, not min 4 max 33"},
		// a node x reached by menu key 3 (old "node" marks the case)
		{"tier from a var", "node", "type = \"tier\"\nfrom = \"var\"\nvar = \"tier\"\nnext = \"menu\"", "", ""},
		{"tier from the table", "node", "type = \"tier\"\nfrom = \"table\"\nnext = \"menu\"", "", ""},
		{"tier from a var without var", "node", "type = \"tier\"\nfrom = \"var\"\nnext = \"menu\"", "", "tier from a var needs var, the name of a var a lookup set"},
		{"tier from elsewhere", "node", "type = \"tier\"\nfrom = \"crm\"\nnext = \"menu\"", "", `from must be one of "table", "var", not "crm"`},
		{"lookup over https", "node", "type = \"lookup\"\nurl = \"https://crm.example/x\"\nresults = [\"menu\"]\nfail = \"menu\"", "", ""},
		{"lookup built in", "node", "type = \"lookup\"\nurl = \"builtin:demo-orders\"\nresults = [\"menu\"]\nfail = \"menu\"", "", ""},
		{"lookup without a host", "node", "type = \"lookup\"\nurl = \"http:///x\"\nresults = [\"menu\"]\nfail = \"menu\"", "", `url "http:///x": want http://HOST/PATH, https://... or builtin:NAME`},
		{"lookup without results", "node", "type = \"lookup\"\nurl = \"builtin:x\"\nfail = \"menu\"", "", "lookup needs results: the nodes its answer may choose"},
		{"lookup sending a bad var", "node", "type = \"lookup\"\nurl = \"builtin:x\"\nsend = [\"Order\"]\nresults = [\"menu\"]\nfail = \"menu\"", "", `"Order" is not a var name`},
		{"record a prompt that exists", "node", "type = \"record\"\nprompt = \"information\"\nnext = \"menu\"", "", ""},
		{"record a prompt that does not", "node", "type = \"record\"\nprompt = \"nope\"\nnext = \"menu\"", "", `no prompt "nope" in zh to replace`},
		{"voicemail", "node", "type = \"voicemail\"\nmailbox = \"main\"\nmax_length = \"10m\"\nsilence = \"500ms\"\nnext = \"menu\"", "", ""},
		{"voicemail too long", "node", "type = \"voicemail\"\nmailbox = \"main\"\nmax_length = \"10m1s\"\nnext = \"menu\"", "", `max_length "10m1s": want a duration from 1s to 10m0s, e.g. "5s"`},
		{"mailbox badly named", "node", "type = \"mailbox\"\nmailbox = \"Main\"\nnext = \"menu\"", "", `mailbox "Main": name it with lower-case letters, digits and _`},
		{"subscribe", "node", "type = \"subscribe\"\nlist = \"notices\"\naction = \"unsubscribe\"\nnext = \"menu\"", "", ""},
		{"subscribe to a badly named list", "node", "type = \"subscribe\"\nlist = \"\"\naction = \"subscribe\"\nnext = \"menu\"", "", `list "": name it with lower-case letters, digits and _`},
		{"subscribe doing something else", "node", "type = \"subscribe\"\nlist = \"notices\"\naction = \"toggle\"\nnext = \"menu\"", "", `action must be one of "subscribe", "unsubscribe", not "toggle"`},
		{"language en", "node", "type = \"language\"\nlanguage = \"zh\"\nnext = \"menu\"", "", ""},
		{"language fr", "node", "type = \"language\"\nlanguage = \"fr\"\nnext = \"menu\"", "", `language must be one of "zh", "en", not "fr"`},
		{"a var prompt", "node", "type = \"play\"\nprompts = [\"${status}\", \"digits:${order}\"]\nnext = \"menu\"", "", ""},
		{"a var prompt without braces", "node", "type = \"play\"\nprompts = [\"$status\"]\nnext = \"menu\"", "", `"$status": a var is written ${name}`},
		{"a bad no_input prompt", "node", "type = \"collect\"\nvar = \"pin\"\nmin = 4\nmax = 4\nno_input = [\"nope\"]\nnext = \"menu\"", "", `no prompt "nope" in zh`},
		{"a bad invalid prompt", "node", "type = \"collect\"\nvar = \"pin\"\nmin = 4\nmax = 4\nterminator = \"none\"\ninvalid = [\"nope\"]\nnext = \"menu\"", "", `no prompt "nope" in zh`},
		{"collect into a bad var", "node", "type = \"collect\"\nvar = \"PIN\"\nmin = 4\nmax = 4\nnext = \"menu\"", "", `var "PIN": name the digits with lower-case letters, digits and _`},
		{"an empty list of a key that does not apply", "node", "type = \"play\"\nsend = []\nnext = \"menu\"", "", ""},
		{"a menu without keys", "node", "type = \"menu\"\nprompts = [\"main-menu\"]", "", `menu needs keys, e.g. keys = { "1" = "info" }`},
		{"a time node's holiday to no node", "node", "type = \"time\"\nholiday = \"closed\"\nnext = \"menu\"", "", `no node "closed" in this flow; it has bye, found, hours, info, lookup, menu, order, person, x`},
		{"a digit timeout below 100 ms", "node", "type = \"collect\"\nvar = \"pin\"\nmin = 4\nmax = 4\ndigit_timeout = \"99ms\"\nnext = \"menu\"", "", `digit_timeout "99ms": want a duration from 100ms to 1m0s, e.g. "5s"`},
		{"silence below 500 ms", "node", "type = \"voicemail\"\nmailbox = \"main\"\nsilence = \"499ms\"\nnext = \"menu\"", "", `silence "499ms": want a duration from 500ms to 1m0s, e.g. "5s"`},
		{"collect of 0 digits", "min = 4", "min = 0", "", "min and max must satisfy 1 <= min <= max <= 32, not min 0 max 12"},
	} {
		src := flowBase
		if c.old == "node" {
			src = strings.Replace(src, `"2" = "order" }`, `"2" = "order", "3" = "x" }`, 1) + "[flow.main.node.x]\n" + c.new + "\n"
		} else if c.old != "" {
			if !strings.Contains(src, c.old) {
				t.Fatalf("%s: flowBase lacks %q", c.name, c.old)
			}
			src = strings.Replace(src, c.old, c.new, 1)
		}
		src += c.add
		_, err := Load("f.toml", []byte(src), nil, flowEnv)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: rejected:\n%v", c.name, err)
			}
			continue
		}
		var issues Issues
		if !errors.As(err, &issues) || !slices.ContainsFunc(issues, func(is Issue) bool { return is.Msg == c.msg }) {
			t.Errorf("%s: got\n%v\nwant the issue %q", c.name, err, c.msg)
		}
	}
}

// TestDurationOr: an optional duration key of a validated config, or
// its default when left out.
func TestDurationOr(t *testing.T) {
	for _, c := range []struct {
		s    string
		want time.Duration
	}{{"", 20 * time.Second}, {"2s", 2 * time.Second}, {"0s", 0}, {"1m30s", 90 * time.Second}} {
		if got := DurationOr(c.s, 20*time.Second); got != c.want {
			t.Errorf("DurationOr(%q, 20s) = %v, want %v", c.s, got, c.want)
		}
	}
}
