package imx6

import (
	"os"
	"testing"

	"jinyin/board"
	"jinyin/config"
)

// Off the board (no spidev), the span is absent, not failed, and a span
// the board does not have is an error.
func TestAbsentOffTheBoard(t *testing.T) {
	if _, err := os.Stat("/dev/spidev1.0"); err == nil {
		t.Skip("this machine has SPI: it may be the board")
	}
	p, err := board.Lookup("imx6")
	if err != nil {
		t.Fatal(err)
	}
	open, absent, err := board.OpenSpans(p, []config.Span{{ID: 1, Type: "e1", Driver: "ds26522", Framing: "crc4", Coding: "hdb3", Clock: "line"}})
	if err != nil || len(open) != 0 || len(absent) != 1 {
		t.Errorf("spans: open %d, absent %v, %v", len(open), absent, err)
	}
	if _, _, err := board.OpenSpans(p, []config.Span{{ID: 2, Type: "e1", Driver: "ds26522"}}); err == nil {
		t.Error("a span the board does not have must be an error")
	}
}
