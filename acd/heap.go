package acd

// heap holds a queue's waiting entries, best first: highest key, then the
// one that joined first. Entries know their index, so one that leaves
// (abandon, overflow, an offer) is removed in O(log n).
type heap struct{ items []*entry }

func (h *heap) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.key != b.key {
		return a.key > b.key
	}
	return better(a, b)
}

func (h *heap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].idx, h.items[j].idx = i, j
}

func (h *heap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *heap) down(i int) {
	for {
		l, b := 2*i+1, i
		if l < len(h.items) && h.less(l, b) {
			b = l
		}
		if r := l + 1; r < len(h.items) && h.less(r, b) {
			b = r
		}
		if b == i {
			return
		}
		h.swap(i, b)
		i = b
	}
}

func (h *heap) push(e *entry) {
	if e.idx >= 0 {
		return
	}
	e.idx = len(h.items)
	h.items = append(h.items, e)
	h.up(e.idx)
}

func (h *heap) remove(e *entry) {
	i := e.idx
	if i < 0 || i >= len(h.items) || h.items[i] != e {
		return
	}
	last := len(h.items) - 1
	h.swap(i, last)
	h.items[last] = nil
	h.items = h.items[:last]
	e.idx = -1
	if i < last {
		h.down(i)
		h.up(i)
	}
}

func (h *heap) top() *entry {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

func (h *heap) len() int { return len(h.items) }
