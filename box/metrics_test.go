package box_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"jinyin/acd"
	boardsim "jinyin/board/sim"
	"jinyin/config"
	"jinyin/hal"
	"jinyin/internal/siptest"
)

// scrape is GET /metrics parsed as the Prometheus text format; a request
// that fails, an answer other than 200 in that format or one that does
// not parse fails the test.
func scrape(t *testing.T, httpAddr string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, %s", res.Status, res.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("GET /metrics does not parse: %v", err)
	}
	return fams
}

// sample is the value of a family's sample with the labels (name, value
// pairs): a gauge's or a counter's value, a histogram's count; a family
// or sample missing fails the test.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	v, ok := lookup(fams, name, labels...)
	if !ok {
		t.Fatalf("GET /metrics: no %s%v", name, labels)
	}
	return v
}

func lookup(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf := fams[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// waitSample waits until a sample satisfies ok.
func waitSample(t *testing.T, httpAddr, what string, ok func(float64) bool, name string, labels ...string) {
	t.Helper()
	var v float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		v = sample(t, scrape(t, httpAddr), name, labels...)
		if ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s%v is %v", what, name, labels, v)
		}
	}
}

// The families GET /metrics has on the demo box, and their types.
var boxFamilies = map[string]dto.MetricType{
	"jinyin_build_info":                    dto.MetricType_GAUGE,
	"jinyin_start_time_seconds":            dto.MetricType_GAUGE,
	"jinyin_calls_active":                  dto.MetricType_GAUGE,
	"jinyin_sip_invites_rejected_total":    dto.MetricType_COUNTER,
	"jinyin_sip_registrations":             dto.MetricType_GAUGE,
	"jinyin_sip_registered_extensions":     dto.MetricType_GAUGE,
	"jinyin_sip_trunk_up":                  dto.MetricType_GAUGE,
	"jinyin_sip_trunk_state":               dto.MetricType_GAUGE,
	"jinyin_sip_trunk_calls":               dto.MetricType_GAUGE,
	"jinyin_sip_trunk_channels":            dto.MetricType_GAUGE,
	"jinyin_span_up":                       dto.MetricType_GAUGE,
	"jinyin_span_alarm":                    dto.MetricType_GAUGE,
	"jinyin_span_dchannel_up":              dto.MetricType_GAUGE,
	"jinyin_span_crc_errors_total":         dto.MetricType_COUNTER,
	"jinyin_span_bipolar_violations_total": dto.MetricType_COUNTER,
	"jinyin_span_slips_total":              dto.MetricType_COUNTER,
	"jinyin_span_errored_seconds_total":    dto.MetricType_COUNTER,
	"jinyin_queue_waiting":                 dto.MetricType_GAUGE,
	"jinyin_queue_callbacks_pending":       dto.MetricType_GAUGE,
	"jinyin_queue_longest_wait_seconds":    dto.MetricType_GAUGE,
	"jinyin_queue_agents":                  dto.MetricType_GAUGE,
	"jinyin_queue_wait_seconds":            dto.MetricType_HISTOGRAM,
	"jinyin_queue_handle_seconds":          dto.MetricType_HISTOGRAM,
	"jinyin_queue_abandoned_total":         dto.MetricType_COUNTER,
	"jinyin_store_commit_seconds":          dto.MetricType_HISTOGRAM,
	"jinyin_store_records_dropped_total":   dto.MetricType_COUNTER,
	"jinyin_rtp_packets_received_total":    dto.MetricType_COUNTER,
	"jinyin_rtp_packets_lost_total":        dto.MetricType_COUNTER,
	"jinyin_rtp_jitter_seconds":            dto.MetricType_GAUGE,
	"jinyin_dtmf_digits_total":             dto.MetricType_COUNTER,
	"jinyin_security_bans_active":          dto.MetricType_GAUGE,
	"jinyin_security_bans_total":           dto.MetricType_COUNTER,
	"jinyin_toll_breakers_open":            dto.MetricType_GAUGE,
	"jinyin_media_load_ratio":              dto.MetricType_GAUGE,
	"go_goroutines":                        dto.MetricType_GAUGE,
	"process_resident_memory_bytes":        dto.MetricType_GAUGE,
}

// metricsConfig is the demo with a SIP trunk (on 127.0.0.2, so that the
// test's calls from 127.0.0.1 are not the trunk's).
func metricsConfig() []byte {
	return []byte(string(config.Default()) + `
[[trunk]]
name = "carrier"
host = "127.0.0.2:5999"
channels = 10
destination = "100"
`)
}

// TestMetricsOverHTTP: GET /metrics on the demo box parses as the
// Prometheus text format with every family of the box, typed; a phone
// registered over UDP counts, a call up shows 1 on UDP and goes back to 0,
// the digits its caller keys (an RFC 4733 event, in-band tones) are
// counted, its RTP is, and its record's commit is timed; the span's LOS
// and line errors show; the trunk is up; the queues read what GET /queues
// says.
func TestMetricsOverHTTP(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startConfig(t, dir, metricsConfig())
	fams := scrape(t, httpAddr)
	for name, typ := range boxFamilies {
		switch mf := fams[name]; {
		case mf == nil:
			t.Errorf("GET /metrics has no %s", name)
		case mf.GetType() != typ:
			t.Errorf("%s is a %s, want a %s", name, mf.GetType(), typ)
		case mf.GetHelp() == "":
			t.Errorf("%s has no HELP", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"jinyin_calls_active", []string{"transport", "udp"}, 0},
		{"jinyin_calls_active", []string{"transport", "tcp"}, 0},
		{"jinyin_calls_active", []string{"transport", "pri"}, 0},
		{"jinyin_sip_registrations", []string{"transport", "udp"}, 0},
		{"jinyin_sip_registered_extensions", nil, 0},
		{"jinyin_sip_trunk_up", []string{"trunk", "carrier"}, 1},
		{"jinyin_sip_trunk_state", []string{"trunk", "carrier", "state", "ip-auth"}, 1},
		{"jinyin_sip_trunk_state", []string{"trunk", "carrier", "state", "registered"}, 0},
		{"jinyin_sip_trunk_channels", []string{"trunk", "carrier"}, 10},
		{"jinyin_span_up", []string{"span", "1"}, 1},
		{"jinyin_span_alarm", []string{"span", "1", "alarm", "LOS"}, 0},
		{"jinyin_build_info", []string{"version", "dev"}, 1},
	} {
		if got := sample(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("idle: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if _, ok := lookup(fams, "jinyin_span_dchannel_up", "span", "1"); !ok {
		t.Error("no D-channel state for the PRI span 1")
	}

	// The queues as GET /queues reads them.
	res, err := http.Get("http://" + httpAddr + "/queues")
	if err != nil {
		t.Fatal(err)
	}
	var queues acd.Status
	json.NewDecoder(res.Body).Decode(&queues)
	res.Body.Close()
	if len(queues.Queues) < 2 {
		t.Fatalf("GET /queues: %+v", queues)
	}
	for _, q := range queues.Queues {
		for state, want := range map[string]int{"available": q.Available, "busy": q.Busy, "paused": q.Paused, "logged_out": q.LoggedOut, "no_phone": q.NoPhone} {
			if got := sample(t, fams, "jinyin_queue_agents", "queue", q.Name, "state", state); got != float64(want) {
				t.Errorf("queue %s, %s agents: %v, GET /queues says %d", q.Name, state, got, want)
			}
		}
		if got := sample(t, fams, "jinyin_queue_waiting", "queue", q.Name); got != float64(q.Waiting) {
			t.Errorf("queue %s waiting: %v, GET /queues says %d", q.Name, got, q.Waiting)
		}
		sample(t, fams, "jinyin_queue_callbacks_pending", "queue", q.Name)
		sample(t, fams, "jinyin_queue_longest_wait_seconds", "queue", q.Name)
		sample(t, fams, "jinyin_queue_wait_seconds", "queue", q.Name)
		sample(t, fams, "jinyin_queue_handle_seconds", "queue", q.Name)
		sample(t, fams, "jinyin_queue_abandoned_total", "queue", q.Name)
	}

	// A phone registers over UDP.
	registerUDP(t, sipAddr, "1002", password(t, dir, "1002"))
	fams = scrape(t, httpAddr)
	if got := sample(t, fams, "jinyin_sip_registrations", "transport", "udp"); got != 1 {
		t.Errorf("registered contacts over UDP: %v, want 1", got)
	}
	if got := sample(t, fams, "jinyin_sip_registered_extensions"); got != 1 {
		t.Errorf("registered extensions: %v, want 1", got)
	}

	// A call over UDP to the IVR, keying an event and tones.
	before := scrape(t, httpAddr)
	call := dial(t, sipAddr, "100", "13800000001", "")
	h := listen(t, call)
	h.hear("zh", "welcome", "main-menu")
	if got := sample(t, scrape(t, httpAddr), "jinyin_calls_active", "transport", "udp"); got != 1 {
		t.Errorf("a call up over UDP: calls_active{udp} = %v, want 1", got)
	}
	call.SendDigits("2")
	h.hear("zh", "enter-order")
	time.Sleep(300 * time.Millisecond) // tones just after an event are taken for its echo
	if err := call.SendTones("4567#"); err != nil {
		t.Fatal(err)
	}
	h.hear("zh", "order-status-is")
	during := scrape(t, httpAddr)
	for method, keyed := range map[string]float64{"rfc4733": 1, "inband": 5} {
		if d := sample(t, during, "jinyin_dtmf_digits_total", "method", method) - sample(t, before, "jinyin_dtmf_digits_total", "method", method); d < keyed {
			t.Errorf("%s digits counted during the call: %v, want at least %v", method, d, keyed)
		}
	}
	if d := sample(t, during, "jinyin_rtp_packets_received_total") - sample(t, before, "jinyin_rtp_packets_received_total"); d < 50 {
		t.Errorf("RTP packets received during the call: %v", d)
	}
	if lost := sample(t, during, "jinyin_rtp_packets_lost_total"); lost < 0 {
		t.Errorf("RTP lost %v", lost)
	}
	if j := sample(t, during, "jinyin_rtp_jitter_seconds"); j < 0 || j > 1 {
		t.Errorf("RTP jitter %v s", j)
	}
	commits := sample(t, during, "jinyin_store_commit_seconds", "log", "cdr")
	call.Dialog.Bye(t.Context())
	waitSample(t, httpAddr, "the call hung up", func(v float64) bool { return v == 0 }, "jinyin_calls_active", "transport", "udp")
	waitSample(t, httpAddr, "the call's record committed", func(v float64) bool { return v > commits }, "jinyin_store_commit_seconds", "log", "cdr")
	if d := sample(t, scrape(t, httpAddr), "jinyin_rtp_packets_received_total") - sample(t, during, "jinyin_rtp_packets_received_total"); d < 0 {
		t.Errorf("RTP received went down by %v as the call ended", -d)
	}

	// The span loses its signal and counts line errors.
	span := boardsim.Opened(1)
	span.InjectAlarms(hal.AlarmLOS | hal.AlarmRAI)
	t.Cleanup(func() { span.InjectAlarms(0) })
	span.InjectErrors(hal.Counters{CRC: 7, BPV: 3, Slips: 1, ErroredSeconds: 2})
	fams = scrape(t, httpAddr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"jinyin_span_up", nil, 0},
		{"jinyin_span_alarm", []string{"alarm", "LOS"}, 1},
		{"jinyin_span_alarm", []string{"alarm", "RAI"}, 1},
		{"jinyin_span_alarm", []string{"alarm", "AIS"}, 0},
		{"jinyin_span_crc_errors_total", nil, 7},
		{"jinyin_span_bipolar_violations_total", nil, 3},
		{"jinyin_span_slips_total", nil, 1},
		{"jinyin_span_errored_seconds_total", nil, 2},
	} {
		if got := sample(t, fams, c.name, append([]string{"span", "1"}, c.labels...)...); got != c.want {
			t.Errorf("span 1 with LOS|RAI: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if st := status(t, httpAddr); len(st.Spans) != 1 || st.Spans[0].Alarms != "LOS|RAI" {
		t.Errorf("GET /status spans: %+v", st.Spans)
	}
}

// TestMetricsQueueCall: an agent (baresip, registered as 1002 and logged
// in) takes a caller from the general queue: while they talk, two calls
// are up over UDP and the agent is busy; the caller's wait is observed at
// connect and the talk time at complete.
func TestMetricsQueueCall(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startBox(t, dir)
	out, ctl := startBaresipCtl(t, dir, sipAddr, httpAddr, "1002", nil)
	if res, err := supervisor.Post("http://"+httpAddr+"/agents/1002/login", "", nil); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login over the API: %v %v", err, res)
	}
	fams := scrape(t, httpAddr)
	if got := sample(t, fams, "jinyin_queue_agents", "queue", "general", "state", "available"); got != 1 {
		t.Errorf("general's available agents after 1002 logged in: %v", got)
	}
	if got := sample(t, fams, "jinyin_sip_registrations", "transport", "udp"); got != 1 {
		t.Errorf("baresip's contact over UDP: %v", got)
	}
	if got := sample(t, fams, "jinyin_queue_wait_seconds", "queue", "general"); got != 0 {
		t.Errorf("waits observed before any call: %v", got)
	}

	call := dial(t, sipAddr, "100", "13800000005", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hear("zh", "transfer")
	h.hearDigits("2580", out)
	fams = scrape(t, httpAddr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"jinyin_calls_active", []string{"transport", "udp"}, 2}, // the caller's leg and the agent's
		{"jinyin_queue_agents", []string{"queue", "general", "state", "busy"}, 1},
		{"jinyin_queue_agents", []string{"queue", "general", "state", "available"}, 0},
		{"jinyin_queue_wait_seconds", []string{"queue", "general"}, 1},
		{"jinyin_queue_handle_seconds", []string{"queue", "general"}, 0},
	} {
		if got := sample(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("talking: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	waitSecs := histogramSum(fams, "jinyin_queue_wait_seconds", "general")
	if waitSecs <= 0 || waitSecs > 60 {
		t.Errorf("the caller's wait: %v s", waitSecs)
	}
	baresipCommand(t, ctl, "hangup")
	h.hear("zh", "survey")
	waitSample(t, httpAddr, "the talk time observed at complete", func(v float64) bool { return v == 1 }, "jinyin_queue_handle_seconds", "queue", "general")
	if talk := histogramSum(scrape(t, httpAddr), "jinyin_queue_handle_seconds", "general"); talk <= 0 {
		t.Errorf("talk time %v s", talk)
	}
}

func histogramSum(fams map[string]*dto.MetricFamily, name, queue string) float64 {
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "queue" && l.GetValue() == queue {
				return m.GetHistogram().GetSampleSum()
			}
		}
	}
	return -1
}

// registerUDP registers ext from a UDP socket of the test, answering the
// box's digest challenge with its password.
func registerUDP(t *testing.T, sipAddr, ext, pw string) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	dst := mustUDP(sipAddr)
	id := fmt.Sprintf("metrics%d", time.Now().UnixNano())
	res, err := siptest.RegisterUDP(c, dst, ext, pw, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("REGISTER with the password: %q", res)
	}
}
