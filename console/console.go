// Package console is the technician's serial console: a login with the
// admin account (its password chosen at first boot on the console itself,
// kept as a bcrypt hash, with lockout after repeated failures and an idle
// timeout), a VT100 line editor with history, Tab completion and ? help,
// and commands in the style of the Asterisk CLI and IOS, matched by
// unambiguous prefixes ("sh sp" is "show spans").
//
// It serves one io.ReadWriter: the serial port opened with tarm/serial by
// Open, or, in tests, a pty pair made by socat.
//
// Layer: above the box's parts; it sees them through the funcs in Options.
package console

import (
	"errors"
	"fmt"
	"io"
	"jinyin/security"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tarm/serial"
	"golang.org/x/crypto/bcrypt"

	"jinyin/acd"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/internal/clock"
	"jinyin/kpi"
	"jinyin/store"
)

// SpanRow is one span as show spans lists it.
type SpanRow struct {
	ID                           int
	Type, Framing, Coding, Clock string
	Group, Signalling, Channels  string
	Alarms, Loopback             string
	Counted                      bool         // the driver counts line errors
	Errors, Errors24h            hal.Counters // since the span opened; in the last 24 h
	// DChannel is the PRI data link, "up" or "down"; empty when the span
	// runs no PRI stack. BChannels are its B-channels' states then.
	DChannel  string
	BChannels []BChannelRow
}

// PortRow is one analog port as show channels lists it.
type PortRow struct {
	ID          int
	Kind        string // fxs or fxo
	Line, State string // its extension or destination; its state
}

// BChannelRow is one B-channel of a span with a PRI stack.
type BChannelRow struct {
	N           int
	State, Call string // Q.931 call state ("idle"); who is talking
}

// CallRow is one call leg as show calls lists it.
type CallRow struct {
	ID, Direction, From, To, Trunk string
	Since                          time.Time
}

// RegRow is one registration or trunk as show registrations lists it.
type RegRow struct {
	Kind, Name, State string
}

// Options are what the console shows and changes.
type Options struct {
	Clock clock.Clock
	Log   *slog.Logger
	DB    *store.DB
	ACD   *acd.ACD
	Guard *security.Guard // bans and security events
	// Breakers are the toll-fraud circuit breakers open now (name ->
	// until), LiftBreaker closes one (route.Plan's).
	Breakers    func() map[string]time.Time
	LiftBreaker func(name string) bool
	Name        string // the box's name, in the prompt
	// KPI computes the call centre's figures over a range (kpi.FromStore
	// with the box's rules), in Location, the box's zone.
	KPI      func(from, to time.Time, interval time.Duration) (*kpi.Report, error)
	Location *time.Location
	// DiskAlarm is the data disk's alarm ("" when it has room).
	DiskAlarm func() string
	// SetWebPassword makes or changes a wallboard/API account.
	SetWebPassword func(user, role, password string) error
	Spans          func() []SpanRow
	Ports          func() []PortRow
	Calls          func() []CallRow
	Regs           func() []RegRow
	Config         func() string // the running configuration, as TOML
	// Loopback sets a span's loopback mode (off, local, network).
	Loopback func(span int, mode string) error
	// PRITrace sends a span's decoded Q.921/Q.931 trace to f, or stops it
	// with f nil (span 0: every span).
	PRITrace func(span int, f func(string)) error
	// ConfigFile is the file the box runs on ("" for the embedded
	// default), Sets its --set flags, Env what validation checks against.
	ConfigFile string
	Sets       []string
	Env        config.Env
	// Restart stops the box, which starts again on its config file;
	// FactoryReset erases the data directory first.
	Restart      func(reason string)
	FactoryReset func() error
	// Restore puts a backup's config and database in place of the box's
	// and restarts it.
	Restore func(config, db []byte) error
	// SIPTrace turns the SIP message trace on (each message to out, which
	// must not block) or off.
	SIPTrace func(out func(string))
	// Updates is the firmware updates; nil on a box that takes none.
	Updates Updates
	// IdleTimeout logs a session out; 10 minutes when 0.
	IdleTimeout time.Duration
}

// Failed logins before the console waits, and how long (doubling after
// each further failure, up to maxLockout).
const (
	freeTries  = 3
	lockout    = 30 * time.Second
	maxLockout = 15 * time.Minute
)

// readPoll bounds how long a read of the serial port waits.
const readPoll = 200 * time.Millisecond

// Open opens a serial device (115200 8N1 by default) for Serve.
func Open(device string, baud int) (io.ReadWriteCloser, error) {
	if baud == 0 {
		baud = 115200
	}
	// Reads return at least every readPoll, so that stopping never waits
	// for a key: a blocking read of a tty cannot be interrupted.
	p, err := serial.OpenPort(&serial.Config{Name: device, Baud: baud, ReadTimeout: readPoll})
	if err != nil {
		return nil, fmt.Errorf("console %s: %w", device, err)
	}
	return p, nil
}

// Console serves sessions on a port, one after another.
type Console struct {
	o          Options
	rw         io.ReadWriter
	keys       chan byte
	fails      int
	staged     []string // config set changes not saved yet
	restarting bool     // a command restarted the box
	wmu        sync.Mutex
	trace      chan string // debug output waiting to be written
}

// New prepares a console on rw.
func New(rw io.ReadWriter, o Options) *Console {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	return &Console{o: o, rw: rw, keys: make(chan byte, 256), trace: make(chan string, 64)}
}

var errClosed = errors.New("console: port closed")

// Serve runs sessions until the port fails or stop is closed.
func (c *Console) Serve(stop <-chan struct{}) error {
	readerDone := make(chan struct{})
	defer func() { <-readerDone }() // the next box may open the port: no reader of ours is left
	go func() {
		defer close(readerDone)
		defer close(c.keys)
		buf := make([]byte, 64)
		for {
			n, err := c.rw.Read(buf)
			for _, b := range buf[:n] {
				select {
				case c.keys <- b:
				case <-stop:
					return
				}
			}
			select {
			case <-stop:
				return
			default:
			}
			// A read that timed out with nothing is io.EOF from os.File:
			// the port is still there.
			if err != nil && !(errors.Is(err, io.EOF) && n == 0) {
				return
			}
		}
	}()
	go func() {
		for {
			select {
			case s := <-c.trace:
				c.write(s)
			case <-stop:
				return
			}
		}
	}()
	for {
		err := c.session(stop)
		if errors.Is(err, errClosed) {
			return nil
		}
		if c.restarting {
			// A restart asked from here: the next box serves the next
			// session, so keys typed from now on are left for it.
			<-stop
			return nil
		}
		if err != nil {
			c.o.Log.Error("console", "err", err)
		}
	}
}

func (c *Console) write(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	io.WriteString(c.rw, strings.ReplaceAll(s, "\n", "\r\n"))
}

// traceOut queues debug output for the console without ever blocking the
// code that traces: when the console falls behind, lines are dropped.
func (c *Console) traceOut(s string) {
	select {
	case c.trace <- s:
	default:
	}
}

var errIdle = errors.New("idle")

// readLine reads one line with the editor; complete and help, where not
// nil, are called for Tab and ?.
func (c *Console) readLine(stop <-chan struct{}, e *editor, complete, help func(*editor)) (string, error) {
	for {
		idle := make(chan struct{})
		t := c.o.Clock.AfterFunc(c.o.IdleTimeout, func() { close(idle) })
		var b byte
		var ok bool
		select {
		case b, ok = <-c.keys:
		case <-idle:
			return "", errIdle
		case <-stop:
			t.Stop()
			return "", errClosed
		}
		t.Stop()
		if !ok {
			return "", errClosed
		}
		switch e.key(b) {
		case keyEnter:
			c.write(e.flush() + "\n")
			return e.take(), nil
		case keyCancel:
			e.take()
			c.write(e.flush() + "^C\n")
			return "", nil
		case keyEOF:
			return "", io.EOF
		case keyComplete:
			if complete != nil {
				complete(e)
			}
		case keyHelp:
			if help != nil {
				help(e)
			}
		}
		c.write(e.flush())
	}
}

// session runs one login and its shell.
func (c *Console) session(stop <-chan struct{}) error {
	hash, err := c.o.DB.ConsolePassword()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if len(hash) == 0 {
		if err := c.firstPassword(stop); err != nil {
			return err
		}
		hash, err = c.o.DB.ConsolePassword()
		if err != nil {
			return err
		}
	}
	e := &editor{}
	c.write("\n" + c.o.Name + " console\nlogin: ")
	user, err := c.readLine(stop, e, nil, nil)
	if err != nil {
		return c.ended(err)
	}
	c.write("Password: ")
	pw := &editor{hidden: true}
	pass, err := c.readLine(stop, pw, nil, nil)
	if err != nil {
		return c.ended(err)
	}
	if strings.TrimSpace(user) != "admin" || bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		c.fails++
		c.o.Log.Warn("console: login failed", "user", user, "failures", c.fails)
		c.write("Login incorrect.\n")
		if c.fails >= freeTries {
			wait := min(lockout<<(c.fails-freeTries), maxLockout)
			c.write(fmt.Sprintf("Too many failures: wait %v.\n", wait))
			done := make(chan struct{})
			t := c.o.Clock.AfterFunc(wait, func() { close(done) })
			defer t.Stop()
			for {
				select {
				case <-done:
					return nil
				case <-stop:
					return errClosed
				case _, ok := <-c.keys: // keys typed during the wait are dropped
					if !ok {
						return errClosed
					}
				}
			}
		}
		return nil
	}
	c.fails = 0
	c.o.Log.Info("console: admin logged in")
	return c.shell(stop)
}

func (c *Console) ended(err error) error {
	if c.o.SIPTrace != nil {
		c.o.SIPTrace(nil) // a trace ends with the session
	}
	if errors.Is(err, errIdle) || errors.Is(err, io.EOF) {
		c.write("\nlogged out\n")
		return nil
	}
	return err
}

// firstPassword asks for the admin password, twice, before anything else:
// there is no factory default.
func (c *Console) firstPassword(stop <-chan struct{}) error {
	for {
		c.write("\nNo admin password is set. Choose one (8 characters or more).\n")
		pw, problem, err := c.newPassword(stop)
		if err != nil {
			return err
		}
		if problem != "" {
			c.write(problem + "; try again.\n")
			continue
		}
		if err := c.setPassword(pw); err != nil {
			return err
		}
		c.write("Password set.\n")
		return nil
	}
}

// webPasswd sets a web account's password: web passwd USER [ROLE].
func (c *Console) webPasswd(stop <-chan struct{}, args string) error {
	f := strings.Fields(args)
	if len(f) == 0 || len(f) > 2 || c.o.SetWebPassword == nil {
		return errors.New("web passwd USER [supervisor|viewer]")
	}
	role := "supervisor"
	if len(f) == 2 {
		role = f[1]
	}
	pw, problem, err := c.newPassword(stop)
	if err != nil {
		return err
	}
	if problem != "" {
		return errors.New(problem)
	}
	if err := c.o.SetWebPassword(f[0], role, pw); err != nil {
		return err
	}
	c.o.Log.Info("console: web password set", "user", f[0], "role", role)
	c.write("Password of " + f[0] + " (" + role + ") set.\n")
	return nil
}

// newPassword asks for a new password twice; problem says why it cannot
// be used ("" when it can).
func (c *Console) newPassword(stop <-chan struct{}) (pw, problem string, err error) {
	c.write("New password: ")
	a, err := c.readLine(stop, &editor{hidden: true}, nil, nil)
	if err != nil {
		return "", "", err
	}
	c.write("Again: ")
	b, err := c.readLine(stop, &editor{hidden: true}, nil, nil)
	switch {
	case err != nil:
		return "", "", err
	case a != b:
		return "", "The two do not match", nil
	case len(a) < 8:
		return "", "Too short: use 8 characters or more", nil
	}
	return a, "", nil
}

func (c *Console) setPassword(pw string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	c.o.Log.Info("console: admin password set")
	return c.o.DB.SetConsolePassword(hash)
}

// shell reads and runs commands until exit, Ctrl-D or the idle timeout.
func (c *Console) shell(stop <-chan struct{}) error {
	e := &editor{}
	p := c.o.Name + "> "
	for {
		c.write(p)
		line, err := c.readLine(stop, e, func(e *editor) { c.complete(e, p) }, func(e *editor) { c.help(e, p) })
		if err != nil {
			return c.ended(err)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if done := c.run(stop, line); done || c.restarting {
			if !c.restarting {
				c.write("logged out\n")
			}
			return nil
		}
	}
}
