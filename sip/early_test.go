package sip

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"jinyin/internal/siptest"
	"jinyin/media"
)

// silenceFor is a Source of n samples of silence.
type silenceFor struct{ n int }

func (s *silenceFor) Fill(dst []int16) int {
	k := min(len(dst), s.n)
	clear(dst[:k])
	s.n -= k
	return k
}

// earlyServer serves one Early route whose App is app, and keeps the
// records of the calls that ended.
func earlyServer(t *testing.T, status int, app App) (addr string, records func() []CallRecord) {
	var mu sync.Mutex
	var recs []CallRecord
	_, addr = startServer(t, func(o *Options) {
		o.Router = func(string, string) (Route, error) {
			return Route{Open: true, Early: true, Status: status, App: app}, nil
		}
		o.OnCallEnd = func(r CallRecord) { mu.Lock(); recs = append(recs, r); mu.Unlock() }
	})
	return addr, func() []CallRecord {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			n := len(recs)
			mu.Unlock()
			if n > 0 {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return append([]CallRecord(nil), recs...)
	}
}

// playOneSecond plays a second of silence to ch and waits for its end.
func playOneSecond(ch media.Channel) bool {
	id := ch.Play(&silenceFor{n: 8000})
	for e := range ch.Events() {
		if e.Kind == media.EventPlayDone && e.Play == id {
			return true
		}
	}
	return false
}

// waitFinal waits for a call's final answer, noting the provisional
// responses on the way.
func waitFinal(ctx context.Context, call *siptest.Call) (provisional []int, withSDP bool, err error) {
	err = call.Dialog.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *gosip.Response) error {
		if res.IsProvisional() && res.StatusCode != 100 {
			provisional = append(provisional, res.StatusCode)
			withSDP = withSDP || len(res.Body()) > 0
		}
		return nil
	}})
	return provisional, withSDP, err
}

func finalStatus(err error) int {
	var final *sipgo.ErrDialogResponse
	if errors.As(err, &final) {
		return final.Res.StatusCode
	}
	return 0
}

// TestEarlyMedia: an Early route plays its app after 183 Session Progress
// (the caller receives RTP before any answer); an app that does not
// answer has the call refused with the route's status, the app's own
// (Refuse) before it, or 480, and the call's record says so.
func TestEarlyMedia(t *testing.T) {
	for _, c := range []struct {
		route, refuse, want int
		reason              string
	}{
		{486, 0, 486, "SIP 486 Busy Here"},
		{0, 0, 480, "SIP 480 Temporarily Unavailable"},
		{0, 486, 486, "SIP 486 Busy Here"},
		{503, 603, 603, "SIP 603 Decline"},
	} {
		addr, records := earlyServer(t, c.route, func(ch media.Channel) {
			playOneSecond(ch) // one second of announcement
			if c.refuse != 0 {
				ch.(*Call).Refuse(c.refuse)
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		call, err := siptest.Invite(ctx, addr, "200")
		if err != nil {
			t.Fatal(err)
		}
		packets := countRTP(call.RTP, 8)
		prov, withSDP, err := waitFinal(ctx, call)
		n, _ := packets.get()
		if got := finalStatus(err); got != c.want {
			t.Errorf("route %d, refused %d: final answer %v, want %d", c.route, c.refuse, err, c.want)
		}
		if len(prov) != 1 || prov[0] != 183 || !withSDP || n < 30 {
			t.Errorf("provisional %v with SDP %v, RTP packets before the refusal %d; want 183 with SDP and about 50", prov, withSDP, n)
		}
		recs := records()
		if len(recs) != 1 || recs[0].Disposition != "refused" || recs[0].Cause != c.reason || !recs[0].Answer.IsZero() {
			t.Errorf("records %+v, want one refused with %q", recs, c.reason)
		}
		call.Close()
		cancel()
	}
}

// TestEarlyAnswer: an Early route's app answers the call when it is
// ready (an extension picked up): 183 first, then the 200 and media, and
// the record is of an answered call. Answer twice is answer once.
func TestEarlyAnswer(t *testing.T) {
	answered := make(chan error, 2)
	addr, records := earlyServer(t, 486, func(ch media.Channel) {
		playOneSecond(ch) // ring-back, as early media
		c := ch.(*Call)
		answered <- c.Answer()
		answered <- c.Answer()
		for range ch.Events() { // until the caller hangs up
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, addr, "200")
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	start := time.Now()
	prov, withSDP, err := waitFinal(ctx, call)
	if err != nil || len(prov) != 1 || prov[0] != 183 || !withSDP {
		t.Fatalf("answer %v after %v (SDP %v), want 200 after 183", err, prov, withSDP)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("answered after %v, before the app answered (1 s)", d)
	}
	if err := call.Dialog.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-answered; err != nil {
			t.Errorf("Answer: %v", err)
		}
	}
	if err := call.Dialog.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	recs := records()
	if len(recs) != 1 || recs[0].Disposition != "answered" || recs[0].Answer.Sub(recs[0].Start) < 900*time.Millisecond {
		t.Errorf("records %+v, want one answered a second after it began", recs)
	}
}

// TestEarlyDelayedOffer: after an INVITE without SDP an Early route
// rings (180, no media: the box's offer would be in an unreliable
// provisional response) and its app may still answer, the box's offer
// then in the 200.
func TestEarlyDelayedOffer(t *testing.T) {
	for _, answer := range []bool{false, true} {
		answered := make(chan error, 1)
		addr, records := earlyServer(t, 486, func(ch media.Channel) {
			playOneSecond(ch)
			if answer {
				answered <- ch.(*Call).Answer()
				for range ch.Events() {
				}
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		call, err := siptest.InviteWithoutSDP(ctx, addr, "200")
		if err != nil {
			t.Fatal(err)
		}
		prov, withSDP, err := waitFinal(ctx, call)
		if len(prov) != 1 || prov[0] != 180 || withSDP {
			t.Errorf("answer %v: provisional %v with SDP %v, want 180 alone", answer, prov, withSDP)
		}
		if !answer {
			if got := finalStatus(err); got != 486 {
				t.Errorf("final answer %v, want 486", err)
			}
		} else {
			if err != nil || len(call.Dialog.InviteResponse.Body()) == 0 {
				t.Fatalf("answer: %v, want 200 with the box's offer", err)
			}
			if err := call.Ack(ctx, call.SDP()); err != nil {
				t.Fatal(err)
			}
			if err := <-answered; err != nil {
				t.Errorf("Answer: %v", err)
			}
			call.Dialog.Bye(ctx)
		}
		if recs := records(); len(recs) != 1 || (recs[0].Disposition == "answered") != answer {
			t.Errorf("answer %v: records %+v", answer, recs)
		}
		call.Close()
		cancel()
	}
}

// TestEarlyCancel: a caller who cancels while an Early route's app runs
// ends the app (its events end), is answered 487 by sipgo, and the
// record is of a cancelled call; the app's Answer then fails.
func TestEarlyCancel(t *testing.T) {
	started, answerErr := make(chan struct{}), make(chan error, 1)
	addr, records := earlyServer(t, 486, func(ch media.Channel) {
		close(started)
		for range ch.Events() {
		}
		answerErr <- ch.(*Call).Answer()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, addr, "200")
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	waitCtx, stop := context.WithCancel(ctx)
	go func() { <-started; time.Sleep(100 * time.Millisecond); stop() }() // the INVITE's context: sipgo sends CANCEL
	_, _, err = waitFinal(waitCtx, call)
	if err == nil {
		t.Fatal("a cancelled call was answered")
	}
	select {
	case err := <-answerErr:
		if err == nil {
			t.Error("Answer after the caller cancelled succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the app did not end when the caller cancelled")
	}
	if recs := records(); len(recs) != 1 || recs[0].Disposition != "cancelled" {
		t.Errorf("records %+v, want one cancelled", recs)
	}
}
