package osmoe1d

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"jinyin/hal"
)

// TestBSlotWritesAhead: the daemon sends 0xFF for octets a client has not
// written when they are due, so a B-channel starts lead blocks of idle
// ahead of the line and then answers block for block: what the binary
// writes follows the lead, and the lead stays.
func TestBSlotWritesAhead(t *testing.T) {
	daemon, client := net.Pipe()
	defer daemon.Close()
	var slips atomic.Uint64
	b := newBSlot(client, &slips)
	defer client.Close()
	daemon.SetDeadline(time.Now().Add(10 * time.Second))

	got := make([]byte, 2*hal.BlockSize)
	if _, err := io.ReadFull(daemon, got); err != nil {
		t.Fatalf("no lead before the line's first block: %v", err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte{0xD5}, 2*hal.BlockSize)) {
		t.Fatalf("lead is not 40 ms of A-law idle: % x…", got[:8])
	}

	say := bytes.Repeat([]byte{0x2A}, hal.BlockSize)
	if err := b.WriteBlock(say); err != nil {
		t.Fatal(err)
	}
	heard := bytes.Repeat([]byte{0x17}, hal.BlockSize)
	block := make([]byte, hal.BlockSize)
	if _, err := daemon.Write(heard); err != nil { // the line's first block
		t.Fatal(err)
	}
	if _, err := io.ReadFull(daemon, block); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(block, say) {
		t.Fatalf("answered the line's first block with % x…, want the written block", block[:8])
	}
	if err := b.ReadBlock(block); err != nil || !bytes.Equal(block, heard) {
		t.Fatalf("read % x… (%v), want the line's block", block[:8], err)
	}
	if _, err := daemon.Write(heard); err != nil { // nothing written: idle, one for one
		t.Fatal(err)
	}
	if _, err := io.ReadFull(daemon, block); err != nil || block[0] != 0xD5 {
		t.Fatalf("second answer % x… (%v), want idle", block[:8], err)
	}
	if slips.Load() != 0 {
		t.Errorf("%d slips", slips.Load())
	}
}
