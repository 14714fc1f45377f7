#include "textflag.h"

// func goertzelAVX2(x *[102]float32, coef *[8]float32, st *[4][8]float32)
//
// Y2, Y3: first half's s[n-1], s[n-2]; Y4, Y5: second half's. Y6: 2cos(ω).
// Each turn of the loop takes two samples of each half, swapping the roles
// of the state registers between the two steps instead of moving them:
//   s[n]   = (x[n]   - s[n-2]) + c*s[n-1]
//   s[n+1] = (x[n+1] - s[n-1]) + c*s[n]
TEXT ·goertzelAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ coef+8(FP), DX
	MOVQ st+16(FP), DI
	VMOVUPS (DX), Y6
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	LEAQ 204(SI), BX // the second half starts at sample 51
	MOVQ $25, CX     // 25 turns of 2 samples, then the 51st

loop:
	VBROADCASTSS (SI), Y0
	VBROADCASTSS (BX), Y1
	VSUBPS Y3, Y0, Y0
	VSUBPS Y5, Y1, Y1
	VFMADD231PS Y2, Y6, Y0 // Y0 = s[n] of the first half
	VFMADD231PS Y4, Y6, Y1 // Y1 = s[n] of the second
	VBROADCASTSS 4(SI), Y7
	VBROADCASTSS 4(BX), Y8
	VSUBPS Y2, Y7, Y7
	VSUBPS Y4, Y8, Y8
	VFMADD231PS Y0, Y6, Y7 // Y7 = s[n+1]
	VFMADD231PS Y1, Y6, Y8
	VMOVAPS Y0, Y3
	VMOVAPS Y7, Y2
	VMOVAPS Y1, Y5
	VMOVAPS Y8, Y4
	ADDQ $8, SI
	ADDQ $8, BX
	DECQ CX
	JNZ loop

	VBROADCASTSS (SI), Y0
	VBROADCASTSS (BX), Y1
	VSUBPS Y3, Y0, Y0
	VSUBPS Y5, Y1, Y1
	VFMADD231PS Y2, Y6, Y0
	VFMADD231PS Y4, Y6, Y1
	VMOVUPS Y0, 0(DI)  // first half: s[n-1]
	VMOVUPS Y2, 32(DI) // s[n-2]
	VMOVUPS Y1, 64(DI) // second half: s[n-1]
	VMOVUPS Y4, 96(DI) // s[n-2]
	VZEROUPPER
	RET
