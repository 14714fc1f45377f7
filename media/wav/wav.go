// Package wav reads and writes the WAV files the box uses: 8 kHz mono,
// 16-bit linear PCM, A-law or µ-law. Anything else is refused with an
// error that says what the file is and what would be accepted; a truncated
// or lying header gives an error, never a panic or a huge allocation.
//
// Layer: media; imports only the standard library and media.
package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"jinyin/media"
)

// Format is a sample encoding.
type Format uint16

// WAVE format tags (RFC 2361).
const (
	PCM   Format = 1
	ALaw  Format = 6
	MuLaw Format = 7

	extensible = 0xFFFE
)

func (f Format) String() string {
	switch f {
	case PCM:
		return "16-bit PCM"
	case ALaw:
		return "A-law"
	case MuLaw:
		return "µ-law"
	}
	return fmt.Sprintf("format tag 0x%04X", uint16(f))
}

// Errors for errors.Is.
var (
	ErrNotWAV      = errors.New("wav: not a RIFF/WAVE file")
	ErrUnsupported = errors.New("wav: unsupported audio")
	ErrTruncated   = errors.New("wav: file is truncated")
)

// Audio is decoded audio at 8 kHz.
type Audio struct {
	Format  Format  // the file's encoding
	Samples []int16 // linear samples
	Raw     []byte  // the G.711 bytes as stored, for A-law and µ-law files
}

// maxChunk bounds what a header may make us read: an hour at 16 bits.
const maxChunk = 3600 * media.RateHz * 2

// Decode reads a WAV file. A data chunk shorter than its header says gives
// the samples that are there together with an error wrapping ErrTruncated,
// so a caller may keep them.
func Decode(r io.Reader) (*Audio, error) {
	format, size, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	return readData(r, format, size)
}

// readHeader reads up to the start of the data chunk and returns the
// format and the data chunk's declared size.
func readHeader(r io.Reader) (Format, uint32, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, fmt.Errorf("%w: %d-byte header missing", ErrNotWAV, len(hdr))
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, 0, ErrNotWAV
	}
	var fmtSeen bool
	var format Format
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !fmtSeen {
				return 0, 0, fmt.Errorf("%w: no fmt chunk", ErrTruncated)
			}
			return 0, 0, fmt.Errorf("%w: no data chunk", ErrTruncated)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return 0, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			body := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, body); err != nil && !(err == io.ErrUnexpectedEOF && size%2 == 1) {
				return 0, 0, fmt.Errorf("%w: in fmt chunk", ErrTruncated)
			}
			f, err := parseFmt(body[:size])
			if err != nil {
				return 0, 0, err
			}
			format, fmtSeen = f, true
		case "data":
			if !fmtSeen {
				return 0, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrNotWAV)
			}
			return format, size, nil
		default:
			// LIST, fact, cue and others: skip, with the pad byte.
			skip := int64(size) + int64(size%2)
			if n, _ := io.CopyN(io.Discard, r, skip); n < int64(size) {
				return 0, 0, fmt.Errorf("%w: in %q chunk", ErrTruncated, id)
			}
		}
	}
}

func parseFmt(b []byte) (Format, error) {
	tag := Format(binary.LittleEndian.Uint16(b[0:2]))
	channels := binary.LittleEndian.Uint16(b[2:4])
	rate := binary.LittleEndian.Uint32(b[4:8])
	bits := binary.LittleEndian.Uint16(b[14:16])
	if tag == extensible {
		if len(b) < 40 {
			return 0, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes", ErrNotWAV, len(b))
		}
		// The sub-format GUID starts with the format tag.
		tag = Format(binary.LittleEndian.Uint16(b[24:26]))
	}
	want := map[Format]uint16{PCM: 16, ALaw: 8, MuLaw: 8}
	wb, ok := want[tag]
	switch {
	case !ok:
		return 0, fmt.Errorf("%w: %v; want 16-bit PCM, A-law or µ-law", ErrUnsupported, tag)
	case bits != wb:
		return 0, fmt.Errorf("%w: %v with %d bits per sample; want %d", ErrUnsupported, tag, bits, wb)
	case channels != 1:
		return 0, fmt.Errorf("%w: %d channels; want mono (sox in.wav -c 1 -r 8000 out.wav)", ErrUnsupported, channels)
	case rate != media.RateHz:
		return 0, fmt.Errorf("%w: %d Hz; want 8000 Hz (sox in.wav -r 8000 out.wav)", ErrUnsupported, rate)
	}
	return tag, nil
}

func readData(r io.Reader, format Format, size uint32) (*Audio, error) {
	// A writer streaming to a pipe cannot seek back to fill in the length
	// and leaves a placeholder (sox: 0x7FFFF000, others 0xFFFFFFFF): a size
	// past the limit means "to the end of the file".
	streamed := size > maxChunk
	limit := int64(size)
	if streamed {
		limit = maxChunk + 1
	}
	// Read what is really there rather than trusting size for the allocation.
	raw, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("wav: reading data: %w", err)
	}
	if len(raw) > maxChunk {
		return nil, fmt.Errorf("%w: more than an hour of audio", ErrUnsupported)
	}
	if streamed {
		size = uint32(len(raw))
	}
	if format == PCM && len(raw)%2 == 1 {
		raw = raw[:len(raw)-1]
		size = uint32(len(raw)) + 1 // report the odd byte as truncation
	}
	a := &Audio{Format: format}
	switch format {
	case PCM:
		a.Samples = make([]int16, len(raw)/2)
		for i := range a.Samples {
			a.Samples[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case ALaw, MuLaw:
		a.Samples = make([]int16, len(raw))
		codec := media.PCMA
		if format == MuLaw {
			codec = media.PCMU
		}
		codec.Decode(a.Samples, raw)
		a.Raw = raw
	}
	if uint32(len(raw)) < size {
		return a, fmt.Errorf("%w: data chunk says %d bytes, file holds %d", ErrTruncated, size, len(raw))
	}
	return a, nil
}

// Reader streams a WAV file's samples through a fixed buffer, so that a
// recording of any length (a day at 8 kHz is 1.4 GB of 16-bit PCM) is
// read in constant memory. Unlike Decode it has no length limit. A data
// size the writer could not fill in (0xFFFFFFFF, or sox's 0x7FFFF000 when
// writing to a pipe) means "to the end of the file".
type Reader struct {
	Format Format

	r      io.Reader
	left   int64 // data bytes still to come; -1: to the end of the file
	size   int64 // what the header declared, for the truncation error
	codec  media.Codec
	buf    [32768]byte
	carry  int // a PCM byte held over from the last read (0 or 1)
	failed error
}

// NewReader reads r's header up to the audio, refusing what Decode refuses.
func NewReader(r io.Reader) (*Reader, error) {
	format, size, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	rd := &Reader{Format: format, r: r, left: int64(size), size: int64(size), codec: media.PCMA}
	if size == 0xFFFFFFFF || size == 0x7FFFF000 {
		rd.left = -1
	}
	if format == MuLaw {
		rd.codec = media.PCMU
	}
	return rd, nil
}

// Read decodes up to len(dst) samples. At the end of the audio it returns
// io.EOF, or an error wrapping ErrTruncated when the file holds less than
// its header says; samples returned with an error are good.
func (rd *Reader) Read(dst []int16) (int, error) {
	if rd.failed != nil {
		return 0, rd.failed
	}
	if rd.left == 0 {
		return 0, io.EOF
	}
	per := 1
	if rd.Format == PCM {
		per = 2
	}
	want := min(len(dst)*per, len(rd.buf)) - rd.carry
	if rd.left >= 0 {
		want = int(min(int64(want), rd.left))
	}
	if want <= 0 {
		return 0, nil
	}
	got, err := io.ReadAtLeast(rd.r, rd.buf[rd.carry:rd.carry+want], 1)
	if rd.left >= 0 {
		rd.left -= int64(got)
	}
	have := rd.carry + got
	n := have / per
	if rd.Format == PCM {
		for i := range n {
			dst[i] = int16(binary.LittleEndian.Uint16(rd.buf[2*i:]))
		}
		rd.carry = have % 2
		if rd.carry == 1 {
			rd.buf[0] = rd.buf[have-1]
		}
	} else {
		rd.codec.Decode(dst[:n], rd.buf[:n])
	}
	switch {
	case err == nil && rd.left == 0 && rd.carry == 1:
		rd.failed = fmt.Errorf("%w: data chunk of %d bytes ends in half a sample", ErrTruncated, rd.size)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if rd.left > 0 || rd.carry == 1 {
			rd.failed = fmt.Errorf("%w: data chunk says %d bytes, file holds %d", ErrTruncated, rd.size, rd.size-rd.left)
		} else {
			rd.failed = io.EOF
		}
	case err != nil:
		rd.failed = fmt.Errorf("wav: reading data: %w", err)
	}
	if n > 0 {
		return n, nil
	}
	if rd.failed != nil {
		return 0, rd.failed
	}
	return 0, nil
}

// Encode writes samples as a WAV file in the given format.
func Encode(w io.Writer, format Format, samples []int16) error {
	var data []byte
	switch format {
	case PCM:
		data = make([]byte, 2*len(samples))
		for i, s := range samples {
			binary.LittleEndian.PutUint16(data[2*i:], uint16(s))
		}
	case ALaw, MuLaw:
		data = make([]byte, len(samples))
		codec := media.PCMA
		if format == MuLaw {
			codec = media.PCMU
		}
		codec.Encode(data, samples)
	default:
		return fmt.Errorf("%w: cannot write %v", ErrUnsupported, format)
	}
	bits, block := uint16(8), uint16(1)
	if format == PCM {
		bits, block = 16, 2
	}
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(4 + 8 + 16 + 8 + len(data) + len(data)%2))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(format))
	le(uint16(1))
	le(uint32(media.RateHz))
	le(uint32(media.RateHz) * uint32(block))
	le(block)
	le(bits)
	b.WriteString("data")
	le(uint32(len(data)))
	b.Write(data)
	if len(data)%2 == 1 {
		b.WriteByte(0)
	}
	_, err := w.Write(b.Bytes())
	return err
}
