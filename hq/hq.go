// Package hq is headquarters (`jinyin hq`): it takes the fleet's streams
// (package fleet) off NATS JetStream into PostgreSQL for long-term
// reporting, and serves the fleet's KPIs, per site and in total, by the
// single box's definitions (package kpi) over that copy.
//
// Every message is one row of events, keyed by its id (the box's
// SITE.INSTANCE.LOG.SEQ), inserted with ON CONFLICT DO NOTHING in one
// transaction per batch and acknowledged to JetStream only once that
// transaction has committed: a message redelivered after a crash of
// either side finds its row there, so each record is in the table exactly
// once. The views cdr and queue_events lay the JSON out in columns for
// reporting tools.
package hq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jinyin/fleet"
	"jinyin/kpi"
)

// Options are what headquarters needs.
type Options struct {
	Servers  []string      // NATS URLs
	NATS     []nats.Option // credentials, TLS
	Stream   string        // JINYIN when empty
	Consumer string        // the durable consumer's name, jinyin-hq when empty
	Postgres string        // a connection string
	Log      *slog.Logger
	Loc      *time.Location // the fleet's time zone for "today"; UTC when nil
	// KPI are the rules of the fleet's figures (service-level targets,
	// short abandons, the repeat window): kpi.OptionsFor a box's config
	// gives that box's; its range is set per request.
	KPI kpi.Options
}

// HQ is headquarters' side of the fleet.
type HQ struct {
	o        Options
	pool     *pgxpool.Pool
	ingested atomic.Uint64
}

const schema = `
CREATE TABLE IF NOT EXISTS events (
	id       text PRIMARY KEY,          -- SITE.INSTANCE.LOG.SEQ
	site     text NOT NULL,
	kind     text NOT NULL,             -- cdr, queue, security, alarm, kpi
	seq      bigint NOT NULL,           -- the record's place in its box's log
	time     timestamptz NOT NULL,      -- a CDR's end, an event's time, else when the box sent it
	body     jsonb NOT NULL,
	received timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_kind_time ON events (kind, time);
CREATE OR REPLACE VIEW cdr AS
	SELECT site, seq, body->>'call' AS call, body->>'direction' AS direction, body->>'from' AS caller,
		body->>'to' AS called, body->>'trunk' AS trunk, (body->>'start')::timestamptz AS start,
		(body->>'answer')::timestamptz AS answer, time AS "end", body->>'disposition' AS disposition,
		body->>'cause' AS cause
	FROM events WHERE kind = 'cdr';
CREATE OR REPLACE VIEW queue_events AS
	SELECT site, seq, time, body->>'kind' AS event, body->>'queue' AS queue, body->>'call' AS call,
		body->>'agent' AS agent, (body->>'wait')::bigint / 1e9 AS wait_s, (body->>'talk')::bigint / 1e9 AS talk_s,
		body->>'reason' AS reason
	FROM events WHERE kind = 'queue';
`

// Open connects to PostgreSQL and makes the tables if they are missing.
func Open(ctx context.Context, o Options) (*HQ, error) {
	if o.Stream == "" {
		o.Stream = "JINYIN"
	}
	if o.Consumer == "" {
		o.Consumer = "jinyin-hq"
	}
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	pool, err := pgxpool.New(ctx, o.Postgres)
	if err != nil {
		return nil, fmt.Errorf("hq: postgres: %w", err)
	}
	if _, err := pool.Exec(ctx, schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("hq: postgres schema: %w", err)
	}
	return &HQ{o: o, pool: pool}, nil
}

// Close closes the database pool.
func (h *HQ) Close() { h.pool.Close() }

// Ingested is how many messages were taken into PostgreSQL since Open.
func (h *HQ) Ingested() uint64 { return h.ingested.Load() }

// Run takes the stream into PostgreSQL until ctx ends.
func (h *HQ) Run(ctx context.Context) error {
	opts := append([]nats.Option{nats.Name("jinyin hq"), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}, h.o.NATS...)
	nc, err := nats.Connect(strings.Join(h.o.Servers, ","), opts...)
	if err != nil {
		return fmt.Errorf("hq: nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var cons jetstream.Consumer
	for {
		if cons, err = h.consumer(ctx, js); err == nil {
			break
		}
		h.o.Log.Warn("hq: waiting for the stream", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			h.pause(ctx, "fetch", err)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			h.o.Log.Debug("hq: fetch", "err", err)
		}
		if len(msgs) == 0 {
			continue
		}
		if err := h.ingest(ctx, msgs); err != nil {
			h.pause(ctx, "postgres", err) // not acknowledged: JetStream sends them again
			continue
		}
		for _, m := range msgs {
			m.Ack()
		}
		h.ingested.Add(uint64(len(msgs)))
	}
	return nil
}

func (h *HQ) pause(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	h.o.Log.Warn("hq: "+what, "err", err)
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

// consumer is headquarters' durable consumer on the stream, made (with
// the stream, if no box has made it yet) when missing.
func (h *HQ) consumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, h.o.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: h.o.Stream, Subjects: fleet.StreamSubjects,
			Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute})
	}
	if err != nil {
		return nil, err
	}
	return st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: h.o.Consumer, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 30 * time.Second, MaxAckPending: 4096})
}

// ingest writes a batch in one transaction.
func (h *HQ) ingest(ctx context.Context, msgs []jetstream.Msg) error {
	var b pgx.Batch
	for _, m := range msgs {
		row, err := parse(m)
		if err != nil {
			h.o.Log.Warn("hq: a message not from a box, dropped", "subject", m.Subject(), "err", err)
			continue
		}
		b.Queue(`INSERT INTO events (id, site, kind, seq, time, body) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
			row.id, row.site, row.kind, row.seq, row.time, row.body)
	}
	return pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
}

type row struct {
	id, site, kind string
	seq            int64
	time           time.Time
	body           json.RawMessage
}

// parse reads a box's message: jinyin.SITE.KIND, its Jinyin-Id
// SITE.INSTANCE.LOG.SEQ, a JSON body.
func parse(m jetstream.Msg) (row, error) {
	parts := strings.Split(m.Subject(), ".")
	if len(parts) != 3 || parts[0] != "jinyin" {
		return row{}, errors.New("not jinyin.SITE.KIND")
	}
	r := row{site: parts[1], kind: parts[2], id: m.Headers().Get("Jinyin-Id"), body: m.Data()}
	idParts := strings.Split(r.id, ".")
	if len(idParts) != 4 || idParts[0] != r.site {
		return row{}, fmt.Errorf("id %q is not SITE.INSTANCE.LOG.SEQ", r.id)
	}
	if _, err := fmt.Sscan(idParts[3], &r.seq); err != nil {
		return row{}, fmt.Errorf("id %q: %v", r.id, err)
	}
	if !json.Valid(r.body) {
		return row{}, errors.New("the body is not JSON")
	}
	var t struct{ Time, End time.Time }
	json.Unmarshal(r.body, &t)
	switch {
	case r.kind == "cdr" && !t.End.IsZero():
		r.time = t.End
	case (r.kind == "queue" || r.kind == "security") && !t.Time.IsZero():
		r.time = t.Time
	default:
		if md, err := m.Metadata(); err == nil {
			r.time = md.Timestamp
		} else {
			r.time = time.Now()
		}
	}
	return r, nil
}
