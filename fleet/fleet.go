// Package fleet sends a box's records to headquarters over NATS
// JetStream, store and forward: nothing is sent that is not on disk
// first, and nothing is forgotten on the box before JetStream has
// acknowledged it, so a WAN or headquarters outage delays the records
// and loses none.
//
// # Subjects and payloads
//
// Every message goes to jinyin.SITE.KIND, its body the record's JSON as
// the box's API shows it, with a Nats-Msg-Id of SITE.INSTANCE.KIND.SEQ
// (INSTANCE is the database's random fleet id, SEQ the record's
// sequence in its log) and the same id in the Jinyin-Id header:
//
//	cdr       store.CDR: every call leg, refused calls included
//	queue     store.QueueEvent: enter, connect, abandon, complete, agent
//	          login/logout/pause (the agents' state changes), callbacks,
//	          surveys
//	security  store.SecurityEvent: failed logins, bans, toll-fraud breakers
//	alarm     {"alarm": "span 1: LOS", "state": "raised"|"cleared"}
//	kpi       the KPI report of the day so far (package kpi), each minute
//
// # Store and forward
//
// CDRs, queue and security events are the store's own logs: the box
// keeps, per kind, the sequence headquarters has acknowledged, and sends
// what is after it, so the backlog is bounded only by the store (CDRs
// are never dropped for headquarters). Alarms and KPI snapshots live
// nowhere else, so they wait in a bounded outbox (store.AppendOutbox):
// near full it raises an alarm, and full it drops the oldest KPI
// snapshot first. Each kind goes out in order, in batches published
// asynchronously; the acknowledged sequence moves only over an unbroken
// run of acknowledgements, and a batch cut short is sent again from its
// first failure. JetStream drops a message whose id it has seen within
// the stream's duplicate window (set to 10 minutes when the box makes
// the stream), so a box killed between the acknowledgement and its note
// of it sends nothing twice; headquarters' own table keys on the id for
// anything older.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/store"
)

// Options are what a Forwarder needs.
type Options struct {
	Config config.Fleet
	DB     *store.DB
	Log    *slog.Logger
	Clock  clock.Clock
	// Alarms are the box's alarms now; a change is sent as raised or
	// cleared. KPI is the day's report so far, sent every KPIEvery. Either
	// may be nil.
	Alarms func() []string
	KPI    func() (any, error)
	// Commands serve headquarters' commands (the box's API, see
	// commands.go); nil takes none. OnCommand is told of each one run.
	Commands  http.Handler
	OnCommand func(method, path string, status int)
	// Poll is how often the logs are looked at (1 s when 0), KPIEvery how
	// often a KPI snapshot is taken (a minute when 0).
	Poll, KPIEvery time.Duration
}

// Kinds are the logs sent, in the order each round sends them.
var Kinds = []string{"cdr", "queue", "security", "outbox"}

// batch is the most records published before their acknowledgements are
// awaited.
const batch = 256

// Status is what the box shows of the link to headquarters.
type Status struct {
	Connected bool              `json:"connected"`
	Server    string            `json:"server,omitempty"`
	Sent      map[string]uint64 `json:"sent"`    // acknowledged since start, by kind
	Backlog   map[string]uint64 `json:"backlog"` // stored, not yet acknowledged, by kind
	Outbox    int               `json:"outbox"`  // alarms and KPI snapshots waiting
	Dropped   int               `json:"dropped"` // outbox events dropped for room since start
	Error     string            `json:"error,omitempty"`
}

// Forwarder keeps headquarters up to date.
type Forwarder struct {
	o        Options
	instance string
	nopts    []nats.Option

	mu      sync.Mutex
	st      Status
	alarmed map[string]bool
}

// New checks what Run will need: the store's fleet id and the NATS
// options (credentials and TLS files are read when connecting).
func New(o Options) (*Forwarder, error) {
	if o.Poll == 0 {
		o.Poll = time.Second
	}
	if o.KPIEvery == 0 {
		o.KPIEvery = time.Minute
	}
	id, err := o.DB.FleetInstance()
	if err != nil {
		return nil, err
	}
	c := o.Config
	f := &Forwarder{o: o, instance: id, alarmed: map[string]bool{},
		st: Status{Sent: map[string]uint64{}, Backlog: map[string]uint64{}}}
	f.nopts = []nats.Option{
		nats.Name("jinyin " + c.Site),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1), // nothing is published while the link is down: the store is the buffer
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { f.setErr("disconnected", err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { f.o.Log.Info("fleet: connected again", "server", nc.ConnectedUrlRedacted()) }),
	}
	if c.Credentials != "" {
		f.nopts = append(f.nopts, nats.UserCredentials(c.Credentials))
	}
	if c.NKey != "" {
		opt, err := nats.NkeyOptionFromSeed(c.NKey)
		if err != nil {
			return nil, errors.New("fleet: nkey " + c.NKey + ": " + err.Error())
		}
		f.nopts = append(f.nopts, opt)
	}
	if c.CA != "" {
		f.nopts = append(f.nopts, nats.RootCAs(c.CA))
	}
	if c.Cert != "" {
		f.nopts = append(f.nopts, nats.ClientCert(c.Cert, c.Key))
	}
	return f, nil
}

// Status is the link and the backlog now.
func (f *Forwarder) Status() Status {
	f.mu.Lock()
	st := f.st
	st.Sent, st.Backlog = maps.Clone(f.st.Sent), maps.Clone(f.st.Backlog)
	f.mu.Unlock()
	return st
}

func (f *Forwarder) setErr(what string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		f.st.Error = ""
		return
	}
	msg := what + ": " + err.Error()
	if msg != f.st.Error {
		f.o.Log.Warn("fleet: headquarters out of reach", "what", what, "err", err)
	}
	f.st.Error = msg
}

// Run sends until ctx ends.
func (f *Forwarder) Run(ctx context.Context) {
	nc, err := nats.Connect(strings.Join(f.o.Config.Servers, ","), f.nopts...)
	if err != nil { // a bad credentials or TLS file: nothing to retry
		f.setErr("connect", err)
		return
	}
	defer func() {
		// Drained, not closed: a command being run finishes and its answer
		// goes out (a new config's restart comes right after its 202).
		if nc.Drain() == nil {
			for deadline := time.Now().Add(5 * time.Second); !nc.IsClosed() && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond) // real time: the network's
			}
		}
		nc.Close()
	}()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(batch))
	if err != nil {
		f.setErr("jetstream", err)
		return
	}
	if f.o.Commands != nil {
		if _, err := f.serveCommands(nc); err != nil {
			f.setErr("commands", err)
		}
	}
	tick := f.o.Clock.NewTicker(f.o.Poll)
	defer tick.Stop()
	kpiTick := f.o.Clock.NewTicker(f.o.KPIEvery)
	defer kpiTick.Stop()
	streamReady := false
	for {
		f.watchAlarms()
		f.mu.Lock()
		f.st.Connected, f.st.Server = nc.IsConnected(), nc.ConnectedUrlRedacted()
		f.mu.Unlock()
		if nc.IsConnected() {
			if !streamReady {
				streamReady = f.ensureStream(ctx, js)
			}
			if streamReady {
				f.round(ctx, js)
			}
		}
		f.backlog()
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		case <-kpiTick.C():
			f.snapshotKPI()
		}
	}
}

// StreamSubjects are what the stream keeps: the events' subjects of every
// site, and not jinyin.SITE.cmd (JetStream would answer a command with
// its own acknowledgement).
var StreamSubjects = []string{"jinyin.*.cdr", "jinyin.*.queue", "jinyin.*.security", "jinyin.*.alarm", "jinyin.*.kpi"}

// ensureStream makes the stream if headquarters has not.
func (f *Forwarder) ensureStream(ctx context.Context, js jetstream.JetStream) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second) // real time: a network round trip
	defer cancel()
	_, err := js.Stream(ctx, f.o.Config.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: f.o.Config.Stream, Subjects: StreamSubjects,
			Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute})
	}
	f.setErr("stream "+f.o.Config.Stream, err)
	return err == nil
}

// record is one stored record ready to send.
type record struct {
	seq  uint64
	kind string // the subject's last token
	data []byte
}

// read returns the records of a log after since, as JSON.
func (f *Forwarder) read(log string, since uint64) ([]record, error) {
	db := f.o.DB
	switch log {
	case "cdr":
		recs, err := db.CDRs(since, batch)
		return encode(recs, err, func(r store.CDR) uint64 { return r.Seq }, log)
	case "queue":
		recs, err := db.QueueEvents(since, batch)
		return encode(recs, err, func(r store.QueueEvent) uint64 { return r.Seq }, log)
	case "security":
		recs, err := db.SecurityEvents(since, batch)
		return encode(recs, err, func(r store.SecurityEvent) uint64 { return r.Seq }, log)
	}
	evs, err := db.Outbox(since, batch)
	out := make([]record, len(evs))
	for i, e := range evs {
		out[i] = record{seq: e.Seq, kind: e.Kind, data: e.Data}
	}
	return out, err
}

// encode makes records of a log's entries, each as its JSON.
func encode[T any](recs []T, err error, seq func(T) uint64, kind string) ([]record, error) {
	if err != nil {
		return nil, err
	}
	out := make([]record, len(recs))
	for i, r := range recs {
		data, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		out[i] = record{seq: seq(r), kind: kind, data: data}
	}
	return out, nil
}

// round sends each log's backlog, a batch at a time, while JetStream
// acknowledges.
func (f *Forwarder) round(ctx context.Context, js jetstream.JetStream) {
	for _, log := range Kinds {
		for ctx.Err() == nil {
			n, err := f.sendBatch(ctx, js, log)
			f.setErr("publish "+log, err)
			if err != nil || n < batch {
				break
			}
		}
	}
}

// sendBatch publishes the next batch of log and notes how far it was
// acknowledged without a gap.
func (f *Forwarder) sendBatch(ctx context.Context, js jetstream.JetStream, log string) (int, error) {
	since, err := f.o.DB.FleetSent(log)
	if err != nil {
		return 0, err
	}
	recs, err := f.read(log, since)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(recs))
	for _, r := range recs {
		id := f.o.Config.Site + "." + f.instance + "." + log + "." + strconv.FormatUint(r.seq, 10)
		m := nats.NewMsg("jinyin." + f.o.Config.Site + "." + r.kind)
		m.Data = r.data
		m.Header.Set("Jinyin-Id", id)
		fut, err := js.PublishMsgAsync(m, jetstream.WithMsgID(id))
		if err != nil {
			break
		}
		futures = append(futures, fut)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second) // real time: the acknowledgements' round trip
	defer cancel()
	acked := since
	var failed error
	for i, fut := range futures {
		select {
		case <-fut.Ok():
			if failed == nil {
				acked = recs[i].seq
			}
		case err := <-fut.Err():
			failed = cmpErr(failed, err)
		case <-wait.Done():
			failed = cmpErr(failed, wait.Err())
		}
	}
	if len(futures) < len(recs) && failed == nil {
		failed = errors.New("publish refused")
	}
	if acked > since {
		if err := f.o.DB.SetFleetSent(log, acked); err != nil {
			return 0, err
		}
		f.mu.Lock()
		f.st.Sent[log] += acked - since
		f.mu.Unlock()
	}
	return len(recs), failed
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// backlog counts what is stored and not yet acknowledged.
func (f *Forwarder) backlog() {
	for _, log := range Kinds {
		last, err1 := f.o.DB.LastSeq(log)
		sent, err2 := f.o.DB.FleetSent(log)
		if err1 != nil || err2 != nil || last < sent {
			continue
		}
		f.mu.Lock()
		f.st.Backlog[log] = last - sent
		f.mu.Unlock()
	}
	if n, err := f.o.DB.OutboxLen(); err == nil {
		f.mu.Lock()
		f.st.Outbox, f.st.Backlog["outbox"] = n, uint64(n) // events dropped for room left gaps in its sequence
		f.mu.Unlock()
	}
}

// watchAlarms puts each alarm raised or cleared since the last look in
// the outbox.
func (f *Forwarder) watchAlarms() {
	if f.o.Alarms == nil {
		return
	}
	now := map[string]bool{}
	for _, a := range f.o.Alarms() {
		now[a] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for a := range now {
		if !f.alarmed[a] {
			f.outboxLocked("alarm", map[string]string{"alarm": a, "state": "raised"})
		}
	}
	for a := range f.alarmed {
		if !now[a] {
			f.outboxLocked("alarm", map[string]string{"alarm": a, "state": "cleared"})
		}
	}
	f.alarmed = now
}

func (f *Forwarder) snapshotKPI() {
	if f.o.KPI == nil {
		return
	}
	r, err := f.o.KPI()
	if err != nil {
		f.o.Log.Error("fleet: KPI snapshot", "err", err)
		return
	}
	f.mu.Lock()
	f.outboxLocked("kpi", r)
	f.mu.Unlock()
}

// outboxAlarm is the alarm raised when the outbox is this full.
const outboxAlarm = 0.8

func (f *Forwarder) outboxLocked(kind string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		f.o.Log.Error("fleet: outbox event", "kind", kind, "err", err)
		return
	}
	dropped, held, err := f.o.DB.AppendOutbox(store.OutboxEvent{Time: f.o.Clock.Now(), Kind: kind, Data: data}, f.o.Config.OutboxMax)
	if err != nil {
		f.o.Log.Error("fleet: outbox event", "kind", kind, "err", err)
		return
	}
	f.st.Outbox, f.st.Dropped = held, f.st.Dropped+dropped
}

// Alarm is the forwarder's own alarm for the box's list: the outbox
// near full (headquarters out of reach for long), "" when none.
func (f *Forwarder) Alarm() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if float64(f.st.Outbox) >= outboxAlarm*float64(f.o.Config.OutboxMax) {
		// No counts in it: the text names the alarm, and headquarters is
		// told when it is raised and cleared.
		return "fleet: headquarters out of reach, its outbox near full"
	}
	return ""
}
