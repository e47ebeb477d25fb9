//go:build amd64 && !purego

#include "textflag.h"

// func adamKernel(w, g, m, v []float32, b1, c1, b2, c2, eps, lr float32)
TEXT ·adamKernel(SB), NOSPLIT, $0-120
	MOVQ w_base+0(FP), DI
	MOVQ w_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	SHRQ $3, CX
	JZ   done
	VBROADCASTSS b1+96(FP), Y10
	VBROADCASTSS c1+100(FP), Y11
	VBROADCASTSS b2+104(FP), Y12
	VBROADCASTSS c2+108(FP), Y13
	VBROADCASTSS eps+112(FP), Y14
	VBROADCASTSS lr+116(FP), Y15

loop:
	VMOVUPS      (SI), Y0        // g
	VMULPS       Y11, Y0, Y1     // c1·g
	VFMADD231PS  (R8), Y10, Y1   // m = β1·m + c1·g
	VMULPS       Y0, Y0, Y2      // g²
	VMULPS       Y13, Y2, Y2     // c2·g²
	VFMADD231PS  (R9), Y12, Y2   // v = β2·v + c2·g²
	VMOVUPS      Y1, (R8)
	VMOVUPS      Y2, (R9)
	VSQRTPS      Y2, Y3
	VADDPS       Y14, Y3, Y3     // √v + ε
	VDIVPS       Y3, Y1, Y4      // m/(√v + ε)
	VMOVUPS      (DI), Y5
	VFNMADD231PS Y15, Y4, Y5     // w − lr·m/(√v + ε)
	VMOVUPS      Y5, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	ADDQ         $32, R8
	ADDQ         $32, R9
	DECQ         CX
	JNZ          loop
	VZEROUPPER

done:
	RET
