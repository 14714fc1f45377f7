// Package qemu is the board profile of the image built for QEMU's arm64
// "virt" machine (scripts/image.sh --board qemu): the sim board's line
// cards (there is no line card to emulate), the i6300esb watchdog QEMU
// offers, and the same A/B boot slots as the cm4 image on a virtio disk,
// with the test harness playing the Raspberry Pi firmware's tryboot
// (update.Emulated). It exists so that the image, its init and its
// updates are tested without the hardware.
//
// Layer: a board profile; it imports board, board/sim and update.
package qemu

import (
	"jinyin/board"
	_ "jinyin/board/sim"
	"jinyin/update"
)

func init() {
	sim, err := board.Lookup("sim")
	if err != nil {
		panic(err)
	}
	p := *sim
	p.Name, p.Doc = "qemu", "QEMU's arm64 virt machine: simulated line cards, A/B boot slots on /dev/vda"
	p.Watchdog = "/dev/watchdog"
	p.Update = &update.Slots{Loader: "emulated", Parts: [2]int{2, 3}, Device: "/dev/vda%d", BootDir: "/boot", KeyFile: "/etc/jinyin/update.pub"}
	board.Register(&p)
}
