package box

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"jinyin/config"
	"jinyin/internal/fsutil"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/media/music"
	"jinyin/media/prompt"
	"jinyin/media/wav"
	"jinyin/web"
)

// Env is what validation checks a config against in this firmware: the
// board profiles and their drivers, the prompt set flows may name, and
// the music queues may play.
func Env(boards config.Env) config.Env {
	if set, err := prompt.Default(); err == nil {
		boards.Prompt = set.Has
	}
	boards.Music = music.Check
	return boards
}

// statsEvery is how often the IVR's counters go to the store; sweepEvery
// how often old recordings are deleted.
const (
	statsEvery = 10 * time.Second
	sweepEvery = time.Hour
)

// newIVR builds the flow engine on the box's prompts (with the ones
// replaced at run time), store and transfers.
func (b *Box) newIVR() (*ivr.Engine, error) {
	def, err := prompt.Default()
	if err != nil {
		return nil, err
	}
	b.prompts = def.Clone()
	if err := b.loadPrompts(); err != nil {
		return nil, err
	}
	// The demo's order desk numbers orders by the box's calendar day, not
	// the machine's (a box in Beijing on a UTC clock said yesterday's date
	// between 00:00 and 08:00).
	local := func() time.Time { return b.clock.Now().In(b.cfg.Location()) }
	return ivr.New(ivr.Options{
		Flows: b.cfg.Flows, IVR: b.cfg.IVR, Lang: b.cfg.Box.Language, Prompts: b.prompts, DB: b.db, Data: b.data,
		Transfer:   b.plan.Transfer,
		SavePrompt: b.savePrompt,
		Short:      b.space.Short,
		HTTP:       ivr.NewHTTPClient(ivr.Builtin{"demo-orders": ivr.DemoOrders(local), "demo-shop": ivr.DemoShop(local)}),
		Location:   b.cfg.Location(), // the box's one zone
		Clock:      b.clock,
		Log:        b.log,
	})
}

// housekeeping writes the IVR counters every statsEvery, and applies the
// recordings' retention and reads the spans' error counters at start and
// every sweepEvery (an hour), until stop closes.
func (b *Box) housekeeping(stop <-chan struct{}) {
	t := b.clock.NewTicker(statsEvery)
	defer t.Stop()
	sweep := b.clock.NewTicker(sweepEvery)
	defer sweep.Stop()
	spend := b.clock.NewTicker(spendEvery)
	defer spend.Stop()
	if err := b.acd.Sweep(); err != nil {
		b.log.Error("recordings retention", "err", err)
	}
	for {
		select {
		case <-stop:
			return
		case <-t.C():
			if err := b.ivr.Stats.Flush(b.db); err != nil {
				b.log.Error("ivr counters", "err", err)
			}
		case <-sweep.C():
			if err := b.acd.Sweep(); err != nil {
				b.log.Error("recordings retention", "err", err)
			}
			b.sampleCounters()
		case <-spend.C():
			b.plan.Spend()
		}
	}
}

// spendEvery is how often the toll-fraud breakers look at what calls out
// have spent: a call at 8 RMB a minute costs 1.33 between two looks.
const spendEvery = 10 * time.Second

// Prompts replaced at run time live in DATA/prompts/LANG/ID.wav; each
// replacement moves the one before to DATA/prompts/LANG/old/ID-TIME.wav.
func (b *Box) promptPath(lang, id string) string {
	return filepath.Join(b.data, "prompts", lang, id+".wav")
}

// loadPrompts puts the prompts replaced earlier in the set.
func (b *Box) loadPrompts() error {
	for _, lang := range []string{prompt.Mandarin, prompt.English} {
		files, _ := filepath.Glob(filepath.Join(b.data, "prompts", lang, "*.wav"))
		for _, f := range files {
			id := strings.TrimSuffix(filepath.Base(f), ".wav")
			a, err := readPromptFile(f)
			if err == nil {
				err = b.prompts.Replace(lang, id, a.Samples)
			}
			if err != nil {
				b.log.Error("replaced prompt not loaded; the default plays", "file", f, "err", err)
			}
		}
	}
	return nil
}

func readPromptFile(path string) (*wav.Audio, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodePrompt(data)
}

// maxPrompt is the longest prompt accepted: an announcement, not a program.
const maxPrompt = 10 * time.Minute

func decodePrompt(data []byte) (*wav.Audio, error) {
	a, err := wav.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w (a prompt is an 8000 Hz mono WAV: sox IN -r 8000 -c 1 -e a-law OUT.wav)", err)
	}
	if len(a.Samples) == 0 || len(a.Samples) > int(maxPrompt.Seconds())*media.RateHz {
		return nil, fmt.Errorf("prompt must be from 1 sample to %v long", maxPrompt)
	}
	return a, nil
}

// savePrompt replaces a prompt now and keeps the file, the previous one
// kept in old/ by a second name, so a restart plays the new one and the
// old one is there to put back.
func (b *Box) savePrompt(lang, id string, pcm []int16) error {
	if !b.prompts.Has(lang, id) {
		return fmt.Errorf("%w: no prompt %q in %s to replace", web.ErrNotFound, id, lang)
	}
	path := b.promptPath(lang, id)
	if err := os.MkdirAll(filepath.Join(filepath.Dir(path), "old"), 0o750); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		// The old one is kept by a second name (a hard link), not moved
		// away: the prompt's own name holds the last one acknowledged
		// until the new one replaces it in one rename, whatever the moment
		// the power goes.
		old := filepath.Join(filepath.Dir(path), "old", id+"-"+b.clock.Now().UTC().Format("20060102T150405.000")+".wav")
		err := os.Link(path, old)
		for i := 1; os.IsExist(err) && i < 100; i++ { // two replacements in one millisecond
			err = os.Link(path, strings.TrimSuffix(old, ".wav")+"-"+strconv.Itoa(i)+".wav")
		}
		if err != nil {
			return err
		}
	} else {
		// The first replacement keeps the embedded default as the old one.
		def, _ := prompt.Default()
		if orig, err := def.Get(lang, id); err == nil {
			var buf bytes.Buffer
			wav.Encode(&buf, wav.ALaw, orig)
			fsutil.WriteFileAtomic(filepath.Join(filepath.Dir(path), "old", id+"-default.wav"), buf.Bytes(), 0o640)
		}
	}
	var buf bytes.Buffer
	if err := wav.Encode(&buf, wav.ALaw, pcm); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o640); err != nil {
		return err
	}
	b.log.Info("prompt replaced", "lang", lang, "id", id, "seconds", len(pcm)/media.RateHz)
	return b.prompts.Replace(lang, id, pcm)
}
