package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// LookupRequest is what a lookup node posts, as JSON.
type LookupRequest struct {
	Flow     string            `json:"flow"`
	Node     string            `json:"node"`
	Call     string            `json:"call"`
	Caller   string            `json:"caller"`
	Dialled  string            `json:"dialled"`
	Language string            `json:"language"`
	Tier     string            `json:"tier"`
	Time     time.Time         `json:"time"`
	Vars     map[string]string `json:"vars"` // the node's send vars
}

// LookupAnswer is the JSON a lookup service answers with: the next node
// (one of the node's results), values for read-back, and optionally the
// caller's tier.
type LookupAnswer struct {
	Next string            `json:"next"`
	Vars map[string]string `json:"vars"`
	Tier string            `json:"tier"`
}

var answerVar = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// lookupLimit bounds an answer's body: a lookup gives a few values.
const lookupLimit = 64 << 10

// lookup posts req to url and checks the answer against the node's
// results. Any failure (timeout, connection refused, a status other than
// 200, a body that is not the JSON above or names another node) is an
// error that says which, and the flow goes to the node's fallback.
func (e *Engine) lookup(ctx context.Context, url string, timeout time.Duration, req LookupRequest, results []string) (LookupAnswer, error) {
	var ans LookupAnswer
	body, err := json.Marshal(req)
	if err != nil {
		return ans, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t := e.Clock.AfterFunc(timeout, func() { cancel(fmt.Errorf("no answer within %v", timeout)) })
	defer t.Stop()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return ans, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	res, err := e.HTTP.Do(hreq)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return ans, fmt.Errorf("post: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return ans, fmt.Errorf("status %d", res.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, lookupLimit+1))
	if cause := context.Cause(ctx); err != nil && cause != nil {
		err = cause
	}
	if err != nil {
		return ans, fmt.Errorf("reading the answer: %w", err)
	}
	if len(raw) > lookupLimit {
		return ans, fmt.Errorf("answer longer than %d bytes", lookupLimit)
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return ans, fmt.Errorf("malformed answer: %w", err)
	}
	if !slices.Contains(results, ans.Next) {
		return ans, fmt.Errorf("answer chose node %q, not one of %v", ans.Next, results)
	}
	for k, v := range ans.Vars {
		if !answerVar.MatchString(k) || len(v) > 256 {
			return ans, fmt.Errorf("answer var %q: names are lower-case letters, digits and _, values up to 256 bytes", k)
		}
	}
	return ans, nil
}

// Builtin serves lookup URLs of the form builtin:NAME in the process,
// through the same JSON as a remote service: the demo's order status
// works offline this way. Register it on a transport with
// RegisterProtocol("builtin", ...).
type Builtin map[string]http.Handler

func (b Builtin) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := b[req.URL.Opaque]
	if !ok {
		return nil, fmt.Errorf("ivr: no builtin lookup %q", req.URL.Opaque)
	}
	w := &memResponse{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(w, req)
	return &http.Response{StatusCode: w.status, Status: strconv.Itoa(w.status) + " " + http.StatusText(w.status), Header: w.header,
		Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

type memResponse struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (m *memResponse) Header() http.Header         { return m.header }
func (m *memResponse) Write(p []byte) (int, error) { return m.body.Write(p) }
func (m *memResponse) WriteHeader(code int)        { m.status = code }

// NewHTTPClient returns the client lookups use, with the builtins served.
func NewHTTPClient(builtins Builtin) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.RegisterProtocol("builtin", builtins)
	return &http.Client{Transport: t}
}

// DemoOrders is the demo's order-status service (builtin:demo-orders): it
// knows every order number of 4 to 12 digits that does not start with 0,
// and derives a status, a ship date and an amount from the number, so the
// demo answers the same way every time. The answer chooses "order-found"
// or "order-missing".
func DemoOrders(now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req LookupRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, lookupLimit)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		order := req.Vars["order"]
		n, err := strconv.ParseUint(order, 10, 64)
		w.Header().Set("Content-Type", "application/json")
		if err != nil || len(order) < 4 || len(order) > 12 || order[0] == '0' {
			json.NewEncoder(w).Encode(LookupAnswer{Next: "order-missing"})
			return
		}
		status := [...]string{"order-shipped", "order-shipped", "order-shipped", "order-in-transit", "order-in-transit",
			"order-in-transit", "order-delivered", "order-delivered", "order-delivered", "order-delivered"}[n%10]
		shipped := now().AddDate(0, 0, -int(n%7)-1)
		fen := 1000 + n%100000*10 // 10.00 to 10,009.90 yuan
		json.NewEncoder(w).Encode(LookupAnswer{Next: "order-found", Vars: map[string]string{
			"status": status, "date": shipped.Format(time.DateOnly), "amount": fmt.Sprintf("%d.%02d", fen/100, fen%100),
		}})
	})
}

// DemoShop is the demo's self-service ordering ("ARS") desk
// (builtin:demo-shop): it takes the item code and quantity a caller keyed
// (vars item and quantity), knows every item code of 4 to 6 digits that
// does not start with 0, takes 1 to 99 of one, and answers "ars-placed"
// with an order number (the day and a sequence, "order"), or
// "ars-no-item". A real box posts the same JSON to the order system,
// which keeps the orders; the demo keeps none.
func DemoShop(now func() time.Time) http.Handler {
	var mu sync.Mutex
	seq := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req LookupRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, lookupLimit)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		item, qty := req.Vars["item"], req.Vars["quantity"]
		_, ierr := strconv.ParseUint(item, 10, 32)
		q, qerr := strconv.Atoi(qty)
		w.Header().Set("Content-Type", "application/json")
		if ierr != nil || len(item) < 4 || len(item) > 6 || item[0] == '0' || qerr != nil || q < 1 || q > 99 {
			json.NewEncoder(w).Encode(LookupAnswer{Next: "ars-no-item"})
			return
		}
		mu.Lock()
		seq++
		n := seq
		mu.Unlock()
		json.NewEncoder(w).Encode(LookupAnswer{Next: "ars-placed", Vars: map[string]string{
			"order": now().Format("060102") + fmt.Sprintf("%04d", n%10000),
		}})
	})
}
