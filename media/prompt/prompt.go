// Package prompt is the box's spoken prompt set: the default prompts in
// Mandarin and English (scripts/gen-prompts.sh renders prompts.tsv with
// espeak-ng and sox into 8 kHz A-law files, embedded here), a Player that
// plays a sequence of prompts frame by frame, and read-back: digits,
// numbers and durations said in either language by concatenating word
// prompts.
//
// Layer: media; imports the standard library and media/wav.
package prompt

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"maps"
	"strings"
	"sync"

	"jinyin/media"
	"jinyin/media/wav"
)

//go:embed prompts.tsv zh/*.wav en/*.wav
var files embed.FS

// Languages the default set speaks.
const (
	Mandarin = "zh"
	English  = "en"
)

// Set holds decoded prompts by language and id.
type Set struct {
	mu    sync.RWMutex
	audio map[string]map[string]clip
}

// clip is one prompt, linear and as A-law.
type clip struct {
	pcm  []int16
	alaw []byte
}

var (
	defaultOnce sync.Once
	defaultSet  *Set
	defaultErr  error
)

// Default returns the embedded prompt set, decoded once.
func Default() (*Set, error) {
	defaultOnce.Do(func() { defaultSet, defaultErr = load() })
	return defaultSet, defaultErr
}

func load() (*Set, error) {
	s := &Set{audio: map[string]map[string]clip{Mandarin: {}, English: {}}}
	tsv, err := files.ReadFile("prompts.tsv")
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(tsv))
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Split(t, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("prompt: prompts.tsv:%d: want id, Mandarin, English", line)
		}
		for i, lang := range []string{Mandarin, English} {
			if f[i+1] == "-" {
				continue
			}
			data, err := files.ReadFile(lang + "/" + f[0] + ".wav")
			if err != nil {
				return nil, fmt.Errorf("prompt: %s/%s: %w (run scripts/gen-prompts.sh)", lang, f[0], err)
			}
			a, err := wav.Decode(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("prompt: %s/%s: %w", lang, f[0], err)
			}
			c := clip{pcm: a.Samples, alaw: a.Raw}
			if a.Format != wav.ALaw {
				c.alaw = make([]byte, len(a.Samples))
				media.PCMA.Encode(c.alaw, a.Samples)
			}
			s.audio[lang][f[0]] = c
		}
	}
	return s, nil
}

// Get returns a prompt's samples. They are shared: do not modify them.
func (s *Set) Get(lang, id string) ([]int16, error) {
	c, err := s.clip(lang, id)
	return c.pcm, err
}

func (s *Set) clip(lang, id string) (clip, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.audio[lang]
	if !ok {
		return clip{}, fmt.Errorf("prompt: no language %q", lang)
	}
	a, ok := l[id]
	if !ok {
		return clip{}, fmt.Errorf("prompt: no prompt %q in %s", id, lang)
	}
	return a, nil
}

// Has reports whether the prompt exists.
func (s *Set) Has(lang, id string) bool {
	_, err := s.Get(lang, id)
	return err == nil
}

// Player returns a player for the prompts ids, in order.
func (s *Set) Player(lang string, ids ...string) (*Player, error) {
	p := &Player{}
	for _, id := range ids {
		c, err := s.clip(lang, id)
		if err != nil {
			return nil, err
		}
		p.clips = append(p.clips, c)
	}
	return p, nil
}

// Player plays a sequence of clips into caller-owned frames, as linear
// samples (Fill) or as the A-law bytes the prompts are stored in
// (FillALaw); both advance the same position.
type Player struct {
	clips []clip
	clip  int // current clip
	off   int // samples played of it
}

var _ media.ALawSource = (*Player)(nil)

// Fill copies the next samples into dst and returns how many; fewer than
// len(dst) means the sequence ended (the rest of dst is left alone).
func (p *Player) Fill(dst []int16) int { return fill(p, dst, func(c *clip) []int16 { return c.pcm }) }

// FillALaw is Fill in A-law bytes.
func (p *Player) FillALaw(dst []byte) int {
	return fill(p, dst, func(c *clip) []byte { return c.alaw })
}

// fill advances the player through its clips in one of their two forms,
// which have the same length.
func fill[T int16 | byte](p *Player, dst []T, form func(*clip) []T) int {
	n := 0
	for n < len(dst) && p.clip < len(p.clips) {
		src := form(&p.clips[p.clip])
		c := copy(dst[n:], src[p.off:])
		n, p.off = n+c, p.off+c
		if p.off == len(src) {
			p.clip, p.off = p.clip+1, 0
		}
	}
	return n
}

// Samples returns the total length of the sequence in samples.
func (p *Player) Samples() int {
	n := 0
	for _, c := range p.clips {
		n += len(c.pcm)
	}
	return n
}

// Done reports whether everything has been played.
func (p *Player) Done() bool { return p.clip >= len(p.clips) }

// Clone returns a copy of the set whose prompts can be replaced without
// touching the original (the embedded default is shared).
func (s *Set) Clone() *Set {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := &Set{audio: map[string]map[string]clip{}}
	for lang, l := range s.audio {
		c.audio[lang] = maps.Clone(l)
	}
	return c
}

// Replace puts new audio in place of an existing prompt. Players made
// before keep playing the old audio to their end.
func (s *Set) Replace(lang, id string, pcm []int16) error {
	if _, err := s.clip(lang, id); err != nil {
		return err
	}
	c := clip{pcm: pcm, alaw: make([]byte, len(pcm))}
	media.PCMA.Encode(c.alaw, pcm)
	s.mu.Lock()
	s.audio[lang][id] = c
	s.mu.Unlock()
	return nil
}

// PlayerOf plays audio that is not a prompt (a voicemail message).
func PlayerOf(pcm []int16) *Player {
	c := clip{pcm: pcm, alaw: make([]byte, len(pcm))}
	media.PCMA.Encode(c.alaw, pcm)
	return &Player{clips: []clip{c}}
}
