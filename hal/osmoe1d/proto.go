package osmoe1d

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The control protocol's wire format, from osmo-e1d 0.7.2's
// include/osmocom/e1d/proto.h (commit b8546ae7), written here from its
// definitions: packed structs in the daemon's host byte order, which is
// little-endian on every machine this firmware runs on (ARM, x86).

// Magic opens every message; its first octet is a protocol version.
const Magic = 0x01E1

// HeaderSize is the packed osmo_e1dp_msg_hdr: magic, len (the whole
// message, header included), type, intf, line, ts.
const HeaderSize = 8

// MaxMsg is the longest message either end handles (E1DP_MAX_LEN).
const MaxMsg = 4096

// MaxHDLC is the longest frame the daemon sends on an HDLC-FCS timeslot
// (E1DP_MAX_SIZE_HDLC); it receives frames of up to 262 octets, its
// decode buffer of 264 holding their FCS too.
const MaxHDLC = 264

// Message types: commands, answered with the command | TypeResp, and
// events the daemon sends unasked to every client.
const (
	CmdIntfQuery  = 0x00
	CmdLineQuery  = 0x01
	CmdTSQuery    = 0x02
	CmdLineConfig = 0x03
	CmdTSOpen     = 0x04
	CmdSaBits     = 0x05

	EvtLOSOn  = 0x40
	EvtLOSOff = 0x41
	EvtAISOn  = 0x42
	EvtAISOff = 0x43
	EvtRAIOn  = 0x44
	EvtRAIOff = 0x45
	EvtLOFOn  = 0x46
	EvtLOFOff = 0x47
	EvtSaBits = 0x7F

	TypeEvent = 0x40
	TypeResp  = 0x80
	TypeErr   = 0xC0
	TypeMask  = 0xC0
)

// Header field values.
const (
	Any          = 0xFF // E1DP_INVALID: every interface, line or timeslot, or none
	Superchannel = 0xFE // E1DP_TS_SUPERCHAN
)

// Line modes (osmo_e1dp_line_mode) and timeslot modes (osmo_e1dp_ts_mode).
const (
	LineOff          = 0x00
	LineChannelized  = 0x20
	LineSuperchannel = 0x21

	TSOff     = 0x00
	TSRaw     = 0x10 // a 64 kbit/s octet stream, a SOCK_STREAM socket
	TSHDLCFCS = 0x11 // one frame per message, FCS checked and removed, a SOCK_SEQPACKET socket

	TSForce = 0x80 // ts_config flags: take the timeslot from whoever has it
)

// Header is a message's header without its magic and length.
type Header struct {
	Type, Intf, Line, TS uint8
}

// Msg is a message.
type Msg struct {
	Header
	Payload []byte
}

// Errors parsing messages.
var (
	ErrShort  = errors.New("osmo-e1d: message shorter than its header")
	ErrMagic  = errors.New("osmo-e1d: bad magic: not the osmo-e1d protocol, or another version")
	ErrLength = errors.New("osmo-e1d: length field does not match the message")
)

// AppendMsg appends the message h with payload to dst.
func AppendMsg(dst []byte, h Header, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, Magic)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(HeaderSize+len(payload)))
	dst = append(dst, h.Type, h.Intf, h.Line, h.TS)
	return append(dst, payload...)
}

// ParseMsg reads one message (one SEQPACKET datagram); the payload
// aliases b.
func ParseMsg(b []byte) (Msg, error) {
	if len(b) < HeaderSize {
		return Msg{}, ErrShort
	}
	if binary.LittleEndian.Uint16(b) != Magic {
		return Msg{}, fmt.Errorf("%w: %#04x", ErrMagic, binary.LittleEndian.Uint16(b))
	}
	if n := int(binary.LittleEndian.Uint16(b[2:])); n != len(b) {
		return Msg{}, fmt.Errorf("%w: %d in the header, %d received", ErrLength, n, len(b))
	}
	return Msg{Header{b[4], b[5], b[6], b[7]}, b[HeaderSize:]}, nil
}

// IntfInfo is osmo_e1dp_intf_info (2 octets).
type IntfInfo struct{ ID, Lines uint8 }

// LineInfo is osmo_e1dp_line_info (3 octets): the line, its mode, a
// status the daemon leaves 0.
type LineInfo struct{ ID, Mode, Status uint8 }

// TSConfig is osmo_e1dp_ts_config (4 octets): mode, flags, and for RAW
// timeslots how many octets the daemon gathers before each write to the
// client (it must be non-zero for HDLC too, where it is unused).
type TSConfig struct {
	Mode, Flags uint8
	ReadBufsize uint16
}

// TSInfo is osmo_e1dp_ts_info (6 octets). An opened timeslot's has
// Status 0xA5.
type TSInfo struct {
	ID     uint8
	Cfg    TSConfig
	Status uint8
}

// Append appends c's 4 octets.
func (c TSConfig) Append(dst []byte) []byte {
	dst = append(dst, c.Mode, c.Flags)
	return binary.LittleEndian.AppendUint16(dst, c.ReadBufsize)
}

// Append appends i's 6 octets.
func (i TSInfo) Append(dst []byte) []byte {
	return append(i.Cfg.Append(append(dst, i.ID)), i.Status)
}

// ParseTSConfig reads 4 octets.
func ParseTSConfig(b []byte) (TSConfig, error) {
	if len(b) != 4 {
		return TSConfig{}, fmt.Errorf("osmo-e1d: timeslot config of %d octets, want 4", len(b))
	}
	return TSConfig{b[0], b[1], binary.LittleEndian.Uint16(b[2:])}, nil
}

// ParseTSInfos reads an array of 6-octet TSInfo.
func ParseTSInfos(b []byte) ([]TSInfo, error) {
	if len(b)%6 != 0 {
		return nil, fmt.Errorf("osmo-e1d: timeslot info of %d octets, not a multiple of 6", len(b))
	}
	var out []TSInfo
	for ; len(b) > 0; b = b[6:] {
		c, _ := ParseTSConfig(b[1:5])
		out = append(out, TSInfo{b[0], c, b[5]})
	}
	return out, nil
}

// ParseIntfInfos reads an array of 2-octet IntfInfo.
func ParseIntfInfos(b []byte) ([]IntfInfo, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("osmo-e1d: interface info of %d octets, not a multiple of 2", len(b))
	}
	var out []IntfInfo
	for ; len(b) > 0; b = b[2:] {
		out = append(out, IntfInfo{b[0], b[1]})
	}
	return out, nil
}

// ParseLineInfos reads an array of 3-octet LineInfo.
func ParseLineInfos(b []byte) ([]LineInfo, error) {
	if len(b)%3 != 0 {
		return nil, fmt.Errorf("osmo-e1d: line info of %d octets, not a multiple of 3", len(b))
	}
	var out []LineInfo
	for ; len(b) > 0; b = b[3:] {
		out = append(out, LineInfo{b[0], b[1], b[2]})
	}
	return out, nil
}
