// Package metrics exports the box's live state to Prometheus: Handler
// serves it in the text exposition format (GET /metrics on the local HTTP
// API) from a registry of its own, never the process-wide default.
//
// What it exports is read when it is scraped. The box hands New a Sources
// of small funcs — calls up, registrations, trunks, spans, queues, RTP,
// DTMF, bans — and each scrape calls them; nothing is pushed from the
// media path, and the per-packet and per-sample code gains no lock and no
// allocation. What only events tell — a queue caller's wait when an agent
// answers, a call's talk time, how long a store commit took — comes
// through QueueEvent and CommitObserver, once an event (a call, a batch),
// never per packet. The Go runtime's and the process's own collectors
// (go_*, process_*) are registered beside the box's.
//
// Naming, after the Prometheus naming guide: every family of the box is
// jinyin_<subsystem>_<what>[_<unit>] in base units (seconds, not
// milliseconds; ratios from 0 to 1); counters, and only counters, end in
// _total; every family has its HELP. Labels are for bounded sets only —
// transport, trunk, span, alarm, queue, agent state, DTMF method, store
// log — never a call, a caller or an extension. TestNaming holds the
// rules; the README's HTTP API section lists the families.
//
// Layer: beside the box's services, under box, which wires it. It imports
// the standard library and the Prometheus client only: what it reads
// comes as funcs and the plain structs below, never another package of
// the box.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Trunk is a SIP trunk as a scrape reads it.
type Trunk struct {
	Name string
	// Up is false while the trunk does not answer OPTIONS (qualify);
	// a trunk not qualified is up.
	Up bool
	// State is its registration: ip-auth, registering, registered or
	// failed (sip.TrunkState).
	State    string
	Calls    int
	Channels int // its limit; 0: none
}

// Span is an E1/T1 span as a scrape reads it.
type Span struct {
	ID                 int
	LOS, LOF, AIS, RAI bool // its alarms now (G.775)
	// PRI: the span runs a PRI stack; DChannelUp: its D-channel is
	// established.
	PRI, DChannelUp bool
	// Counted: the span's driver counts line errors (since it opened).
	Counted                         bool
	CRC, BPV, Slips, ErroredSeconds uint64
}

// Queue is a call-centre queue as a scrape reads it.
type Queue struct {
	Name        string
	Waiting     int // callers and callbacks
	Callbacks   int // callbacks waiting their turn
	LongestWait time.Duration
	Agents      Agents
}

// Agents counts a queue's agents by state, each agent in one state.
type Agents struct {
	Available int
	Busy      int // ringing, talking or in wrap-up
	Paused    int
	LoggedOut int
	NoPhone   int // logged in, but their phone is not registered
}

// AgentStates are the values of jinyin_queue_agents' state label.
var AgentStates = []string{"available", "busy", "paused", "logged_out", "no_phone"}

func (a Agents) counts() []int { return []int{a.Available, a.Busy, a.Paused, a.LoggedOut, a.NoPhone} }

// RTP is the media of the box's SIP calls: packets received and lost on
// the calls ended and so far on the calls up, and the highest
// interarrival jitter among the calls up.
type RTP struct {
	Received, Lost uint64
	Jitter         time.Duration
}

// TrunkStates are the values of jinyin_sip_trunk_state's state label.
var TrunkStates = []string{"ip-auth", "registering", "registered", "failed"}

// Sources is what a scrape reads. Each func is called once a scrape (New
// calls none of them), from the scraping goroutine, and must be safe for
// concurrent use; a nil one leaves its families out.
type Sources struct {
	Version string    // the firmware's, for jinyin_build_info
	Start   time.Time // when the box started
	// QueueNames are the queues of the config: their event-fed families
	// show from the start, at 0.
	QueueNames []string

	// Calls counts the calls up or being set up by what carries them:
	// "udp", "tcp", "tls" (SIP), "pri", "analog". A key with 0 still
	// shows, so the box lists every transport it has.
	Calls func() map[string]int
	// Rejected is how many INVITEs were answered 503 for overload.
	Rejected func() uint64
	// Registrations counts the live registered contacts by transport.
	Registrations func() map[string]int
	// Registered is how many extensions have a live contact.
	Registered func() int
	Trunks     func() []Trunk
	Spans      func() []Span
	Queues     func() []Queue
	RTP        func() RTP
	// Digits are the DTMF digits heard since the process started, as
	// RFC 4733 events and in the audio.
	Digits func() (signalled, inBand uint64)
	// Bans is the bans in force; BansIssued those made since start.
	Bans       func() int
	BansIssued func() uint64
	// Breakers is the toll-fraud breakers open.
	Breakers func() int
	// MediaLoad is the share of the media tick spent working (0-1).
	MediaLoad func() float64
	// Dropped counts the records dropped by each store log ("cdr",
	// "queue_events"): the writer's queue was full.
	Dropped func() map[string]uint64
}

// Metrics is the box's registry: the scrape-time collector of Sources,
// and the histograms and counters events feed.
type Metrics struct {
	reg *prometheus.Registry

	queueWait   *prometheus.HistogramVec
	queueHandle *prometheus.HistogramVec
	abandoned   *prometheus.CounterVec
	commit      *prometheus.HistogramVec
}

// Buckets, in seconds.
var (
	waitBuckets   = []float64{1, 5, 10, 20, 30, 60, 120, 300, 600, 1800}
	handleBuckets = []float64{10, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600}
	commitBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
)

// New registers the collectors of src, the event-fed families and the
// runtime's and process's collectors in a registry of their own.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jinyin_queue_wait_seconds",
		Help: "How long queue callers waited until an agent answered, observed as each is connected.", Buckets: waitBuckets}, []string{"queue"})
	m.queueHandle = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jinyin_queue_handle_seconds",
		Help: "Talk time of queue calls, observed as each completes.", Buckets: handleBuckets}, []string{"queue"})
	m.abandoned = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jinyin_queue_abandoned_total",
		Help: "Queue callers who left unserved (hung up, reached the maximum wait, or found no agents)."}, []string{"queue"})
	m.commit = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jinyin_store_commit_seconds",
		Help: "How long each batch of records took to commit to the store (write and fsync), by log.", Buckets: commitBuckets}, []string{"log"})
	for _, q := range src.QueueNames {
		m.queueWait.WithLabelValues(q)
		m.queueHandle.WithLabelValues(q)
		m.abandoned.WithLabelValues(q)
	}
	m.reg.MustRegister(newCollector(src), m.queueWait, m.queueHandle, m.abandoned, m.commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Queue event kinds QueueEvent takes (store.QueueKind's values).
const (
	QueueConnect  = "connect"
	QueueComplete = "complete"
	QueueAbandon  = "abandon"
)

// QueueEvent takes a queue event as it is recorded: a connect's wait, a
// complete's talk time, an abandon; other kinds are ignored.
func (m *Metrics) QueueEvent(kind, queue string, wait, talk time.Duration) {
	switch kind {
	case QueueConnect:
		m.queueWait.WithLabelValues(queue).Observe(wait.Seconds())
	case QueueComplete:
		m.queueHandle.WithLabelValues(queue).Observe(talk.Seconds())
	case QueueAbandon:
		m.abandoned.WithLabelValues(queue).Inc()
	}
}

// CommitObserver is what a store log (its recorder's OnCommit) tells each
// batch's commit time to.
func (m *Metrics) CommitObserver(log string) func(time.Duration) {
	o := m.commit.WithLabelValues(log)
	return func(d time.Duration) { o.Observe(d.Seconds()) }
}

// collector reads Sources at each scrape.
type collector struct {
	src Sources

	buildInfo, start                                      *prometheus.Desc
	calls, rejected, regs, registered                     *prometheus.Desc
	trunkUp, trunkState, trunkCalls, trunkChannels        *prometheus.Desc
	spanUp, spanAlarm, dchannel                           *prometheus.Desc
	spanCRC, spanBPV, spanSlips, spanErrored              *prometheus.Desc
	queueWaiting, queueCallbacks, queueLongest, queueAgts *prometheus.Desc
	rtpReceived, rtpLost, rtpJitter                       *prometheus.Desc
	digits, bans, bansIssued, breakers, load, dropped     *prometheus.Desc

	// RTP loss is net of duplicates and a call moves from up to ended
	// between two reads: the counters report the highest reading so far,
	// so that they never go down.
	mu               sync.Mutex
	maxRecv, maxLost uint64
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &collector{src: src,
		buildInfo: d("jinyin_build_info", "Always 1; the firmware's version is its label.", "version"),
		start:     d("jinyin_start_time_seconds", "When the box started, in seconds since the Unix epoch."),

		calls:      d("jinyin_calls_active", "Calls up or being set up, by what carries them (udp, tcp, tls: SIP; pri; analog).", "transport"),
		rejected:   d("jinyin_sip_invites_rejected_total", "INVITEs answered 503 because the box was over its call limits or overloaded."),
		regs:       d("jinyin_sip_registrations", "Live registered contacts (bindings) of the box's extensions, by transport.", "transport"),
		registered: d("jinyin_sip_registered_extensions", "Extensions with at least one live registered contact."),

		trunkUp:       d("jinyin_sip_trunk_up", "1 while the SIP trunk answers OPTIONS (or is not qualified), 0 while it is down.", "trunk"),
		trunkState:    d("jinyin_sip_trunk_state", "1 for the SIP trunk's registration state (ip-auth, registering, registered, failed), 0 for the others.", "trunk", "state"),
		trunkCalls:    d("jinyin_sip_trunk_calls", "Calls holding a channel of the SIP trunk.", "trunk"),
		trunkChannels: d("jinyin_sip_trunk_channels", "The SIP trunk's channel limit (trunks with one only).", "trunk"),

		spanUp:      d("jinyin_span_up", "1 while the span's line carries (no LOS, LOF or AIS; RAI alone is the far end's report), else 0.", "span"),
		spanAlarm:   d("jinyin_span_alarm", "1 while the span has the alarm (LOS, LOF, AIS, RAI), else 0.", "span", "alarm"),
		dchannel:    d("jinyin_span_dchannel_up", "1 while the PRI span's D-channel is established (PRI spans only).", "span"),
		spanCRC:     d("jinyin_span_crc_errors_total", "CRC-4 errors counted on the span since it opened.", "span"),
		spanBPV:     d("jinyin_span_bipolar_violations_total", "Bipolar violations (line code errors) counted on the span since it opened.", "span"),
		spanSlips:   d("jinyin_span_slips_total", "Frame slips counted on the span since it opened.", "span"),
		spanErrored: d("jinyin_span_errored_seconds_total", "Errored seconds (G.826) counted on the span since it opened.", "span"),

		queueWaiting:   d("jinyin_queue_waiting", "Callers and callbacks waiting in the queue.", "queue"),
		queueCallbacks: d("jinyin_queue_callbacks_pending", "Callbacks waiting their turn in the queue.", "queue"),
		queueLongest:   d("jinyin_queue_longest_wait_seconds", "How long the queue's longest waiting caller or callback has waited; 0 with none.", "queue"),
		queueAgts:      d("jinyin_queue_agents", "The queue's agents by state (available, busy, paused, logged_out, no_phone).", "queue", "state"),

		rtpReceived: d("jinyin_rtp_packets_received_total", "RTP packets received on the box's SIP calls (ended and up)."),
		rtpLost:     d("jinyin_rtp_packets_lost_total", "RTP packets lost on the box's SIP calls (ended and up), net of duplicates (RFC 3550)."),
		rtpJitter:   d("jinyin_rtp_jitter_seconds", "The highest interarrival jitter (RFC 3550) among the SIP calls up; 0 with none."),

		digits:     d("jinyin_dtmf_digits_total", "DTMF digits heard, by method: rfc4733 (telephone events) or inband (detected in the audio).", "method"),
		bans:       d("jinyin_security_bans_active", "Source addresses banned now."),
		bansIssued: d("jinyin_security_bans_total", "Bans made since the box started."),
		breakers:   d("jinyin_toll_breakers_open", "Toll-fraud breakers open: extensions and trunk groups whose calls out are stopped."),
		load:       d("jinyin_media_load_ratio", "Share of the 20 ms media tick spent working, smoothed (0-1)."),
		dropped:    d("jinyin_store_records_dropped_total", "Records dropped because the store's writer queue was full, by log.", "log"),
	}
}

func (c *collector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{c.buildInfo, c.start, c.calls, c.rejected, c.regs, c.registered,
		c.trunkUp, c.trunkState, c.trunkCalls, c.trunkChannels,
		c.spanUp, c.spanAlarm, c.dchannel, c.spanCRC, c.spanBPV, c.spanSlips, c.spanErrored,
		c.queueWaiting, c.queueCallbacks, c.queueLongest, c.queueAgts,
		c.rtpReceived, c.rtpLost, c.rtpJitter, c.digits, c.bans, c.bansIssued, c.breakers, c.load, c.dropped}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	s := c.src
	gauge(c.buildInfo, 1, s.Version)
	if !s.Start.IsZero() {
		gauge(c.start, float64(s.Start.UnixNano())/1e9)
	}
	if s.Calls != nil {
		for tr, n := range s.Calls() {
			gauge(c.calls, float64(n), tr)
		}
	}
	if s.Rejected != nil {
		counter(c.rejected, float64(s.Rejected()))
	}
	if s.Registrations != nil {
		for tr, n := range s.Registrations() {
			gauge(c.regs, float64(n), tr)
		}
	}
	if s.Registered != nil {
		gauge(c.registered, float64(s.Registered()))
	}
	if s.Trunks != nil {
		for _, t := range s.Trunks() {
			gauge(c.trunkUp, bool01(t.Up), t.Name)
			known := false
			for _, st := range TrunkStates {
				gauge(c.trunkState, bool01(st == t.State), t.Name, st)
				known = known || st == t.State
			}
			if !known && t.State != "" {
				gauge(c.trunkState, 1, t.Name, t.State)
			}
			gauge(c.trunkCalls, float64(t.Calls), t.Name)
			if t.Channels > 0 {
				gauge(c.trunkChannels, float64(t.Channels), t.Name)
			}
		}
	}
	if s.Spans != nil {
		for _, sp := range s.Spans() {
			id := strconv.Itoa(sp.ID)
			gauge(c.spanUp, bool01(!sp.LOS && !sp.LOF && !sp.AIS), id)
			gauge(c.spanAlarm, bool01(sp.LOS), id, "LOS")
			gauge(c.spanAlarm, bool01(sp.LOF), id, "LOF")
			gauge(c.spanAlarm, bool01(sp.AIS), id, "AIS")
			gauge(c.spanAlarm, bool01(sp.RAI), id, "RAI")
			if sp.PRI {
				gauge(c.dchannel, bool01(sp.DChannelUp), id)
			}
			if sp.Counted {
				counter(c.spanCRC, float64(sp.CRC), id)
				counter(c.spanBPV, float64(sp.BPV), id)
				counter(c.spanSlips, float64(sp.Slips), id)
				counter(c.spanErrored, float64(sp.ErroredSeconds), id)
			}
		}
	}
	if s.Queues != nil {
		for _, q := range s.Queues() {
			gauge(c.queueWaiting, float64(q.Waiting), q.Name)
			gauge(c.queueCallbacks, float64(q.Callbacks), q.Name)
			gauge(c.queueLongest, q.LongestWait.Seconds(), q.Name)
			for i, n := range q.Agents.counts() {
				gauge(c.queueAgts, float64(n), q.Name, AgentStates[i])
			}
		}
	}
	if s.RTP != nil {
		r := s.RTP()
		c.mu.Lock()
		c.maxRecv, c.maxLost = max(c.maxRecv, r.Received), max(c.maxLost, r.Lost)
		recv, lost := c.maxRecv, c.maxLost
		c.mu.Unlock()
		counter(c.rtpReceived, float64(recv))
		counter(c.rtpLost, float64(lost))
		gauge(c.rtpJitter, r.Jitter.Seconds())
	}
	if s.Digits != nil {
		signalled, inBand := s.Digits()
		counter(c.digits, float64(signalled), "rfc4733")
		counter(c.digits, float64(inBand), "inband")
	}
	if s.Bans != nil {
		gauge(c.bans, float64(s.Bans()))
	}
	if s.BansIssued != nil {
		counter(c.bansIssued, float64(s.BansIssued()))
	}
	if s.Breakers != nil {
		gauge(c.breakers, float64(s.Breakers()))
	}
	if s.MediaLoad != nil {
		gauge(c.load, s.MediaLoad())
	}
	if s.Dropped != nil {
		for log, n := range s.Dropped() {
			counter(c.dropped, float64(n), log)
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
