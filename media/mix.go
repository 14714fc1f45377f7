package media

import "sync"

// Fanout lets several readers take one channel's received audio (a
// Listener's source, which gives each frame once): the agent's leg, a
// supervisor and a recording all hear the caller. Each reader gets every
// frame; the first reader to ask for a frame takes it from the source, the
// others find it in a short history. A reader that falls further behind
// than the history skips ahead. Fill allocates nothing.
type Fanout struct {
	mu    sync.Mutex
	src   Source
	ring  [fanoutFrames][FrameSamples]int16
	lens  [fanoutFrames]int
	taken uint64 // frames taken from src
}

const fanoutFrames = 8

// NewFanout shares src among readers.
func NewFanout(src Source) *Fanout { return &Fanout{src: src} }

// Reader returns a new reader, starting at the next frame.
func (f *Fanout) Reader() Source {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &fanReader{f: f, next: f.taken}
}

type fanReader struct {
	f    *Fanout
	next uint64
}

func (r *fanReader) Fill(dst []int16) int {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.taken-r.next > fanoutFrames-1 {
		r.next = f.taken - 1 // too far behind: the newest frame
	}
	if r.next == f.taken {
		i := f.taken % fanoutFrames
		n := min(len(dst), FrameSamples)
		f.lens[i] = f.src.Fill(f.ring[i][:n])
		f.taken++
	}
	i := r.next % fanoutFrames
	r.next++
	n := copy(dst, f.ring[i][:f.lens[i]])
	clear(dst[n:])
	return len(dst)
}

// Mix is a Source that adds its sources sample by sample, with
// saturation: what a party hears in a three-way call. Sources are read
// one frame at a time; Mix never ends.
type Mix struct {
	Sources []Source
	buf     [FrameSamples * 2]int16
}

// MixOf is a Mix of srcs, or the one source itself when there is one: a
// two-party call pays for no mixing.
func MixOf(srcs ...Source) Source {
	if len(srcs) == 1 {
		return srcs[0]
	}
	return &Mix{Sources: srcs}
}

func (m *Mix) Fill(dst []int16) int {
	clear(dst)
	n := min(len(dst), len(m.buf))
	for _, s := range m.Sources {
		s.Fill(m.buf[:n])
		for i, v := range m.buf[:n] {
			dst[i] = sat(int32(dst[i]) + int32(v))
		}
	}
	return len(dst)
}

func sat(v int32) int16 {
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}

// Tee is a Source that passes another through and hands each frame to
// Tap (a recording) on the way; Tap must not block.
type Tee struct {
	Src Source
	Tap func([]int16)
}

func (t *Tee) Fill(dst []int16) int {
	n := t.Src.Fill(dst)
	t.Tap(dst[:n])
	return n
}
