package rtp

// JitterBuffer reorders and delays received audio frames so that they can
// be played out at a steady 20 ms. Its depth adapts: it starts at the
// minimum, grows by a frame each time it runs dry (a late burst), and
// sheds a frame each half second it holds more than two frames over its
// target. Slots and payload storage are owned by the buffer; Push copies.
type JitterBuffer struct {
	slots   [jbSlots]jbSlot
	next    uint16 // sequence number to play next
	started bool   // the first packet has fixed next
	playing bool   // prebuffering done
	target  int    // frames to hold before playing
	minT    int
	maxT    int
	over    int // consecutive Pops with more than target+2 frames held

	Underruns, Late, Dropped int // counters for the channel's statistics
}

const (
	jbSlots      = 32 // 640 ms at 20 ms frames
	jbMaxPayload = 320
)

type jbSlot struct {
	used bool
	seq  uint16
	n    int
	data [jbMaxPayload]byte
}

// NewJitterBuffer returns a buffer that holds between minFrames and
// maxFrames frames (at most 32).
func NewJitterBuffer(minFrames, maxFrames int) *JitterBuffer {
	minFrames = max(minFrames, 1)
	maxFrames = min(max(maxFrames, minFrames), jbSlots-2)
	return &JitterBuffer{target: minFrames, minT: minFrames, maxT: maxFrames}
}

// Push stores one frame. Frames too late to play, duplicates and frames
// more than the buffer can hold ahead are dropped.
func (j *JitterBuffer) Push(seq uint16, payload []byte) {
	if len(payload) > jbMaxPayload {
		j.Dropped++
		return
	}
	if !j.started {
		j.started, j.next = true, seq
	}
	if SeqLess(seq, j.next) {
		j.Late++
		return
	}
	if int(seq-j.next) >= jbSlots {
		// Far ahead: the stream jumped (a new talk spurt after a long
		// silence, or a restart). Start again from here.
		j.reset(seq)
	}
	s := &j.slots[seq%jbSlots]
	if s.used && s.seq == seq {
		return // duplicate
	}
	s.used, s.seq, s.n = true, seq, copy(s.data[:], payload)
}

func (j *JitterBuffer) reset(seq uint16) {
	for i := range j.slots {
		j.slots[i].used = false
	}
	j.next, j.playing = seq, false
}

// held is the number of frames buffered from next on.
func (j *JitterBuffer) held() int {
	n := 0
	for i := range j.slots {
		if s := &j.slots[i]; s.used && !SeqLess(s.seq, j.next) {
			n++
		}
	}
	return n
}

// Pop returns the frame to play now, copied into dst. ok is false when
// there is nothing to play: still prebuffering, a lost frame (the caller
// conceals it), or an underrun.
func (j *JitterBuffer) Pop(dst []byte) (n int, ok bool) {
	if !j.started {
		return 0, false
	}
	held := j.held()
	if !j.playing {
		if held < j.target {
			return 0, false
		}
		j.playing = true
	}
	if held == 0 {
		// Ran dry: a burst is late. Hold a frame more from now on.
		j.Underruns++
		j.target = min(j.target+1, j.maxT)
		j.playing = false
		return 0, false
	}
	if held > j.target+2 {
		if j.over++; j.over >= 25 {
			// Half a second with more than we need: drop a frame of latency.
			j.slots[j.next%jbSlots].used = false
			j.next++
			j.over = 0
			j.target = max(j.target-1, j.minT)
		}
	} else {
		j.over = 0
	}
	s := &j.slots[j.next%jbSlots]
	j.next++
	if !s.used || s.seq != j.next-1 {
		return 0, false // lost
	}
	s.used = false
	return copy(dst, s.data[:s.n]), true
}

// Target is the current depth in frames.
func (j *JitterBuffer) Target() int { return j.target }
