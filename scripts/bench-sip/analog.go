package main

import (
	"fmt"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"jinyin/hal"
	"jinyin/hal/socket"
	"jinyin/media"
	"jinyin/media/tone"
)

// The soak's analog side: the box's two demo ports on the socket port
// driver (hal/socket), this program at the far end of each. On FXS port 1
// the front desk's phone is lifted, dials 100 in DTMF, hears the IVR's
// greeting and hangs up; on FXO port 2 the exchange rings the line, the
// box answers, the exchange hears the greeting and clears by dropping
// loop current. One call on each every 30 s, held 10 s.

// lineEnd is the far end of one port's socket.
type lineEnd struct {
	name  string
	l     *net.UnixListener
	mu    sync.Mutex
	c     *net.UnixConn
	box   atomic.Int32 // the port's last state octet
	sumSq atomic.Int64 // the box's audio since the last reset: sum of squares
	n     atomic.Int64 // and samples
	wbuf  [1 + hal.BlockSize]byte
}

func listenLine(name, path string) *lineEnd {
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	check(err)
	e := &lineEnd{name: name, l: l}
	go e.accept()
	return e
}

// accept takes the port's connections (it connects again after a
// restart) and reads what it sends.
func (e *lineEnd) accept() {
	for {
		c, err := e.l.AcceptUnix()
		if err != nil {
			return
		}
		e.mu.Lock()
		e.c = c
		e.mu.Unlock()
		buf := make([]byte, 256)
		pcm := make([]int16, hal.BlockSize)
		for {
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			switch {
			case n == 2 && buf[0] == 0x01:
				e.box.Store(int32(buf[1]))
			case n == 1+hal.BlockSize && buf[0] == 0x00:
				media.PCMA.Decode(pcm, buf[1:n])
				var s int64
				for _, v := range pcm {
					s += int64(v) * int64(v)
				}
				e.sumSq.Add(s)
				e.n.Add(int64(len(pcm)))
			}
		}
		c.Close()
	}
}

func (e *lineEnd) send(p []byte) {
	e.mu.Lock()
	c := e.c
	e.mu.Unlock()
	if c != nil {
		c.Write(p)
	}
}

func (e *lineEnd) state(s byte) { e.send([]byte{0x01, s}) }

// play sends pcm (A-law, 20 ms a block, paced).
func (e *lineEnd) play(pcm []int16) {
	for len(pcm) >= hal.BlockSize {
		e.wbuf[0] = 0x00
		media.PCMA.Encode(e.wbuf[1:], pcm[:hal.BlockSize])
		e.send(e.wbuf[:])
		pcm = pcm[hal.BlockSize:]
		time.Sleep(20 * time.Millisecond)
	}
}

// level is the RMS of the box's audio over the next d.
func (e *lineEnd) level(d time.Duration) float64 {
	e.sumSq.Store(0)
	e.n.Store(0)
	time.Sleep(d)
	n := e.n.Load()
	if n == 0 {
		return 0
	}
	return math.Sqrt(float64(e.sumSq.Load()) / float64(n))
}

// until waits up to d for cond.
func until(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// dtmf is digits as DTMF (Q.23 pairs at -7 dBm0 each, 80 ms on, 80 ms off).
func dtmf(digits string) []int16 {
	rows, cols := [4]float64{697, 770, 852, 941}, [4]float64{1209, 1336, 1477, 1633}
	keys := map[rune][2]int{'1': {0, 0}, '2': {0, 1}, '3': {0, 2}, '4': {1, 0}, '5': {1, 1}, '6': {1, 2},
		'7': {2, 0}, '8': {2, 1}, '9': {2, 2}, '*': {3, 0}, '0': {3, 1}, '#': {3, 2}}
	var out []int16
	for _, d := range digits {
		k := keys[d]
		r, c := tone.Sine(rows[k[0]], -7, 640), tone.Sine(cols[k[1]], -7, 640)
		for i := range r {
			out = append(out, r[i]+c[i])
		}
		out = append(out, make([]int16, 640)...)
	}
	return out
}

// greeting is the least RMS taken for the IVR's greeting on a line (its
// silence is 0: A-law 0xD5 decodes to ±8).
const greeting = 300

type analogPeer struct {
	phone, exchange                          *lineEnd
	mu                                       sync.Mutex
	phoneOK, phoneFailed, lineOK, lineFailed int
}

func startAnalog(fxs, fxo string) *analogPeer {
	return &analogPeer{phone: listenLine("FXS phone", fxs), exchange: listenLine("FXO exchange", fxo)}
}

func (a *analogPeer) count(ok *int, failed *int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		*failed++
		fmt.Fprintf(os.Stderr, "soak: analog: %v\n", err)
		return
	}
	*ok++
}

// run places a call on each port every 30 s until stop; it returns once
// the calls up have ended.
func (a *analogPeer) run(stop chan struct{}) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.loop(stop, 0, func() { a.count(&a.phoneOK, &a.phoneFailed, a.phoneCall()) })
	}()
	go func() {
		defer wg.Done()
		a.exchange.state(socket.PeerLoop)
		a.loop(stop, 15*time.Second, func() { a.count(&a.lineOK, &a.lineFailed, a.exchangeCall()) })
	}()
	wg.Wait()
}

func (a *analogPeer) loop(stop chan struct{}, offset time.Duration, call func()) {
	select {
	case <-stop:
		return
	case <-time.After(offset + 5*time.Second):
	}
	for {
		start := time.Now()
		call()
		select {
		case <-stop:
			return
		case <-time.After(30*time.Second - time.Since(start)):
		}
	}
}

// phoneCall: the phone is lifted, dials 100 and hears the greeting.
func (a *analogPeer) phoneCall() error {
	p := a.phone
	p.state(socket.PeerOffHook)
	defer func() {
		p.state(0)
		time.Sleep(2 * time.Second) // the port takes its next call once its session is up again
	}()
	if l := p.level(time.Second); l < 1000 {
		return fmt.Errorf("%s: no dial tone (RMS %.0f)", p.name, l)
	}
	p.play(dtmf("100"))
	if l := p.level(9 * time.Second); l < greeting {
		return fmt.Errorf("%s: dialled 100, heard RMS %.0f, not the greeting", p.name, l)
	}
	return nil
}

// exchangeCall: the exchange rings the line (1 s on, 4 s off), the box
// answers, the greeting plays for 10 s, the exchange clears.
func (a *analogPeer) exchangeCall() error {
	e := a.exchange
	seized := func() bool { return e.box.Load()&socket.StateOffHook != 0 }
	answered := false
	for i := 0; i < 4 && !answered; i++ {
		e.state(socket.PeerLoop | socket.PeerRinging)
		answered = until(time.Second, seized)
		e.state(socket.PeerLoop)
		answered = answered || until(4*time.Second, seized)
	}
	if !answered {
		return fmt.Errorf("%s: the box did not answer in 4 rings", e.name)
	}
	l := e.level(10 * time.Second)
	e.state(0) // the exchange clears: loop current drops
	released := until(5*time.Second, func() bool { return !seized() })
	e.state(socket.PeerLoop)
	switch {
	case l < greeting:
		return fmt.Errorf("%s: heard RMS %.0f, not the greeting", e.name, l)
	case !released:
		return fmt.Errorf("%s: the box stayed off hook after the exchange cleared", e.name)
	}
	return nil
}

func (a *analogPeer) counts() (phoneOK, phoneFailed, lineOK, lineFailed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.phoneOK, a.phoneFailed, a.lineOK, a.lineFailed
}
