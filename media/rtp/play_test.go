package rtp

import (
	"net/netip"
	"testing"

	"jinyin/media"
)

// endsReplaced ends in the frame it fills and is replaced by next while
// it fills it: the application's Play landing in the same 20 ms as the
// end of what played before.
type endsReplaced struct {
	s    *Session
	next media.Source
	id   media.PlayID // the replacing Play's
}

func (e *endsReplaced) Fill(dst []int16) int {
	e.id = e.s.Play(e.next)
	return 0
}

// A play replaced just as it ends: its done event names it, not the play
// that replaced it, and the new source plays on (no done event of its own
// until it ends).
func TestPlayDoneNamesThePlayThatEnded(t *testing.T) {
	pool := NewPortPool(netip.MustParseAddr("127.0.0.1"), 36100, 36199)
	s, err := pool.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var evs []media.Event
	s.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: media.PCMA, CodecPT: 8}, func(e media.Event) { evs = append(evs, e) })
	newer := &pcmSource{pcm: make([]int16, 2*media.FrameSamples)}
	old := &endsReplaced{s: s, next: newer}
	oldID := s.Play(old)
	s.Tick()
	if len(evs) != 1 || evs[0].Kind != media.EventPlayDone || evs[0].Play != oldID || old.id == oldID {
		t.Fatalf("events %+v; the ended play is %d, the one replacing it %d", evs, oldID, old.id)
	}
	s.Tick()
	s.Tick()
	if len(evs) != 1 || len(newer.pcm) != 0 {
		t.Fatalf("events %+v, %d samples of the new play left: it should have played on", evs, len(newer.pcm))
	}
	s.Tick()
	if len(evs) != 2 || evs[1].Play != old.id {
		t.Fatalf("events %+v, want the new play's end, %d", evs, old.id)
	}
}
