package metrics

import (
	"io"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// full is a Sources with every source set, as a busy box reads.
func full() Sources {
	return Sources{Version: "test", Start: time.Unix(1_800_000_000, 0), QueueNames: []string{"general", "complaints"},
		Calls:         func() map[string]int { return map[string]int{"udp": 2, "tcp": 0, "pri": 1, "analog": 0} },
		Rejected:      func() uint64 { return 3 },
		Registrations: func() map[string]int { return map[string]int{"udp": 4, "tcp": 1} },
		Registered:    func() int { return 4 },
		Trunks: func() []Trunk {
			return []Trunk{{Name: "carrier", Up: true, State: "registered", Calls: 1, Channels: 30}, {Name: "peer", State: "ip-auth"}}
		},
		Spans: func() []Span {
			return []Span{{ID: 1, LOS: true, PRI: true, Counted: true, CRC: 7, BPV: 3, Slips: 1, ErroredSeconds: 2}, {ID: 2, RAI: true}}
		},
		Queues: func() []Queue {
			return []Queue{{Name: "general", Waiting: 3, Callbacks: 1, LongestWait: 90 * time.Second, Agents: Agents{Available: 1, Busy: 2, Paused: 1, LoggedOut: 4, NoPhone: 1}},
				{Name: "complaints"}}
		},
		RTP:        func() RTP { return RTP{Received: 5000, Lost: 12, Jitter: 4 * time.Millisecond} },
		Digits:     func() (uint64, uint64) { return 6, 9 },
		Bans:       func() int { return 2 },
		BansIssued: func() uint64 { return 5 },
		Breakers:   func() int { return 1 },
		MediaLoad:  func() float64 { return 0.25 },
		Dropped:    func() map[string]uint64 { return map[string]uint64{"cdr": 0, "queue_events": 0} },
	}
}

// busy is New on full with one of each event.
func busy(t *testing.T) *Metrics {
	t.Helper()
	m := New(full())
	m.QueueEvent(QueueConnect, "general", 42*time.Second, 0)
	m.QueueEvent(QueueComplete, "general", 0, 200*time.Second)
	m.QueueEvent(QueueAbandon, "complaints", 10*time.Second, 0)
	m.CommitObserver("cdr")(3 * time.Millisecond)
	return m
}

func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// The naming rules of the package doc, on every family the box exports:
// the jinyin_ prefix (beside the runtime's go_ and process_), a HELP,
// _total on counters and on nothing else, durations as histograms in
// _seconds, labels only from the bounded sets, and what promlint checks
// (base units, snake case, no type in the name). Every family described
// is there when its source is set: none is described and never shown.
func TestNaming(t *testing.T) {
	fams := gather(t, busy(t))
	bounded := []string{"transport", "trunk", "state", "span", "alarm", "queue", "method", "log", "version"}
	var ours []*dto.MetricFamily
	for name, mf := range fams {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		ours = append(ours, mf)
		if !strings.HasPrefix(name, "jinyin_") {
			t.Errorf("%s: not prefixed jinyin_", name)
		}
		if strings.TrimSpace(mf.GetHelp()) == "" {
			t.Errorf("%s: no HELP", name)
		}
		if counter := mf.GetType() == dto.MetricType_COUNTER; counter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s: counters and only counters end in _total", name, mf.GetType())
		}
		if mf.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds") {
			t.Errorf("%s: a histogram of durations is in _seconds", name)
		}
		if strings.Contains(name, "milli") || strings.HasSuffix(name, "_ms") {
			t.Errorf("%s: not in base units", name)
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if !slices.Contains(bounded, l.GetName()) {
					t.Errorf("%s: label %q is not one of the bounded sets %v", name, l.GetName(), bounded)
				}
			}
		}
	}
	problems, err := promlint.NewWithMetricFamilies(ours).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	ch := make(chan *prometheus.Desc, 100)
	newCollector(full()).Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	described := 0
	for d := range ch {
		described++
		name := fq.FindStringSubmatch(d.String())[1]
		if fams[name] == nil {
			t.Errorf("%s is described but not exported with every source set", name)
		}
	}
	if described < 30 {
		t.Errorf("%d families described", described)
	}
}

// value is the value of the family's sample with the labels (name, value
// pairs): a gauge's or counter's value, a histogram's count.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no %s", name)
	}
next:
	for _, mt := range mf.GetMetric() {
		for i := 0; i < len(labels); i += 2 {
			if !slices.ContainsFunc(mt.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
				continue next
			}
		}
		switch {
		case mt.Gauge != nil:
			return mt.Gauge.GetValue()
		case mt.Counter != nil:
			return mt.Counter.GetValue()
		case mt.Histogram != nil:
			return float64(mt.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// A scrape shows what the sources read, in base units.
func TestValues(t *testing.T) {
	fams := gather(t, busy(t))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"jinyin_build_info", []string{"version", "test"}, 1},
		{"jinyin_start_time_seconds", nil, 1_800_000_000},
		{"jinyin_calls_active", []string{"transport", "udp"}, 2},
		{"jinyin_calls_active", []string{"transport", "tcp"}, 0},
		{"jinyin_calls_active", []string{"transport", "pri"}, 1},
		{"jinyin_sip_invites_rejected_total", nil, 3},
		{"jinyin_sip_registrations", []string{"transport", "udp"}, 4},
		{"jinyin_sip_registered_extensions", nil, 4},
		{"jinyin_sip_trunk_up", []string{"trunk", "carrier"}, 1},
		{"jinyin_sip_trunk_up", []string{"trunk", "peer"}, 0},
		{"jinyin_sip_trunk_state", []string{"trunk", "carrier", "state", "registered"}, 1},
		{"jinyin_sip_trunk_state", []string{"trunk", "carrier", "state", "failed"}, 0},
		{"jinyin_sip_trunk_state", []string{"trunk", "peer", "state", "ip-auth"}, 1},
		{"jinyin_sip_trunk_calls", []string{"trunk", "carrier"}, 1},
		{"jinyin_sip_trunk_channels", []string{"trunk", "carrier"}, 30},
		{"jinyin_span_up", []string{"span", "1"}, 0},
		{"jinyin_span_up", []string{"span", "2"}, 1}, // RAI alone: the line carries
		{"jinyin_span_alarm", []string{"span", "1", "alarm", "LOS"}, 1},
		{"jinyin_span_alarm", []string{"span", "1", "alarm", "AIS"}, 0},
		{"jinyin_span_alarm", []string{"span", "2", "alarm", "RAI"}, 1},
		{"jinyin_span_dchannel_up", []string{"span", "1"}, 0},
		{"jinyin_span_crc_errors_total", []string{"span", "1"}, 7},
		{"jinyin_span_bipolar_violations_total", []string{"span", "1"}, 3},
		{"jinyin_span_slips_total", []string{"span", "1"}, 1},
		{"jinyin_span_errored_seconds_total", []string{"span", "1"}, 2},
		{"jinyin_queue_waiting", []string{"queue", "general"}, 3},
		{"jinyin_queue_callbacks_pending", []string{"queue", "general"}, 1},
		{"jinyin_queue_longest_wait_seconds", []string{"queue", "general"}, 90},
		{"jinyin_queue_agents", []string{"queue", "general", "state", "available"}, 1},
		{"jinyin_queue_agents", []string{"queue", "general", "state", "busy"}, 2},
		{"jinyin_queue_agents", []string{"queue", "general", "state", "logged_out"}, 4},
		{"jinyin_queue_agents", []string{"queue", "general", "state", "no_phone"}, 1},
		{"jinyin_queue_wait_seconds", []string{"queue", "general"}, 1},
		{"jinyin_queue_wait_seconds", []string{"queue", "complaints"}, 0},
		{"jinyin_queue_handle_seconds", []string{"queue", "general"}, 1},
		{"jinyin_queue_abandoned_total", []string{"queue", "complaints"}, 1},
		{"jinyin_queue_abandoned_total", []string{"queue", "general"}, 0},
		{"jinyin_store_commit_seconds", []string{"log", "cdr"}, 1},
		{"jinyin_rtp_packets_received_total", nil, 5000},
		{"jinyin_rtp_packets_lost_total", nil, 12},
		{"jinyin_rtp_jitter_seconds", nil, 0.004},
		{"jinyin_dtmf_digits_total", []string{"method", "rfc4733"}, 6},
		{"jinyin_dtmf_digits_total", []string{"method", "inband"}, 9},
		{"jinyin_security_bans_active", nil, 2},
		{"jinyin_security_bans_total", nil, 5},
		{"jinyin_toll_breakers_open", nil, 1},
		{"jinyin_media_load_ratio", nil, 0.25},
		{"jinyin_store_records_dropped_total", []string{"log", "cdr"}, 0},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if h := fams["jinyin_queue_wait_seconds"].GetMetric(); len(h) != 2 {
		t.Errorf("wait histograms: %d, want one for each queue of the config", len(h))
	}
}

// The RTP counters never go down, though a reading may (loss net of
// duplicates; a call between up and ended).
func TestRTPCountersHold(t *testing.T) {
	r := RTP{Received: 100, Lost: 10}
	src := Sources{RTP: func() RTP { return r }}
	m := New(src)
	gather(t, m)
	r = RTP{Received: 90, Lost: 8}
	fams := gather(t, m)
	if got := value(t, fams, "jinyin_rtp_packets_lost_total"); got != 10 {
		t.Errorf("lost after a lower reading: %v, want 10", got)
	}
	if got := value(t, fams, "jinyin_rtp_packets_received_total"); got != 100 {
		t.Errorf("received after a lower reading: %v, want 100", got)
	}
	r = RTP{Received: 150, Lost: 11}
	if got := value(t, gather(t, m), "jinyin_rtp_packets_lost_total"); got != 11 {
		t.Errorf("lost: %v, want 11", got)
	}
}

// A source left nil leaves its families out; the rest still show.
func TestNilSources(t *testing.T) {
	fams := gather(t, New(Sources{Version: "v"}))
	if fams["jinyin_calls_active"] != nil || fams["jinyin_span_up"] != nil {
		t.Errorf("families without their source: %v", fams)
	}
	if fams["jinyin_build_info"] == nil || fams["go_goroutines"] == nil {
		t.Errorf("build info or the runtime's families missing")
	}
}

// The handler serves the text format.
func TestHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	busy(t).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "# TYPE jinyin_calls_active gauge") ||
		!strings.Contains(string(body), `jinyin_calls_active{transport="udp"} 2`) {
		t.Errorf("GET /metrics: %d\n%s", rec.Code, body)
	}
}
