package sip

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/internal/clock"
	"jinyin/media"
	"jinyin/media/rtp"
)

type fakeDialog struct {
	byes atomic.Int32
	ctx  context.Context
}

func (d *fakeDialog) Bye(context.Context) error { d.byes.Add(1); return nil }
func (d *fakeDialog) Context() context.Context  { return d.ctx }
func (d *fakeDialog) Close() error              { return nil }

// TestSessionTimer: with Session-Expires 90 and no refresh the box sends
// BYE at 60 s (the interval less a third, RFC 4028 §10); a refresh
// restarts the count.
func TestSessionTimer(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	srv := &Server{log: testLogger(), clock: clk}
	pool := rtp.NewPortPool(netip.MustParseAddr("127.0.0.1"), 37000, 37099)
	sess, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDialog{ctx: context.Background()}
	srv.active.Add(1)
	c := &Call{id: "t", srv: srv, dlg: d, sess: sess, events: make(chan media.Event, 4)}
	c.answered.Store(true)
	srv.calls.Store(c.id, c)
	c.armSessionTimer(90)
	clk.Advance(50 * time.Second)
	c.armSessionTimer(90) // a refresh re-INVITE at 50 s
	clk.Advance(59 * time.Second)
	if d.byes.Load() != 0 {
		t.Fatal("hung up although refreshed")
	}
	clk.Advance(time.Second)
	if d.byes.Load() != 1 || !c.isEnded() || srv.ActiveCalls() != 0 {
		t.Fatalf("after 60 s without refresh: byes %d ended %v active %d", d.byes.Load(), c.isEnded(), srv.ActiveCalls())
	}
}
