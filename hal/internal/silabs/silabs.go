// Package silabs holds what the Silicon Labs ProSLIC (Si3215) and voice
// DAA (Si3050) share: their PCM set-up, a mode register and four start
// count registers at different addresses, programmed as DAHDI's wctdm
// does.
//
// Layer: internal to the hal chip drivers; standard library only.
package silabs

// PCM mode register values: PCM enabled, 8-bit companded.
const (
	PCMALaw  = 0x20
	PCMMuLaw = 0x28
)

// PCMWrites is the register writes that place a chip's audio startPCLK
// cycles after the frame sync, both ways: the transmit start count
// (low, high) at txLow, the receive start count after it, then the mode.
func PCMWrites(modeReg, txLow byte, startPCLK uint16, muLaw bool) [5][2]byte {
	lo, hi := byte(startPCLK), byte(startPCLK>>8)
	mode := byte(PCMALaw)
	if muLaw {
		mode = PCMMuLaw
	}
	return [5][2]byte{{txLow, lo}, {txLow + 1, hi}, {txLow + 2, lo}, {txLow + 3, hi}, {modeReg, mode}}
}
