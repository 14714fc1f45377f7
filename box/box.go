// Package box assembles the running appliance from a validated config: the
// data directory and store, the board's spans, SIP signalling and the local
// HTTP API, and tears them down in order on stop.
//
// Layer: the composition root under cmd; it may import every other package.
package box

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gosip "github.com/emiago/sipgo/sip"

	"jinyin/acd"
	"jinyin/analog"
	"jinyin/board"
	"jinyin/campaign"
	"jinyin/config"
	"jinyin/console"
	"jinyin/fleet"
	"jinyin/internal/clock"
	"jinyin/internal/fsutil"
	"jinyin/ivr"
	"jinyin/load"
	"jinyin/media/prompt"
	"jinyin/metrics"
	"jinyin/pri"
	"jinyin/route"
	"jinyin/security"
	"jinyin/sip"
	"jinyin/store"
	"jinyin/update"
	"jinyin/web"
)

// Box is one running appliance.
type Box struct {
	noMediaGate bool // WithoutMediaGate
	cfg         *config.Config
	log         *slog.Logger
	data        string
	db          *store.DB
	space       *store.Space // the data directory's free space and reserve
	// spaceErr is the last error of space's checks, logged when it changes.
	spaceErr error
	web      *web.Server // the wallboard and the API's guard; nil without [http] listen
	spans    []board.Span
	sip      *sip.Server
	guard    *security.Guard
	// bindings carries registrations to the store (keepBindings).
	bindings     chan extBindings
	bindingsDone chan struct{}
	pris         map[int]*pri.Stack // span id -> its PRI stack
	prof         *board.Profile
	updater      *update.Updater // nil on a board without boot slots
	promote      func() error    // on a trial on a store copy: puts the copy in place
	stopUpdate   chan struct{}   // ends a drain or a health check with Run
	rebootSpans  *[]int          // set by a drain: Run reboots into the update after stopping
	fallback     atomic.Bool     // a trial failed: Run reboots into the old slot after stopping
	healthWait   time.Duration   // how long a trial waits for the spans up before it
	ports        []board.Port
	fxs          map[string]*analog.FXS // extension -> the FXS port its phone is on
	fxo          map[int]*analog.FXO    // port id -> FXO port
	// portCalls are analog calls whose record waits for their end.
	portCalls sync.WaitGroup
	http      *http.Server
	httpL     net.Listener
	start     time.Time

	plan      *route.Plan // where calls go
	load      *load.Gate  // new calls wait while the box is short of CPU or memory
	cdrs      *store.Recorder[store.CDR]
	prompts   *prompt.Set // the default set with the prompts replaced at run time
	ivr       *ivr.Engine
	acd       *acd.ACD
	campaigns *campaign.Runner // nil without [[campaign]]
	fleet     *fleet.Forwarder // nil unless [fleet] is enabled
	fleetDone chan struct{}
	// campaignsDone is closed when the campaigns' runner has stopped.
	campaignsDone chan struct{}
	qevents       *store.Recorder[store.QueueEvent]
	metrics       *metrics.Metrics // GET /metrics
	stopStats     chan struct{}
	clock         clock.Clock

	console     *console.Console
	consolePort io.ReadWriteCloser
	consoleDone chan struct{}

	configFile string
	sets       []string
	restart    chan string
	wipe       bool   // erase the data directory once stopped (factory reset)
	restoreDB  string // a checked database file to put in place once stopped
	restoreCfg []byte // and the config to write to configFile

	histMu sync.Mutex
	hist   map[int]*counters // span id -> hourly error counter readings
}

// ErrRestart is what Run returns when the box was asked to restart (config
// reload, reboot, factory reset from the console): the caller starts a
// new box on its config file.
var ErrRestart = errors.New("box: restart requested")

// WithConfigFile tells the box the file and --set flags it runs on, for
// the console's config commands.
func WithConfigFile(file string, sets []string) Option {
	return func(b *Box) { b.configFile, b.sets = file, sets }
}

// Restart stops the box; Run returns ErrRestart.
func (b *Box) Restart(reason string) {
	select {
	case b.restart <- reason:
	default:
	}
}

// factoryReset stops the box and erases its data directory (database,
// credentials, recordings, voicemail, prompts) before Run returns.
func (b *Box) factoryReset() error {
	b.wipe = true
	b.Restart("factory reset")
	return nil
}

// Option changes how New builds the box.
type Option func(*Box)

// WithClock runs the box's calendar and timers on clk.
func WithClock(clk clock.Clock) Option { return func(b *Box) { b.clock = clk } }

// WithoutMediaGate leaves the media pacer's load out of the overload
// gate: for boxes run many to a test process (under the race detector on
// a loaded machine the shared pacer's share is no box's own). The memory
// limit still applies.
func WithoutMediaGate() Option { return func(b *Box) { b.noMediaGate = true } }

// WithHealthWait bounds how long an update's trial waits for the spans
// that were up before it (60 s by default): for tests.
func WithHealthWait(d time.Duration) Option { return func(b *Box) { b.healthWait = d } }

// New prepares the box: it opens the data directory and store, the spans
// and every listener, so that each thing that can fail (a port taken, a data
// directory not writable, a card failing) fails here with a clear error,
// before Run.
func New(cfg *config.Config, dataDir string, log *slog.Logger, opts ...Option) (*Box, error) {
	b := &Box{cfg: cfg, log: log, data: dataDir, clock: clock.Real{}, restart: make(chan string, 1)}
	for _, o := range opts {
		o(b)
	}
	b.start = b.clock.Now() // compared with the clock's readings (uptime, the counters' day)
	if err := b.open(); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *Box) open() (err error) {
	cfg, log, dataDir := b.cfg, b.log, b.data
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	if err := checkWritable(dataDir); err != nil {
		return err
	}
	prof, err := board.Lookup(cfg.Box.Board)
	if err != nil {
		return err
	}
	b.prof = prof
	b.openUpdater()
	dbPath, err := b.storePath()
	if err != nil {
		return err
	}
	if b.db, err = store.Open(dbPath); err != nil {
		return err
	}
	b.space = store.NewSpace(dataDir, uint64(orDefault(cfg.Box.DiskReserveMB, 16))<<20, uint64(orDefault(cfg.Box.DiskLowMB, 64))<<20)
	b.checkSpace()
	b.plan = route.New(cfg)
	b.plan.Log, b.plan.Clock, b.plan.Phones = log, b.clock, phones{b}
	if err := b.writeCredentials(); err != nil {
		return err
	}
	b.metrics = b.newMetrics()
	cdrs := store.NewRecorder(b.db, 50*time.Millisecond, func(err error) { log.Error("call records", "err", err) })
	cdrs.OnCommit(b.metrics.CommitObserver("cdr"))
	b.cdrs = cdrs
	spans, absent, err := board.OpenSpans(prof, cfg.Spans)
	if err != nil {
		return err
	}
	b.spans = spans
	for _, id := range absent {
		log.Warn("span card absent; span left out", "span", id)
	}
	if b.ivr, err = b.newIVR(); err != nil {
		return err
	}
	b.plan.IVR, b.plan.Prompts = b.ivr, b.prompts
	b.qevents = b.newQueueRecorder()
	seed := uint64(time.Now().UnixNano()) // real time only as a random seed, not a timer
	if b.acd, err = acd.New(cfg, acd.Options{Clock: b.clock, Log: log, DB: b.db, Short: b.space.Short, Events: b.qevents, OnEvent: b.queueEvent, Dialer: b.plan.Dialer(),
		Prompts: b.prompts, Lang: cfg.Box.Language, Seed: seed, Data: dataDir, Location: cfg.Location()}); err != nil {
		return err
	}
	b.plan.Queues, b.plan.Agents = b.acd, b.acd
	if b.guard, err = security.New(security.Options{Config: cfg.Security, Clock: b.clock, Log: log, DB: b.db}); err != nil {
		return err
	}
	b.plan.Event = b.guard.Event
	acl := security.NewACL(cfg.Extensions)
	tlsServer, tlsClient, err := b.tlsConfigs()
	if err != nil {
		return err
	}
	media := func() float64 { return b.sip.MediaLoad() }
	if b.noMediaGate {
		media = nil
	}
	b.load = load.New(load.Options{Clock: b.clock, Log: log, MemoryLimit: uint64(cfg.Box.MemoryLimitMB) << 20, Media: media})
	b.sip, err = sip.Listen(sip.Options{
		Config: cfg.SIP, Name: cfg.Box.Name, Log: log,
		Guard: b.guard, ACL: acl.Allows, Bindings: b.keepBindings(),
		TLS: tlsServer, TLSClient: tlsClient,
		SRTP:        func(ext string) string { e, _ := b.plan.Extension(ext); return e.SRTP },
		Overloaded:  b.load.Overloaded,
		Password:    b.password,
		MaxContacts: func(ext string) int { e, _ := b.plan.Extension(ext); return e.MaxContacts },
		Router:      b.plan.Router,
		IsExtension: func(n string) bool { _, ok := b.plan.Extension(n); return ok },
		Trunks:      cfg.Trunks,
		OnCallEnd: func(r sip.CallRecord) {
			cdrs.Record(store.CDR{Call: r.ID, Direction: r.Direction, From: r.From, To: r.To, Trunk: r.Trunk,
				Start: r.Start, Answer: r.Answer, End: r.End, Disposition: r.Disposition, Cause: r.Cause})
		},
	})
	if err != nil {
		return err
	}
	if err := b.restoreBindings(); err != nil {
		return err
	}
	b.plan.Registrar, b.plan.SIP = route.SIPServer{Server: b.sip}, route.SIPServer{Server: b.sip}
	if err := b.openCampaigns(); err != nil {
		return err
	}
	if err := b.openPRI(); err != nil {
		return err
	}
	if err := b.openAnalog(prof); err != nil {
		return err
	}
	if err := b.openConsole(); err != nil {
		return err
	}
	// The API: on loopback HTTP, and to headquarters over the fleet link.
	mux := http.NewServeMux()
	ws := b.webSide()
	b.web = ws
	ws.Routes(mux)
	mux.HandleFunc("GET /status", b.serveStatus)
	ws.APIRoutes(mux, web.API{ACD: b.acd, DB: b.db, Data: b.data, Prompt: b.prompts.Get, PutPrompt: b.putPrompt,
		FlushIVR: func() error { return b.ivr.Stats.Flush(b.db) }, Location: cfg.Location()})
	mux.Handle("GET /metrics", b.metrics.Handler())
	b.guard.Routes(mux)
	b.updateRoutes(mux)
	b.configRoutes(mux)
	b.plan.Routes(mux)
	if b.campaigns != nil {
		b.campaigns.Routes(mux)
	}
	if err := b.openFleet(mux); err != nil {
		return err
	}
	if cfg.HTTP.Listen != "" {
		if b.httpL, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
			return fmt.Errorf("http: listen %s: %w", cfg.HTTP.Listen, err)
		}
		// Profiles for an engineer on site; the API listens on loopback
		// unless the config says otherwise.
		pmux := http.NewServeMux()
		pmux.Handle("/", mux)
		pmux.HandleFunc("/debug/pprof/", pprof.Index)
		pmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		b.http = &http.Server{Handler: ws.Protect(pmux), ReadHeaderTimeout: 5 * time.Second}
	}
	return nil
}

// password is the digest secret of a registering extension: only agents
// and phones of the config register, with the password in the store.
func (b *Box) password(ext string) (string, bool) {
	if e, ok := b.plan.Extension(ext); !ok || !b.sipPhone(e) {
		return "", false
	}
	pw, err := b.db.Credential(ext)
	return pw, err == nil
}

// sipPhone reports whether an extension's phone registers over SIP (and
// so has a password): a phone on an FXS port is reached by its wire.
func (b *Box) sipPhone(e config.Extension) bool {
	for _, p := range b.cfg.Ports {
		if p.Kind == "fxs" && p.Extension == e.Number {
			return false
		}
	}
	return e.Registers()
}

// checkWritable proves the directory takes a file, since a read-only mount
// otherwise shows up only at the first write, mid-call.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeCredentials gives every agent and phone a password and writes them
// to DATA/credentials.txt ("EXTENSION PASSWORD" per line), atomically.
func (b *Box) writeCredentials() error {
	var exts []string
	for _, e := range b.cfg.Extensions {
		if b.sipPhone(e) {
			exts = append(exts, e.Number)
		}
	}
	creds, err := b.db.EnsureCredentials(exts)
	if err != nil {
		return err
	}
	sort.Strings(exts)
	var sb strings.Builder
	for _, e := range exts {
		fmt.Fprintf(&sb, "%s %s\n", e, creds[e])
	}
	return fsutil.WriteFileAtomic(filepath.Join(b.data, "credentials.txt"), []byte(sb.String()), 0o600)
}

// Run serves until ctx ends, then stops everything and closes the store.
// After a drain for an update it then reboots into the new slot.
func (b *Box) Run(ctx context.Context) (err error) {
	defer func() {
		b.close()
		switch {
		case err != ErrRestart:
		case b.fallback.Load():
			err = b.updater.Fallback() // the store closed: nothing acknowledged is left in memory
		case b.rebootSpans != nil:
			err = b.updater.Reboot(*b.rebootSpans)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.stopUpdate = make(chan struct{}) // before anything that may drain and restart (HTTP, the fleet's commands)
	defer close(b.stopUpdate)
	errc := make(chan error, 2)
	go func() { errc <- b.sip.Serve(ctx) }()
	n := 1
	b.stopStats = make(chan struct{})
	go b.housekeeping(b.stopStats)
	b.acd.Start()
	if b.campaigns != nil {
		b.campaignsDone = make(chan struct{})
		go func() { b.campaigns.Run(ctx); close(b.campaignsDone) }()
	}
	if b.fleet != nil {
		b.fleetDone = make(chan struct{})
		go func() { b.fleet.Run(ctx); close(b.fleetDone) }()
	}
	wd, err := board.OpenWatchdog(b.prof.Watchdog, b.clock, nil)
	if err != nil {
		b.log.Warn("hardware watchdog not armed", "err", err)
	}
	defer wd.Stop() // before close: a clean stop must not reset the board
	b.watchSpans(ctx.Done())
	b.watchSpace(ctx.Done())
	if b.console != nil {
		b.consoleDone = make(chan struct{})
		go func() { b.console.Serve(ctx.Done()); close(b.consoleDone) }()
	}
	if b.http != nil {
		n++
		go func() {
			err := b.http.Serve(b.httpL)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	attrs := []any{"sip", b.sip.Addrs(), "data", b.data, "board", b.cfg.Box.Board, "spans", len(b.spans)}
	if b.http != nil {
		attrs = append(attrs, "http", b.httpL.Addr().String())
	}
	b.log.Info("jinyin up", attrs...)
	go b.confirmTrial(b.stopUpdate)
	var first error
	restarting := false
	select {
	case <-ctx.Done():
	case why := <-b.restart:
		b.log.Warn("jinyin restarting", "why", why)
		restarting = true
	case first = <-errc:
		n--
	}
	cancel()
	if b.http != nil {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second) // real time: open HTTP connections on the network
		b.http.Shutdown(sctx)
		c()
	}
	for ; n > 0; n-- {
		if err := <-errc; first == nil {
			first = err
		}
	}
	b.log.Info("jinyin stopped")
	if restarting && first == nil {
		first = ErrRestart
	}
	return first
}

func (b *Box) close() {
	if b.consoleDone != nil {
		<-b.consoleDone // its session is over before the store closes
	}
	if b.consolePort != nil {
		b.consolePort.Close()
	}
	if b.sip != nil {
		b.sip.Close()
	}
	if b.httpL != nil {
		b.httpL.Close()
	}
	for _, st := range b.pris {
		st.Close()
	}
	b.pris = nil
	b.closeAnalog()
	for _, s := range b.spans {
		s.Close()
	}
	b.spans = nil
	if b.acd != nil {
		b.acd.Close() // after SIP has stopped: callbacks being dialled have ended
	}
	if b.qevents != nil {
		b.qevents.Close()
		b.qevents = nil
	}
	b.portCalls.Wait() // the ports have ended their calls: their records are queued
	if b.campaignsDone != nil {
		<-b.campaignsDone // after SIP has stopped: its attempts have ended and their outcomes are on disk
	}
	if b.fleetDone != nil {
		<-b.fleetDone // before the store closes (what it sent last is noted there)
	}
	if b.cdrs != nil {
		b.cdrs.Close() // after SIP has stopped: every ended call is queued
		b.cdrs = nil
	}
	if b.stopStats != nil {
		close(b.stopStats)
		b.stopStats = nil
	}
	if b.bindings != nil {
		close(b.bindings) // after SIP has stopped: no REGISTER changes them now
		<-b.bindingsDone
		b.bindings = nil
	}
	if b.guard != nil {
		b.guard.Close() // after SIP has stopped: the last events are queued
		b.guard = nil
	}
	if b.ivr != nil && b.db != nil {
		if err := b.ivr.Stats.Flush(b.db); err != nil {
			b.log.Error("ivr counters", "err", err)
		}
	}
	if b.db != nil {
		if err := b.db.Close(); err != nil {
			b.log.Error("closing store", "err", err)
		}
		b.db = nil
	}
	if b.restoreDB != "" {
		if err := os.Rename(b.restoreDB, filepath.Join(b.data, "jinyin.db")); err != nil {
			b.log.Error("restore: database not replaced", "err", err)
		}
		if b.configFile != "" {
			if old, err := os.ReadFile(b.configFile); err == nil {
				fsutil.WriteFileAtomic(b.configFile+".prev", old, 0o640)
			}
			if err := fsutil.WriteFileAtomic(b.configFile, b.restoreCfg, 0o640); err != nil {
				b.log.Error("restore: config not replaced", "err", err)
			}
		}
		b.log.Warn("restored from a backup", "data", b.data, "config", b.configFile)
	}
	if b.wipe {
		entries, _ := os.ReadDir(b.data)
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(b.data, e.Name())); err != nil {
				b.log.Error("factory reset", "err", err)
			}
		}
		b.log.Warn("factory reset: data directory erased", "data", b.data)
	}
}

// Status is what GET /status answers.
type Status struct {
	Name    string       `json:"name"`
	Board   string       `json:"board"`
	Uptime  string       `json:"uptime"`
	SIP     []string     `json:"sip"`
	Spans   []SpanStatus `json:"spans"`
	Version string       `json:"version"`
	Calls   int          `json:"calls"`   // SIP calls up or being set up
	Refused uint64       `json:"refused"` // INVITEs answered 503 for overload

	Registered map[string]int    `json:"registered"` // extension -> contacts
	Trunks     []sip.TrunkStatus `json:"trunks"`
	// Breakers are the toll-fraud breakers open: extensions and trunk
	// groups whose calls out are stopped, until when.
	Breakers map[string]time.Time `json:"breakers"`
	// Disk is the data directory's filesystem: free space, and whether it
	// is short (recordings and voicemail refused).
	Disk DiskStatus `json:"disk"`
	// Update is the firmware slot running and whether it is confirmed;
	// absent on a board without boot slots.
	Update *update.Status `json:"update,omitempty"`
	// Fleet is the link to headquarters; absent unless [fleet] is on.
	Fleet *fleet.Status `json:"fleet,omitempty"`
}

// DiskStatus is the data directory's free space in Status.
type DiskStatus struct {
	FreeMB uint64 `json:"free_mb"`
	Short  bool   `json:"short"`
}

// SpanStatus is one span in Status.
type SpanStatus struct {
	ID     int    `json:"id"`
	Type   string `json:"type"`
	Group  string `json:"group"`
	Alarms string `json:"alarms"`
}

// Version is set by cmd from the build's version information.
var Version = "dev"

func (b *Box) serveStatus(w http.ResponseWriter, _ *http.Request) {
	st := Status{Name: b.cfg.Box.Name, Board: b.cfg.Box.Board, Uptime: b.clock.Now().Sub(b.start).Round(time.Second).String(), SIP: b.sip.Addrs(), Version: Version,
		Calls: b.sip.ActiveCalls(), Refused: b.sip.Rejected.Load(), Registered: b.sip.Registrar.Registered(), Trunks: b.sip.Trunks(),
		Breakers: b.plan.Breakers(), Disk: DiskStatus{Short: b.space.Short()}, Update: b.updateStatus(), Fleet: b.fleetStatus()}
	if free, err := b.space.Free(); err == nil {
		st.Disk.FreeMB = free >> 20
	}
	for _, s := range b.spans {
		st.Spans = append(st.Spans, SpanStatus{ID: s.Config.ID, Type: s.Config.Type, Group: s.Config.Group, Alarms: s.Alarms().String()})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

type extBindings struct {
	ext string
	bs  []store.Binding
}

// keepBindings starts the writer that keeps registrations in the store,
// in the order they change, off the SIP handlers' path, and returns what
// the registrar tells.
func (b *Box) keepBindings() func(string, []sip.Binding) {
	b.bindings, b.bindingsDone = make(chan extBindings, 4096), make(chan struct{})
	go func(in <-chan extBindings) {
		defer close(b.bindingsDone)
		for e := range in {
			if err := b.db.SetBindings(e.ext, e.bs); err != nil {
				b.log.Error("keeping registrations", "ext", e.ext, "err", err)
			}
		}
	}(b.bindings)
	ch := b.bindings
	return func(ext string, bs []sip.Binding) {
		kept := make([]store.Binding, len(bs))
		for i, x := range bs {
			kept[i] = store.Binding{Contact: x.Contact.String(), Source: x.Source, Transport: x.Transport, CallID: x.CallID, CSeq: x.CSeq, Expires: x.Expires, Since: x.Since}
		}
		select {
		case ch <- extBindings{ext, kept}:
		default:
			b.log.Error("registrations queue full; a change is not kept across a restart", "ext", ext)
		}
	}
}

// restoreBindings gives the registrar the registrations kept before the
// box stopped.
func (b *Box) restoreBindings() error {
	kept, err := b.db.Bindings()
	if err != nil {
		return err
	}
	all := map[string][]sip.Binding{}
	for ext, bs := range kept {
		for _, k := range bs {
			var u gosip.Uri
			if err := gosip.ParseUri(k.Contact, &u); err != nil {
				b.log.Warn("a kept registration does not parse; left out", "ext", ext, "contact", k.Contact, "err", err)
				continue
			}
			all[ext] = append(all[ext], sip.Binding{Contact: u, Source: k.Source, Transport: k.Transport, CallID: k.CallID, CSeq: k.CSeq, Expires: k.Expires, Since: k.Since})
		}
	}
	b.sip.Registrar.Restore(all)
	return nil
}

// tlsConfigs are SIP over TLS's, when sip.transports has "tls": the box's
// certificate (the config's, or the self-signed one in DATA/tls) to
// serve, and what it trusts when it connects to phones and carriers
// (sip.tls_ca; without one it connects unchecked, and says so).
func (b *Box) tlsConfigs() (server, client *tls.Config, err error) {
	cfg := b.cfg.SIP
	if !slices.Contains(cfg.Transports, "tls") {
		return nil, nil, nil
	}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	cert, err := security.Certificate(b.cfg.Path(cfg.TLSCert), b.cfg.Path(cfg.TLSKey), filepath.Join(b.data, "tls"), b.cfg.Box.Name, []string{host}, b.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSCA == "" {
		b.log.Warn("sip: TLS to phones and carriers is encrypted but their certificates are not checked: set sip.tls_ca to check them")
		client.InsecureSkipVerify = true
		return server, client, nil
	}
	pem, err := os.ReadFile(b.cfg.Path(cfg.TLSCA))
	if err != nil {
		return nil, nil, fmt.Errorf("sip.tls_ca: %w", err)
	}
	client.RootCAs = x509.NewCertPool()
	if !client.RootCAs.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("sip.tls_ca: %s holds no PEM certificate", cfg.TLSCA)
	}
	return server, client, nil
}
