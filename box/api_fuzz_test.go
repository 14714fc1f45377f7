package box_test

import (
	"bytes"
	"net/http"
	"testing"

	"jinyin/config"
)

// FuzzAPIBodies sends any body to the API's writes that take one (a
// callback booked, an agent's state, a prompt uploaded, a caller's tier):
// the box answers
// 2xx or 4xx, never 5xx, and stays up. One box serves every input.
func FuzzAPIBodies(f *testing.F) {
	for _, s := range []string{
		`{"queue":"general","number":"13800138000","tier":"","not_before":"2026-12-01T10:00:00+08:00"}`,
		`{"queue":"general","number":"13800138000"}`,
		`{"queue":"nope","number":"+8613800138000"}`,
		`{"queue":"general","number":"138\u0000; rm -rf /"}`,
		`{"queue":1}`, `[`, ``, "RIFF\x24\x00\x00\x00WAVEfmt ",
	} {
		f.Add(s)
	}
	_, httpAddr, _ := startConfig(f, f.TempDir(), config.Default())
	base := "http://" + httpAddr
	f.Fuzz(func(t *testing.T, body string) {
		for _, w := range []struct{ method, path string }{
			{"POST", "/callbacks"}, {"POST", "/agents/1001/pause"}, {"PUT", "/prompts/zh/thanks"}, {"PUT", "/tiers/13800138000"},
		} {
			req, _ := http.NewRequest(w.method, base+w.path, bytes.NewReader([]byte(body)))
			res, err := supervisor.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", w.method, w.path, err)
			}
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s %q: %s", w.method, w.path, body, res.Status)
			}
		}
		res, err := http.Get(base + "/status")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("the box is down after %q: %v", body, err)
		}
		res.Body.Close()
	})
}
