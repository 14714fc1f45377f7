package fleet

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"jinyin/config"
	"jinyin/internal/clock"
	"jinyin/internal/natstest"
	"jinyin/store"
)

// user is a NATS user's key pair: the public key for the server's
// config, the seed in a file for the box, an option for a client.
type user struct {
	pub, seedFile string
	opt           nats.Option
}

func newUser(t *testing.T, name string) user {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	file := filepath.Join(t.TempDir(), name+".nk")
	os.WriteFile(file, seed, 0o600)
	opt, err := nats.NkeyOptionFromSeed(file)
	if err != nil {
		t.Fatal(err)
	}
	return user{pub, file, opt}
}

// The accounts of examples/nats/hq.conf on a real server: the box logs in
// with its NKey seed and its records reach headquarters; headquarters'
// user may command it; another site's box may not, nor may anyone
// without a key.
func TestAccounts(t *testing.T) {
	example, err := os.ReadFile("../examples/nats/hq.conf")
	if err != nil {
		t.Fatal(err)
	}
	hqUser, box, other := newUser(t, "hq"), newUser(t, "box"), newUser(t, "other")
	conf := string(example)
	conf = conf[strings.Index(conf, "accounts {"):] // the test's own address and store
	conf = strings.Replace(conf, "UDC3F62CZTROPPAKNUN43MRTAYSTECQRDEKAZ5AWS6IALHR3FJMXDMOI", hqUser.pub, 1)
	siteUser := conf[strings.Index(conf, "      # the box at site"):strings.LastIndex(conf, "    ]")]
	conf = strings.Replace(conf, "UBGRDJIYWJH3O4SCC7IPXV7NO24UP5QL5KKP4R74E6PY67KZID2BQYBH", box.pub, 1)
	otherUser := strings.ReplaceAll(strings.Replace(siteUser, "UBGRDJIYWJH3O4SCC7IPXV7NO24UP5QL5KKP4R74E6PY67KZID2BQYBH", other.pub, 1), "shanghai-01", "beijing-02")
	conf = strings.Replace(conf, "    ]\n", otherUser+"    ]\n", 1)
	srv := natstest.StartWith(t, "jetstream {}\n"+conf)

	db, err := store.Open(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.AppendCDRs(cdrs(3, 0))
	f, err := New(Options{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Real{}, Poll: 50 * time.Millisecond,
		Commands: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("status of shanghai-01")) }),
		Config:   config.Fleet{Enabled: true, Site: "shanghai-01", Servers: []string{srv.URL()}, NKey: box.seedFile, Stream: "JINYIN", OutboxMax: 100}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, "the box's CDRs at headquarters", func() bool { return len(srv.Messages(t, "JINYIN", hqUser.opt)) == 3 })
	if st := f.Status(); st.Error != "" || st.Sent["cdr"] != 3 {
		t.Errorf("the box's status: %+v", st)
	}

	req, _ := json.Marshal(Request{Method: "GET", Path: "/status"})
	ask := func(opt nats.Option) (string, error) {
		opts := []nats.Option{nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}
		if opt != nil {
			opts = append(opts, opt)
		}
		nc, err := nats.Connect(srv.URL(), opts...)
		if err != nil {
			return "", err
		}
		defer nc.Close()
		m, err := nc.Request("jinyin.shanghai-01.cmd", req, 2*time.Second)
		if err != nil {
			return "", err
		}
		var rep Reply
		json.Unmarshal(m.Data, &rep)
		return string(rep.Body), nil
	}
	if got, err := ask(hqUser.opt); err != nil || got != "status of shanghai-01" {
		t.Errorf("headquarters' command: %q %v", got, err)
	}
	if got, err := ask(other.opt); err == nil {
		t.Errorf("another site's box commanded this one: %q", got)
	}
	if got, err := ask(nil); err == nil {
		t.Errorf("a client without a key commanded the box: %q", got)
	}
	// Nor may this box publish as another site.
	nc, err := nats.Connect(srv.URL(), box.opt)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	denied := make(chan error, 1)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { denied <- err })
	nc.Publish("jinyin.beijing-02.cdr", []byte(`{}`))
	nc.Flush()
	select {
	case err := <-denied:
		if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			t.Errorf("publishing as another site: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("the box published as another site")
	}
}
