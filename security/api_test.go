package security

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"jinyin/config"
	"jinyin/store"
)

func TestAPI(t *testing.T) {
	g, _ := newGuard(t, config.Security{MaxAuthFailures: 2}, nil)
	mux := http.NewServeMux()
	g.Routes(mux)
	do := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	g.Event(InvalidPassword, "SIP", src(attacker), "1001", "REGISTER")
	g.Event(InvalidPassword, "SIP", src(attacker), "1001", "REGISTER")

	var bans []store.Ban
	if w := do("GET", "/security/bans"); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &bans) != nil || len(bans) != 1 || bans[0].Addr != "127.0.0.66" {
		t.Fatalf("GET /security/bans: %d %s", w.Code, w.Body)
	}
	var evs []store.SecurityEvent
	if w := do("GET", "/security/events?since=1&limit=5"); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &evs) != nil || len(evs) != 2 || evs[1].Name != Banned {
		t.Fatalf("GET /security/events: %d %s", w.Code, w.Body)
	}
	for _, ok := range []string{"/security/events?limit=1", "/security/events?limit=1000", "/security/events?since=0"} {
		if w := do("GET", ok); w.Code != 200 {
			t.Errorf("GET %s: %d", ok, w.Code)
		}
	}
	for _, bad := range []string{"/security/events?limit=0", "/security/events?limit=1001", "/security/events?since=x"} {
		if w := do("GET", bad); w.Code != 400 {
			t.Errorf("GET %s: %d", bad, w.Code)
		}
	}
	if w := do("DELETE", "/security/bans/127.0.0.66"); w.Code != 204 || g.Banned(attacker) {
		t.Fatalf("DELETE: %d %s, banned %v", w.Code, w.Body, g.Banned(attacker))
	}
	if w := do("DELETE", "/security/bans/127.0.0.66"); w.Code != 404 {
		t.Errorf("DELETE again: %d", w.Code)
	}
	if w := do("DELETE", "/security/bans/nonsense"); w.Code != 400 || !strings.Contains(w.Body.String(), "not an IP address") {
		t.Errorf("DELETE nonsense: %d %s", w.Code, w.Body)
	}
	evs, _ = g.Newest(1)
	if len(evs) != 1 || evs[0].Name != Unbanned || evs[0].Detail != "lifted by api" {
		t.Errorf("newest event %+v", evs)
	}
}
