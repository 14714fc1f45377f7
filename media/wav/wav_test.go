package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []int16{0, 1000, -1000, 32767, -32768, 8}
	for _, f := range []Format{PCM, ALaw, MuLaw} {
		var b bytes.Buffer
		if err := Encode(&b, f, in); err != nil {
			t.Fatal(err)
		}
		a, err := Decode(&b)
		if err != nil || a.Format != f || len(a.Samples) != len(in) {
			t.Fatalf("%v: %+v %v", f, a, err)
		}
		for i, s := range a.Samples {
			// G.711 quantisation: within 1/16 of the value (plus the smallest step).
			if d := int(s) - int(in[i]); d*16 > abs(int(in[i]))+256 || d*16 < -abs(int(in[i]))-256 {
				t.Errorf("%v sample %d: %d -> %d", f, i, in[i], s)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// header builds a WAV header by hand for the reject cases.
func header(tag, channels uint16, rate uint32, bits uint16, dataSize uint32) []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + dataSize))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(tag)
	le(channels)
	le(rate)
	le(rate * uint32(bits/8))
	le(bits / 8)
	le(bits)
	b.WriteString("data")
	le(dataSize)
	return b.Bytes()
}

func TestRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		file []byte
		is   error
		msg  string
	}{
		{"empty", nil, ErrNotWAV, "header missing"},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE"), ErrNotWAV, ""},
		{"stereo", header(1, 2, 8000, 16, 0), ErrUnsupported, "2 channels"},
		{"44.1 kHz", header(1, 1, 44100, 16, 0), ErrUnsupported, "44100 Hz"},
		{"8-bit PCM", header(1, 1, 8000, 8, 0), ErrUnsupported, "8 bits"},
		{"float", header(3, 1, 8000, 32, 0), ErrUnsupported, "format tag 0x0003"},
		{"truncated data", append(header(1, 1, 8000, 16, 1000), 1, 2, 3, 4), ErrTruncated, "says 1000 bytes, file holds 4"},
		{"odd PCM byte", append(header(1, 1, 8000, 16, 5), 1, 2, 3, 4, 5), ErrTruncated, "says 5 bytes, file holds 4"},
		{"no data chunk", header(1, 1, 8000, 16, 0)[:36], ErrTruncated, "no data chunk"},
		{"fmt cut short", header(1, 1, 8000, 16, 0)[:30], ErrTruncated, "fmt"},
	} {
		_, err := Decode(bytes.NewReader(c.file))
		if !errors.Is(err, c.is) || !strings.Contains(fmtErr(err), c.msg) {
			t.Errorf("%s: got %v, want %v containing %q", c.name, err, c.is, c.msg)
		}
	}
	// A truncated file still yields what it holds.
	a, err := Decode(bytes.NewReader(append(header(1, 1, 8000, 16, 1000), 1, 2, 3, 4)))
	if !errors.Is(err, ErrTruncated) || a == nil || len(a.Samples) != 2 {
		t.Errorf("truncated: %+v %v", a, err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestStreamedLength reads a file whose writer could not fill in the data
// length (sox writing to a pipe): the samples run to the end of the file.
func TestStreamedLength(t *testing.T) {
	for _, size := range []uint32{0x7FFFF000, 0xFFFFFFFF} {
		a, err := Decode(bytes.NewReader(append(header(6, 1, 8000, 8, size), 0xD5, 0xD5, 0xD5)))
		if err != nil || len(a.Samples) != 3 {
			t.Errorf("size 0x%X: %+v %v", size, a, err)
		}
	}
}

// TestSkipsChunks reads a file with LIST and odd-sized chunks before data.
func TestSkipsChunks(t *testing.T) {
	var b bytes.Buffer
	h := header(7, 1, 8000, 8, 3)
	b.Write(h[:36])
	b.WriteString("LIST\x03\x00\x00\x00abc\x00")
	b.Write(h[36:])
	b.Write([]byte{0xFF, 0x80, 0x00})
	a, err := Decode(&b)
	if err != nil || a.Format != MuLaw || len(a.Samples) != 3 || a.Samples[1] != 32124 {
		t.Fatalf("%+v %v", a, err)
	}
}

// FuzzDecode never panics and never returns samples without an error
// unless they round-trip through Encode.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.wav")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add(header(1, 1, 8000, 16, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := Encode(&b, a.Format, a.Samples); err != nil {
			t.Fatal(err)
		}
		again, err := Decode(&b)
		if err != nil || len(again.Samples) != len(a.Samples) {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
	})
}

// readAll drains a Reader in chunks of n samples.
func readAll(rd *Reader, n int) ([]int16, error) {
	var out []int16
	buf := make([]int16, n)
	for range 1 << 20 {
		k, err := rd.Read(buf)
		out = append(out, buf[:k]...)
		if err != nil {
			return out, err
		}
	}
	panic("Read never ended")
}

// TestReaderMatchesDecode streams every test file (whole, truncated, each
// encoding) in odd chunk sizes and gets Decode's samples and verdict.
func TestReaderMatchesDecode(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.wav")
	if len(files) < 6 {
		t.Fatalf("test files missing: %v", files)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := Decode(bytes.NewReader(data))
		for _, n := range []int{1, 7, 160, 5000} {
			rd, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, gerr := readAll(rd, n)
			if !slices.Equal(got, want.Samples) {
				t.Errorf("%s, chunks of %d: %d samples, Decode gives %d", name, n, len(got), len(want.Samples))
			}
			if errors.Is(werr, ErrTruncated) != errors.Is(gerr, ErrTruncated) || werr == nil && gerr != io.EOF {
				t.Errorf("%s, chunks of %d: Read ends with %v, Decode with %v", name, n, gerr, werr)
			}
		}
	}
}

// TestReaderStreamed reads to the end when the header says so, and reports a lying length as truncation.
func TestReaderStreamed(t *testing.T) {
	body := bytes.Repeat([]byte{0xD5}, 3601*8000)
	rd, err := NewReader(io.MultiReader(bytes.NewReader(header(6, 1, 8000, 8, 0xFFFFFFFF)), bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(rd, 160)
	if err != io.EOF || len(got) != len(body) {
		t.Fatalf("%d samples, %v; want %d and EOF", len(got), err, len(body))
	}
	rd, _ = NewReader(bytes.NewReader(append(header(1, 1, 8000, 16, 10), 1, 0, 2, 0, 3)))
	got, err = readAll(rd, 2)
	if !errors.Is(err, ErrTruncated) || !slices.Equal(got, []int16{1, 2}) {
		t.Fatalf("lying PCM header: %v %v", got, err)
	}
}

// FuzzReader: whatever the input, the Reader gives Decode's samples.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.wav")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data, uint16(160))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		want, werr := Decode(bytes.NewReader(data))
		rd, rerr := NewReader(bytes.NewReader(data))
		if (rerr == nil) != (want != nil) {
			t.Fatalf("NewReader %v, Decode %v", rerr, werr)
		}
		if rerr != nil || errors.Is(werr, ErrUnsupported) {
			return
		}
		got, gerr := readAll(rd, int(chunk%9000)+1)
		// Decode takes a length over an hour for "to the end"; the Reader,
		// made for long files, believes it and may call the file truncated.
		if !slices.Equal(got, want.Samples) || errors.Is(werr, ErrTruncated) && !errors.Is(gerr, ErrTruncated) {
			t.Fatalf("Reader %d samples (%v), Decode %d (%v)", len(got), gerr, len(want.Samples), werr)
		}
	})
}
