// Command jinyin is the firmware of the branch-office PBX/IVR appliance: one
// static binary with a subcommand per job (run the box, check a config,
// detect DTMF in a recording, print the version or the default config).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"jinyin/appliance"
	"jinyin/config"
	"jinyin/update"
)

// Set at build time by scripts/build.sh with -ldflags -X.
var (
	version = "dev"
	commit  = ""
)

type command struct {
	usage string
	run   func(args []string, stdout, stderr io.Writer) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"run":     {"run [--config FILE] [--data DIR] [--set KEY=VALUE]...  run the box", cmdRun},
		"check":   {"check --config FILE [--set KEY=VALUE]...              validate a config", cmdCheck},
		"config":  {"config default | show [--config FILE] [--set KEY=VALUE]...  print the embedded default, or the config in effect (FILE over the default)", cmdConfig},
		"dtmf":    {"dtmf [--events] FILE.wav...                              detect DTMF digits in recordings", cmdDTMF},
		"report":  {"report [--data DIR] [--from T] [--to T] [--interval 15m|30m|1h|1d] [--queue Q] [--json|--csv]  call-centre KPIs of a stopped box", cmdReport},
		"export":  {"export [--data DIR] [--from T] [--to T] FORMAT          a stopped box's CDRs as master.csv, queue events as queue_log", cmdExport},
		"hq":      {"hq --postgres DSN [--nats URLS] [--creds FILE|--nkey FILE] [--listen ADDR] [--config FILE]  headquarters: the fleet into PostgreSQL, its KPIs and wallboard", cmdHQ},
		"passwd":  {"passwd [--data DIR] [--role supervisor|viewer] USER < PASSWORD  set a wallboard/API account", cmdPasswd},
		"update":  {"update keygen [--out NAME] | sign --key FILE --version V --board B --out BUNDLE IMAGE | verify --key FILE BUNDLE  sign firmware updates", cmdUpdate},
		"version": {"version                                                 print version, commit and build target", cmdVersion},
	}
}

// errExit carries an exit status for errors already reported.
type errExit int

func (e errExit) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	if os.Getpid() == 1 { // the init of the box's own image
		appliance.Init(os.Args[0], []string{"--config", "/etc/jinyin/jinyin.toml", "--data", "/data"}, os.Stdout)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "jinyin: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	var code errExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "jinyin %s: %v\n", args[0], err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: jinyin COMMAND [ARGS]")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(w, "  jinyin "+commands[n].usage)
	}
}

// setFlags collects repeated --set KEY=VALUE.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("jinyin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func cmdVersion(args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("takes no arguments")
	}
	rev, target := commit, runtime.GOOS+"/"+runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && rev == "":
				rev = s.Value
			case s.Key == "GOARM" && runtime.GOARCH == "arm":
				target += "v" + s.Value
			}
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	fmt.Fprintf(stdout, "jinyin %s commit %s %s %s\n", version, rev, target, runtime.Version())
	if s := update.BootedSlot(); s != "" {
		fmt.Fprintln(stdout, s)
	}
	return nil
}

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 1 && args[0] == "default":
		_, err := stdout.Write(defaultConfig())
		return err
	case len(args) >= 1 && args[0] == "show":
		// What the box would run: the file's keys over the default's, the
		// --set overrides applied, as TOML (every key, so a technician
		// sees the values left out of the file too).
		fs := newFlags("config show", stderr)
		file := fs.String("config", "", "config `FILE` (default: the embedded demo)")
		var sets setFlags
		fs.Var(&sets, "set", "override one key, `KEY=VALUE` (repeatable)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *file == "" && fs.NArg() == 1 {
			*file = fs.Arg(0)
		}
		cfg, err := loadConfig(*file, sets)
		if err != nil {
			return reportIssues(err, stderr)
		}
		_, err = io.WriteString(stdout, config.Text(cfg))
		return err
	}
	return fmt.Errorf("usage: jinyin config default | jinyin config show [--config FILE] [--set KEY=VALUE]")
}
