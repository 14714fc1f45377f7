package sip

import (
	"fmt"
	"strings"
	"sync/atomic"

	gosip "github.com/emiago/sipgo/sip"
)

// Trace sends every SIP message sipgo reads or writes to out, or stops
// (out nil). sipgo's trace switch is a plain global that its transports
// read unsynchronised, so it is set once, before any of them runs, and the
// console switches where the trace goes instead.
func Trace(out func(string)) {
	if out == nil {
		traceTo.Store(nil)
		return
	}
	traceTo.Store(&out)
}

var traceTo atomic.Pointer[func(string)]

func init() {
	gosip.SIPDebugTracer(tracer{})
	gosip.SIPDebug = true
}

type tracer struct{}

func (tracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	if out := traceTo.Load(); out != nil {
		(*out)(fmt.Sprintf("\n<--- %s %s from %s\n%s\n", transport, laddr, raddr, strings.TrimRight(string(msg), "\r\n")))
	}
}

func (tracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	if out := traceTo.Load(); out != nil {
		(*out)(fmt.Sprintf("\n---> %s %s to %s\n%s\n", transport, laddr, raddr, strings.TrimRight(string(msg), "\r\n")))
	}
}
