package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{PCM: "16-bit PCM", ALaw: "A-law", MuLaw: "µ-law", 3: "format tag 0x0003", 0xFFFE: "format tag 0xFFFE"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d) = %q, want %q", uint16(f), got, want)
		}
	}
}

// The fmt chunk Encode writes carries the fields the RIFF WAVE spec
// defines: tag, channels, sample rate, byte rate = rate x block align,
// block align = channels x bytes per sample, bits per sample; an odd-sized
// data chunk is followed by a pad byte that the RIFF size counts but the
// data size does not.
func TestEncodeHeaderFields(t *testing.T) {
	for _, c := range []struct {
		f                    Format
		n                    int
		byteRate             uint32
		block, bits          uint16
		dataLen, riffLen, fl int
	}{
		{PCM, 3, 16000, 2, 16, 6, 4 + 24 + 8 + 6, 44 + 6},
		{ALaw, 3, 8000, 1, 8, 3, 4 + 24 + 8 + 3 + 1, 44 + 4},
		{MuLaw, 4, 8000, 1, 8, 4, 4 + 24 + 8 + 4, 44 + 4},
	} {
		var b bytes.Buffer
		if err := Encode(&b, c.f, make([]int16, c.n)); err != nil {
			t.Fatal(err)
		}
		h := b.Bytes()
		le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(h[o:]) }
		le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(h[o:]) }
		switch {
		case len(h) != c.fl:
			t.Errorf("%v: file of %d bytes, want %d", c.f, len(h), c.fl)
		case string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || string(h[36:40]) != "data":
			t.Errorf("%v: chunk ids %q", c.f, h[:40])
		case int(le32(4)) != c.riffLen:
			t.Errorf("%v: RIFF size %d, want %d", c.f, le32(4), c.riffLen)
		case le32(16) != 16 || Format(le16(20)) != c.f || le16(22) != 1 || le32(24) != 8000:
			t.Errorf("%v: fmt size %d tag %d channels %d rate %d", c.f, le32(16), le16(20), le16(22), le32(24))
		case le32(28) != c.byteRate || le16(32) != c.block || le16(34) != c.bits:
			t.Errorf("%v: byte rate %d block %d bits %d", c.f, le32(28), le16(32), le16(34))
		case int(le32(40)) != c.dataLen:
			t.Errorf("%v: data size %d, want %d", c.f, le32(40), c.dataLen)
		}
		if len(h) > 44+c.dataLen && h[44+c.dataLen] != 0 {
			t.Errorf("%v: pad byte %d, want 0", c.f, h[44+c.dataLen])
		}
		// The pad byte is not audio.
		a, err := Decode(bytes.NewReader(h))
		if err != nil || len(a.Samples) != c.n {
			t.Errorf("%v: decoded %v, %v; want %d samples", c.f, a, err, c.n)
		}
	}
}

// A-law and µ-law files keep the stored bytes: silence per G.711 is 0xD5
// (A-law, even bits inverted) and 0xFF (µ-law).
func TestEncodeG711Bytes(t *testing.T) {
	for f, want := range map[Format][]byte{ALaw: {0xD5, 0xAA, 0x2A}, MuLaw: {0xFF, 0x80, 0x00}} {
		var b bytes.Buffer
		if err := Encode(&b, f, []int16{0, 32767, -32768}); err != nil {
			t.Fatal(err)
		}
		if got := b.Bytes()[44:47]; !bytes.Equal(got, want) {
			t.Errorf("%v: data % X, want % X", f, got, want)
		}
		a, err := Decode(&b)
		if err != nil || !bytes.Equal(a.Raw, want) {
			t.Errorf("%v: Raw % X, %v", f, a.Raw, err)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEncodeErrors(t *testing.T) {
	if err := Encode(io.Discard, 3, []int16{1}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "0x0003") {
		t.Errorf("encode float: %v", err)
	}
	boom := errors.New("disk full")
	if err := Encode(failWriter{boom}, PCM, []int16{1}); !errors.Is(err, boom) {
		t.Errorf("encode to a failing writer: %v", err)
	}
}

// fmtFile is a RIFF file with the given fmt chunk body, then a data chunk.
func fmtFile(fmtBody []byte, data []byte) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(0))
	b.WriteString("WAVEfmt ")
	le(uint32(len(fmtBody)))
	b.Write(fmtBody)
	if len(fmtBody)%2 == 1 {
		b.WriteByte(0)
	}
	b.WriteString("data")
	le(uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// pcmFmt is the 16-byte PCMWAVEFORMAT for tag at 8 kHz mono.
func pcmFmt(tag, bits uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], tag)
	binary.LittleEndian.PutUint16(b[2:], 1)
	binary.LittleEndian.PutUint32(b[4:], 8000)
	binary.LittleEndian.PutUint32(b[8:], 8000*uint32(bits/8))
	binary.LittleEndian.PutUint16(b[12:], bits/8)
	binary.LittleEndian.PutUint16(b[14:], bits)
	return b
}

// extensibleFmt is a 40-byte WAVE_FORMAT_EXTENSIBLE whose sub-format GUID
// starts with sub (KSDATAFORMAT_SUBTYPE_PCM is 00000001-0000-0010-8000-00AA00389B71).
func extensibleFmt(sub, bits uint16) []byte {
	b := pcmFmt(0xFFFE, bits)
	b = binary.LittleEndian.AppendUint16(b, 22) // cbSize
	b = binary.LittleEndian.AppendUint16(b, bits)
	b = binary.LittleEndian.AppendUint32(b, 4) // channel mask: front centre
	b = binary.LittleEndian.AppendUint32(b, uint32(sub))
	b = append(b, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	return b
}

func TestFmtVariants(t *testing.T) {
	// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format is plain 16-bit PCM.
	a, err := Decode(bytes.NewReader(fmtFile(extensibleFmt(1, 16), []byte{0x34, 0x12, 0xFF, 0xFF})))
	if err != nil || a.Format != PCM || !slices.Equal(a.Samples, []int16{0x1234, -1}) {
		t.Errorf("extensible PCM: %+v %v", a, err)
	}
	// Extensible with the A-law sub-format.
	a, err = Decode(bytes.NewReader(fmtFile(extensibleFmt(6, 8), []byte{0xD5})))
	if err != nil || a.Format != ALaw || !slices.Equal(a.Samples, []int16{8}) {
		t.Errorf("extensible A-law: %+v %v", a, err)
	}
	// An 18-byte WAVEFORMATEX (cbSize 0) is an ordinary fmt chunk.
	a, err = Decode(bytes.NewReader(fmtFile(append(pcmFmt(7, 8), 0, 0), []byte{0xFF})))
	if err != nil || a.Format != MuLaw || !slices.Equal(a.Samples, []int16{0}) {
		t.Errorf("WAVEFORMATEX µ-law: %+v %v", a, err)
	}
	// An odd-sized fmt chunk is followed by its pad byte.
	a, err = Decode(bytes.NewReader(fmtFile(append(pcmFmt(6, 8), 0), []byte{0xD5, 0x55})))
	if err != nil || a.Format != ALaw || !slices.Equal(a.Samples, []int16{8, -8}) {
		t.Errorf("17-byte fmt: %+v %v", a, err)
	}
	for _, c := range []struct {
		name string
		file []byte
		is   error
		msg  string
	}{
		{"extensible too short", fmtFile(append(pcmFmt(0xFFFE, 16), 0, 0), nil), ErrNotWAV, "WAVE_FORMAT_EXTENSIBLE fmt chunk of 18 bytes"},
		{"extensible float", fmtFile(extensibleFmt(3, 32), nil), ErrUnsupported, "format tag 0x0003"},
		{"fmt of 14 bytes", fmtFile(pcmFmt(1, 16)[:14], nil), ErrNotWAV, "fmt chunk of 14 bytes"},
		{"fmt of 2000 bytes", fmtFile(append(pcmFmt(1, 16), make([]byte, 1984)...), nil), ErrNotWAV, "fmt chunk of 2000 bytes"},
		{"A-law of 16 bits", fmtFile(pcmFmt(6, 16), nil), ErrUnsupported, "A-law with 16 bits per sample; want 8"},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"), ErrNotWAV, "data chunk before fmt"},
		{"no fmt", []byte("RIFF\x00\x00\x00\x00WAVE"), ErrTruncated, "no fmt chunk"},
		{"skipped chunk cut short", append(header(1, 1, 8000, 16, 0)[:36], "LIST\x10\x00\x00\x00abc"...), ErrTruncated, `in "LIST" chunk`},
		{"not WAVE", []byte("RIFF\x00\x00\x00\x00AVI "), ErrNotWAV, ""},
	} {
		_, err := Decode(bytes.NewReader(c.file))
		if !errors.Is(err, c.is) || !strings.Contains(fmtErr(err), c.msg) {
			t.Errorf("%s: got %v, want %v containing %q", c.name, err, c.is, c.msg)
		}
		if _, rerr := NewReader(bytes.NewReader(c.file)); !errors.Is(rerr, c.is) {
			t.Errorf("%s: NewReader gives %v, want %v", c.name, rerr, c.is)
		}
	}
}

// A skipped chunk of odd size missing only its pad byte at the end of the
// file: the chunk itself is whole, and the file has no data chunk.
func TestSkippedChunkWithoutPad(t *testing.T) {
	f := append(header(1, 1, 8000, 16, 0)[:36], "LIST\x03\x00\x00\x00abc"...)
	_, err := Decode(bytes.NewReader(f))
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "no data chunk") {
		t.Errorf("got %v, want truncation: no data chunk", err)
	}
}

// errAfter gives data then a read error that is not the end of the file.
type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestReadErrorsPassedOn(t *testing.T) {
	boom := errors.New("usb stick pulled")
	file := append(header(6, 1, 8000, 8, 100), 0xD5, 0xD5)
	if a, err := Decode(&errAfter{bytes.NewReader(file), boom}); !errors.Is(err, boom) || a != nil {
		t.Errorf("Decode: %v, %v; want the read error", a, err)
	}
	rd, err := NewReader(&errAfter{bytes.NewReader(file), boom})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(rd, 1)
	if !errors.Is(err, boom) || !slices.Equal(got, []int16{8, 8}) {
		t.Errorf("Reader: %v, %v; want the two samples then the read error", got, err)
	}
	// The error sticks.
	if n, err2 := rd.Read(make([]int16, 4)); n != 0 || !errors.Is(err2, boom) {
		t.Errorf("Read after the error: %d, %v", n, err2)
	}
}

// A PCM data chunk of odd declared size, all of it present, ends in half a
// sample: the whole samples are given, then truncation.
func TestReaderHalfSampleAtEnd(t *testing.T) {
	file := append(header(1, 1, 8000, 16, 5), 1, 0, 2, 0, 3, 'x', 'x')
	rd, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(rd, 160)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "half a sample") || !slices.Equal(got, []int16{1, 2}) {
		t.Errorf("got %v, %v; want [1 2] and half a sample", got, err)
	}
	// Decode agrees.
	a, err := Decode(bytes.NewReader(file[:44+5]))
	if !errors.Is(err, ErrTruncated) || !slices.Equal(a.Samples, []int16{1, 2}) {
		t.Errorf("Decode: %v, %v", a, err)
	}
}

func TestReaderEmptyDst(t *testing.T) {
	rd, err := NewReader(bytes.NewReader(append(header(7, 1, 8000, 8, 2), 0xFF, 0x80)))
	if err != nil || rd.Format != MuLaw {
		t.Fatal(rd, err)
	}
	if n, err := rd.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v; want 0, nil", n, err)
	}
	got, err := readAll(rd, 5)
	if err != io.EOF || !slices.Equal(got, []int16{0, 32124}) {
		t.Errorf("got %v, %v", got, err)
	}
	if n, err := rd.Read(make([]int16, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v; want EOF", n, err)
	}
}

// seekBuf is an in-memory io.WriteSeeker.
type seekBuf struct {
	b   []byte
	pos int
}

func (s *seekBuf) Write(p []byte) (int, error) {
	if need := s.pos + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += len(p)
	return len(p), nil
}

func (s *seekBuf) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart {
		return 0, errors.New("only SeekStart")
	}
	s.pos = int(off)
	return off, nil
}

func TestStereoWriter(t *testing.T) {
	var f seekBuf
	w, err := NewStereoWriter(&f)
	if err != nil {
		t.Fatal(err)
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(f.b[o:]) }
	le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(f.b[o:]) }
	// Before Close the sizes say "unknown", as a streamed file's do.
	if len(f.b) != 44 || le32(4) != 0xFFFFFFFF || le32(40) != 0xFFFFFFFF {
		t.Fatalf("header before close: % X", f.b)
	}
	if string(f.b[0:4]) != "RIFF" || string(f.b[8:16]) != "WAVEfmt " || string(f.b[36:40]) != "data" {
		t.Fatalf("chunk ids: %q", f.b)
	}
	// 16-bit PCM, 2 channels, 8000 Hz, 8000 x 4 bytes a second, 4-byte frames.
	if le32(16) != 16 || le16(20) != 1 || le16(22) != 2 || le32(24) != 8000 || le32(28) != 32000 || le16(32) != 4 || le16(34) != 16 {
		t.Fatalf("fmt chunk: % X", f.b[16:36])
	}
	if err := w.Write([]int16{1, -2}, []int16{0x0102, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1}, nil); err == nil || !strings.Contains(err.Error(), "1 left samples, 0 right") {
		t.Errorf("uneven write: %v", err)
	}
	if err := w.Write([]int16{-32768}, []int16{32767}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Interleaved left, right, little-endian.
	want := []byte{1, 0, 2, 1, 0xFE, 0xFF, 3, 0, 0x00, 0x80, 0xFF, 0x7F}
	if !bytes.Equal(f.b[44:], want) {
		t.Errorf("data % X, want % X", f.b[44:], want)
	}
	if le32(4) != 36+12 || le32(40) != 12 {
		t.Errorf("sizes after close: RIFF %d data %d, want 48 and 12", le32(4), le32(40))
	}
}

// failSeeker fails its nth write (from 1) or every seek.
type failSeeker struct {
	seekBuf
	failWrite, writes int
	failSeek          bool
}

var errDisk = errors.New("disk")

func (f *failSeeker) Write(p []byte) (int, error) {
	f.writes++
	if f.writes == f.failWrite {
		return 0, errDisk
	}
	return f.seekBuf.Write(p)
}

func (f *failSeeker) Seek(off int64, whence int) (int64, error) {
	if f.failSeek {
		return 0, errDisk
	}
	return f.seekBuf.Seek(off, whence)
}

func TestStereoWriterErrors(t *testing.T) {
	if _, err := NewStereoWriter(&failSeeker{failWrite: 1}); !errors.Is(err, errDisk) {
		t.Errorf("header write: %v", err)
	}
	for _, fs := range []*failSeeker{{failWrite: 2}, {failWrite: 3}, {failWrite: 4}, {failSeek: true}} {
		w, err := NewStereoWriter(fs)
		if err != nil {
			t.Fatal(err)
		}
		werr := w.Write([]int16{1}, []int16{2})
		cerr := w.Close()
		if !errors.Is(werr, errDisk) && !errors.Is(cerr, errDisk) {
			t.Errorf("write %d failing, seek failing %v: Write %v, Close %v", fs.failWrite, fs.failSeek, werr, cerr)
		}
	}
}
