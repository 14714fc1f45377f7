package ds26522

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/spi/spitest"

	"jinyin/hal"
)

// frame lays a transaction out bit by bit as the chip clocks it (R/W, A0
// first through A13, a spare bit, then D0 first through D7), packed into
// octets most significant bit first: an oracle written from the framing,
// apart from the driver's bit reversals.
func frame(read bool, reg uint16, data byte) []byte {
	var bitsOut []bool
	bitsOut = append(bitsOut, read)
	for i := 0; i < 14; i++ {
		bitsOut = append(bitsOut, reg>>i&1 == 1)
	}
	bitsOut = append(bitsOut, false)
	for i := 0; i < 8; i++ {
		bitsOut = append(bitsOut, data>>i&1 == 1)
	}
	out := make([]byte, 3)
	for i, b := range bitsOut {
		if b {
			out[i/8] |= 0x80 >> (i % 8)
		}
	}
	return out
}

func w(reg uint16, v byte) conntest.IO { return conntest.IO{W: frame(false, reg, v)} }
func r(reg uint16, v byte) conntest.IO {
	return conntest.IO{W: frame(true, reg, 0), R: []byte{0, 0, frame(false, 0, v)[2]}}
}

func open(t *testing.T, ops ...conntest.IO) (*Dev, *spitest.Playback) {
	t.Helper()
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full,
		Ops: append([]conntest.IO{r(regIDR, 0x6A)}, ops...)}} // IDR: DS26522 (0x68) rev 2
	d, err := New(pb)
	if err != nil {
		t.Fatal(err)
	}
	d.sleep = func(time.Duration) {}
	return d, pb
}

func TestFraming(t *testing.T) {
	// IDR (0xF8) read: R/W=1, A0..A13 = 0001 1111 0000 00, spare.
	if got := frame(true, 0xF8, 0); got[0] != 0x8F || got[1] != 0x80 {
		t.Errorf("IDR read frame % x", got)
	}
	a0, a1 := addr(0x1007, false) // LRISMR, the highest address used
	if f := frame(false, 0x1007, 0); a0 != f[0] || a1 != f[1] {
		t.Errorf("addr(0x1007) = %02x %02x, oracle % x", a0, a1, f)
	}
}

func TestAbsent(t *testing.T) {
	pb := &spitest.Playback{Playback: conntest.Playback{D: conn.Full, Ops: []conntest.IO{r(regIDR, 0xFF)}}}
	if _, err := New(pb); err != ErrAbsent {
		t.Errorf("a port that reads 0xFF: %v", err)
	}
}

func TestConfigureE1(t *testing.T) {
	d, pb := open(t,
		w(regGTCCR, 0x00), // line timing: reference from the recovered clock
		w(regGTCR2, 0x02), // TSSYNC out
		w(regGFCR, 0x00),  // backplane 2.048 MHz
		w(regGTCR1, 0x00),
		w(regGLSRR, 0x01), w(regGFSRR, 0x01), // reset LIU, framer and BERT
		w(regGLSRR, 0x00), w(regGFSRR, 0x00),
		w(regRMMR, 0x02), w(regTMMR, 0x02), // framer soft reset
		w(regRMMR, 0x01), w(regTMMR, 0x01), // E1
		w(regRMMR, 0x81), w(regTMMR, 0x81), // E1, framer enabled
		w(regRCR1, 0x68), // HDB3, CCS, CRC-4
		w(regRIOCR, 0x10),
		w(regTCR1, 0x05), // HDB3, CRC-4
		w(regTIOCR, 0x14),
		w(regE1TAF, 0x1B), w(regE1TNAF, 0x40),
		w(regRMMR, 0xC1), w(regTMMR, 0xC1), // init done
		w(regLTRCR, 0x00), w(regLTITSR, 0x00), w(regLRISMR, 0x03),
		w(regLMCR, 0x01), // transmitter on
	)
	if err := d.Configure(hal.SpanConfig{Type: "e1", Framing: "crc4", Coding: "hdb3", Clock: "line"}); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
	if err := d.Configure(hal.SpanConfig{Type: "t1", Framing: "esf", Coding: "b8zs", Clock: "line"}); err == nil || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("t1: %v", err)
	}
}

func TestAlarmsCountersLoopback(t *testing.T) {
	d, pb := open(t,
		r(regRRTS1, 0x03),                      // LOF and LOS
		r(regLCVCR1, 0x01), r(regLCVCR2, 0x02), // 258 code violations
		r(regPCVCR1, 0x00), r(regPCVCR2, 0x07), // 7 CRC-4 errors
		r(regLCVCR1, 0x00), r(regLCVCR2, 0x02),
		r(regPCVCR1, 0x00), r(regPCVCR2, 0x00),
		w(regRCR3, 0x01), // framer loopback
		w(regRCR3, 0x00),
		w(regLMCR, 0x00), // close: transmitter off
	)
	if a := d.Alarms(); a != hal.AlarmLOF|hal.AlarmLOS {
		t.Errorf("alarms %v", a)
	}
	d.Counters()
	if c := d.Counters(); c.BPV != 260 || c.CRC != 7 {
		t.Errorf("counters %+v", c)
	}
	if err := d.SetLoopback(hal.LoopLocal); err != nil || d.Loopback() != hal.LoopLocal {
		t.Fatal(err)
	}
	if err := d.SetLoopback(hal.LoopNetwork); err == nil {
		t.Error("network loopback is not implemented and must say so")
	}
	d.SetLoopback(hal.LoopOff)
	d.Close()
	if err := pb.Close(); err != nil {
		t.Error(err)
	}
}
