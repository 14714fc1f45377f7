package rtp

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
	"weak"

	"golang.org/x/sys/unix"

	"jinyin/media"
)

func TestPacerAddRemoveKeepsOrder(t *testing.T) {
	p := NewPacer(1)
	ss := make([]*Session, 5)
	for i := range ss {
		ss[i] = &Session{}
		p.Add(ss[i])
	}
	sh := p.shards[0]
	sh.remove(ss[1])
	sh.remove(ss[1]) // twice: no effect
	if len(sh.sessions) != 4 || sh.sessions[1] != ss[4] || sh.sessions[0] != ss[0] || sh.sessions[2] != ss[2] {
		t.Fatalf("order after remove: %v", sh.sessions)
	}
	for i, s := range sh.sessions {
		if sh.index[s] != i {
			t.Fatalf("index of %d is %d", i, sh.index[s])
		}
	}
}

// TestPacerSpreadsSessionsOverShards: sessions go to the shards in turn;
// a pacer always has at least one shard.
func TestPacerSpreadsSessionsOverShards(t *testing.T) {
	p := NewPacer(2)
	ss := make([]*Session, 5)
	for i := range ss {
		ss[i] = &Session{}
		p.Add(ss[i])
	}
	if len(p.shards) != 2 {
		t.Fatalf("%d shards, want 2", len(p.shards))
	}
	a, b := p.shards[0].sessions, p.shards[1].sessions
	if len(a) != 3 || len(b) != 2 || a[0] != ss[0] || b[0] != ss[1] || a[1] != ss[2] || b[1] != ss[3] || a[2] != ss[4] {
		t.Errorf("shards hold %v and %v, want sessions 0, 2, 4 and 1, 3", a, b)
	}
	for i, s := range ss {
		if want := p.shards[i%2]; s.shard != want {
			t.Errorf("session %d ticked by the wrong shard", i)
		}
	}
	for _, n := range []int{0, -3} {
		if got := len(NewPacer(n).shards); got != 1 {
			t.Errorf("NewPacer(%d): %d shards, want 1", n, got)
		}
	}
}

// TestPacerRunRaisesGOMAXPROCS: Run leaves a scheduler slot per shard on
// top of one per core.
func TestPacerRunRaisesGOMAXPROCS(t *testing.T) {
	old := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	runtime.GOMAXPROCS(runtime.NumCPU())
	p := NewPacer(3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shards return at once
	p.Run(ctx)
	if got, want := runtime.GOMAXPROCS(0), runtime.NumCPU()+3; got != want {
		t.Errorf("GOMAXPROCS %d after Run with 3 shards, want %d", got, want)
	}
}

// TestPacerKeepsTime: a paced session sends one packet per 20 ms: 26
// packets span 25 intervals, 500 ms. The bound is loose for a loaded
// machine, but a pacer that did not wait would send them in well under a
// millisecond.
func TestPacerKeepsTime(t *testing.T) {
	peer, _ := peerPair(t)
	s := openOn(t, 40600, 40699)
	s.Start(Params{Remote: addrOf(peer), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	p := NewPacer(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	p.Add(s)
	readFrom(t, peer)
	start := time.Now()
	for range 25 {
		readFrom(t, peer)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("25 packet intervals took %v, want about 500 ms", d)
	}
}

// TestRealtimeReportsItsThread: realtime says true exactly when the
// calling thread now runs SCHED_FIFO.
func TestRealtimeReportsItsThread(t *testing.T) {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, whatever
		// realtime did to its scheduling.
		runtime.LockOSThread()
		ok := realtime()
		attr, err := unix.SchedGetAttr(0, 0)
		switch {
		case err != nil:
			errc <- err
		case (attr.Policy == unix.SCHED_FIFO) != ok:
			errc <- fmt.Errorf("realtime() = %v, thread policy %d", ok, attr.Policy)
		case ok && attr.Priority != 10:
			errc <- fmt.Errorf("SCHED_FIFO priority %d, want 10", attr.Priority)
		default:
			errc <- nil
		}
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestPacerLoad: with its ticks on time, the load is the busiest shard's
// smoothed tick work over its 20 ms: a shard that ticks sessions reports
// more than nothing and, with a handful, far less than the whole
// interval; an idle pacer none.
func TestPacerLoad(t *testing.T) {
	p := NewPacer(2)
	if l := p.Load(); l != 0 {
		t.Fatalf("idle load %v", l)
	}
	for range 4 {
		s, _ := sinkSession(t, 33000, 33099)
		s.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
		p.Add(s)
	}
	for range 64 {
		for _, sh := range p.shards {
			sh.tick(0)
		}
	}
	if l := p.Load(); l <= 0 || l >= 0.5 {
		t.Errorf("load of 4 sessions: %v", l)
	}
}

// TestPacerLoadCountsLateTicks: a shard whose ticks run late, with no
// work in them, is loaded (a box starved between ticks); lateness beyond 5
// intervals counts as 5, and a shard back on time unloads.
func TestPacerLoadCountsLateTicks(t *testing.T) {
	p := NewPacer(1)
	sh := p.shards[0]
	for range 64 {
		sh.tick(18 * Interval / 20) // 18 ms late
	}
	if l := p.Load(); l < 0.85 || l > 1 {
		t.Fatalf("load of ticks 18 ms late: %v, want about 0.9", l)
	}
	for range 128 {
		sh.tick(time.Hour)
	}
	if l := p.Load(); l < 4.5 || l > 5.01 {
		t.Fatalf("load of ticks an hour late: %v, want about 5", l)
	}
	for range 128 {
		sh.tick(0)
	}
	if l := p.Load(); l > 0.1 {
		t.Fatalf("load once on time again: %v", l)
	}
}

// TestPacerForgetsClosedSessions: a session the pacer has dropped, and the
// source it last played, are garbage once the call lets go of them; the
// shard's array and its tick's snapshot keep no pointer to them. (In the
// soak, a queue call's recording buffers, reached through the source
// played, outlived the call this way.)
func TestPacerForgetsClosedSessions(t *testing.T) {
	p := NewPacer(1)
	sh := p.shards[0]
	var gone []weak.Pointer[Session]
	var played []weak.Pointer[[4096]int16]
	keep := make([]*Session, 0, 8)
	pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), 36300, 36399)
	for i := 0; i < 8; i++ {
		s, err := pool.Open()
		if err != nil {
			t.Fatal(err)
		}
		buf := new([4096]int16)
		s.Play(heldSource{buf})
		played = append(played, weak.Make(buf))
		p.Add(s)
		if i%2 == 1 {
			keep = append(keep, s)
			continue
		}
		gone = append(gone, weak.Make(s))
	}
	sh.tick(0)
	// Close every other session, the last added first: its place is
	// the array's end.
	for i := len(sh.sessions) - 1; i >= 0; i-- {
		if s := sh.sessions[i]; !slices.Contains(keep, s) {
			s.Close()
		}
	}
	sh.tick(0)
	if len(sh.sessions) != len(keep) {
		t.Fatalf("%d sessions ticking, want %d", len(sh.sessions), len(keep))
	}
	keep[0].Close() // closed but still referenced: its source is let go
	runtime.GC()
	runtime.GC()
	for i, w := range gone {
		if w.Value() != nil {
			t.Errorf("closed session %d is still reachable", i)
		}
	}
	if played[1].Value() != nil {
		t.Error("a closed session keeps the source it last played")
	}
	if played[3].Value() == nil {
		t.Error("a session up lost its source")
	}
	runtime.KeepAlive(keep)
}

// heldSource plays silence and holds buf, so a test can see whether the
// source is still reachable.
type heldSource struct{ buf *[4096]int16 }

func (h heldSource) Fill(dst []int16) int { clear(dst); return len(dst) }
