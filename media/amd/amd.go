// Package amd tells an answering machine from a person in the first
// seconds of an answered call, from the energy of what the far end says:
// a person answers with a short "hello?" and waits; a machine plays a
// long greeting, or says nothing while it starts. One Detector per call,
// with caller-owned state; it allocates nothing per frame.
//
// Layer: media; imports only the standard library and media.
//
// # How it decides
//
// The audio is cut into 20 ms frames; a frame is voice when its mean
// magnitude reaches the silence threshold, silence otherwise. Voice that
// lasts MinWord is a word; a silence of BetweenWords ends it. Then, in
// the first of these to happen:
//   - silence for InitialSilence before any word: a machine (it has not
//     started its greeting; a person says something);
//   - MaxWords words: a machine (a person's answer is a word or two);
//   - Greeting of voice since the first word: a machine;
//   - a single stretch of voice of MaxWordLength: a machine;
//   - silence for AfterGreetingSilence after a word: a person (done
//     speaking, waiting for the caller);
//   - Total of analysis without a verdict: not sure.
//
// The parameters and their defaults are Asterisk app_amd's, as amd.conf
// documents them (the algorithm here is written from those definitions),
// so an operator who tuned Asterisk's AMD can carry the figures across.
// Energy alone cannot hear what is said: a person who answers with a long
// sentence is taken for a machine, and a machine with a one-word greeting
// for a person; in Mandarin, where each syllable is a character, a
// person's "喂，你好" spoken with pauses is three words, a machine's count
// (raise MaxWords for such a line). Those are the known limits of every energy AMD; count its
// mistakes (the campaign reports them) rather than trust it blindly.
package amd

import (
	"time"

	"jinyin/media"
)

// Config holds the detector's parameters; a zero field takes its default.
type Config struct {
	InitialSilence       time.Duration // 2500 ms: silence before a greeting that means a machine
	Greeting             time.Duration // 1500 ms: the longest greeting a person gives
	AfterGreetingSilence time.Duration // 800 ms: silence after a greeting that means a person
	Total                time.Duration // 5000 ms: the longest analysis before "not sure"
	MinWord              time.Duration // 100 ms: the shortest voice that is a word
	BetweenWords         time.Duration // 50 ms: the silence that ends a word
	MaxWords             int           // 3: words that mean a machine
	MaxWordLength        time.Duration // 5000 ms: the longest single stretch of voice
	SilenceThreshold     int           // 256: mean magnitude (16-bit linear) below which a frame is silence
}

// Defaults returns app_amd's defaults (with 3 words).
func Defaults() Config {
	var c Config
	c.defaults()
	return c
}

func (c *Config) defaults() {
	def := func(d *time.Duration, ms int) {
		if *d == 0 {
			*d = time.Duration(ms) * time.Millisecond
		}
	}
	def(&c.InitialSilence, 2500)
	def(&c.Greeting, 1500)
	def(&c.AfterGreetingSilence, 800)
	def(&c.Total, 5000)
	def(&c.MinWord, 100)
	def(&c.BetweenWords, 50)
	def(&c.MaxWordLength, 5000)
	if c.MaxWords == 0 {
		c.MaxWords = 3
	}
	if c.SilenceThreshold == 0 {
		c.SilenceThreshold = 256
	}
}

// Verdict is what the detector decided.
type Verdict uint8

const (
	Undecided Verdict = iota
	Human
	Machine
	NotSure
)

func (v Verdict) String() string {
	return [...]string{"undecided", "human", "machine", "not sure"}[v]
}

// Result is a verdict, why (app_amd's AMDCAUSE words: INITIALSILENCE,
// MAXWORDS, LONGGREETING, MAXWORDLENGTH, HUMAN, TOOLONG) and how far
// into the call it came.
type Result struct {
	Verdict Verdict
	Cause   string
	At      time.Duration
}

// Detector is one call's analysis.
type Detector struct {
	cfg Config

	frame [media.FrameSamples]int16
	n     int // samples in frame

	elapsed, silence, voice, greeting time.Duration // voice: this stretch; greeting: voice since the first word
	words                             int
	inWord, greeted                   bool
	res                               Result
}

// New returns a detector with cfg's parameters (defaults for zero fields).
func New(cfg Config) *Detector {
	cfg.defaults()
	return &Detector{cfg: cfg}
}

// Process analyses pcm (8 kHz linear) and returns the verdict once there
// is one; after that it returns the same result and ignores its input.
func (d *Detector) Process(pcm []int16) Result {
	for len(pcm) > 0 && d.res.Verdict == Undecided {
		c := copy(d.frame[d.n:], pcm)
		d.n += c
		pcm = pcm[c:]
		if d.n == len(d.frame) {
			d.n = 0
			d.endFrame()
		}
	}
	return d.res
}

// Result is the verdict so far (Undecided until there is one).
func (d *Detector) Result() Result { return d.res }

const frameDur = media.FrameMs * time.Millisecond

// Silent reports whether pcm's mean magnitude is below threshold: the
// test that makes a frame silence rather than voice.
func Silent(pcm []int16, threshold int) bool {
	var sum int
	for _, s := range pcm {
		sum += max(int(s), -int(s))
	}
	return sum < threshold*len(pcm)
}

func (d *Detector) endFrame() {
	c := &d.cfg
	d.elapsed += frameDur
	if Silent(d.frame[:], c.SilenceThreshold) {
		d.silence += frameDur
		d.voice = 0
		if d.silence >= c.BetweenWords {
			d.inWord = false
		}
		switch {
		case !d.greeted && d.silence >= c.InitialSilence:
			d.decide(Machine, "INITIALSILENCE")
		case d.greeted && d.silence >= c.AfterGreetingSilence:
			d.decide(Human, "HUMAN")
		}
	} else {
		d.silence = 0
		d.voice += frameDur
		if d.greeted {
			d.greeting += frameDur
		}
		if !d.inWord && d.voice >= c.MinWord {
			d.inWord = true
			d.words++
			if !d.greeted {
				d.greeted, d.greeting = true, d.voice
			}
		}
		switch {
		case d.words >= c.MaxWords:
			d.decide(Machine, "MAXWORDS")
		case d.greeted && d.greeting >= c.Greeting:
			d.decide(Machine, "LONGGREETING")
		case d.voice >= c.MaxWordLength:
			d.decide(Machine, "MAXWORDLENGTH")
		}
	}
	if d.res.Verdict == Undecided && d.elapsed >= c.Total {
		d.decide(NotSure, "TOOLONG")
	}
}

func (d *Detector) decide(v Verdict, cause string) {
	d.res = Result{Verdict: v, Cause: cause, At: d.elapsed}
}
