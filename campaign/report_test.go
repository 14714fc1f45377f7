package campaign

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReport: a survey campaign over two hours; the report by the hour
// counts each hour's attempts, numbers, people reached, outcomes and the
// mean of the scores keyed (worked out by hand from the calls below).
func TestReport(t *testing.T) {
	c := notice
	c.Name, c.Lines, c.Retry = "survey", 3, map[string]string{"busy": "65m"}
	f := newFixture(t, filepath.Join(t.TempDir(), "db"), c)
	f.far.answers["13900000002"] = sipRefusal(486)
	f.far.answers["13900000003"] = sipRefusal(404)
	start := f.clk.Now()
	if _, err := f.r.Import("survey", strings.NewReader("number,keys\n13900000001,5\n13900000002,\n13900000003,\n13900000004,2\n13900000005,x\n")); err != nil {
		t.Fatal(err)
	}
	f.tick() // 01 answered 5, 02 busy, 03 vacant
	f.clk.Advance(20 * time.Minute)
	f.tick() // 04 answered 2, 05 answered "x" (not a number)
	f.clk.Advance(50 * time.Minute)
	delete(f.far.answers, "13900000002")
	f.tick() // 70 min: 02 again (busy retry 65m), answered, no keys
	rep, err := f.r.Report("survey", start, start.Add(2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 2 {
		t.Fatalf("%d intervals, want 2: %+v", len(rep), rep)
	}
	h1, h2 := rep[0], rep[1]
	if !h1.Start.Equal(start) || h1.Attempts != 5 || h1.Contacts != 5 || h1.Reached != 3 ||
		h1.Outcomes["answered"] != 3 || h1.Outcomes["busy"] != 1 || h1.Outcomes["vacant"] != 1 {
		t.Errorf("first hour: %+v", h1)
	}
	if s := h1.Scores["score"]; s.N != 2 || s.Mean != 3.5 {
		t.Errorf("first hour's scores: %+v, want 2 answers, mean 3.5", h1.Scores)
	}
	if !h2.Start.Equal(start.Add(time.Hour)) || h2.Attempts != 1 || h2.Reached != 1 || len(h2.Scores) != 0 {
		t.Errorf("second hour: %+v", h2)
	}
	if c := f.contacts("survey")["13900000001"]; c.Answers["score"] != "5" {
		t.Errorf("the contact keeps its answers: %+v", c)
	}
	whole, err := f.r.Report("survey", start, start.Add(2*time.Hour), 0)
	if err != nil || len(whole) != 1 || whole[0].Attempts != 6 || whole[0].Contacts != 5 || whole[0].Reached != 4 {
		t.Errorf("the whole report: %+v %v", whole, err)
	}
	if _, err := f.r.Report("survey", start, start.Add(-time.Hour), time.Hour); err == nil {
		t.Error("a report that ends before it starts")
	}
	if whole[0].Live != 0 || whole[0].AbandonCap != 0 {
		t.Errorf("an IVR campaign's report has abandon figures: %+v", whole[0])
	}
	if _, err := f.r.Report("survey", start, start.Add(maxIntervals*time.Minute), time.Minute); err != nil {
		t.Errorf("a report of %d intervals: %v", maxIntervals, err)
	}
	if _, err := f.r.Report("survey", start, start.Add((maxIntervals+1)*time.Minute), time.Minute); err == nil {
		t.Errorf("a report of %d intervals", maxIntervals+1)
	}
	if _, err := f.r.Report("nope", start, start.Add(time.Hour), time.Hour); err == nil {
		t.Error("a report of no campaign")
	}
	// Over the API.
	mux := http.NewServeMux()
	f.r.Routes(mux)
	get := func(q string) (*httptest.ResponseRecorder, []Interval) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/campaigns/survey/report"+q, nil))
		var out []Interval
		json.Unmarshal(w.Body.Bytes(), &out)
		return w, out
	}
	if w, out := get("?from=" + start.Format(time.RFC3339) + "&to=" + start.Add(2*time.Hour).Format(time.RFC3339) + "&every=30m"); w.Code != 200 || len(out) != 2 || out[1].Start.Sub(start) != time.Hour {
		t.Errorf("GET report by 30m: %d %s", w.Code, w.Body)
	}
	if w, out := get(""); w.Code != 200 || len(out) != 2 { // the last 24 hours by the hour
		t.Errorf("GET report: %d %s", w.Code, w.Body)
	}
	if w, _ := get("?every=soon"); w.Code != http.StatusBadRequest {
		t.Errorf("GET report?every=soon: %d", w.Code)
	}
	// Attempts older than their keep are pruned, the recent kept.
	f.clk.Advance(keepAttempts - 30*time.Minute)
	f.r.prune()
	if rep, _ := f.r.Report("survey", start, start.Add(2*time.Hour), 0); len(rep) != 1 || rep[0].Attempts != 1 {
		t.Errorf("after 90 days: %+v, want only the attempt of the second hour", rep)
	}
}
