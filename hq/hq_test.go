package hq

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// msg is a stream message as the consumer is given it.
type msg struct {
	jetstream.Msg // the rest is not called
	subject, id   string
	data          []byte
}

func (m msg) Subject() string      { return m.subject }
func (m msg) Data() []byte         { return m.data }
func (m msg) Headers() nats.Header { return nats.Header{"Jinyin-Id": {m.id}} }
func (m msg) Metadata() (*jetstream.MsgMetadata, error) {
	return nil, errors.New("no metadata")
}

// Each kind takes its time from its record; what is not a box's message
// is refused, not stored.
func TestParse(t *testing.T) {
	end := time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		subject, id, data string
		ok                bool
		kind              string
		seq               int64
		time              time.Time
	}{
		{"jinyin.sh-01.cdr", "sh-01.ab12.cdr.42", `{"seq":42,"end":"2026-12-04T09:30:00Z"}`, true, "cdr", 42, end},
		{"jinyin.sh-01.queue", "sh-01.ab12.queue.7", `{"seq":7,"time":"2026-12-04T09:30:00Z"}`, true, "queue", 7, end},
		{"jinyin.sh-01.security", "sh-01.ab12.security.1", `{"time":"2026-12-04T09:30:00Z"}`, true, "security", 1, end},
		{"jinyin.sh-01.alarm", "sh-01.ab12.outbox.3", `{"alarm":"span 1: LOS","state":"raised"}`, true, "alarm", 3, time.Time{}},
		{"other.sh-01.cdr", "sh-01.ab12.cdr.1", `{}`, false, "", 0, time.Time{}},
		{"jinyin.sh-01", "sh-01.ab12.cdr.1", `{}`, false, "", 0, time.Time{}},
		{"jinyin.sh-01.cdr", "", `{}`, false, "", 0, time.Time{}},
		{"jinyin.sh-01.cdr", "bj-02.ab12.cdr.1", `{}`, false, "", 0, time.Time{}}, // another site's id
		{"jinyin.sh-01.cdr", "sh-01.ab12.cdr.x", `{}`, false, "", 0, time.Time{}},
		{"jinyin.sh-01.cdr", "sh-01.ab12.cdr.1", `{"seq":`, false, "", 0, time.Time{}},
	} {
		r, err := parse(msg{subject: c.subject, id: c.id, data: []byte(c.data)})
		if (err == nil) != c.ok {
			t.Errorf("%s %s %s: %v", c.subject, c.id, c.data, err)
			continue
		}
		if !c.ok {
			continue
		}
		if r.site != "sh-01" || r.kind != c.kind || r.seq != c.seq || r.id != c.id {
			t.Errorf("%s: %+v", c.subject, r)
		}
		if !c.time.IsZero() && !r.time.Equal(c.time) {
			t.Errorf("%s: time %v, want %v", c.subject, r.time, c.time)
		}
		if c.time.IsZero() && time.Since(r.time) > time.Minute {
			t.Errorf("%s without a time of its own: %v, want about now", c.subject, r.time)
		}
	}
}

// FuzzParse: whatever a publisher puts on a subject the consumer reads,
// parse refuses it or returns a row whose id names its site and whose
// body is JSON.
func FuzzParse(f *testing.F) {
	f.Add("jinyin.sh-01.cdr", "sh-01.ab12.cdr.42", []byte(`{"seq":42,"end":"2026-12-04T09:30:00Z"}`))
	f.Add("jinyin.sh-01.alarm", "sh-01.ab12.outbox.3", []byte(`{"alarm":"x","state":"raised"}`))
	f.Add("jinyin..", "...", []byte(`null`))
	f.Fuzz(func(t *testing.T, subject, id string, data []byte) {
		r, err := parse(msg{subject: subject, id: id, data: data})
		if err != nil {
			return
		}
		if r.id != id || !json.Valid(r.body) || !strings.HasPrefix(id, r.site+".") || "jinyin."+r.site+"."+r.kind != subject {
			t.Errorf("%q %q %q: %+v", subject, id, data, r)
		}
	})
}
