package dtmf

import "golang.org/x/sys/cpu"

// goertzelAVX2 is goertzel in AVX2 with FMA: the eight filters are the
// eight float32 lanes of one register, and the two halves of the block run
// as two interleaved chains, so each fused multiply-add's latency is
// covered by the other half's.
//
//go:noescape
func goertzelAVX2(x *[blockSamples]float32, coef *[8]float32, st *[4][8]float32)

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		goertzel = goertzelAVX2
	}
}
