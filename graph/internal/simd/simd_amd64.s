//go:build amd64 && !purego

#include "textflag.h"

// The Winograd tile kernels. Each runs a 1-D transform (OP_*: from Y0…Y3 to
// Y4…Y7, Y15 = 0) along the columns of the tile, into the intermediate tile
// in the frame (entry (i, q) at (4i+q)·32(SP)), then along its rows, into
// dst. AX walks the tile, BX the vectors of one column or row; R8, R9 are
// dst's row and column strides in bytes, R10, R11 src's; DX is the lane
// offset and CX counts groups of 8 lanes.
#define OP_BT VSUBPS Y2, Y0, Y4; VADDPS Y2, Y1, Y5; VSUBPS Y1, Y2, Y6; VSUBPS Y3, Y1, Y7
#define OP_AT VADDPS Y1, Y0, Y4; VADDPS Y2, Y4, Y4; VSUBPS Y2, Y1, Y5; VSUBPS Y3, Y5, Y5
#define OP_A VMOVAPS Y0, Y4; VADDPS Y1, Y0, Y5; VSUBPS Y1, Y0, Y6; VSUBPS Y1, Y15, Y7
#define OP_B VMOVAPS Y0, Y4; VSUBPS Y2, Y1, Y5; VADDPS Y3, Y5, Y5; VADDPS Y2, Y1, Y6; VSUBPS Y0, Y6, Y6; VSUBPS Y3, Y15, Y7

#define WINO_ARGS \
	MOVQ dst_base+0(FP), DI; MOVQ dstRow+24(FP), R8; SHLQ $2, R8; MOVQ dstCol+32(FP), R9; SHLQ $2, R9; \
	MOVQ src_base+40(FP), SI; MOVQ srcRow+64(FP), R10; SHLQ $2, R10; MOVQ srcCol+72(FP), R11; SHLQ $2, R11; \
	MOVQ n+80(FP), CX; SHRQ $3, CX; VXORPS Y15, Y15, Y15; XORQ DX, DX

#define LOAD_COL2 MOVQ AX, BX; VMOVUPS (BX), Y0; ADDQ R10, BX; VMOVUPS (BX), Y1
#define LOAD_COL4 LOAD_COL2; ADDQ R10, BX; VMOVUPS (BX), Y2; ADDQ R10, BX; VMOVUPS (BX), Y3
#define STORE_T2(q) VMOVUPS Y4, (q*32)(SP); VMOVUPS Y5, (128+q*32)(SP)
#define STORE_T4(q) STORE_T2(q); VMOVUPS Y6, (256+q*32)(SP); VMOVUPS Y7, (384+q*32)(SP)
#define LOAD_T2(i) VMOVUPS (i*128)(SP), Y0; VMOVUPS (i*128+32)(SP), Y1
#define LOAD_T4(i) LOAD_T2(i); VMOVUPS (i*128+64)(SP), Y2; VMOVUPS (i*128+96)(SP), Y3
#define STORE_OUT2 MOVQ AX, BX; VMOVUPS Y4, (BX); ADDQ R9, BX; VMOVUPS Y5, (BX)
#define STORE_OUT4 STORE_OUT2; ADDQ R9, BX; VMOVUPS Y6, (BX); ADDQ R9, BX; VMOVUPS Y7, (BX)
#define ADD_OUT4 \
	MOVQ AX, BX; VADDPS (BX), Y4, Y4; VMOVUPS Y4, (BX); ADDQ R9, BX; VADDPS (BX), Y5, Y5; VMOVUPS Y5, (BX); \
	ADDQ R9, BX; VADDPS (BX), Y6, Y6; VMOVUPS Y6, (BX); ADDQ R9, BX; VADDPS (BX), Y7, Y7; VMOVUPS Y7, (BX)

// The float32 coefficients of tanh32 (dcim/graph): the clamp c, then the
// numerator's a13 … a1 and the denominator's b6 … b0, as polynomials in x².
DATA tanhCoef<>+0(SB)/4, $0x40fcf84f  // c = 7.905311107635498
DATA tanhCoef<>+4(SB)/4, $0xa59f25c0  // a13 = -2.76076847742355e-16
DATA tanhCoef<>+8(SB)/4, $0x2a61337e  // a11 = 2.00018790482477e-13
DATA tanhCoef<>+12(SB)/4, $0xaebd37ff // a9 = -8.60467152213735e-11
DATA tanhCoef<>+16(SB)/4, $0x335c0041 // a7 = 5.12229709037114e-08
DATA tanhCoef<>+20(SB)/4, $0x3779434a // a5 = 1.48572235717979e-05
DATA tanhCoef<>+24(SB)/4, $0x3a270ded // a3 = 0.000637261928875436
DATA tanhCoef<>+28(SB)/4, $0x3ba059dc // a1 = 0.00489352455891786
DATA tanhCoef<>+32(SB)/4, $0x35a0d3d8 // b6 = 1.19825839466702e-06
DATA tanhCoef<>+36(SB)/4, $0x38f895d6 // b4 = 0.000118534705686654
DATA tanhCoef<>+40(SB)/4, $0x3b14aa05 // b2 = 0.002268434632439
DATA tanhCoef<>+44(SB)/4, $0x3ba059dd // b0 = 0.00489352518554385
GLOBL tanhCoef<>(SB), RODATA|NOPTR, $48

// func TanhAffine(dst, src []float32, b, s, m, a float32)
TEXT ·TanhAffine(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	SHRQ $3, CX
	JZ   done
	VBROADCASTSS b+48(FP), Y10
	VBROADCASTSS s+52(FP), Y11
	VBROADCASTSS m+56(FP), Y12
	VBROADCASTSS a+60(FP), Y13
	VBROADCASTSS tanhCoef<>+0(SB), Y14
	VXORPS       Y15, Y15, Y15
	VSUBPS       Y14, Y15, Y15 // -c

loop:
	VMOVUPS      (SI), Y0
	VADDPS       Y10, Y0, Y0
	VMULPS       Y11, Y0, Y0
	VMINPS       Y14, Y0, Y0
	VMAXPS       Y15, Y0, Y0 // x, clamped to [-c, c]
	VMULPS       Y0, Y0, Y1  // x²
	VBROADCASTSS tanhCoef<>+4(SB), Y2
	VBROADCASTSS tanhCoef<>+8(SB), Y3
	VFMADD213PS  Y3, Y1, Y2
	VBROADCASTSS tanhCoef<>+12(SB), Y3
	VFMADD213PS  Y3, Y1, Y2
	VBROADCASTSS tanhCoef<>+16(SB), Y3
	VFMADD213PS  Y3, Y1, Y2
	VBROADCASTSS tanhCoef<>+20(SB), Y3
	VFMADD213PS  Y3, Y1, Y2
	VBROADCASTSS tanhCoef<>+24(SB), Y3
	VFMADD213PS  Y3, Y1, Y2
	VBROADCASTSS tanhCoef<>+28(SB), Y3
	VFMADD213PS  Y3, Y1, Y2
	VMULPS       Y0, Y2, Y2 // p
	VBROADCASTSS tanhCoef<>+32(SB), Y4
	VBROADCASTSS tanhCoef<>+36(SB), Y5
	VFMADD213PS  Y5, Y1, Y4
	VBROADCASTSS tanhCoef<>+40(SB), Y5
	VFMADD213PS  Y5, Y1, Y4
	VBROADCASTSS tanhCoef<>+44(SB), Y5
	VFMADD213PS  Y5, Y1, Y4 // q
	VDIVPS       Y4, Y2, Y2 // p/q
	VFMADD213PS  Y13, Y12, Y2 // a + m·tanh
	VMOVUPS      Y2, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          loop
	VZEROUPPER

done:
	RET

// func Add(dst, src []float32)
TEXT ·Add(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	MOVQ CX, DX
	SHRQ $5, CX
	JZ   tail8

loop32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     loop32

tail8:
	ANDQ $31, DX
	SHRQ $3, DX
	JZ   done

loop8:
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    DX
	JNZ     loop8

done:
	VZEROUPPER
	RET

DATA one<>+0(SB)/4, $0x3f800000 // 1.0
GLOBL one<>(SB), RODATA|NOPTR, $4

// func ActBack(dz, y, dy []float32, sigmoid bool)
TEXT ·ActBack(SB), NOSPLIT, $0-73
	MOVQ         dz_base+0(FP), DI
	MOVQ         dz_len+8(FP), CX
	MOVQ         y_base+24(FP), SI
	MOVQ         dy_base+48(FP), DX
	MOVBLZX      sigmoid+72(FP), AX
	SHRQ         $3, CX
	JZ           abdone
	VBROADCASTSS one<>(SB), Y7
	TESTQ        AX, AX
	JNZ          abSigmoid

abTanh:
	VMOVUPS      (SI), Y0
	VMOVAPS      Y7, Y1
	VFNMADD231PS Y0, Y0, Y1 // 1 − y²
	VMULPS       (DX), Y1, Y1
	VMOVUPS      Y1, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, DI
	DECQ         CX
	JNZ          abTanh
	VZEROUPPER
	RET

abSigmoid:
	VMOVUPS (SI), Y0
	VSUBPS  Y0, Y7, Y1 // 1 − y
	VMULPS  Y0, Y1, Y1
	VMULPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     abSigmoid
	VZEROUPPER

abdone:
	RET

// func Sum(x []float32) float32
TEXT ·Sum(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   CX, DX
	SHRQ   $5, CX
	JZ     sum8

sum32:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ   $128, SI
	DECQ   CX
	JNZ    sum32

sum8:
	ANDQ $31, DX
	SHRQ $3, DX
	JZ   sumdone

sum8loop:
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   DX
	JNZ    sum8loop

sumdone:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func CopyRows(dst, src []float32, rows, width, stride int)
TEXT ·CopyRows(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ rows+48(FP), R8
	MOVQ width+56(FP), R9
	MOVQ stride+64(FP), R10
	SHLQ $2, R10
	TESTQ R8, R8
	JZ   crdone

crrow:
	MOVQ SI, AX
	MOVQ R9, CX
	SHRQ $3, CX
	JZ   crtail

crvec:
	VMOVUPS (AX), Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, AX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     crvec

crtail:
	MOVQ R9, CX
	ANDQ $7, CX
	JZ   crnext

crscalar:
	MOVL (AX), DX
	MOVL DX, (DI)
	ADDQ $4, AX
	ADDQ $4, DI
	DECQ CX
	JNZ  crscalar

crnext:
	ADDQ R10, SI
	DECQ R8
	JNZ  crrow
	VZEROUPPER

crdone:
	RET

// func AddRows(dst, src []float32, rows, width, stride int)
TEXT ·AddRows(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ rows+48(FP), R8
	MOVQ width+56(FP), R9
	MOVQ stride+64(FP), R10
	SHLQ $2, R10
	TESTQ R8, R8
	JZ   ardone

arrow:
	MOVQ DI, AX
	MOVQ R9, CX
	SHRQ $3, CX
	JZ   artail

arvec:
	VMOVUPS (SI), Y0
	VADDPS  (AX), Y0, Y0
	VMOVUPS Y0, (AX)
	ADDQ    $32, AX
	ADDQ    $32, SI
	DECQ    CX
	JNZ     arvec

artail:
	MOVQ R9, CX
	ANDQ $7, CX
	JZ   arnext

arscalar:
	VMOVSS (SI), X0
	VADDSS (AX), X0, X0
	VMOVSS X0, (AX)
	ADDQ   $4, AX
	ADDQ   $4, SI
	DECQ   CX
	JNZ    arscalar

arnext:
	ADDQ R10, DI
	DECQ R8
	JNZ  arrow
	VZEROUPPER

ardone:
	RET

// func Transpose8(dst []float32, ldd int, src []float32, lds int)
TEXT ·Transpose8(SB), NOSPLIT, $0-64
	MOVQ dst_base+0(FP), DI
	MOVQ ldd+24(FP), R8
	SHLQ $2, R8
	MOVQ src_base+32(FP), SI
	MOVQ lds+56(FP), R9
	SHLQ $2, R9
	MOVQ SI, AX
	VMOVUPS (AX), Y0
	ADDQ    R9, AX
	VMOVUPS (AX), Y1
	ADDQ    R9, AX
	VMOVUPS (AX), Y2
	ADDQ    R9, AX
	VMOVUPS (AX), Y3
	ADDQ    R9, AX
	VMOVUPS (AX), Y4
	ADDQ    R9, AX
	VMOVUPS (AX), Y5
	ADDQ    R9, AX
	VMOVUPS (AX), Y6
	ADDQ    R9, AX
	VMOVUPS (AX), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	MOVQ    DI, AX
	VMOVUPS Y8, (AX)
	ADDQ    R8, AX
	VMOVUPS Y9, (AX)
	ADDQ    R8, AX
	VMOVUPS Y10, (AX)
	ADDQ    R8, AX
	VMOVUPS Y11, (AX)
	ADDQ    R8, AX
	VMOVUPS Y12, (AX)
	ADDQ    R8, AX
	VMOVUPS Y13, (AX)
	ADDQ    R8, AX
	VMOVUPS Y14, (AX)
	ADDQ    R8, AX
	VMOVUPS Y15, (AX)
	VZEROUPPER
	RET

// func winoBt8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)
TEXT ·winoBt8(SB), 0, $512-88
	WINO_ARGS
	TESTQ CX, CX
	JZ    done

lane:
	LEAQ (SI)(DX*1), AX
	LOAD_COL4; OP_BT; STORE_T4(0)
	ADDQ R11, AX
	LOAD_COL4; OP_BT; STORE_T4(1)
	ADDQ R11, AX
	LOAD_COL4; OP_BT; STORE_T4(2)
	ADDQ R11, AX
	LOAD_COL4; OP_BT; STORE_T4(3)
	LEAQ (DI)(DX*1), AX
	LOAD_T4(0); OP_BT; STORE_OUT4
	ADDQ R8, AX
	LOAD_T4(1); OP_BT; STORE_OUT4
	ADDQ R8, AX
	LOAD_T4(2); OP_BT; STORE_OUT4
	ADDQ R8, AX
	LOAD_T4(3); OP_BT; STORE_OUT4
	ADDQ $32, DX
	DECQ CX
	JNZ  lane

done:
	VZEROUPPER
	RET

// func winoAt8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)
TEXT ·winoAt8(SB), 0, $512-88
	WINO_ARGS
	TESTQ CX, CX
	JZ    done

lane:
	LEAQ (SI)(DX*1), AX
	LOAD_COL4; OP_AT; STORE_T2(0)
	ADDQ R11, AX
	LOAD_COL4; OP_AT; STORE_T2(1)
	ADDQ R11, AX
	LOAD_COL4; OP_AT; STORE_T2(2)
	ADDQ R11, AX
	LOAD_COL4; OP_AT; STORE_T2(3)
	LEAQ (DI)(DX*1), AX
	LOAD_T4(0); OP_AT; STORE_OUT2
	ADDQ R8, AX
	LOAD_T4(1); OP_AT; STORE_OUT2
	ADDQ $32, DX
	DECQ CX
	JNZ  lane

done:
	VZEROUPPER
	RET

// func winoA8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)
TEXT ·winoA8(SB), 0, $512-88
	WINO_ARGS
	TESTQ CX, CX
	JZ    done

lane:
	LEAQ (SI)(DX*1), AX
	LOAD_COL2; OP_A; STORE_T4(0)
	ADDQ R11, AX
	LOAD_COL2; OP_A; STORE_T4(1)
	LEAQ (DI)(DX*1), AX
	LOAD_T2(0); OP_A; STORE_OUT4
	ADDQ R8, AX
	LOAD_T2(1); OP_A; STORE_OUT4
	ADDQ R8, AX
	LOAD_T2(2); OP_A; STORE_OUT4
	ADDQ R8, AX
	LOAD_T2(3); OP_A; STORE_OUT4
	ADDQ $32, DX
	DECQ CX
	JNZ  lane

done:
	VZEROUPPER
	RET

// func winoBAdd8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)
TEXT ·winoBAdd8(SB), 0, $512-88
	WINO_ARGS
	TESTQ CX, CX
	JZ    done

lane:
	LEAQ (SI)(DX*1), AX
	LOAD_COL4; OP_B; STORE_T4(0)
	ADDQ R11, AX
	LOAD_COL4; OP_B; STORE_T4(1)
	ADDQ R11, AX
	LOAD_COL4; OP_B; STORE_T4(2)
	ADDQ R11, AX
	LOAD_COL4; OP_B; STORE_T4(3)
	LEAQ (DI)(DX*1), AX
	LOAD_T4(0); OP_B; ADD_OUT4
	ADDQ R8, AX
	LOAD_T4(1); OP_B; ADD_OUT4
	ADDQ R8, AX
	LOAD_T4(2); OP_B; ADD_OUT4
	ADDQ R8, AX
	LOAD_T4(3); OP_B; ADD_OUT4
	ADDQ $32, DX
	DECQ CX
	JNZ  lane

done:
	VZEROUPPER
	RET

// func Bernoulli(dst, m, u []float32, a, s, hi, lo float32)
TEXT ·Bernoulli(SB), NOSPLIT, $0-88
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         m_base+24(FP), SI
	MOVQ         u_base+48(FP), DX
	SHRQ         $3, CX
	JZ           bdone
	VBROADCASTSS a+72(FP), Y10
	VBROADCASTSS s+76(FP), Y11
	VBROADCASTSS hi+80(FP), Y12
	VBROADCASTSS lo+84(FP), Y13

bloop:
	VMOVUPS (SI), Y0
	VADDPS  Y10, Y0, Y0
	VMULPS  Y11, Y0, Y0     // p = (m + a)·s
	VMOVUPS (DX), Y1
	VCMPPS  $1, Y0, Y1, Y2  // u < p
	VANDPS  Y12, Y2, Y2
	VSUBPS  Y13, Y2, Y2     // hi or 0, less lo
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     bloop
	VZEROUPPER

bdone:
	RET

// func DeinterleaveRows(d0, d1, src []float32, rows, width, stride int)
TEXT ·DeinterleaveRows(SB), NOSPLIT, $0-96
	MOVQ  d0_base+0(FP), DI
	MOVQ  d1_base+24(FP), R8
	MOVQ  src_base+48(FP), SI
	MOVQ  rows+72(FP), R9
	MOVQ  width+80(FP), R10
	MOVQ  stride+88(FP), R11
	SHLQ  $2, R11
	TESTQ R9, R9
	JZ    ddone

drow:
	MOVQ SI, AX
	MOVQ R10, CX

d8:
	CMPQ    CX, $8
	JL      d4
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // even entries, in 64-bit pairs 0, 2, 1, 3
	VSHUFPS $0xDD, Y1, Y0, Y3 // odd entries, likewise
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (R8)
	ADDQ    $64, AX
	ADDQ    $32, DI
	ADDQ    $32, R8
	SUBQ    $8, CX
	JMP     d8

d4:
	CMPQ    CX, $4
	JL      dnext
	VMOVUPS (AX), X0
	VMOVUPS 16(AX), X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMOVUPS X2, (DI)
	VMOVUPS X3, (R8)
	ADDQ    $32, AX
	ADDQ    $16, DI
	ADDQ    $16, R8
	SUBQ    $4, CX
	JMP     d4

dnext:
	ADDQ R11, SI
	DECQ R9
	JNZ  drow
	VZEROUPPER

ddone:
	RET

// func InterleaveRows(dst, s0, s1 []float32, rows, width, stride int)
TEXT ·InterleaveRows(SB), NOSPLIT, $0-96
	MOVQ  dst_base+0(FP), DI
	MOVQ  s0_base+24(FP), SI
	MOVQ  s1_base+48(FP), R8
	MOVQ  rows+72(FP), R9
	MOVQ  width+80(FP), R10
	MOVQ  stride+88(FP), R11
	SHLQ  $2, R11
	TESTQ R9, R9
	JZ    idone

irow:
	MOVQ DI, AX
	MOVQ R10, CX

i8:
	CMPQ       CX, $8
	JL         i4
	VMOVUPS    (SI), Y0
	VMOVUPS    (R8), Y1
	VUNPCKLPS  Y1, Y0, Y2 // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS  Y1, Y0, Y3 // a2 b2 a3 b3 | a6 b6 a7 b7
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS    Y4, (AX)
	VMOVUPS    Y5, 32(AX)
	ADDQ       $64, AX
	ADDQ       $32, SI
	ADDQ       $32, R8
	SUBQ       $8, CX
	JMP        i8

i4:
	CMPQ      CX, $4
	JL        inext
	VMOVUPS   (SI), X0
	VMOVUPS   (R8), X1
	VUNPCKLPS X1, X0, X2
	VUNPCKHPS X1, X0, X3
	VMOVUPS   X2, (AX)
	VMOVUPS   X3, 16(AX)
	ADDQ      $32, AX
	ADDQ      $16, SI
	ADDQ      $16, R8
	SUBQ      $4, CX
	JMP       i4

inext:
	ADDQ R11, DI
	DECQ R9
	JNZ  irow
	VZEROUPPER

idone:
	RET
