package ivr

import (
	"log/slog"
	"time"

	"jinyin/internal/clock"

	"jinyin/media"
	"jinyin/media/prompt"
)

// Welcome answers an IVR extension until the flow engine of the IVR
// (issue 5) runs the configured flows: it plays the welcome and the main
// menu in lang, plays the menu again when it ends without a key or on *,
// logs every digit pressed, and after three plays of the menu (or a
// minute without a key) says goodbye and hangs up.
func Welcome(ch media.Channel, set *prompt.Set, lang string, log *slog.Logger, clk clock.Clock) {
	play := func(ids ...string) {
		p, err := set.Player(lang, ids...)
		if err != nil {
			log.Error("ivr: prompt", "err", err)
			return
		}
		ch.Play(p)
	}
	idle := make(chan struct{}, 1)
	var timer clock.Timer
	arm := func() {
		if timer != nil {
			timer.Stop()
		}
		timer = clk.AfterFunc(time.Minute, func() { idle <- struct{}{} })
	}
	arm()
	defer func() { timer.Stop() }()
	play("welcome", "main-menu")
	plays, goodbye := 1, false
	for {
		select {
		case e, ok := <-ch.Events():
			if !ok || e.Kind == media.EventHangup {
				return
			}
			switch e.Kind {
			case media.EventDigit:
				log.Info("ivr: digit", "call", ch.ID(), "digit", string(e.Digit))
				arm()
				if e.Digit == '*' && !goodbye {
					play("main-menu")
					plays++
				}
			case media.EventPlayDone:
				switch {
				case goodbye:
					ch.Hangup()
					return
				case plays >= 3:
					play("goodbye")
					goodbye = true
				default:
					play("main-menu")
					plays++
				}
			}
		case <-idle:
			ch.Hangup()
			return
		}
	}
}
