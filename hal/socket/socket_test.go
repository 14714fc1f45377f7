package socket

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"jinyin/hal"
)

func listen(t *testing.T, path string) *net.UnixListener {
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestDChannelAndBChannels(t *testing.T) {
	dir, _ := os.MkdirTemp("", "sock")
	defer os.RemoveAll(dir)
	dl := listen(t, filepath.Join(dir, "d"))
	bl := listen(t, filepath.Join(dir, "b"))
	s := Open(filepath.Join(dir, "d"), filepath.Join(dir, "b"))
	defer s.Close()
	s.Configure(hal.SpanConfig{Type: "e1", Framing: "crc4", Coding: "hdb3", Clock: "line"})
	if s.Alarms() != hal.AlarmLOS {
		t.Error("a span not connected must report LOS")
	}
	d, _ := s.DChannel()
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := d.ReadFrame(buf)
		if err == nil {
			got <- buf[:n]
		}
	}()
	peer, err := dl.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	// The peer sends a frame with 2 FCS octets (garbage: the receiver ignores them).
	peer.Write([]byte{0x02, 0x01, 0x7F, 0xAA, 0xBB})
	if f := <-got; string(f) != "\x02\x01\x7f" {
		t.Errorf("frame % x; the FCS must be stripped", f)
	}
	if s.Alarms() != 0 {
		t.Error("LOS while connected")
	}
	d.WriteFrame([]byte{0x00, 0x01, 0x73})
	buf := make([]byte, 64)
	n, _ := peer.Read(buf)
	fcs := hal.FCS([]byte{0x00, 0x01, 0x73})
	if n != 5 || buf[3] != byte(fcs) || buf[4] != byte(fcs>>8) {
		t.Errorf("sent % x, want the frame and its FCS", buf[:n])
	}

	// B-channel 5: a block from the peer arrives; ours goes out tagged.
	b5, err := s.BChannel(5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BChannel(16); err == nil {
		t.Error("timeslot 16 is the D-channel")
	}
	bpeer, err := bl.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 1+hal.BlockSize)
	pkt[0], pkt[1] = 5, 0x42
	bpeer.Write(pkt)
	bpeer.Write(pkt) // a stream: the slot plays once two blocks are in
	block := make([]byte, hal.BlockSize)
	for i := 0; i < 10 && block[0] != 0x42; i++ {
		b5.ReadBlock(block)
	}
	if block[0] != 0x42 {
		t.Error("the peer's block never arrived on B5")
	}
	block[0] = 0x17
	b5.WriteBlock(block)
	bpeer.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := bpeer.Read(pkt); err != nil || n != 1+hal.BlockSize || pkt[0] != 5 || pkt[1] != 0x17 {
		t.Errorf("our block: %d octets, % x, %v", n, pkt[:2], err)
	}

	// The peer goes away and comes back: the span connects again.
	peer.Close()
	go func() { buf := make([]byte, 64); d.ReadFrame(buf) }()
	peer2, err := dl.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	peer2.Close()
}
