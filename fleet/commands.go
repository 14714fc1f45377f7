package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Headquarters sends commands by NATS request/reply to jinyin.SITE.cmd:
// a Request, answered with a Reply. A command is a call of the box's own
// API (the README's list), so it is checked as the API checks it:
// GET /status and /kpi read live state, PUT /prompts/LANG/ID replaces a
// prompt (the daily announcement), POST /campaigns/NAME/contacts imports
// a campaign's list, PUT /config replaces the configuration (validated
// like `jinyin check`, written atomically, the box restarting on it
// after a drain), POST /update stages firmware. Only headquarters'
// account may publish to jinyin.*.cmd (the server's permissions: see
// examples/nats); the box acts on a command as the supervisor "hq" and
// records each one as a security event.

// Request is one command.
type Request struct {
	Method      string `json:"method"`
	Path        string `json:"path"` // with its query: "/config?max_wait=5m"
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"` // base64 in the JSON
}

// Reply is the API's answer.
type Reply struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// commandTimeout bounds one command's run on the box.
const commandTimeout = 30 * time.Second

func (f *Forwarder) serveCommands(nc *nats.Conn) (*nats.Subscription, error) {
	return nc.Subscribe("jinyin."+f.o.Config.Site+".cmd", func(m *nats.Msg) {
		rep := f.command(m.Data)
		data, _ := json.Marshal(rep)
		if err := m.Respond(data); err != nil {
			f.o.Log.Warn("fleet: answering a command", "err", err)
		}
	})
}

func (f *Forwarder) command(data []byte) Reply {
	var req Request
	if err := json.Unmarshal(data, &req); err != nil || req.Method == "" {
		return errReply(http.StatusBadRequest, "a command is JSON {method, path, content_type, body}")
	}
	// A path of this box's API, not a URL ("//host/x" names a host).
	if u, err := url.Parse(req.Path); err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return errReply(http.StatusBadRequest, "path: a path of the box's API, such as /status")
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, req.Method, req.Path, bytes.NewReader(req.Body))
	if err != nil {
		return errReply(http.StatusBadRequest, err.Error())
	}
	r.RemoteAddr = "hq"
	if req.ContentType != "" {
		r.Header.Set("Content-Type", req.ContentType)
	}
	w := &recorder{header: http.Header{}, status: http.StatusOK}
	f.o.Commands.ServeHTTP(w, r)
	if f.o.OnCommand != nil {
		f.o.OnCommand(req.Method, r.URL.Path, w.status)
	}
	return Reply{Status: w.status, ContentType: w.header.Get("Content-Type"), Body: w.body.Bytes()}
}

func errReply(status int, why string) Reply {
	body, _ := json.Marshal(map[string]string{"error": why})
	return Reply{Status: status, ContentType: "application/json", Body: body}
}

// recorder is the ResponseWriter a command's answer is kept in.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
}
func (w *recorder) Write(p []byte) (int, error) {
	w.wrote = true
	if w.body.Len()+len(p) > 8<<20 { // a NATS message is 1 MiB by default: the reply would not go anyway
		return 0, http.ErrContentLength
	}
	return w.body.Write(p)
}
