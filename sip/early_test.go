package sip

import (
	"context"
	"errors"
	"sync/atomic"
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

// TestEarlyMedia: a route with Early plays its app after 183 Session
// Progress (the caller receives RTP before any answer) and then refuses
// the call with its status.
func TestEarlyMedia(t *testing.T) {
	_, addr := startServer(t, func(o *Options) {
		o.Router = func(string, string) (Route, error) {
			return Route{Open: true, Early: true, Status: 486, App: func(ch media.Channel) {
				ch.Play(&silenceFor{n: 8000}) // one second of announcement
				for e := range ch.Events() {
					if e.Kind == media.EventPlayDone {
						return
					}
				}
			}}, nil
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := siptest.Invite(ctx, addr, "200")
	if err != nil {
		t.Fatal(err)
	}
	defer call.Close()
	var packets atomic.Int32
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := call.RTP.ReadFromUDP(buf); err != nil {
				return
			}
			packets.Add(1)
		}
	}()
	dlg := call.Dialog
	var got183 bool
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *gosip.Response) error {
		if res.StatusCode == 183 && len(res.Body()) > 0 {
			got183 = true
		}
		return nil
	}})
	var final *sipgo.ErrDialogResponse
	if !errors.As(err, &final) || final.Res.StatusCode != 486 {
		t.Fatalf("final answer: %v, want 486", err)
	}
	if !got183 || packets.Load() < 30 {
		t.Fatalf("183 with SDP %v, RTP packets before the refusal %d (want about 50)", got183, packets.Load())
	}
}
