package cm4

import (
	"os"
	"testing"

	"jinyin/board"
	"jinyin/config"
)

// Off the carrier (no spidev), the cards are absent, not failed: the box
// starts and says which.
func TestCardsAbsentOffTheCarrier(t *testing.T) {
	if _, err := os.Stat("/dev/spidev0.0"); err == nil {
		t.Skip("this machine has SPI: it may be the carrier")
	}
	p, err := board.Lookup("cm4")
	if err != nil {
		t.Fatal(err)
	}
	open, absent, err := board.OpenSpans(p, []config.Span{{ID: 1, Type: "e1", Driver: "ds26522", Framing: "crc4", Coding: "hdb3", Clock: "line"}})
	if err != nil || len(open) != 0 || len(absent) != 1 {
		t.Errorf("spans: open %d, absent %v, %v", len(open), absent, err)
	}
	ports, absent, err := board.OpenPorts(p, []config.Port{{ID: 1, Kind: "fxs", Driver: "si3215"}, {ID: 2, Kind: "fxo", Driver: "si3050"}}, "cn")
	if err != nil || len(ports) != 0 || len(absent) != 2 {
		t.Errorf("ports: open %d, absent %v, %v", len(ports), absent, err)
	}
	if _, _, err := board.OpenSpans(p, []config.Span{{ID: 9, Type: "e1", Driver: "ds26522"}}); err == nil {
		t.Error("a span the carrier does not have must be an error")
	}
}
