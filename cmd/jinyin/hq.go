package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"jinyin/hq"
	"jinyin/kpi"
)

// cmdHQ runs headquarters: the fleet's streams into PostgreSQL, and the
// fleet's KPIs and wallboard over HTTP.
func cmdHQ(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hq", stderr)
	servers := fs.String("nats", "nats://127.0.0.1:4222", "NATS `URLS`, comma-separated")
	creds := fs.String("creds", "", "a NATS .creds `FILE`")
	nkey := fs.String("nkey", "", "a `FILE` holding a NATS user's NKey seed")
	ca := fs.String("ca", "", "a PEM `FILE` of the CA of the NATS servers' certificates")
	pg := fs.String("postgres", os.Getenv("JINYIN_HQ_POSTGRES"), "PostgreSQL connection `STRING` (or $JINYIN_HQ_POSTGRES)")
	listen := fs.String("listen", "127.0.0.1:8090", "`ADDR` of the fleet wallboard and KPIs (empty: none)")
	cfgFile := fs.String("config", "", "a box's config `FILE` whose KPI rules (targets, short abandon, time zone) the fleet's figures follow; the embedded default's when empty")
	stream := fs.String("stream", "JINYIN", "the JetStream `NAME` of the fleet's events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pg == "" {
		return errors.New("--postgres is required, e.g. postgres://jinyin@127.0.0.1/jinyin")
	}
	cfg, err := loadConfig(*cfgFile, nil)
	if err != nil {
		return err
	}
	var opts []nats.Option
	if *creds != "" {
		opts = append(opts, nats.UserCredentials(*creds))
	}
	if *nkey != "" {
		o, err := nats.NkeyOptionFromSeed(*nkey)
		if err != nil {
			return fmt.Errorf("--nkey %s: %w", *nkey, err)
		}
		opts = append(opts, o)
	}
	if *ca != "" {
		opts = append(opts, nats.RootCAs(*ca))
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	h, err := hq.Open(ctx, hq.Options{Servers: strings.Split(*servers, ","), NATS: opts, Stream: *stream, Postgres: *pg,
		Log: log, Loc: cfg.Location(), KPI: kpi.OptionsFor(cfg)})
	if err != nil {
		return err
	}
	defer h.Close()
	if *listen != "" {
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
		fmt.Fprintf(stdout, "jinyin hq: the fleet wallboard on http://%s/, KPIs at /kpi\n", l.Addr())
	}
	return h.Run(ctx)
}
