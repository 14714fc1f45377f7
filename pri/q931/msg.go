// Package q931 is the ITU-T Q.931 message codec as ETSI EN 300 102-1
// (EuroISDN) uses it on a PRI: the message header, the information
// elements call control needs, and codeset shifts. The call state machine
// that uses it is in package pri.
//
// Layer: inside pri; it imports only the standard library. Decode never
// panics on any input (it is fuzzed) and keeps unknown information
// elements, so a message re-encodes as it arrived.
package q931

import (
	"errors"
	"fmt"
)

// Discriminator is the protocol discriminator of Q.931 call control.
const Discriminator = 0x08

// Type is a message type (Q.931 table 4-2).
type Type uint8

const (
	Alerting          Type = 0x01
	CallProceeding    Type = 0x02
	ProgressMsg       Type = 0x03
	Setup             Type = 0x05
	Connect           Type = 0x07
	SetupAck          Type = 0x0D
	ConnectAck        Type = 0x0F
	Disconnect        Type = 0x45
	Restart           Type = 0x46
	Release           Type = 0x4D
	RestartAck        Type = 0x4E
	ReleaseComplete   Type = 0x5A
	Notify            Type = 0x6E
	StatusEnquiry     Type = 0x75
	Information       Type = 0x7B
	Status            Type = 0x7D
	Facility          Type = 0x62
	UserInformation   Type = 0x20
	ResumeAck         Type = 0x2E
	SuspendAck        Type = 0x2D
	CongestionControl Type = 0x79
)

var typeNames = map[Type]string{
	Alerting: "ALERTING", CallProceeding: "CALL PROCEEDING", ProgressMsg: "PROGRESS", Setup: "SETUP",
	Connect: "CONNECT", SetupAck: "SETUP ACKNOWLEDGE", ConnectAck: "CONNECT ACKNOWLEDGE",
	Disconnect: "DISCONNECT", Restart: "RESTART", Release: "RELEASE", RestartAck: "RESTART ACKNOWLEDGE",
	ReleaseComplete: "RELEASE COMPLETE", Notify: "NOTIFY", StatusEnquiry: "STATUS ENQUIRY",
	Information: "INFORMATION", Status: "STATUS", Facility: "FACILITY", UserInformation: "USER INFORMATION",
	ResumeAck: "RESUME ACKNOWLEDGE", SuspendAck: "SUSPEND ACKNOWLEDGE", CongestionControl: "CONGESTION CONTROL",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("message type 0x%02x", uint8(t))
}

// Known reports whether t is a message type this codec names.
func (t Type) Known() bool { _, ok := typeNames[t]; return ok }

// Information element identifiers, codeset 0 (Q.931 table 4-3).
const (
	IEShift            = 0x90 // single octet, 1001 L ccc
	IESendingComplete  = 0xA1 // single octet
	IEBearerCapability = 0x04
	IECause            = 0x08
	IECallState        = 0x14
	IEChannelID        = 0x18
	IEFacility         = 0x1C
	IEProgress         = 0x1E
	IENotification     = 0x27
	IEDisplay          = 0x28
	IEDateTime         = 0x29
	IEKeypad           = 0x2C
	IEConnectedNumber  = 0x4C
	IECallingNumber    = 0x6C
	IECalledNumber     = 0x70
	IERedirecting      = 0x74
	IERestartIndicator = 0x79
	IELowLayer         = 0x7C
	IEHighLayer        = 0x7D
	IEUserUser         = 0x7E
)

var ieNames = map[uint8]string{
	IESendingComplete: "Sending Complete", IEBearerCapability: "Bearer Capability", IECause: "Cause",
	IECallState: "Call State", IEChannelID: "Channel Identification", IEFacility: "Facility",
	IEProgress: "Progress Indicator", IENotification: "Notification Indicator", IEDisplay: "Display",
	IEDateTime: "Date/Time", IEKeypad: "Keypad Facility", IEConnectedNumber: "Connected Number",
	IECallingNumber: "Calling Party Number", IECalledNumber: "Called Party Number",
	IERedirecting: "Redirecting Number", IERestartIndicator: "Restart Indicator",
	IELowLayer: "Low Layer Compatibility", IEHighLayer: "High Layer Compatibility", IEUserUser: "User-User",
}

// IE is one information element as it arrived: its codeset, identifier
// and contents (without identifier and length). Single-octet elements have
// no contents; a shift is kept as an element of its own so that the
// message re-encodes as it was.
type IE struct {
	Codeset uint8
	ID      uint8
	Data    []byte
}

func (ie IE) single() bool { return ie.ID&0x80 != 0 }

// Name is the element's name, for traces.
func (ie IE) Name() string {
	if ie.ID&0xF0 == IEShift {
		return fmt.Sprintf("Shift to codeset %d", ie.ID&7)
	}
	if n, ok := ieNames[ie.ID]; ok && ie.Codeset == 0 {
		return n
	}
	return fmt.Sprintf("IE 0x%02x (codeset %d)", ie.ID, ie.Codeset)
}

// Message is one Q.931 message.
type Message struct {
	// CallRef is the call reference value; 0 with CallRefLen 0 or a zero
	// value is the global call reference (RESTART).
	CallRef    uint16
	CallRefLen int  // octets of call reference: 2 on a PRI, 0 for the dummy
	Flag       bool // set when sent by the side that did not allocate CallRef
	Type       Type
	IEs        []IE
}

// Errors of Decode, for errors.Is.
var (
	ErrShort         = errors.New("q931: message too short")
	ErrDiscriminator = errors.New("q931: not Q.931 call control")
	ErrCallRef       = errors.New("q931: bad call reference")
	ErrIE            = errors.New("q931: information element runs past the message")
)

// Decode reads a message. Information elements are kept in order, with
// the codeset in force for each.
func Decode(b []byte) (Message, error) {
	var m Message
	if len(b) < 3 {
		return m, ErrShort
	}
	if b[0] != Discriminator {
		return m, fmt.Errorf("%w: discriminator 0x%02x", ErrDiscriminator, b[0])
	}
	crl := int(b[1] & 0x0F)
	if b[1]&0xF0 != 0 || crl > 2 {
		return m, fmt.Errorf("%w: length octet 0x%02x", ErrCallRef, b[1])
	}
	if len(b) < 3+crl {
		return m, ErrShort
	}
	m.CallRefLen = crl
	if crl > 0 {
		m.Flag = b[2]&0x80 != 0
		v := uint16(b[2] & 0x7F)
		if crl == 2 {
			v = v<<8 | uint16(b[3])
		}
		m.CallRef = v
	}
	i := 2 + crl
	if b[i]&0x80 != 0 {
		return m, fmt.Errorf("q931: message type 0x%02x has the extension bit set", b[i])
	}
	m.Type = Type(b[i])
	i++
	var codeset, locked uint8
	for i < len(b) {
		id := b[i]
		if id&0x80 != 0 {
			m.IEs = append(m.IEs, IE{Codeset: codeset, ID: id})
			i++
			if id&0xF0 == IEShift {
				if id&0x08 == 0 { // locking shift
					locked = id & 7
					codeset = locked
				} else { // non-locking: the next element only
					codeset = id & 7
					continue
				}
			} else {
				codeset = locked
			}
			continue
		}
		if i+1 >= len(b) {
			return m, fmt.Errorf("%w: element 0x%02x has no length", ErrIE, id)
		}
		n := int(b[i+1])
		if i+2+n > len(b) {
			return m, fmt.Errorf("%w: element 0x%02x of %d octets, %d left", ErrIE, id, n, len(b)-i-2)
		}
		m.IEs = append(m.IEs, IE{Codeset: codeset, ID: id, Data: b[i+2 : i+2+n : i+2+n]})
		i += 2 + n
		codeset = locked
	}
	return m, nil
}

// Encode appends the message to dst. Elements are written as given; the
// caller orders them (Q.931 §4.5.1: ascending within a codeset).
func (m Message) Encode(dst []byte) ([]byte, error) {
	if m.CallRefLen < 0 || m.CallRefLen > 2 {
		return dst, fmt.Errorf("%w: %d octets", ErrCallRef, m.CallRefLen)
	}
	if m.CallRefLen == 1 && m.CallRef > 0x7F || m.CallRef > 0x7FFF {
		return dst, fmt.Errorf("%w: value %d does not fit", ErrCallRef, m.CallRef)
	}
	dst = append(dst, Discriminator, byte(m.CallRefLen))
	var flag byte
	if m.Flag {
		flag = 0x80
	}
	switch m.CallRefLen {
	case 1:
		dst = append(dst, flag|byte(m.CallRef))
	case 2:
		dst = append(dst, flag|byte(m.CallRef>>8), byte(m.CallRef))
	}
	if m.Type&0x80 != 0 {
		return dst, fmt.Errorf("q931: message type 0x%02x does not fit", uint8(m.Type))
	}
	dst = append(dst, byte(m.Type))
	for _, ie := range m.IEs {
		if ie.single() {
			dst = append(dst, ie.ID)
			continue
		}
		if len(ie.Data) > 255 {
			return dst, fmt.Errorf("q931: element 0x%02x of %d octets is too long", ie.ID, len(ie.Data))
		}
		dst = append(dst, ie.ID, byte(len(ie.Data)))
		dst = append(dst, ie.Data...)
	}
	return dst, nil
}

// Get returns the first codeset-0 element with that identifier.
func (m Message) Get(id uint8) (IE, bool) {
	for _, ie := range m.IEs {
		if ie.ID == id && ie.Codeset == 0 {
			return ie, true
		}
	}
	return IE{}, false
}

// Has reports whether the message carries a codeset-0 element id.
func (m Message) Has(id uint8) bool { _, ok := m.Get(id); return ok }

// Add appends a codeset-0 element.
func (m *Message) Add(id uint8, data []byte) { m.IEs = append(m.IEs, IE{ID: id, Data: data}) }
