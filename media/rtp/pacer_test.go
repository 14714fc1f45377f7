package rtp

import "testing"

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
