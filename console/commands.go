package console

import (
	"fmt"

	"jinyin/config"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// command is one console command: its words (matched by unambiguous
// prefixes), what follows them, and what it does.
type command struct {
	words []string
	args  string
	help  string
	run   func(c *Console, args []string) (string, error)
}

var commands []command

func init() {
	commands = []command{
		{words: []string{"help"}, args: "[COMMAND]", help: "list the commands, or how to use one", run: (*Console).cmdHelp},
		{words: []string{"show", "spans"}, help: "every span: type, framing, coding, clock, alarms", run: (*Console).showSpans},
		{words: []string{"show", "span"}, args: "N", help: "one span in detail", run: (*Console).showSpan},
		{words: []string{"show", "alarms"}, help: "spans with alarms, toll-fraud breakers open", run: (*Console).showAlarms},
		{words: []string{"show", "channels"}, help: "every B-channel, analog port and SIP leg with its state", run: (*Console).showChannels},
		{words: []string{"show", "calls"}, help: "calls up now", run: (*Console).showCalls},
		{words: []string{"show", "queues"}, help: "callers waiting, longest wait, agents per queue", run: (*Console).showQueues},
		{words: []string{"show", "agents"}, help: "agents: login, pause, state, calls", run: (*Console).showAgents},
		{words: []string{"show", "registrations"}, help: "phones and trunks registered", run: (*Console).showRegs},
		{words: []string{"show", "voicemail"}, args: "[MAILBOX]", help: "messages left, new first", run: (*Console).showVoicemail},
		{words: []string{"show", "recordings"}, args: "[sampled]", help: "queue call recordings, or those sampled for review", run: (*Console).showRecordings},
		{words: []string{"show", "kpi"}, args: "[today|hour]", help: "service level, abandon rate, ASA, AHT, callbacks, survey", run: (*Console).showKPI},
		{words: []string{"show", "bans"}, help: "sources banned now, until when and why", run: (*Console).showBans},
		{words: []string{"show", "security"}, args: "[N]", help: "the newest security events (20, or N)", run: (*Console).showSecurity},
		{words: []string{"ban", "lift"}, args: "ADDR", help: "end a source's ban now", run: (*Console).banLift},
		{words: []string{"breaker", "lift"}, args: "extension N | trunk group NAME", help: "let a stopped extension or trunk group call out again", run: (*Console).breakerLift},
		{words: []string{"span"}, args: "N loopback local|network|off", help: "loop a span for line tests", run: (*Console).spanLoop},
		{words: []string{"pri", "debug"}, args: "span N on|off", help: "show a span's D-channel decoded (Q.921 and Q.931)", run: (*Console).priDebug},
		{words: []string{"sip", "debug"}, args: "on|off", help: "show every SIP message sent and received", run: (*Console).sipDebug},
		{words: []string{"agent"}, args: "ID pause [REASON] | unpause | login | logout", help: "change an agent's state", run: (*Console).agent},
		{words: []string{"config", "show"}, help: "the running configuration", run: (*Console).configShow},
		{words: []string{"config", "check"}, help: "check the config file with the changes staged", run: (*Console).configCheck},
		{words: []string{"config", "set"}, args: "KEY VALUE", help: "stage a change, checked at once", run: (*Console).configSet},
		{words: []string{"config", "save"}, help: "write the staged changes to the file", run: (*Console).configSave},
		{words: []string{"config", "reload"}, help: "restart the box on the config file", run: (*Console).configReload},
		{words: []string{"update", "status"}, help: "the firmware slot running, whether it is confirmed, the update history", run: (*Console).updateStatus},
		{words: []string{"update", "apply"}, args: "PATH", help: "check a signed update (a file on a USB stick, or its device) and write it to the other slot", run: (*Console).updateApply},
		{words: []string{"update", "receive"}, help: "take a signed update pasted as base64 on this console and write it to the other slot", run: nil},
		{words: []string{"update", "reboot"}, args: "[drain|HH:MM]", help: "boot the staged update once as a trial: after draining the calls, or at a time of day", run: (*Console).updateReboot},
		{words: []string{"backup"}, help: "the configuration and all data, as base64 to capture", run: (*Console).backup},
		{words: []string{"restore"}, help: "paste a backup: it replaces the configuration and data (asks first)", run: nil},
		{words: []string{"reboot"}, help: "restart the box (asks first)", run: nil},
		{words: []string{"factory-reset"}, help: "erase all data and restart (asks first)", run: nil},
		{words: []string{"passwd"}, help: "change the admin password", run: nil},
		{words: []string{"web", "passwd"}, args: "USER [supervisor|viewer]", help: "set a wallboard/API account's password (supervisor when no role)", run: nil},
		{words: []string{"exit"}, help: "log out", run: nil},
	}
}

// match finds the command a line names, and its arguments. Each word may
// be any prefix that names one word only among the commands that matched
// so far.
func match(line string) (*command, []string, error) {
	toks := strings.Fields(line)
	cands := make([]*command, 0, len(commands))
	for i := range commands {
		cands = append(cands, &commands[i])
	}
	for i, tok := range toks {
		words := map[string]bool{}
		for _, c := range cands {
			if i < len(c.words) && strings.HasPrefix(c.words[i], tok) {
				words[c.words[i]] = true
			}
		}
		var exact string
		for w := range words {
			if w == tok {
				exact = w
			}
		}
		var chosen string
		switch {
		case exact != "":
			chosen = exact
		case len(words) == 1:
			for w := range words {
				chosen = w
			}
		case len(words) > 1:
			// "sh sp" is show spans, "sh sp 1" show span 1: among the words
			// a prefix fits, take the one whose command fits what follows
			// (arguments or none), when only one does.
			rest := len(toks) > i+1
			fit := map[string]bool{}
			for _, c := range cands {
				if len(c.words) == i+1 && words[c.words[i]] && (c.args != "") == rest {
					fit[c.words[i]] = true
				}
			}
			if len(fit) != 1 {
				return nil, nil, fmt.Errorf("%q is ambiguous: %s", tok, strings.Join(sorted(words), ", "))
			}
			for w := range fit {
				chosen = w
			}
		}
		if chosen == "" {
			// No command word here: the rest are arguments of a command
			// whose words all matched.
			for _, c := range cands {
				if len(c.words) == i {
					return c, toks[i:], nil
				}
			}
			return nil, nil, fmt.Errorf("no command %q; type ? for the list", strings.Join(toks[:i+1], " "))
		}
		next := cands[:0:0]
		for _, c := range cands {
			if i < len(c.words) && c.words[i] == chosen {
				next = append(next, c)
			}
		}
		cands = next
	}
	for _, c := range cands {
		if len(c.words) == len(toks) {
			return c, nil, nil
		}
	}
	var more []string
	for _, c := range cands {
		more = append(more, strings.Join(c.words, " "))
	}
	return nil, nil, fmt.Errorf("incomplete command; it goes on as: %s", strings.Join(more, ", "))
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nextWords lists what may follow the complete words of a partial line,
// and the partial word being typed.
func nextWords(line string) (words map[string]string, partial string) {
	toks := strings.Fields(line)
	if !strings.HasSuffix(line, " ") && len(toks) > 0 {
		partial, toks = toks[len(toks)-1], toks[:len(toks)-1]
	}
	words = map[string]string{}
	for _, c := range commands {
		ok := len(c.words) > len(toks)
		for i := 0; ok && i < len(toks); i++ {
			ok = strings.HasPrefix(c.words[i], toks[i])
		}
		if ok && strings.HasPrefix(c.words[len(toks)], partial) {
			if len(c.words) == len(toks)+1 {
				words[c.words[len(toks)]] = c.help
			} else if _, seen := words[c.words[len(toks)]]; !seen {
				words[c.words[len(toks)]] = ""
			}
		}
	}
	return words, partial
}

// complete finishes the word being typed when only one fits, else lists
// those that do.
func (c *Console) complete(e *editor, prompt string) {
	words, partial := nextWords(e.line())
	switch len(words) {
	case 0:
		e.out.WriteString("\a")
	case 1:
		for w := range words {
			for _, r := range w[len(partial):] + " " {
				e.insert(r)
			}
		}
	default:
		e.out.WriteString("\r\n" + strings.Join(sorted(keys(words)), "  ") + "\r\n" + prompt + e.line())
	}
}

func keys(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// help lists what may come next, with what each does.
func (c *Console) help(e *editor, prompt string) {
	words, _ := nextWords(e.line())
	var b strings.Builder
	b.WriteString("?\r\n")
	if cmd, args, err := match(e.line()); err == nil && len(args) == 0 && cmd.args != "" {
		fmt.Fprintf(&b, "  %s %s\r\n", strings.Join(cmd.words, " "), cmd.args)
	}
	for _, w := range sorted(keys(words)) {
		fmt.Fprintf(&b, "  %-16s %s\r\n", w, words[w])
	}
	b.WriteString(prompt + e.line())
	e.out.WriteString(b.String())
}

// run runs a command line; it reports true for exit.
func (c *Console) run(stop <-chan struct{}, line string) bool {
	cmd, args, err := match(line)
	if err != nil {
		c.write("% " + err.Error() + "\n")
		return false
	}
	switch cmd.words[0] {
	case "exit":
		if c.o.SIPTrace != nil {
			c.o.SIPTrace(nil)
		}
		if c.o.PRITrace != nil {
			c.o.PRITrace(0, nil)
		}
		return true
	case "passwd":
		if err := c.passwd(stop); err != nil {
			c.write("% " + err.Error() + "\n")
		}
		return false
	case "update":
		if cmd.words[1] != "receive" {
			break
		}
		if err := c.updateReceive(stop); err != nil {
			c.write("% " + err.Error() + "\n")
		}
		return false
	case "web":
		if err := c.webPasswd(stop, strings.Join(args, " ")); err != nil {
			c.write("% " + err.Error() + "\n")
		}
		return false
	case "restore":
		if err := c.restore(stop); err != nil {
			c.write("% " + err.Error() + "\n")
			return false
		}
		c.restarting = true
		return true
	case "reboot":
		if c.confirm(stop, "Restart the box now? Calls up are ended. [y/N] ", "y") {
			c.write("restarting\n")
			c.o.Log.Warn("console: reboot")
			c.restarting = true
			c.o.Restart("reboot from the console")
			return true
		}
		c.write("not restarted\n")
		return false
	case "factory-reset":
		if c.confirm(stop, "Erase every record, recording, voicemail, password and prompt, then restart? Type yes: ", "yes") {
			c.o.Log.Warn("console: factory reset")
			if err := c.o.FactoryReset(); err != nil {
				c.write("% " + err.Error() + "\n")
				return false
			}
			c.restarting = true
			c.write("erased; restarting\n")
			return true
		}
		c.write("nothing erased\n")
		return false
	}
	out, err := cmd.run(c, args)
	if err != nil {
		c.write("% " + err.Error() + "\n")
		return false
	}
	c.write(out)
	return false
}

// confirm asks a question; only the exact answer want says yes.
func (c *Console) confirm(stop <-chan struct{}, question, want string) bool {
	c.write(question)
	a, err := c.readLine(stop, &editor{}, nil, nil)
	return err == nil && strings.TrimSpace(a) == want
}

func (c *Console) passwd(stop <-chan struct{}) error {
	pw, problem, err := c.newPassword(stop)
	if err != nil {
		return err
	}
	if problem != "" {
		return fmt.Errorf("not changed: %s", strings.ToLower(problem[:1])+problem[1:])
	}
	if err := c.setPassword(pw); err != nil {
		return err
	}
	c.write("Password changed.\n")
	return nil
}

// table aligns rows in columns for an 80-column terminal.
func table(header string, rows [][]string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	w.Flush()
	return b.String()
}

func (c *Console) cmdHelp(args []string) (string, error) {
	if len(args) > 0 {
		cmd, _, err := match(strings.Join(args, " "))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("usage: %s %s\n  %s\n", strings.Join(cmd.words, " "), cmd.args, cmd.help), nil
	}
	var rows [][]string
	for _, cmd := range commands {
		rows = append(rows, []string{strings.TrimSpace(strings.Join(cmd.words, " ") + " " + cmd.args), cmd.help})
	}
	return table("COMMAND\tWHAT IT DOES", rows), nil
}

func (c *Console) showSpans(args []string) (string, error) {
	var rows [][]string
	for _, s := range c.o.Spans() {
		rows = append(rows, []string{strconv.Itoa(s.ID), s.Type, s.Framing, s.Coding, s.Clock, s.Signalling, s.Group, s.Alarms})
	}
	if len(rows) == 0 {
		return "no spans\n", nil
	}
	return table("SPAN\tTYPE\tFRAMING\tCODING\tCLOCK\tSIGNALLING\tGROUP\tALARMS", rows), nil
}

func (c *Console) showSpan(args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("usage: show span N (the span's id, e.g. show span 1)")
	}
	id, err := strconv.Atoi(args[0])
	for _, s := range c.o.Spans() {
		if err == nil && s.ID == id {
			out := fmt.Sprintf("span %d (%s, group %s)\n  framing     %s\n  coding      %s\n  clock       %s\n  signalling  %s\n  channels    %s\n  alarms      %s\n  loopback    %s\n",
				s.ID, s.Type, s.Group, s.Framing, s.Coding, s.Clock, s.Signalling, s.Channels, s.Alarms, s.Loopback)
			if s.DChannel != "" {
				out += fmt.Sprintf("  D-channel   %s\n", s.DChannel)
			}
			if !s.Counted {
				return out + "  errors      not counted by this span's driver\n", nil
			}
			n, d := s.Errors, s.Errors24h
			return out + table("  ERRORS\tCRC\tBPV\tSLIPS\tERRORED SECONDS", [][]string{
				{"  since start", fmt.Sprint(n.CRC), fmt.Sprint(n.BPV), fmt.Sprint(n.Slips), fmt.Sprint(n.ErroredSeconds)},
				{"  last 24 h", fmt.Sprint(d.CRC), fmt.Sprint(d.BPV), fmt.Sprint(d.Slips), fmt.Sprint(d.ErroredSeconds)},
			}), nil
		}
	}
	var ids []string
	for _, s := range c.o.Spans() {
		ids = append(ids, strconv.Itoa(s.ID))
	}
	return "", fmt.Errorf("no span %q; the spans are %s", args[0], strings.Join(ids, ", "))
}

func (c *Console) spanLoop(args []string) (string, error) {
	usage := fmt.Errorf("usage: span N loopback local|network|off (e.g. span 1 loopback local)")
	if len(args) != 3 || !strings.HasPrefix("loopback", args[1]) {
		return "", usage
	}
	id, err := strconv.Atoi(args[0])
	if err != nil {
		return "", usage
	}
	mode := ""
	for _, m := range []string{"local", "network", "off"} {
		if strings.HasPrefix(m, args[2]) {
			mode = m
		}
	}
	if mode == "" {
		return "", usage
	}
	if err := c.o.Loopback(id, mode); err != nil {
		return "", err
	}
	c.o.Log.Warn("console: span loopback", "span", id, "mode", mode)
	return fmt.Sprintf("span %d: loopback %s\n", id, mode), nil
}

func (c *Console) sipDebug(args []string) (string, error) {
	if len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		return "", fmt.Errorf("usage: sip debug on|off")
	}
	if args[0] == "off" {
		c.o.SIPTrace(nil)
		return "SIP trace off\n", nil
	}
	c.o.SIPTrace(c.traceOut)
	return "SIP trace on (sip debug off to stop)\n", nil
}

func (c *Console) priDebug(args []string) (string, error) {
	usage := fmt.Errorf("usage: pri debug span N on|off (e.g. pri debug span 1 on)")
	if len(args) != 3 || !strings.HasPrefix("span", args[0]) || (args[2] != "on" && args[2] != "off") {
		return "", usage
	}
	id, err := strconv.Atoi(args[1])
	if err != nil || c.o.PRITrace == nil {
		return "", usage
	}
	if args[2] == "off" {
		if err := c.o.PRITrace(id, nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("span %d: PRI trace off\n", id), nil
	}
	if err := c.o.PRITrace(id, c.traceOut); err != nil {
		return "", err
	}
	return fmt.Sprintf("span %d: PRI trace on (pri debug span %d off to stop)\n", id, id), nil
}

func (c *Console) showAlarms(args []string) (string, error) {
	var rows [][]string
	for _, s := range c.o.Spans() {
		if s.Alarms != "none" {
			rows = append(rows, []string{"span " + strconv.Itoa(s.ID), s.Alarms})
		}
	}
	rows = append(rows, c.breakers()...)
	if c.o.DiskAlarm != nil {
		if a := c.o.DiskAlarm(); a != "" {
			rows = append(rows, []string{"data disk", a})
		}
	}
	if len(rows) == 0 {
		return "no alarms\n", nil
	}
	return table("WHAT\tALARM", rows), nil
}

// showChannels lists each span's B-channels (their call state when a PRI
// stack runs them, out of service while the span has an alarm) and every
// SIP leg.
func (c *Console) showChannels(args []string) (string, error) {
	var rows [][]string
	for _, s := range c.o.Spans() {
		if s.BChannels != nil && s.Alarms == "none" {
			for _, b := range s.BChannels {
				st := b.State
				if b.Call != "" {
					st += " " + b.Call
				}
				rows = append(rows, []string{fmt.Sprintf("span %d/%d", s.ID, b.N), "B-channel", st})
			}
			continue
		}
		chans, err := config.ParseChannels(s.Channels)
		if err != nil {
			continue
		}
		state := "idle"
		if s.Alarms != "none" {
			state = "out of service (" + s.Alarms + ")"
		}
		for _, ch := range chans {
			rows = append(rows, []string{fmt.Sprintf("span %d/%d", s.ID, ch), "B-channel", state})
		}
	}
	if c.o.Ports != nil {
		for _, p := range c.o.Ports() {
			rows = append(rows, []string{fmt.Sprintf("port %d", p.ID), strings.ToUpper(p.Kind) + " " + p.Line, p.State})
		}
	}
	for _, cl := range c.o.Calls() {
		id := cl.ID
		if len(id) > 12 {
			id = id[:12]
		}
		rows = append(rows, []string{"sip " + id, "SIP " + cl.Direction, cl.From + " -> " + cl.To})
	}
	return table("CHANNEL\tKIND\tSTATE", rows), nil
}

func (c *Console) showVoicemail(args []string) (string, error) {
	mailbox := ""
	if len(args) > 0 {
		mailbox = args[0]
	}
	vms, err := c.o.DB.Voicemails(mailbox)
	if err != nil {
		return "", err
	}
	sort.SliceStable(vms, func(i, j int) bool { return !vms[i].Heard && vms[j].Heard })
	var rows [][]string
	for _, v := range vms {
		state := "new"
		if v.Heard {
			state = "heard"
		}
		rows = append(rows, []string{v.Mailbox, v.Time.Local().Format("2006-01-02 15:04"), v.Caller, v.Duration.Round(time.Second).String(), state, v.File})
	}
	if len(rows) == 0 {
		return "no messages\n", nil
	}
	return table("MAILBOX\tLEFT\tCALLER\tLENGTH\tSTATE\tFILE", rows), nil
}

func (c *Console) showRecordings(args []string) (string, error) {
	recs, err := c.o.DB.Recordings()
	if err != nil {
		return "", err
	}
	onlySampled := len(args) > 0 && strings.HasPrefix("sampled", args[0])
	var rows [][]string
	for _, r := range recs {
		if onlySampled && !r.Sampled {
			continue
		}
		mark := ""
		if r.Sampled {
			mark = "review"
		}
		rows = append(rows, []string{r.Start.Local().Format("2006-01-02 15:04"), r.Queue, r.Agent, r.Caller, r.Duration.Round(time.Second).String(), mark, r.File})
	}
	if len(rows) == 0 {
		return "no recordings\n", nil
	}
	return table("START\tQUEUE\tAGENT\tCALLER\tLENGTH\tSAMPLE\tFILE", rows), nil
}

func (c *Console) showCalls(args []string) (string, error) {
	calls := c.o.Calls()
	if len(calls) == 0 {
		return "no calls\n", nil
	}
	now := c.o.Clock.Now()
	var rows [][]string
	for _, cl := range calls {
		id := cl.ID
		if len(id) > 12 {
			id = id[:12]
		}
		rows = append(rows, []string{id, cl.Direction, cl.From, cl.To, cl.Trunk, now.Sub(cl.Since).Round(time.Second).String()})
	}
	return table("CALL\tDIR\tFROM\tTO\tTRUNK\tUP", rows) + fmt.Sprintf("%d calls\n", len(calls)), nil
}

func (c *Console) showQueues(args []string) (string, error) {
	var rows [][]string
	for _, q := range c.o.ACD.Status().Queues {
		rows = append(rows, []string{q.Name, strconv.Itoa(q.Waiting), strconv.Itoa(q.Callbacks), q.LongestWait.Round(time.Second).String(),
			strconv.Itoa(q.Available), strconv.Itoa(q.Busy), strconv.Itoa(q.Paused), strconv.Itoa(q.NoPhone), strconv.Itoa(q.LoggedOut)})
	}
	return table("QUEUE\tWAITING\tCALLBACKS\tLONGEST\tAVAIL\tBUSY\tPAUSED\tNOPHONE\tOUT", rows), nil
}

func (c *Console) showAgents(args []string) (string, error) {
	var rows [][]string
	for _, a := range c.o.ACD.Status().Agents {
		login := "out"
		if a.LoggedIn {
			login = "in"
		}
		pause := "-"
		if a.Paused {
			pause = "paused (" + a.Reason + ")"
		}
		phone := "unregistered"
		if a.Registered {
			phone = "registered"
		}
		rows = append(rows, []string{a.Ext, login, pause, a.State, phone, strconv.Itoa(a.Calls), a.Talk.Round(time.Second).String()})
	}
	return table("AGENT\tLOGIN\tPAUSE\tSTATE\tPHONE\tCALLS\tTALK", rows), nil
}

func (c *Console) showRegs(args []string) (string, error) {
	var rows [][]string
	for _, r := range c.o.Regs() {
		rows = append(rows, []string{r.Kind, r.Name, r.State})
	}
	if len(rows) == 0 {
		return "no registrations\n", nil
	}
	return table("KIND\tNAME\tSTATE", rows), nil
}

func (c *Console) agent(args []string) (string, error) {
	if len(args) < 2 {
		return "", fmt.Errorf("usage: agent ID pause [REASON] | unpause | login | logout (e.g. agent 1001 pause lunch)")
	}
	id, action := args[0], args[1]
	var err error
	switch {
	case strings.HasPrefix("pause", action):
		reason := "console"
		if len(args) > 2 {
			reason = strings.Join(args[2:], " ")
		}
		err = c.o.ACD.Pause(id, reason)
	case strings.HasPrefix("unpause", action):
		err = c.o.ACD.Unpause(id)
	case strings.HasPrefix("login", action) && len(action) >= 4:
		err = c.o.ACD.Login(id)
	case strings.HasPrefix("logout", action) && len(action) >= 5:
		err = c.o.ACD.Logout(id)
	default:
		return "", fmt.Errorf("agent %s %s: the action is pause, unpause, login or logout", id, action)
	}
	if err != nil {
		return "", err
	}
	c.o.Log.Info("console: agent changed", "agent", id, "action", action)
	return fmt.Sprintf("agent %s: %s\n", id, action), nil
}

func (c *Console) configShow(args []string) (string, error) {
	return c.o.Config(), nil
}
