package tone

import (
	"fmt"
	"slices"
)

// Cadence is a call-progress tone: frequencies, level and on/off pattern.
type Cadence struct {
	FreqsHz   []float64
	LevelDBm0 float64
	// OnOffMs alternates on and off durations and repeats; empty means
	// continuous.
	OnOffMs []int
}

// Plan is one country's set of call-progress tones, by name: "dial",
// "ringback", "busy", "congestion", "waiting".
type Plan map[string]Cadence

// Plans by country code (the config's box.country).
var Plans = map[string]Plan{
	// China, GB/T 3380 and YD/T 1070 practice: every tone is 450 Hz.
	"cn": {
		"dial":       {FreqsHz: []float64{450}, LevelDBm0: -10},
		"ringback":   {FreqsHz: []float64{450}, LevelDBm0: -10, OnOffMs: []int{1000, 4000}},
		"busy":       {FreqsHz: []float64{450}, LevelDBm0: -10, OnOffMs: []int{350, 350}},
		"congestion": {FreqsHz: []float64{450}, LevelDBm0: -10, OnOffMs: []int{700, 700}},
		"waiting":    {FreqsHz: []float64{450}, LevelDBm0: -10, OnOffMs: []int{400, 4000}},
	},
	// ITU-T Q.35 / ETSI recommended values: 425 Hz.
	"itu": {
		"dial":       {FreqsHz: []float64{425}, LevelDBm0: -10},
		"ringback":   {FreqsHz: []float64{425}, LevelDBm0: -10, OnOffMs: []int{1000, 4000}},
		"busy":       {FreqsHz: []float64{425}, LevelDBm0: -10, OnOffMs: []int{500, 500}},
		"congestion": {FreqsHz: []float64{425}, LevelDBm0: -10, OnOffMs: []int{250, 250}},
		"waiting":    {FreqsHz: []float64{425}, LevelDBm0: -10, OnOffMs: []int{200, 200, 200, 4400}},
	},
}

// Lookup returns the named tone of a country's plan.
func Lookup(country, name string) (Cadence, error) {
	p, ok := Plans[country]
	if !ok {
		return Cadence{}, fmt.Errorf("tone: no tone plan for country %q", country)
	}
	c, ok := p[name]
	if !ok {
		return Cadence{}, fmt.Errorf("tone: country %q has no %q tone", country, name)
	}
	return c, nil
}

// Player plays a cadence without end, one block at a time.
type Player struct {
	c      Cadence
	oscs   []Osc
	acc    []float64
	step   int // index into OnOffMs
	left   int // samples left in this step
	silent bool
}

// NewPlayer returns a player for c that fills blocks of at most maxBlock samples.
func NewPlayer(c Cadence, maxBlock int) *Player {
	p := &Player{c: Cadence{FreqsHz: slices.Clone(c.FreqsHz), LevelDBm0: c.LevelDBm0, OnOffMs: slices.Clone(c.OnOffMs)}, acc: make([]float64, maxBlock)}
	for _, f := range c.FreqsHz {
		p.oscs = append(p.oscs, NewOsc(f, c.LevelDBm0))
	}
	if len(c.OnOffMs) > 0 {
		p.left = c.OnOffMs[0] * 8
	}
	return p
}

// Fill writes the next len(dst) samples (len(dst) must not exceed
// maxBlock) and returns len(dst): a cadence never ends.
func (p *Player) Fill(dst []int16) int {
	n0 := len(dst)
	for len(dst) > 0 {
		n := len(dst)
		if len(p.c.OnOffMs) > 0 && n > p.left {
			n = p.left
		}
		acc := p.acc[:n]
		clear(acc)
		if !p.silent {
			for i := range p.oscs {
				p.oscs[i].Add(acc)
			}
		}
		Mix(dst[:n], acc)
		dst = dst[n:]
		if len(p.c.OnOffMs) > 0 {
			if p.left -= n; p.left == 0 {
				p.step = (p.step + 1) % len(p.c.OnOffMs)
				p.left = p.c.OnOffMs[p.step] * 8
				p.silent = p.step%2 == 1
			}
		}
	}
	return n0
}
