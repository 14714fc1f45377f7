package box

import (
	"fmt"
	"time"
)

// watchSpace looks at the data directory's free space every second
// (store.Space): short of it, recordings and voicemail are refused and
// the reserve goes to the records, until there is room again.
func (b *Box) watchSpace(stop <-chan struct{}) { b.every(stop, time.Second, b.checkSpace) }

// every runs f now and then every d on the box's clock until stop.
func (b *Box) every(stop <-chan struct{}, d time.Duration, f func()) {
	var look func()
	look = func() {
		select {
		case <-stop:
			return
		default:
		}
		f()
		b.clock.AfterFunc(d, look)
	}
	look()
}

func (b *Box) checkSpace() {
	short, changed, err := b.space.Check()
	if err != nil && (b.spaceErr == nil || err.Error() != b.spaceErr.Error()) { // once, not every second
		b.log.Error("data directory space", "err", err)
	}
	b.spaceErr = err
	if !changed {
		return
	}
	free, _ := b.space.Free()
	if short {
		b.log.Warn("data directory short of space: recordings and voicemail refused, the reserve given to the records", "free_mb", free>>20)
	} else {
		b.log.Info("data directory has room again: recordings and voicemail taken", "free_mb", free>>20)
	}
}

// diskAlarm is the alarm of a data directory short of space, "" when
// there is room.
func (b *Box) diskAlarm() string {
	if !b.space.Short() {
		return ""
	}
	free, _ := b.space.Free()
	return fmt.Sprintf("%d MiB free, recordings and voicemail refused", free>>20)
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
