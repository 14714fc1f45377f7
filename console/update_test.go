package console

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"jinyin/internal/clock"
)

// fakeUpdates takes what Receive is given: all of it, or want bytes
// (a bundle's length is in its header), or refuses after refuseAfter.
type fakeUpdates struct {
	want, refuseAfter int
	got               []byte
}

func (f *fakeUpdates) Status() string                { return "" }
func (f *fakeUpdates) History() ([]string, error)    { return nil, nil }
func (f *fakeUpdates) Apply(string) (string, error)  { return "", errors.New("no stick") }
func (f *fakeUpdates) Reboot(string) (string, error) { return "", nil }
func (f *fakeUpdates) Receive(r io.Reader) (string, error) {
	if f.refuseAfter > 0 {
		f.got = make([]byte, f.refuseAfter)
		io.ReadFull(r, f.got)
		return "", errors.New("bad signature")
	}
	f.got = make([]byte, f.want)
	if _, err := io.ReadFull(r, f.got); err != nil {
		return "", err
	}
	return "staged\n", nil
}

type termBuf struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (b *termBuf) Read([]byte) (int, error) { return 0, io.EOF }
func (b *termBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

// paste is a bundle as a terminal sends it: some noise, the BEGIN line,
// base64 in 76 columns with CR line ends, the END line.
func paste(bundle []byte) string {
	enc := base64.StdEncoding.EncodeToString(bundle)
	var sb strings.Builder
	sb.WriteString("picocom v3\r\r" + updateBegin + "\r")
	for len(enc) > 76 {
		sb.WriteString(enc[:76] + "\r")
		enc = enc[76:]
	}
	sb.WriteString(enc + "\r\r" + updateEnd + "\r")
	return sb.String()
}

func receive(t *testing.T, u *fakeUpdates, typed string) (string, error) {
	return receiveLeaving(t, u, typed, "")
}

// receiveLeaving checks that the keys after the paste, left, are all
// that is left unread.
func receiveLeaving(t *testing.T, u *fakeUpdates, typed, left string) (string, error) {
	t.Helper()
	term := &termBuf{}
	c := &Console{o: Options{Clock: clock.NewFake(time.Now()), IdleTimeout: time.Minute, Updates: u}, rw: term, keys: make(chan byte, len(typed)+len(left))}
	for _, b := range []byte(typed + left) {
		c.keys <- b
	}
	close(c.keys)
	err := c.updateReceive(make(chan struct{}))
	var rest []byte
	for b := range c.keys {
		rest = append(rest, b)
	}
	if string(rest) != left {
		t.Errorf("left unread %q, want %q", rest, left)
	}
	return term.out.String(), err
}

func TestUpdateReceive(t *testing.T) {
	bundle := make([]byte, 200_003) // not a multiple of 3: base64's padding
	rand.New(rand.NewSource(1)).Read(bundle)

	u := &fakeUpdates{want: len(bundle)}
	out, err := receive(t, u, paste(bundle))
	if err != nil || !bytes.Equal(u.got, bundle) || !strings.HasSuffix(out, "staged\r\n") || !strings.Contains(out, "KiB") {
		t.Errorf("a whole paste: %v, %d of %d bytes right:\n%.300s", err, commonPrefix(u.got, bundle), len(bundle), out)
	}

	// Cut short: a line lost on the way.
	p := paste(bundle)
	i := strings.Index(p, "\r"+updateBegin+"\r") + len(updateBegin) + 2
	cut := p[:i+200*77] + p[i+201*77:]
	u = &fakeUpdates{want: len(bundle)}
	if _, err := receive(t, u, cut); err == nil || !strings.Contains(err.Error(), "ended before the bundle") {
		t.Errorf("a paste missing a line: %v", err)
	}

	// Refused early (the signature is near the start): the rest of the
	// paste is read to its END line and not taken for commands.
	u = &fakeUpdates{refuseAfter: 500}
	if _, err := receiveLeaving(t, u, paste(bundle), "show spans\r"); err == nil || err.Error() != "bad signature" {
		t.Errorf("refused: %v", err)
	}

	// A garbled character is an error, not a silent skip.
	g := []byte(paste(bundle))
	g[i+300] = '*'
	u = &fakeUpdates{want: len(bundle)}
	if _, err := receive(t, u, string(g)); err == nil || !strings.Contains(err.Error(), "illegal base64") {
		t.Errorf("a garbled paste: %v", err)
	}

	// No updater: said so before anything is read.
	c := &Console{o: Options{}}
	if err := c.updateReceive(nil); err == nil {
		t.Error("received without an updater")
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
