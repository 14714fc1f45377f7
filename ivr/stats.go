package ivr

import (
	"sync"

	"jinyin/store"
)

// Stats counts node visits and how callers left each node ("key:2",
// "timeout", "invalid", "hangup", "next", "fail", ...), in memory until
// Flush adds them to the store: the IVR menu hit ranking and where
// callers give up.
type Stats struct {
	mu sync.Mutex
	n  map[statKey]uint64
}

type statKey struct{ flow, node, exit string }

// NewStats returns empty counters.
func NewStats() *Stats { return &Stats{n: map[statKey]uint64{}} }

func (s *Stats) count(flow, node, exit string) {
	s.mu.Lock()
	s.n[statKey{flow, node, exit}]++
	s.mu.Unlock()
}

// Flush adds the counts so far to the store and clears them; on a store
// error they are kept for the next Flush.
func (s *Stats) Flush(db *store.DB) error {
	s.mu.Lock()
	pending := s.n
	s.n = map[statKey]uint64{}
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	counts := make([]store.IVRCount, 0, len(pending))
	for k, n := range pending {
		counts = append(counts, store.IVRCount{Flow: k.flow, Node: k.node, Exit: k.exit, N: n})
	}
	err := db.AddIVRCounts(counts)
	if err != nil {
		s.mu.Lock()
		for k, n := range pending {
			s.n[k] += n
		}
		s.mu.Unlock()
	}
	return err
}
