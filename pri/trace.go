package pri

import (
	"fmt"
	"strings"

	"jinyin/pri/q921"
	"jinyin/pri/q931"
)

// SetTrace turns the decoded Q.921/Q.931 trace on (f non-nil) or off.
func (s *Stack) SetTrace(f func(line string)) {
	if f == nil {
		s.trace.Store(nil)
		return
	}
	s.trace.Store(&f)
}

func (s *Stack) tracef(format string, args ...any) {
	if p := s.trace.Load(); p != nil {
		(*p)(fmt.Sprintf("[span %d] ", s.cfg.Span) + fmt.Sprintf(format, args...))
	}
}

func (s *Stack) traceFrame(dir string, f q921.Frame) {
	if s.trace.Load() == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s q921 %v", dir, f.Kind)
	switch f.Kind {
	case q921.I:
		fmt.Fprintf(&b, " N(S)=%d N(R)=%d", f.NS, f.NR)
	case q921.RR, q921.RNR, q921.REJ:
		fmt.Fprintf(&b, " N(R)=%d", f.NR)
	}
	cmd := f.CR != s.cfg.Network
	if dir == ">" {
		cmd = f.CR == s.cfg.Network
	}
	switch {
	case cmd && f.PF:
		b.WriteString(" P=1")
	case !cmd && f.PF:
		b.WriteString(" F=1")
	}
	if cmd {
		b.WriteString(" cmd")
	} else {
		b.WriteString(" resp")
	}
	s.tracef("%s", b.String())
}

func (s *Stack) traceMsg(dir string, m q931.Message) {
	if s.trace.Load() == nil {
		return
	}
	for _, line := range strings.Split(Describe(m), "\n") {
		s.tracef("%s %s", dir, line)
	}
}

// Describe is a message decoded for people, one line per element.
func Describe(m q931.Message) string {
	var b strings.Builder
	side := "from originator"
	if m.Flag {
		side = "to originator"
	}
	fmt.Fprintf(&b, "q931 %v, call ref %d (%s)", m.Type, m.CallRef, side)
	for _, ie := range m.IEs {
		fmt.Fprintf(&b, "\n    %s", ie.Name())
		if ie.Codeset != 0 {
			fmt.Fprintf(&b, ": % x", ie.Data)
			continue
		}
		var v any
		var err error
		switch ie.ID {
		case q931.IEBearerCapability:
			v, err = q931.DecodeBearer(ie.Data)
		case q931.IEChannelID:
			v, err = q931.DecodeChannel(ie.Data)
		case q931.IECause:
			v, err = q931.DecodeCause(ie.Data)
		case q931.IECalledNumber, q931.IECallingNumber, q931.IEConnectedNumber:
			var n q931.Number
			n, err = q931.DecodeNumber(ie.Data)
			v = fmt.Sprintf("%q type %d plan %d", n.Digits, n.Type, n.Plan)
		case q931.IECallState:
			if len(ie.Data) == 1 {
				v = CallState(ie.Data[0] & 0x3F)
			}
		case q931.IEProgress:
			var p q931.Progress
			p, err = q931.DecodeProgress(ie.Data)
			v = fmt.Sprintf("description %d", p.Description)
		case q931.IERestartIndicator:
			v, err = q931.DecodeRestart(ie.Data)
		}
		switch {
		case err != nil:
			fmt.Fprintf(&b, ": % x (%v)", ie.Data, err)
		case v != nil:
			fmt.Fprintf(&b, ": %v", v)
		case len(ie.Data) > 0:
			fmt.Fprintf(&b, ": % x", ie.Data)
		}
	}
	return b.String()
}
