package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// rtFunc is a transport made of a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// lookupEngine is an engine whose lookups go through rt, on a fake clock.
func lookupEngine(t *testing.T, rt http.RoundTripper) (*Engine, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	e, err := New(Options{Clock: clk, HTTP: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	return e, clk
}

var lookupResults = []string{"found", "missing"}

// A lookup that times out says so, whether the time runs out before the
// answer's headers or while its body is still coming; other failures say
// what they were.
func TestLookupErrorsSayWhich(t *testing.T) {
	const timeout = 2 * time.Second
	// waits blocks until the request's context ends, first saying so on
	// called.
	waits := func(called chan<- struct{}, ctx context.Context) error {
		called <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	cases := []struct {
		name  string
		rt    func(called chan struct{}) http.RoundTripper
		timed bool // the test moves the clock past the timeout
		want  string
	}{
		{"no headers in time", func(called chan struct{}) http.RoundTripper {
			return rtFunc(func(r *http.Request) (*http.Response, error) { return nil, waits(called, r.Context()) })
		}, true, "post: no answer within 2s"},
		{"connection refused", func(chan struct{}) http.RoundTripper {
			return rtFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })
		}, false, "connection refused"},
		{"body not in time", func(called chan struct{}) http.RoundTripper {
			return rtFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(readFunc(func([]byte) (int, error) {
					return 0, waits(called, r.Context())
				}))}, nil
			})
		}, true, "reading the answer: no answer within 2s"},
		{"body cut short", func(chan struct{}) http.RoundTripper {
			return rtFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(readFunc(func([]byte) (int, error) {
					return 0, io.ErrUnexpectedEOF
				}))}, nil
			})
		}, false, "reading the answer: unexpected EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			called := make(chan struct{}, 1)
			e, clk := lookupEngine(t, c.rt(called))
			errc := make(chan error, 1)
			go func() {
				_, err := e.lookup(context.Background(), "http://orders.invalid/", timeout, LookupRequest{}, lookupResults)
				errc <- err
			}()
			if c.timed {
				select {
				case <-called:
				case err := <-errc:
					t.Fatalf("the lookup ended before it was posted: %v", err)
				}
				clk.Advance(timeout)
			}
			select {
			case err := <-errc:
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("error %v, want one saying %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the lookup did not end")
			}
		})
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// builtinEngine is an engine whose lookups are served by h as
// builtin:svc.
func builtinEngine(t *testing.T, h http.Handler) *Engine {
	t.Helper()
	e, err := New(Options{HTTP: NewHTTPClient(Builtin{"svc": h})})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// An answer of lookupLimit bytes is taken; one byte more is refused.
func TestLookupAnswerLimit(t *testing.T) {
	for _, c := range []struct {
		size int
		ok   bool
	}{{lookupLimit, true}, {lookupLimit + 1, false}} {
		body := `{"next": "found"}`
		body += strings.Repeat(" ", c.size-len(body))
		e := builtinEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		ans, err := e.lookup(context.Background(), "builtin:svc", time.Minute, LookupRequest{}, lookupResults)
		switch {
		case c.ok && (err != nil || ans.Next != "found"):
			t.Errorf("an answer of %d bytes: %+v %v, want it taken", c.size, ans, err)
		case !c.ok && err == nil:
			t.Errorf("an answer of %d bytes was taken, the limit is %d", c.size, lookupLimit)
		}
	}
}

// An answer's var values are up to 256 bytes.
func TestLookupAnswerVarLength(t *testing.T) {
	for _, c := range []struct {
		size int
		ok   bool
	}{{256, true}, {257, false}} {
		v := strings.Repeat("x", c.size)
		e := builtinEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(LookupAnswer{Next: "found", Vars: map[string]string{"status": v}})
		}))
		ans, err := e.lookup(context.Background(), "builtin:svc", time.Minute, LookupRequest{}, lookupResults)
		switch {
		case c.ok && (err != nil || ans.Vars["status"] != v):
			t.Errorf("a value of %d bytes: %v, want it taken", c.size, err)
		case !c.ok && err == nil:
			t.Errorf("a value of %d bytes was taken", c.size)
		}
	}
}

// DemoOrders knows the order numbers of 4 to 12 digits that do not start
// with 0; each found order has an amount of 10.00 to 10,009.90 yuan.
func TestDemoOrders(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) }
	ask := func(order string) LookupAnswer {
		body, _ := json.Marshal(LookupRequest{Vars: map[string]string{"order": order}})
		w := httptest.NewRecorder()
		DemoOrders(now).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body))))
		var a LookupAnswer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("order %s: %v", order, err)
		}
		return a
	}
	for order, want := range map[string]string{"1000": "order-found", "123456789012": "order-found", "999": "order-missing",
		"1234567890123": "order-missing", "01234": "order-missing", "12a4": "order-missing", "": "order-missing"} {
		if a := ask(order); a.Next != want {
			t.Errorf("order %q: %q, want %q", order, a.Next, want)
		}
	}
	for _, order := range []string{"1000", "4567", "99999", "100000", "199999", "123456789012", "999999999999"} {
		a := ask(order)
		yuan, jiao, ok := strings.Cut(a.Vars["amount"], ".")
		y, err := strconv.Atoi(yuan)
		if !ok || err != nil || len(jiao) != 2 || y < 10 || y > 10009 || y == 10009 && jiao > "90" {
			t.Errorf("order %s: amount %q, want yuan.jiaofen from 10.00 to 10009.90", order, a.Vars["amount"])
		}
		if _, err := time.Parse(time.DateOnly, a.Vars["date"]); err != nil || !strings.HasPrefix(a.Vars["status"], "order-") {
			t.Errorf("order %s: %v", order, a.Vars)
		}
	}
	if got := ask("4567").Vars["amount"]; got != "466.70" {
		t.Errorf("order 4567: amount %q, want the 1000+4567*10 fen of the flow test, 466.70", got)
	}
}

// DemoShop takes 1 to 99 of an item of 4 to 6 digits not starting with
// 0, and numbers the orders by day and sequence.
func TestDemoShop(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC) }
	shop := DemoShop(now)
	ask := func(item, qty string) LookupAnswer {
		body, _ := json.Marshal(LookupRequest{Vars: map[string]string{"item": item, "quantity": qty}})
		w := httptest.NewRecorder()
		shop.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body))))
		var a LookupAnswer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s x %s: %v", item, qty, err)
		}
		return a
	}
	for _, c := range []struct{ item, qty, want string }{
		{"1234", "1", "ars-placed"}, {"999999", "99", "ars-placed"}, {"123", "1", "ars-no-item"}, {"1234567", "1", "ars-no-item"},
		{"01234", "1", "ars-no-item"}, {"12a4", "1", "ars-no-item"}, {"1234", "0", "ars-no-item"}, {"1234", "100", "ars-no-item"}, {"1234", "", "ars-no-item"},
	} {
		if a := ask(c.item, c.qty); a.Next != c.want {
			t.Errorf("%q x %q: %q, want %q", c.item, c.qty, a.Next, c.want)
		}
	}
	if a, b := ask("1234", "2").Vars["order"], ask("1234", "2").Vars["order"]; a != "2612030003" || b != "2612030004" {
		t.Errorf("order numbers %q, %q: want the day and a sequence, 2612030003 then 2612030004", a, b)
	}
	w := httptest.NewRecorder()
	shop.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{")))
	if w.Code != http.StatusBadRequest {
		t.Errorf("a broken request: %d", w.Code)
	}
}
