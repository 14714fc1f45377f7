package box_test

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/hal/socket"
	"jinyin/internal/slottest"

	boardsim "jinyin/board/sim"
	"jinyin/config"
	"jinyin/hal"
	halsim "jinyin/hal/sim"
	"jinyin/internal/siptest"
	"jinyin/media"
	"jinyin/media/dtmf"
	"jinyin/media/tone"
)

// waitLevel waits until a slot carries audio at level or more, read
// 200 ms at a time.
func waitLevel(t *testing.T, what string, slot *halsim.Slot, level float64) {
	t.Helper()
	waitUntil(t, what, func() bool { return slottest.Level(slottest.Record(slot, 200*time.Millisecond)) >= level })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The analog phone on FXS port 1 of the demo box takes a call and places
// one; the exchange line on FXO port 2 brings one in and takes one out.
func TestAnalogPorts(t *testing.T) {
	dir := t.TempDir()
	sipAddr, httpAddr, stop := startConfig(t, dir, []byte(relayed(string(config.Default()))+transferOut("pstn")))
	phone := boardsim.OpenedPort(1).(*halsim.FXSPort)
	line := boardsim.OpenedPort(2).(*halsim.FXOPort)

	t.Run("the analog phone dials the IVR and a digit routes it", func(t *testing.T) {
		phone.Lift()
		defer phone.Hang()
		waitLevel(t, "dial tone", phone.Phone(), 1000)
		before := node(t, httpAddr, "main", "welcome").Visits
		slottest.Play(phone.Phone(), slottest.DTMF(t, "100"))
		waitUntil(t, "the greeting", func() bool { return node(t, httpAddr, "main", "welcome").Visits > before })
		if l := slottest.Level(slottest.Record(phone.Phone(), time.Second)); l < 300 {
			t.Errorf("the greeting on the phone: level %.0f", l)
		}
		before = node(t, httpAddr, "main", "info").Visits
		slottest.Play(phone.Phone(), slottest.DTMF(t, "1"))
		waitUntil(t, "the info node", func() bool { return node(t, httpAddr, "main", "info").Visits > before })
	})
	// The phone is back on hook once the IVR has seen the caller leave.
	waitUntil(t, "the IVR to see the phone hang up", func() bool {
		var hangups uint64
		for _, n := range ivrStats(t, httpAddr) {
			hangups += n.Hangups
		}
		return hangups > 0
	})

	t.Run("a SIP call rings the analog phone, which answers", func(t *testing.T) {
		// The caller is answered when the phone answers. A port whose
		// last call has just ended is busy until its next session is up
		// (analog.FXS.Ring does not wait for it): the caller is refused
		// with 486 Busy Here, and calls again.
		type answer struct {
			call *siptest.Call
			err  error
		}
		var answered chan answer
		waitUntil(t, "the phone to ring", func() bool {
			if answered == nil {
				answered = make(chan answer, 1)
				go func() {
					// Agent 1001 calls the front desk: a SIP caller who is not a
					// trunk proves its extension to ring a phone.
					call, err := invite(sipAddr, "2001", "1001", password(t, dir, "1001"))
					answered <- answer{call, err}
				}()
			}
			select {
			case a := <-answered:
				if a.err == nil {
					a.call.Close()
					t.Fatal("the caller was answered before the phone")
				}
				if !strings.Contains(a.err.Error(), "486") {
					t.Fatalf("the caller: %v, want 486 while the port is busy", a.err)
				}
				answered = nil
				return false
			default:
			}
			return phone.Ringing()
		})
		phone.Lift()
		var a answer
		select {
		case a = <-answered:
		case <-time.After(10 * time.Second):
			t.Fatal("the phone answered, the caller did not hear of it")
		}
		if a.err != nil {
			t.Fatalf("the phone answered, the caller got %v", a.err)
		}
		call := hangUpAtCleanup(t, a.call)
		defer phone.Hang()
		call.Send(tone.Sine(1000, -10, 8000))
		waitLevel(t, "the caller's audio on the phone", phone.Phone(), 1000)
		// The phone hangs up (on hook beyond a flash): the box ends the caller's leg.
		phone.Hang()
		select {
		case <-call.Dialog.Context().Done():
		case <-time.After(10 * time.Second):
			t.Error("the caller's leg was not hung up after the phone hung up")
		}
	})
	waitUntil(t, "the SIP call to end", func() bool { return status(t, httpAddr).Calls == 0 })

	t.Run("an exchange call with DTMF caller ID reaches the IVR", func(t *testing.T) {
		slottest.Play(line.Exchange(), slottest.DTMF(t, "A13800138000C"))
		before := node(t, httpAddr, "main", "menu").Visits
		line.SetRinging(true)
		waitUntil(t, "the line answered", line.Seized)
		if l := slottest.Level(slottest.Record(line.Exchange(), time.Second)); l < 300 {
			t.Errorf("the greeting on the line: level %.0f", l)
		}
		waitUntil(t, "the main menu", func() bool { return node(t, httpAddr, "main", "menu").Visits > before })
		line.Reverse() // the exchange clears
		waitUntil(t, "the line on hook", func() bool { return !line.Seized() })
	})

	t.Run("the IVR dials out on the exchange line", func(t *testing.T) {
		heard := make(chan byte, 16)
		det := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
			if !e.End {
				heard <- e.Digit
			}
		})
		call := dial(t, sipAddr, "300", "13800000010", "")
		_ = call
		waitUntil(t, "the line seized", line.Seized)
		b := make([]byte, hal.BlockSize)
		pcm := make([]int16, hal.BlockSize)
		var got []byte
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for len(got) < 4 && ctx.Err() == nil {
			line.Exchange().ReadBlock(b)
			media.PCMA.Decode(pcm, b)
			det.Process(pcm)
			for len(heard) > 0 {
				got = append(got, <-heard)
			}
		}
		if string(got) != "4008" {
			t.Errorf("the exchange heard %q", got)
		}
	})

	t.Run("a number the box does not have is refused, on record with its cause", func(t *testing.T) {
		phone.Lift()
		defer phone.Hang()
		waitLevel(t, "dial tone", phone.Phone(), 1000)
		slottest.Play(phone.Phone(), slottest.DTMF(t, "555"))
		waitUntil(t, "the refusal's record", func() bool {
			res, err := http.Get("http://" + httpAddr + "/export/master.csv")
			if err != nil {
				return false
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return strings.Contains(string(b), `"2001","5"`) // no number begins with 5: refused at the first digit
		})
	})

	stop()
	// Every call on a port has its record, named by the port.
	cdrs, err := openStore(t, dir).CDRs(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cdrs {
		seen[c.Trunk+" "+c.Direction+" "+c.From+" "+c.To] = true
		seen[c.Trunk+" "+c.From+" "+c.To+" "+c.Disposition+" "+c.Cause] = true
	}
	for _, want := range []string{"port1 in 2001 100", "port1 out 1001 2001", "port2 in 13800138000 100", "port2 out  4008",
		"port1 2001 5 refused Q.850 1 (unallocated number)"} {
		if !seen[want] {
			t.Errorf("no call record %q in %v", want, seen)
		}
	}
}

// The demo's exchange line on the socket port driver (hal/socket), the
// test at the exchange's end: the line rings, the box answers with the
// IVR's greeting and goes back on hook when the exchange drops loop
// current; a CDR records the call.
func TestExchangeLineOverASocket(t *testing.T) {
	sock, err := os.MkdirTemp("", "fxo") // short: a socket path has at most 108 octets
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sock)
	path := filepath.Join(sock, "line")
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	toml := strings.Replace(string(config.Default()), "driver = \"sim\"\ndestination = \"100\"", "driver = \"socket\"\nline = \""+path+"\"\ndestination = \"100\"", 1)
	dir := t.TempDir()
	_, httpAddr, stop := startConfig(t, dir, []byte(toml))
	l.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var offHook atomic.Bool
	var sumSq, n atomic.Int64
	go func() {
		buf := make([]byte, 256)
		pcm := make([]int16, hal.BlockSize)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			switch {
			case k == 2 && buf[0] == 0x01:
				offHook.Store(buf[1]&socket.StateOffHook != 0)
			case k == 1+hal.BlockSize && buf[0] == 0x00:
				media.PCMA.Decode(pcm, buf[1:k])
				for _, v := range pcm {
					sumSq.Add(int64(v) * int64(v))
				}
				n.Add(int64(len(pcm)))
			}
		}
	}()
	state := func(s byte) {
		if _, err := c.Write([]byte{0x01, s}); err != nil {
			t.Fatal(err)
		}
	}
	state(socket.PeerLoop | socket.PeerRinging)
	waitUntil(t, "the box to answer", offHook.Load)
	state(socket.PeerLoop)
	sumSq.Store(0)
	n.Store(0)
	time.Sleep(2 * time.Second)
	if k := n.Load(); k < 8000 || math.Sqrt(float64(sumSq.Load())/float64(k)) < 300 {
		t.Errorf("the exchange heard %d samples at RMS %.0f, not the greeting", k, math.Sqrt(float64(sumSq.Load())/float64(max(k, 1))))
	}
	state(0) // the exchange clears
	waitUntil(t, "the box on hook", func() bool { return !offHook.Load() })
	waitUntil(t, "the call to end", func() bool { return status(t, httpAddr).Calls == 0 })
	stop()
	cdrs, err := openStore(t, dir).CDRs(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cdrs) != 1 || cdrs[0].Trunk != "port2" || cdrs[0].Direction != "in" || cdrs[0].To != "100" || cdrs[0].Disposition != "answered" {
		t.Errorf("call records %+v, want the one answered exchange call on port2", cdrs)
	}
}
