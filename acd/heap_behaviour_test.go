package acd

import (
	"slices"
	"testing"
	"time"
)

// heapOf pushes entries of these keys (joined in the order given) and
// returns them.
func heapOf(keys ...int64) (*heap, []*entry) {
	h := &heap{}
	t0 := time.Unix(1e9, 0)
	var es []*entry
	for i, k := range keys {
		e := &entry{id: uint64(i + 1), key: k, joined: t0.Add(time.Duration(i) * time.Second), idx: -1}
		es = append(es, e)
		h.push(e)
	}
	return h, es
}

// drain takes the entries off best first (at most as many as were in).
func drain(h *heap) []int64 {
	var keys []int64
	for n := h.len(); n > 0; n-- {
		e := h.top()
		h.remove(e)
		keys = append(keys, e.key)
	}
	return keys
}

// permutations of 0..n-1, each once.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// Whatever the order of arrival, the heap gives the highest key first,
// and taking the best out (the top) leaves it the best of the rest.
func TestHeapEveryOrderOfArrival(t *testing.T) {
	for _, p := range permutations(6) {
		keys := make([]int64, len(p))
		for i, v := range p {
			keys[i] = int64(v)
		}
		h, _ := heapOf(keys...)
		if got := drain(h); !slices.Equal(got, []int64{5, 4, 3, 2, 1, 0}) {
			t.Fatalf("arrivals %v: taken %v", keys, got)
		}
		if h.len() != 0 || h.top() != nil {
			t.Fatalf("arrivals %v: %d left", keys, h.len())
		}
	}
}

// Any one entry leaving, wherever it is, leaves the others in order; the
// one that left has no place.
func TestHeapRemoveAnyOne(t *testing.T) {
	for _, p := range permutations(5) {
		for gone := 0; gone < 5; gone++ {
			keys := make([]int64, len(p))
			for i, v := range p {
				keys[i] = int64(v)
			}
			h, es := heapOf(keys...)
			h.remove(es[gone])
			if es[gone].idx != -1 {
				t.Fatalf("arrivals %v: removed entry keeps index %d", keys, es[gone].idx)
			}
			var want []int64
			for k := int64(4); k >= 0; k-- {
				if k != es[gone].key {
					want = append(want, k)
				}
			}
			if got := drain(h); !slices.Equal(got, want) {
				t.Fatalf("arrivals %v, %d left: taken %v, want %v", keys, es[gone].key, got, want)
			}
		}
	}
}

// Equal keys: who joined first is first.
func TestHeapEqualKeysJoinedFirst(t *testing.T) {
	h, es := heapOf(7, 7, 7)
	for i, want := range es {
		if got := h.top(); got != want {
			t.Fatalf("%d: top joined %v, want %v", i, got.joined, want.joined)
		}
		h.remove(want)
	}
}

// Pushing an entry that is already in, even the top one, changes nothing;
// removing one that is not in this heap (gone, or in another queue's,
// whatever its index there) changes nothing either.
func TestHeapPushTwiceAndRemoveForeign(t *testing.T) {
	h, es := heapOf(1, 3, 2)
	top := h.top()
	if top != es[1] || top.idx != 0 {
		t.Fatalf("top %+v", top)
	}
	h.push(top)
	if h.len() != 3 {
		t.Fatalf("the top pushed again: %d entries, want 3", h.len())
	}
	other, oe := heapOf(5, 4, 3, 2) // oe[3] is at index 3: this heap's length
	if oe[3].idx != 3 {
		t.Fatalf("fixture: index %d", oe[3].idx)
	}
	h.remove(oe[3])
	h.remove(oe[1])
	if h.len() != 3 || other.len() != 4 {
		t.Fatalf("removing another heap's entries: %d and %d entries, want 3 and 4", h.len(), other.len())
	}
	if got := drain(h); !slices.Equal(got, []int64{3, 2, 1}) {
		t.Errorf("taken %v, want 3,2,1", got)
	}
}
