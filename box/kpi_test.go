package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/kpi"
)

// A caller waits in the general queue and hangs up: GET /kpi counts the
// offer and the abandon, the exports carry the call, and the figures of
// the same range are the same after a restart (they come from the
// records, not from memory).
func TestKPIsAcrossRestartAndExports(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	sipAddr, httpAddr, stop := startConfig(t, dir, cfg)
	from := time.Now().Add(-time.Minute)
	call := dial(t, sipAddr, "100", "13800000008", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hear("zh", "queue-hold")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call.Dialog.Bye(ctx)
	waitNoCalls(t, httpAddr)
	to := time.Now().Add(time.Minute)
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "interval": {"1h"}}.Encode()

	var before []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) { // events are batched every 50 ms
		before = get(t, "http://"+httpAddr+"/kpi?"+q)
		var r kpi.Report
		if err := json.Unmarshal(before, &r); err != nil {
			t.Fatalf("GET /kpi: %v\n%s", err, before)
		}
		// The queue's events and the call's record land apart: wait for
		// both (first-contact resolution is read from the record). The
		// total's, not any interval's: a run across an hour boundary has
		// an hour with no call, whose FCR is rightly undefined.
		if g := r.Total.Queues["general"]; g != nil && g.Offered == 1 && g.Abandoned+g.ShortAbandoned == 1 && r.Total.FCR.Defined() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /kpi after a caller abandoned:\n%s", before)
		}
	}
	qlog := string(get(t, "http://"+httpAddr+"/export/queue_log"))
	if !strings.Contains(qlog, "|general|NONE|ENTERQUEUE|") || !strings.Contains(qlog, "|general|NONE|ABANDON|") {
		t.Errorf("queue_log:\n%s", qlog)
	}
	if csv := string(get(t, "http://"+httpAddr+"/export/master.csv?from="+url.QueryEscape(from.Format(time.RFC3339)))); !strings.Contains(csv, `"13800000008","100"`) {
		t.Errorf("Master.csv:\n%s", csv)
	}
	if res, err := http.Get("http://" + httpAddr + "/export/master.csv?from=yesterday"); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad from: %v %v", err, res.Status)
	}
	stop()

	_, httpAddr, _ = startConfig(t, dir, cfg)
	if after := get(t, "http://"+httpAddr+"/kpi?"+q); !bytes.Equal(before, after) {
		t.Errorf("the figures changed across a restart:\nbefore %s\nafter  %s", before, after)
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, res.Status, b)
	}
	return b
}
