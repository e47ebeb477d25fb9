//go:build amd64 && !purego

#include "textflag.h"

// The float32 coefficients of tanh32 (dcim/graph), as in simd_amd64.s: the clamp c, then the
// numerator's a13 … a1 and the denominator's b6 … b0, as polynomials in x².
DATA psaTanh<>+0(SB)/4, $0x40fcf84f  // c = 7.905311107635498
DATA psaTanh<>+4(SB)/4, $0xa59f25c0  // a13 = -2.76076847742355e-16
DATA psaTanh<>+8(SB)/4, $0x2a61337e  // a11 = 2.00018790482477e-13
DATA psaTanh<>+12(SB)/4, $0xaebd37ff // a9 = -8.60467152213735e-11
DATA psaTanh<>+16(SB)/4, $0x335c0041 // a7 = 5.12229709037114e-08
DATA psaTanh<>+20(SB)/4, $0x3779434a // a5 = 1.48572235717979e-05
DATA psaTanh<>+24(SB)/4, $0x3a270ded // a3 = 0.000637261928875436
DATA psaTanh<>+28(SB)/4, $0x3ba059dc // a1 = 0.00489352455891786
DATA psaTanh<>+32(SB)/4, $0x35a0d3d8 // b6 = 1.19825839466702e-06
DATA psaTanh<>+36(SB)/4, $0x38f895d6 // b4 = 0.000118534705686654
DATA psaTanh<>+40(SB)/4, $0x3b14aa05 // b2 = 0.002268434632439
DATA psaTanh<>+44(SB)/4, $0x3ba059dd // b0 = 0.00489352518554385
GLOBL psaTanh<>(SB), RODATA|NOPTR, $48

// TANH_Y1 replaces the clamped x in Y1 by tanh32(x) in Y3 (the rational
// function of TanhAffine), with Y2, Y4 and Y5 as scratch.
#define TANH_Y1 \
	VMULPS       Y1, Y1, Y2; \
	VBROADCASTSS psaTanh<>+4(SB), Y3; \
	VBROADCASTSS psaTanh<>+8(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y3; \
	VBROADCASTSS psaTanh<>+12(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y3; \
	VBROADCASTSS psaTanh<>+16(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y3; \
	VBROADCASTSS psaTanh<>+20(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y3; \
	VBROADCASTSS psaTanh<>+24(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y3; \
	VBROADCASTSS psaTanh<>+28(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y3; \
	VMULPS       Y1, Y3, Y3; \
	VBROADCASTSS psaTanh<>+32(SB), Y5; \
	VBROADCASTSS psaTanh<>+36(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y5; \
	VBROADCASTSS psaTanh<>+40(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y5; \
	VBROADCASTSS psaTanh<>+44(SB), Y4; \
	VFMADD213PS  Y4, Y2, Y5; \
	VDIVPS       Y5, Y3, Y3

// func PSAConv(dst, s, arg, m, d, g []float32, w, delta, c, S, M, A float32)
TEXT ·PSAConv(SB), NOSPLIT, $0-168
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         s_base+24(FP), SI
	MOVQ         arg_base+48(FP), R8
	MOVQ         m_base+72(FP), R9
	MOVQ         d_base+96(FP), R10
	MOVQ         g_base+120(FP), R11
	SHRQ         $3, CX
	JZ           cdone
	VBROADCASTSS w+144(FP), Y13
	VBROADCASTSS delta+148(FP), Y8
	VBROADCASTSS c+152(FP), Y12
	VBROADCASTSS S+156(FP), Y9
	VBROADCASTSS M+160(FP), Y10
	VBROADCASTSS A+164(FP), Y11
	VMULPS       Y13, Y8, Y8 // δ·w
	VMULPS       Y9, Y8, Y8  // S·δ·w
	VBROADCASTSS psaTanh<>+0(SB), Y14
	VXORPS       Y15, Y15, Y15
	VSUBPS       Y14, Y15, Y15 // -clamp

cloop:
	VMOVUPS      (SI), Y0       // s
	VMOVUPS      (R8), Y1       // arg
	VMULPS       Y9, Y1, Y1     // S·arg
	VFNMADD231PS Y8, Y0, Y1     // x = S·(arg − δ·w·s)
	VMINPS       Y14, Y1, Y1
	VMAXPS       Y15, Y1, Y1
	TANH_Y1
	VFMADD213PS  Y11, Y10, Y3   // t = A + M·tanh
	VMOVUPS      (R9), Y6
	VSUBPS       Y3, Y6, Y6     // m − t
	VMULPS       Y0, Y6, Y6
	VMULPS       Y12, Y6, Y6    // c·s·(m − t)
	VMOVUPS      (R10), Y7
	VFNMADD231PS Y13, Y7, Y6    // − w·d
	VMOVUPS      (R11), Y7
	VMOVUPS      (DI), Y4
	VFMADD231PS  Y7, Y6, Y4     // dst += g·r
	VMOVUPS      Y4, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, R8
	ADDQ         $32, R9
	ADDQ         $32, R10
	ADDQ         $32, R11
	DECQ         CX
	JNZ          cloop
	VZEROUPPER

cdone:
	RET

// func PSADense(dst, s, w []float32, a, m, d, up, delta, c, S, M, A float32)
TEXT ·PSADense(SB), NOSPLIT, $0-108
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         s_base+24(FP), SI
	MOVQ         w_base+48(FP), R8
	SHRQ         $3, CX
	JZ           ddone
	VBROADCASTSS S+96(FP), Y9
	VBROADCASTSS a+72(FP), Y8
	VMULPS       Y9, Y8, Y8         // S·a
	VBROADCASTSS delta+88(FP), Y10
	VMULPS       Y9, Y10, Y9        // S·δ
	VBROADCASTSS A+104(FP), Y11
	VBROADCASTSS m+76(FP), Y10
	VSUBPS       Y11, Y10, Y11      // m − A
	VBROADCASTSS M+100(FP), Y10
	VBROADCASTSS up+84(FP), Y12
	VBROADCASTSS c+92(FP), Y13
	VMULPS       Y12, Y13, Y13      // g·c
	VBROADCASTSS d+80(FP), Y6
	VMULPS       Y6, Y12, Y12       // g·d
	VBROADCASTSS psaTanh<>+0(SB), Y14
	VXORPS       Y15, Y15, Y15
	VSUBPS       Y14, Y15, Y15      // -clamp

dloop:
	VMOVUPS      (SI), Y0           // s
	VMOVUPS      (R8), Y7           // w
	VMULPS       Y7, Y0, Y1         // s·w
	VFNMADD213PS Y8, Y9, Y1         // x = S·a − S·δ·s·w
	VMINPS       Y14, Y1, Y1
	VMAXPS       Y15, Y1, Y1
	TANH_Y1
	VFNMADD213PS Y11, Y10, Y3       // (m − A) − M·tanh = m − t
	VMULPS       Y0, Y3, Y3         // s·(m − t)
	VMOVUPS      (DI), Y4
	VFMADD231PS  Y13, Y3, Y4        // += g·c·s·(m − t)
	VFNMADD231PS Y12, Y7, Y4        // −= g·d·w
	VMOVUPS      Y4, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, R8
	DECQ         CX
	JNZ          dloop
	VZEROUPPER

ddone:
	RET
