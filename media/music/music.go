// Package music is music on hold: a playlist (one WAV file, a folder of
// them played in name order, or the embedded default, Builtin) loaded once,
// and a Stream per queue that plays it in a loop like a radio. Every caller
// waiting in the queue has a Reader of the queue's stream: all of them hear
// the same frame at the same moment, a caller who joins hears the music
// where it is now, and the stream decodes each 20 ms frame once however
// many callers listen.
//
// The stream's place is the time since it started, read from the clock it
// is given (the box's injected clock); a reader plays one frame after
// another and falls back in step with the clock when its channel's tick
// drifts from it. Fill and FillALaw allocate nothing.
//
// Layer: media; imports the standard library, media and media/wav.
package music

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"jinyin/media"
	"jinyin/media/wav"
)

// Builtin names the embedded default music (scripts/gen-music.sh renders
// it): the demo configuration's queues play it.
const Builtin = "builtin:hold"

//go:embed hold.wav
var holdWAV []byte

// maxSamples bounds a playlist: an hour of music, 28.8 MB as A-law.
const maxSamples = 3600 * media.RateHz

// Playlist is decoded music: every file of it end to end, as A-law (the
// box's calls are G.711; a µ-law call converts by table, as prompts do).
type Playlist struct {
	Files []string // the files, in the order played
	alaw  []byte
}

// Samples is the playlist's length in samples at 8 kHz.
func (p *Playlist) Samples() int { return len(p.alaw) }

var (
	builtinOnce sync.Once
	builtinList *Playlist
	builtinErr  error
)

// Load reads the music at path: Builtin, a WAV file (8 kHz mono, 16-bit
// PCM, A-law or µ-law), or a folder whose .wav files are played in name
// order. Every file must decode whole and hold some audio.
func Load(path string) (*Playlist, error) {
	if name, ok := strings.CutPrefix(path, "builtin:"); ok {
		if path != Builtin {
			return nil, fmt.Errorf("music: no built-in music %q; there is %q", name, Builtin)
		}
		builtinOnce.Do(func() {
			builtinList = &Playlist{Files: []string{Builtin}}
			builtinErr = builtinList.add(Builtin, holdWAV)
		})
		return builtinList, builtinErr
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("music: no file or folder %s: %w", path, fs.ErrNotExist)
	} else if err != nil {
		return nil, fmt.Errorf("music: %w", err)
	}
	files := []string{path}
	if fi.IsDir() {
		ents, err := os.ReadDir(path) // sorted by name
		if err != nil {
			return nil, fmt.Errorf("music: %w", err)
		}
		files = files[:0]
		for _, e := range ents {
			f := filepath.Join(path, e.Name())
			if !strings.EqualFold(filepath.Ext(f), ".wav") {
				continue
			}
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() { // a file, or a link to one
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("music: folder %s holds no .wav files", path)
		}
	}
	p := &Playlist{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("music: %w", err)
		}
		if err := p.add(f, data); err != nil {
			return nil, err
		}
		p.Files = append(p.Files, f)
	}
	return p, nil
}

// Check reports whether the music at path loads: what `jinyin check`
// asks of a queue's music key.
func Check(path string) error {
	_, err := Load(path)
	return err
}

// add appends one file's audio.
func (p *Playlist) add(name string, data []byte) error {
	a, err := wav.Decode(bytes.NewReader(data))
	switch {
	case errors.Is(err, wav.ErrNotWAV), errors.Is(err, wav.ErrUnsupported):
		return fmt.Errorf("music: %s is not a WAV the box plays (8 kHz mono, 16-bit PCM, A-law or µ-law): %w", name, err)
	case err != nil:
		return fmt.Errorf("music: %s: %w", name, err)
	case len(a.Samples) < media.FrameSamples:
		return fmt.Errorf("music: %s holds no audio (%d samples)", name, len(a.Samples))
	case len(p.alaw)+len(a.Samples) > maxSamples:
		return fmt.Errorf("music: %s: more than an hour of music in all", name)
	}
	if a.Format == wav.ALaw {
		p.alaw = append(p.alaw, a.Raw...)
		return nil
	}
	n := len(p.alaw)
	p.alaw = append(p.alaw, make([]byte, len(a.Samples))...)
	media.PCMA.Encode(p.alaw[n:], a.Samples)
	return nil
}

// Stream is one queue's music: the playlist looping from when the stream
// was made, the same for every reader.
type Stream struct {
	list  *Playlist
	now   func() time.Time
	start time.Time

	mu      sync.Mutex
	ring    [ringFrames]frame // recent frames, by index modulo ringFrames
	decoded uint64
}

// A reader more than slack frames from the clock's frame jumps back in
// step; the ring holds the frames readers within slack of the clock may
// ask for, each decoded once.
const (
	slack      = 5 // 100 ms: the RTP pacer starts afresh after 5 late ticks
	ringFrames = 2*slack + 2
)

type frame struct {
	at   int64 // frame index + 1; 0 for a slot not filled yet
	alaw [media.FrameSamples]byte
	pcm  [media.FrameSamples]int16
}

// NewStream starts playing list now; now is the box's clock.
func NewStream(list *Playlist, now func() time.Time) *Stream {
	return &Stream{list: list, now: now, start: now()}
}

// Decoded is how many frames the stream has decoded: one per 20 ms while
// anyone listens, however many do.
func (s *Stream) Decoded() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decoded
}

// Reader returns a source that plays the stream from where it is now.
// It never ends.
func (s *Stream) Reader() *Reader { return &Reader{s: s} }

// Reader is one caller's ear on a stream.
type Reader struct {
	s       *Stream
	next    int64 // the frame it plays next
	started bool
}

var _ media.ALawSource = (*Reader)(nil)

// Fill plays the stream as linear samples: one frame for each 160
// samples asked (a shorter tail takes the start of a frame).
func (r *Reader) Fill(dst []int16) int {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := 0; n < len(dst); n += media.FrameSamples {
		copy(dst[n:], r.take().pcm[:])
	}
	return len(dst)
}

// FillALaw is Fill in A-law bytes, copied as decoded from the file.
func (r *Reader) FillALaw(dst []byte) int {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := 0; n < len(dst); n += media.FrameSamples {
		copy(dst[n:], r.take().alaw[:])
	}
	return len(dst)
}

// take returns the reader's next frame, under s.mu.
func (r *Reader) take() *frame {
	s := r.s
	now := max(int64(s.now().Sub(s.start)/(media.FrameMs*time.Millisecond)), 0)
	if !r.started || r.next < now-slack || r.next > now+slack {
		r.next, r.started = now, true
	}
	k := r.next
	r.next++
	f := &s.ring[k%ringFrames]
	if f.at != k+1 {
		s.fill(f, k)
	}
	return f
}

// fill decodes frame k of the loop into f.
func (s *Stream) fill(f *frame, k int64) {
	a := s.list.alaw
	off := int((k * media.FrameSamples) % int64(len(a)))
	for n := 0; n < media.FrameSamples; {
		c := copy(f.alaw[n:], a[off:])
		n, off = n+c, 0
	}
	media.PCMA.Decode(f.pcm[:], f.alaw[:])
	f.at = k + 1
	s.decoded++
}
