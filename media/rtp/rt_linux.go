package rtp

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// realtime moves the calling goroutine onto its own OS thread at
// SCHED_FIFO priority, as media servers run their timing thread: the
// kernel then wakes the shard on time even when the cores are busy (here
// SIPp shares them; on the box, signalling and disk writes do). It needs
// CAP_SYS_NICE (root on the appliance) and reports false without it. A
// shard's work per tick is bounded (one packet per call) and Linux's
// real-time throttling keeps 5 % of each second for other threads.
func realtime() bool {
	runtime.LockOSThread()
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 10}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		runtime.UnlockOSThread()
		return false
	}
	return true
}

// monotonic returns CLOCK_MONOTONIC in nanoseconds.
func monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// sleepUntil blocks the thread until the monotonic time deadline (ns).
func sleepUntil(deadline int64) {
	ts := unix.NsecToTimespec(deadline)
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}
