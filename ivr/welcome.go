package ivr

import (
	"log/slog"
	"time"

	"jinyin/media"
	"jinyin/media/prompt"
)

// Welcome answers an IVR extension until the flow engine of the IVR
// (issue 5) runs the configured flows: it plays the welcome and the main
// menu in lang, plays the menu again on *, logs every digit pressed, and
// hangs up after the menu has played three times or after idle time
// without a digit.
func Welcome(ch media.Channel, set *prompt.Set, lang string, log *slog.Logger) {
	play := func(ids ...string) {
		p, err := set.Player(lang, ids...)
		if err != nil {
			log.Error("ivr: prompt", "err", err)
			return
		}
		ch.Play(p)
	}
	play("welcome", "main-menu")
	plays := 1
	idle := time.NewTimer(60 * time.Second)
	defer idle.Stop()
	for {
		select {
		case e, ok := <-ch.Events():
			if !ok || e.Kind == media.EventHangup {
				return
			}
			switch e.Kind {
			case media.EventDigit:
				log.Info("ivr: digit", "call", ch.ID(), "digit", string(e.Digit))
				idle.Reset(60 * time.Second)
				if e.Digit == '*' {
					play("main-menu")
					plays++
				}
			case media.EventPlayDone:
				if plays >= 3 {
					play("goodbye")
					plays = 99
					continue
				}
				if plays == 99 {
					ch.Hangup()
					return
				}
			}
		case <-idle.C:
			ch.Hangup()
			return
		}
	}
}
