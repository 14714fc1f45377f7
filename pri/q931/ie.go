package q931

import (
	"errors"
	"fmt"
	"strings"
)

// ErrContents is an information element whose contents do not follow its
// coding (cause 100, invalid information element contents).
var ErrContents = errors.New("q931: invalid information element contents")

// Information transfer capabilities of the bearer capability (§4.5.5).
const (
	Speech          = 0x00
	Unrestricted    = 0x08
	Audio3k1        = 0x10
	LayerALaw       = 0x03 // user information layer 1: G.711 A-law
	LayerMuLaw      = 0x02 // G.711 µ-law
	transferCircuit = 0x10 // circuit mode, 64 kbit/s
)

// Bearer is the bearer capability: what the call carries.
type Bearer struct {
	Capability uint8 // Speech, Audio3k1, Unrestricted
	Layer1     uint8 // LayerALaw, LayerMuLaw; 0 for none (unrestricted digital)
}

// Encode is the element's contents.
func (b Bearer) Encode() []byte {
	out := []byte{0x80 | b.Capability&0x1F, 0x80 | transferCircuit}
	if b.Layer1 != 0 {
		out = append(out, 0xA0|b.Layer1&0x1F)
	}
	return out
}

// DecodeBearer reads a bearer capability.
func DecodeBearer(d []byte) (Bearer, error) {
	if len(d) < 2 {
		return Bearer{}, fmt.Errorf("%w: bearer capability of %d octets", ErrContents, len(d))
	}
	b := Bearer{Capability: d[0] & 0x1F}
	// Octet 5 follows octet 4 and the 4a/4b extensions that octet 4's
	// extension bit announces; start after octet 4 (octet 3's own
	// extension bit is always 1, so starting at 1 never skipped 4a).
	i := 2
	for i < len(d) && d[i-1]&0x80 == 0 { // octet 4a/4b extensions
		i++
	}
	for ; i < len(d); i++ {
		if d[i]&0x60 == 0x20 { // layer 1 identification
			b.Layer1 = d[i] & 0x1F
			break
		}
	}
	return b, nil
}

func (b Bearer) String() string {
	c := map[uint8]string{Speech: "speech", Audio3k1: "3.1 kHz audio", Unrestricted: "unrestricted digital"}[b.Capability]
	if c == "" {
		c = fmt.Sprintf("capability 0x%02x", b.Capability)
	}
	switch b.Layer1 {
	case LayerALaw:
		c += ", A-law"
	case LayerMuLaw:
		c += ", µ-law"
	}
	return c
}

// Channel is the channel identification of a primary rate interface.
type Channel struct {
	Exclusive bool // only this channel; else preferred
	Number    int  // B-channel (E1: 1-15, 17-31); 0 for any channel
	DChannel  bool // the D-channel indicator
}

// Encode is the element's contents (§4.5.13, primary rate, implicit
// interface, B-channel units, channel number).
func (c Channel) Encode() []byte {
	o3 := byte(0xA0) // extension, primary rate interface
	if c.Exclusive {
		o3 |= 0x08
	}
	if c.DChannel {
		o3 |= 0x04
	}
	if c.Number == 0 {
		return []byte{o3 | 0x03} // any channel
	}
	return []byte{o3 | 0x01, 0x83, 0x80 | byte(c.Number)}
}

// DecodeChannel reads a channel identification.
func DecodeChannel(d []byte) (Channel, error) {
	if len(d) < 1 {
		return Channel{}, fmt.Errorf("%w: empty channel identification", ErrContents)
	}
	c := Channel{Exclusive: d[0]&0x08 != 0, DChannel: d[0]&0x04 != 0}
	if d[0]&0x20 == 0 {
		return c, fmt.Errorf("%w: channel identification for a basic rate interface", ErrContents)
	}
	i := 1
	if d[0]&0x40 != 0 { // interface identifier present: skip it
		for i < len(d) && d[i]&0x80 == 0 {
			i++
		}
		i++
	}
	switch d[0] & 0x03 {
	case 0:
		return c, nil // no channel
	case 3:
		return c, nil // any channel
	}
	if i+1 >= len(d) {
		return c, fmt.Errorf("%w: channel identification without a channel number", ErrContents)
	}
	if d[i]&0x10 != 0 {
		return c, fmt.Errorf("%w: channel given as a slot map", ErrContents)
	}
	c.Number = int(d[i+1] & 0x7F)
	if c.Number == 0 {
		return c, fmt.Errorf("%w: channel number 0", ErrContents)
	}
	return c, nil
}

func (c Channel) String() string {
	s := "preferred"
	if c.Exclusive {
		s = "exclusive"
	}
	if c.Number == 0 {
		return s + " any channel"
	}
	return fmt.Sprintf("%s B%d", s, c.Number)
}

// Numbering types and plans (§4.5.10).
const (
	TypeUnknown       = 0
	TypeInternational = 1
	TypeNational      = 2
	TypeSubscriber    = 4
	PlanUnknown       = 0
	PlanISDN          = 1 // E.164
)

// Number is a called or calling party number.
type Number struct {
	Type, Plan uint8
	// Presentation and Screening are for the calling number: presentation
	// 0 allowed, 1 restricted; screening 0 user-provided not screened, 3
	// network-provided. HasPresentation writes octet 3a.
	HasPresentation         bool
	Presentation, Screening uint8
	Digits                  string
}

// Encode is the element's contents.
func (n Number) Encode() []byte {
	o3 := n.Type<<4&0x70 | n.Plan&0x0F
	var out []byte
	if n.HasPresentation {
		out = []byte{o3, 0x80 | n.Presentation<<5&0x60 | n.Screening&0x03}
	} else {
		out = []byte{0x80 | o3}
	}
	return append(out, n.Digits...)
}

// DecodeNumber reads a party number. Digits must be IA5 0-9, *, #, A-D
// (or + for international in some networks' display); others are an error.
func DecodeNumber(d []byte) (Number, error) {
	if len(d) < 1 {
		return Number{}, fmt.Errorf("%w: empty number", ErrContents)
	}
	n := Number{Type: d[0] >> 4 & 7, Plan: d[0] & 0x0F}
	i := 1
	if d[0]&0x80 == 0 {
		if len(d) < 2 {
			return n, fmt.Errorf("%w: number without octet 3a", ErrContents)
		}
		n.HasPresentation = true
		n.Presentation, n.Screening = d[1]>>5&3, d[1]&3
		i = 2
	}
	for _, c := range d[i:] {
		if !strings.ContainsRune("0123456789*#ABCD+", rune(c)) {
			return n, fmt.Errorf("%w: digit 0x%02x in a number", ErrContents, c)
		}
	}
	n.Digits = string(d[i:])
	return n, nil
}

// Cause locations (§4.5.12).
const (
	LocUser          = 0
	LocPrivateLocal  = 1
	LocPublicLocal   = 2
	LocPublicRemote  = 4
	LocPrivateRemote = 5
)

// Cause values used in call control (Q.850).
const (
	CauseUnallocated         = 1
	CauseNoRoute             = 3
	CauseChannelUnacceptable = 6
	CauseNormal              = 16
	CauseBusy                = 17
	CauseNoResponse          = 18
	CauseNoAnswer            = 19
	CauseAbsent              = 20 // subscriber absent
	CauseRejected            = 21
	CauseOutOfOrder          = 27
	CauseInvalidNumber       = 28
	CauseStatusEnquiry       = 30
	CauseNormalUnspecified   = 31
	CauseNoCircuit           = 34
	CauseCongestion          = 42 // switching equipment congestion
	CauseTemporaryFailure    = 41
	CauseChannelUnavailable  = 44
	CauseInvalidCallRef      = 81
	CauseIncompatible        = 88
	CauseMandatoryMissing    = 96
	CauseNoSuchMessage       = 97
	CauseInvalidContents     = 100
	CauseWrongState          = 101
	CauseTimerExpiry         = 102
)

var causeNames = map[uint8]string{
	CauseUnallocated: "unallocated number", CauseNoRoute: "no route to destination",
	CauseChannelUnacceptable: "channel unacceptable", CauseNormal: "normal call clearing",
	CauseBusy: "user busy", CauseAbsent: "subscriber absent", CauseNoResponse: "no user responding", CauseNoAnswer: "no answer",
	CauseRejected: "call rejected", CauseOutOfOrder: "destination out of order",
	CauseInvalidNumber: "invalid number format", CauseStatusEnquiry: "response to STATUS ENQUIRY",
	CauseNormalUnspecified: "normal, unspecified", CauseNoCircuit: "no circuit/channel available", CauseCongestion: "switching equipment congestion",
	CauseTemporaryFailure: "temporary failure", CauseChannelUnavailable: "requested channel not available",
	CauseInvalidCallRef: "invalid call reference value", CauseIncompatible: "incompatible destination",
	CauseMandatoryMissing: "mandatory information element missing",
	CauseNoSuchMessage:    "message type non-existent", CauseInvalidContents: "invalid information element contents",
	CauseWrongState: "message not compatible with call state", CauseTimerExpiry: "recovery on timer expiry",
}

// CauseName is a cause value's Q.850 name.
func CauseName(v uint8) string {
	if s, ok := causeNames[v]; ok {
		return s
	}
	return fmt.Sprintf("cause %d", v)
}

// Cause is a cause element.
type Cause struct {
	Location uint8
	Value    uint8
	Diag     []byte
}

// Encode is the element's contents (coding standard ITU-T).
func (c Cause) Encode() []byte {
	return append([]byte{0x80 | c.Location&0x0F, 0x80 | c.Value&0x7F}, c.Diag...)
}

// DecodeCause reads a cause.
func DecodeCause(d []byte) (Cause, error) {
	if len(d) < 2 {
		return Cause{}, fmt.Errorf("%w: cause of %d octets", ErrContents, len(d))
	}
	c := Cause{Location: d[0] & 0x0F}
	i := 1
	if d[0]&0x80 == 0 { // octet 3a, recommendation
		i = 2
	}
	if i >= len(d) {
		return c, fmt.Errorf("%w: cause without a value", ErrContents)
	}
	c.Value = d[i] & 0x7F
	c.Diag = d[i+1:]
	return c, nil
}

func (c Cause) String() string { return fmt.Sprintf("%d (%s)", c.Value, CauseName(c.Value)) }

// Progress descriptions (§4.5.23).
const (
	ProgressNotISDN = 1 // call is not end-to-end ISDN
	ProgressInBand  = 8 // in-band information is now available
)

// Progress is a progress indicator.
type Progress struct{ Location, Description uint8 }

// Encode is the element's contents.
func (p Progress) Encode() []byte {
	return []byte{0x80 | p.Location&0x0F, 0x80 | p.Description&0x7F}
}

// DecodeProgress reads a progress indicator.
func DecodeProgress(d []byte) (Progress, error) {
	if len(d) < 2 {
		return Progress{}, fmt.Errorf("%w: progress indicator of %d octets", ErrContents, len(d))
	}
	return Progress{Location: d[0] & 0x0F, Description: d[1] & 0x7F}, nil
}

// Restart classes (§4.5.25).
const (
	RestartChannels  = 0 // the channels in the channel identification
	RestartInterface = 6 // the single interface
	RestartAll       = 7 // all interfaces
)

// DecodeRestart reads a restart indicator's class.
func DecodeRestart(d []byte) (uint8, error) {
	if len(d) != 1 {
		return 0, fmt.Errorf("%w: restart indicator of %d octets", ErrContents, len(d))
	}
	c := d[0] & 7
	if c != RestartChannels && c != RestartInterface && c != RestartAll {
		return c, fmt.Errorf("%w: restart class %d", ErrContents, c)
	}
	return c, nil
}
