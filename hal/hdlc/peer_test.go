package hdlc

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"jinyin/internal/testenv"
)

// The far end of these tests is spandsp's hdlc_tx/hdlc_rx (Debian
// libspandsp-dev) and libosmocore's osmo_isdnhdlc (libosmocore-dev, the
// HDLC osmo-e1d runs for its HDLC-FCS timeslots) in testdata/peer.c,
// exchanging raw TS16 octets with this package in both directions.

func peer(t *testing.T) string {
	t.Helper()
	return testenv.BuildC(t, filepath.Join("testdata", "peer.c"), "spandsp", "libosmocore")
}

// sent is one frame of an interop run: its octets and how it is sent.
type sent struct {
	kind  byte // 'F' good, 'C' damaged (bad FCS), 'A' aborted halfway
	frame []byte
}

// frames is a run of random frames, 3 to 300 octets (spandsp's longest is
// 400), about one in eight damaged and one in eight aborted.
func frames(seed uint64, n int) []sent {
	r := rand.New(rand.NewPCG(seed, 7))
	var out []sent
	for range n {
		f := make([]byte, 3+r.IntN(298))
		for i := range f {
			f[i] = []byte{0xFF, 0x7E, 0x00, byte(r.Uint32()), byte(r.Uint32())}[r.IntN(5)]
		}
		kind := byte('F')
		switch r.IntN(8) {
		case 0:
			kind = 'C'
		case 1:
			kind = 'A'
		}
		out = append(out, sent{kind, f})
	}
	return out
}

func run(t *testing.T, bin string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("peer %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// From the peer's transmitter to our Decoder: every good frame arrives,
// in order and intact, and no damaged or aborted one does; spandsp's
// damaged frames are reported as FCS errors, as they are.
func TestFromPeer(t *testing.T) {
	bin := peer(t)
	for _, lib := range []string{"spandsp", "osmo"} {
		t.Run(lib, func(t *testing.T) {
			sends := frames(11, 300)
			var cmds strings.Builder
			var want [][]byte
			damaged := 0
			for _, s := range sends {
				fmt.Fprintf(&cmds, "%c %x\n", s.kind, s.frame)
				switch s.kind {
				case 'F':
					want = append(want, s.frame)
				case 'C':
					damaged++
				}
			}
			octets := run(t, bin, []byte(cmds.String()), lib, "tx")
			var g got
			d := NewDecoder(g.add)
			for len(octets) > 0 { // 20 ms of TS16 at a time
				n := min(160, len(octets))
				d.Decode(octets[:n])
				octets = octets[n:]
			}
			if len(g.frames) != len(want) {
				t.Fatalf("%d good frames, want %d; errors %v", len(g.frames), len(want), g.errs)
			}
			for i := range want {
				if !bytes.Equal(g.frames[i], want[i]) {
					t.Fatalf("frame %d: % x, want % x", i, g.frames[i], want[i])
				}
			}
			if lib == "spandsp" && d.FCSErrors != uint64(damaged) {
				t.Errorf("%d FCS errors, want the %d frames spandsp damaged", d.FCSErrors, damaged)
			}
			if d.FCSErrors+d.Aborts+d.LengthErrors == 0 {
				t.Error("no damaged or aborted frame was noticed")
			}
		})
	}
}

// From our Encoder to the peer's receiver: the same, with our aborts and
// with frames damaged on the line (a bit flipped in the middle).
func TestToPeer(t *testing.T) {
	bin := peer(t)
	for _, lib := range []string{"spandsp", "osmo"} {
		t.Run(lib, func(t *testing.T) {
			e := NewEncoder()
			var line []byte
			var want [][]byte
			out := make([]byte, 1)
			send := func(n int) {
				for range n {
					e.Encode(out)
					line = append(line, out[0])
				}
			}
			send(4)
			for _, s := range frames(12, 300) {
				if err := e.Queue(s.frame); err != nil {
					t.Fatal(err)
				}
				start := len(line)
				switch s.kind {
				case 'A':
					send(len(s.frame) / 2)
					if !e.Abort() {
						t.Fatal("nothing to abort")
					}
				case 'C':
					for e.Pending() > 0 {
						send(1)
					}
					line[(start+len(line))/2] ^= 0x10
				default:
					want = append(want, s.frame)
				}
				for e.Pending() > 0 {
					send(1)
				}
			}
			send(8)
			var good [][]byte
			bad := 0
			sc := bufio.NewScanner(bytes.NewReader(run(t, bin, line, lib, "rx")))
			for sc.Scan() {
				kind, h, _ := strings.Cut(sc.Text(), " ")
				if kind != "OK" {
					bad++
					continue
				}
				f, err := hex.DecodeString(h)
				if err != nil {
					t.Fatal(err)
				}
				good = append(good, f)
			}
			if len(good) != len(want) {
				t.Fatalf("%s took %d good frames, want %d (%d bad)", lib, len(good), len(want), bad)
			}
			for i := range want {
				if !bytes.Equal(good[i], want[i]) {
					t.Fatalf("frame %d: %s took % x, want % x", i, lib, good[i], want[i])
				}
			}
			if bad == 0 {
				t.Errorf("%s reported no bad frame", lib)
			}
		})
	}
}
