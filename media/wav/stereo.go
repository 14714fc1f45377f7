package wav

import (
	"encoding/binary"
	"fmt"
	"io"

	"jinyin/media"
)

// StereoWriter streams a two-channel 16-bit PCM WAV at 8 kHz (a call
// recording: caller left, agent right) to a file of unknown final length:
// the header's sizes are written as the maximum and patched by Close, so
// a recording cut short by a power failure still plays up to where it
// stopped (players read such files to their end, as sox writes them).
type StereoWriter struct {
	w   io.WriteSeeker
	n   uint32 // data bytes written
	buf []byte
}

// NewStereoWriter writes the header.
func NewStereoWriter(w io.WriteSeeker) (*StereoWriter, error) {
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 0xFFFFFFFF)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], uint16(PCM))
	binary.LittleEndian.PutUint16(h[22:], 2)
	binary.LittleEndian.PutUint32(h[24:], media.RateHz)
	binary.LittleEndian.PutUint32(h[28:], media.RateHz*4)
	binary.LittleEndian.PutUint16(h[32:], 4)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], 0xFFFFFFFF)
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &StereoWriter{w: w}, nil
}

// Write appends frames: left[i] and right[i] are one sample period.
func (s *StereoWriter) Write(left, right []int16) error {
	if len(left) != len(right) {
		return fmt.Errorf("wav: %d left samples, %d right", len(left), len(right))
	}
	s.buf = s.buf[:0]
	for i := range left {
		s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(left[i]))
		s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(right[i]))
	}
	n, err := s.w.Write(s.buf)
	s.n += uint32(n)
	return err
}

// Close patches the header's sizes.
func (s *StereoWriter) Close() error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], 36+s.n)
	if _, err := s.w.Seek(4, io.SeekStart); err != nil {
		return err
	}
	if _, err := s.w.Write(b[:]); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], s.n)
	if _, err := s.w.Seek(40, io.SeekStart); err != nil {
		return err
	}
	_, err := s.w.Write(b[:])
	return err
}
