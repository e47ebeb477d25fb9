//go:build amd64 && !purego

#include "textflag.h"

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

// func Transform4(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol int, n, ni, no, add int, coef *[256]float32)
// The 4×4 intermediate tile t = L·d of one group of 8 lanes lives in the
// frame: t[i][q] at (4i+q)·32(SP).
TEXT ·Transform4(SB), 0, $512-120
	MOVQ dst_base+0(FP), DI
	MOVQ dstRow+24(FP), R8
	SHLQ $2, R8
	MOVQ dstCol+32(FP), R9
	SHLQ $2, R9
	MOVQ src_base+40(FP), SI
	MOVQ srcRow+64(FP), R10
	SHLQ $2, R10
	MOVQ srcCol+72(FP), R11
	SHLQ $2, R11
	MOVQ n+80(FP), CX
	SHRQ $3, CX
	JZ   tfdone
	MOVQ ni+88(FP), R12
	MOVQ no+96(FP), R13
	MOVQ coef+112(FP), BX
	XORQ DX, DX

tflane:
	// Pass 1: t[·][q] = L·d[·][q] for each column q (zero beyond ni).
	LEAQ (SI)(DX*1), AX
	XORQ R14, R14

tfp1:
	CMPQ    R14, R12
	JGE     tfp1zero
	MOVQ    AX, R15
	VMOVUPS (R15), Y0
	ADDQ    R10, R15
	VMOVUPS (R15), Y1
	CMPQ    R12, $2
	JEQ     tfp1two
	ADDQ    R10, R15
	VMOVUPS (R15), Y2
	ADDQ    R10, R15
	VMOVUPS (R15), Y3
	JMP     tfp1mul

tfp1two:
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	JMP    tfp1mul

tfp1zero:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

tfp1mul:
	VMULPS      0(BX), Y0, Y4
	VFMADD231PS 32(BX), Y1, Y4
	VFMADD231PS 64(BX), Y2, Y4
	VFMADD231PS 96(BX), Y3, Y4
	VMULPS      128(BX), Y0, Y5
	VFMADD231PS 160(BX), Y1, Y5
	VFMADD231PS 192(BX), Y2, Y5
	VFMADD231PS 224(BX), Y3, Y5
	VMULPS      256(BX), Y0, Y6
	VFMADD231PS 288(BX), Y1, Y6
	VFMADD231PS 320(BX), Y2, Y6
	VFMADD231PS 352(BX), Y3, Y6
	VMULPS      384(BX), Y0, Y7
	VFMADD231PS 416(BX), Y1, Y7
	VFMADD231PS 448(BX), Y2, Y7
	VFMADD231PS 480(BX), Y3, Y7
	MOVQ        R14, R15
	SHLQ        $5, R15
	VMOVUPS     Y4, 0(SP)(R15*1)
	VMOVUPS     Y5, 128(SP)(R15*1)
	VMOVUPS     Y6, 256(SP)(R15*1)
	VMOVUPS     Y7, 384(SP)(R15*1)
	ADDQ        R11, AX
	INCQ        R14
	CMPQ        R14, $4
	JLT         tfp1

	// Pass 2: out[i][·] = R·t[i][·] for each row i < no.
	LEAQ (DI)(DX*1), AX
	XORQ R14, R14

tfp2:
	CMPQ        R14, R13
	JGE         tfnext
	MOVQ        R14, R15
	SHLQ        $7, R15
	VMOVUPS     0(SP)(R15*1), Y0
	VMOVUPS     32(SP)(R15*1), Y1
	VMOVUPS     64(SP)(R15*1), Y2
	VMOVUPS     96(SP)(R15*1), Y3
	VMULPS      512(BX), Y0, Y4
	VFMADD231PS 544(BX), Y1, Y4
	VFMADD231PS 576(BX), Y2, Y4
	VFMADD231PS 608(BX), Y3, Y4
	VMULPS      640(BX), Y0, Y5
	VFMADD231PS 672(BX), Y1, Y5
	VFMADD231PS 704(BX), Y2, Y5
	VFMADD231PS 736(BX), Y3, Y5
	VMULPS      768(BX), Y0, Y6
	VFMADD231PS 800(BX), Y1, Y6
	VFMADD231PS 832(BX), Y2, Y6
	VFMADD231PS 864(BX), Y3, Y6
	VMULPS      896(BX), Y0, Y7
	VFMADD231PS 928(BX), Y1, Y7
	VFMADD231PS 960(BX), Y2, Y7
	VFMADD231PS 992(BX), Y3, Y7
	MOVQ        AX, R15
	CMPQ        add+104(FP), $0
	JEQ         tfstore
	VADDPS      (R15), Y4, Y4
	ADDQ        R9, R15
	VADDPS      (R15), Y5, Y5
	CMPQ        R13, $2
	JEQ         tfadd2
	ADDQ        R9, R15
	VADDPS      (R15), Y6, Y6
	ADDQ        R9, R15
	VADDPS      (R15), Y7, Y7

tfadd2:
	MOVQ AX, R15

tfstore:
	VMOVUPS Y4, (R15)
	ADDQ    R9, R15
	VMOVUPS Y5, (R15)
	CMPQ    R13, $2
	JEQ     tfrow
	ADDQ    R9, R15
	VMOVUPS Y6, (R15)
	ADDQ    R9, R15
	VMOVUPS Y7, (R15)

tfrow:
	ADDQ R8, AX
	INCQ R14
	JMP  tfp2

tfnext:
	ADDQ $32, DX
	DECQ CX
	JNZ  tflane

tfdone:
	VZEROUPPER
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
