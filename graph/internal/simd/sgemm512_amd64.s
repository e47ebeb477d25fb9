//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 micro-kernels of Sgemm: kern8x32 and kern8x16 compute
//
//	C[i, j] (+)= Σ_p a[i·ars + p·acs]·b[p·bcs + j]
//
// for i < rows ≤ 8 and the j < 32 (16) whose bit is set in mask, C's rows
// ldc apart, adding to C when add is set and writing over it otherwise.
// The tile sits in 16 (8) zmm accumulators, Z4–Z19; each step p loads the
// 32 (16) values of B into Z0 (and Z1) and broadcasts the 8 of A.

// ARGS loads the arguments: k in CX, A's rows 0–3 from SI and 4–7 from R10
// (ars bytes apart: R11, 3·ars in R12), acs bytes in R13, B in DX, bcs
// bytes in R14, C in DI, ldc bytes in R8, rows in R9 and the mask in K1
// (columns 0–15) and K2 (16–31).
#define ARGS \
	MOVQ  k+0(FP), CX;      \
	MOVQ  a+8(FP), SI;      \
	MOVQ  ars+16(FP), R11;  \
	SHLQ  $2, R11;          \
	LEAQ  (R11)(R11*2), R12; \
	LEAQ  (SI)(R11*4), R10; \
	MOVQ  acs+24(FP), R13;  \
	SHLQ  $2, R13;          \
	MOVQ  b+32(FP), DX;     \
	MOVQ  bcs+40(FP), R14;  \
	SHLQ  $2, R14;          \
	MOVQ  c+48(FP), DI;     \
	MOVQ  ldc+56(FP), R8;   \
	SHLQ  $2, R8;           \
	MOVQ  rows+64(FP), R9;  \
	MOVQ  mask+72(FP), AX;  \
	KMOVW AX, K1;           \
	SHRQ  $16, AX;          \
	KMOVW AX, K2

// A0–A7 address the 8 values of A at step p.
#define A0 (SI)
#define A1 (SI)(R11*1)
#define A2 (SI)(R11*2)
#define A3 (SI)(R12*1)
#define A4 (R10)
#define A5 (R10)(R11*1)
#define A6 (R10)(R11*2)
#define A7 (R10)(R12*1)

// NEXTP moves A and B to step p+1 and loops while steps remain.
#define NEXTP(label) \
	ADDQ R13, SI;  \
	ADDQ R13, R10; \
	ADDQ R14, DX;  \
	DECQ CX;       \
	JNZ  label

// FMA32 adds row a's value times Z0:Z1 into c0:c1.
#define FMA32(a, c0, c1) \
	VBROADCASTSS a, Z2;      \
	VFMADD231PS  Z0, Z2, c0; \
	VFMADD231PS  Z1, Z2, c1

// PUT32 writes c0:c1 over a row of C, ADD32 adds them to it; PUT16 and
// ADD16 do so for c0 alone.
#define PUT32(c0, c1) \
	VMOVUPS c0, K1, (DI); \
	VMOVUPS c1, K2, 64(DI)

#define ADD32(c0, c1) \
	VMOVUPS.Z (DI), K1, Z0;   \
	VMOVUPS.Z 64(DI), K2, Z1; \
	VADDPS    Z0, c0, c0;     \
	VADDPS    Z1, c1, c1;     \
	PUT32(c0, c1)

#define PUT16(c0) \
	VMOVUPS c0, K1, (DI)

#define ADD16(c0) \
	VMOVUPS.Z (DI), K1, Z0; \
	VADDPS    Z0, c0, c0;   \
	PUT16(c0)

// NEXTROW moves C to its next row, leaving once rows rows are written.
#define NEXTROW \
	DECQ R9;    \
	JZ   done;  \
	ADDQ R8, DI

#define ZERO(z) VPXORD z, z, z

// ROWS32 and ROWS16 store the tile's rows with OP (PUT or ADD), stopping
// after rows rows.
#define ROWS32(OP) \
	OP(Z4, Z5); NEXTROW;   \
	OP(Z6, Z7); NEXTROW;   \
	OP(Z8, Z9); NEXTROW;   \
	OP(Z10, Z11); NEXTROW; \
	OP(Z12, Z13); NEXTROW; \
	OP(Z14, Z15); NEXTROW; \
	OP(Z16, Z17); NEXTROW; \
	OP(Z18, Z19)

#define ROWS16(OP) \
	OP(Z4); NEXTROW;  \
	OP(Z5); NEXTROW;  \
	OP(Z6); NEXTROW;  \
	OP(Z7); NEXTROW;  \
	OP(Z8); NEXTROW;  \
	OP(Z9); NEXTROW;  \
	OP(Z10); NEXTROW; \
	OP(Z11)

// func kern8x32(k int, a *float32, ars, acs int, b *float32, bcs int, c *float32, ldc, rows, mask int, add bool)
TEXT ·kern8x32(SB), NOSPLIT, $0-81
	ARGS
	ZERO(Z4); ZERO(Z5); ZERO(Z6); ZERO(Z7); ZERO(Z8); ZERO(Z9); ZERO(Z10); ZERO(Z11)
	ZERO(Z12); ZERO(Z13); ZERO(Z14); ZERO(Z15); ZERO(Z16); ZERO(Z17); ZERO(Z18); ZERO(Z19)
	TESTQ CX, CX
	JZ    store

loop:
	VMOVUPS (DX), Z0
	VMOVUPS 64(DX), Z1
	FMA32(A0, Z4, Z5)
	FMA32(A1, Z6, Z7)
	FMA32(A2, Z8, Z9)
	FMA32(A3, Z10, Z11)
	FMA32(A4, Z12, Z13)
	FMA32(A5, Z14, Z15)
	FMA32(A6, Z16, Z17)
	FMA32(A7, Z18, Z19)
	NEXTP(loop)

store:
	CMPB add+80(FP), $0
	JNE  add
	ROWS32(PUT32)
	JMP  done

add:
	ROWS32(ADD32)

done:
	VZEROUPPER
	RET

// func kern8x16(k int, a *float32, ars, acs int, b *float32, bcs int, c *float32, ldc, rows, mask int, add bool)
//
// One zmm of B per step, so the FMAs take A's values as embedded broadcasts.
TEXT ·kern8x16(SB), NOSPLIT, $0-81
	ARGS
	ZERO(Z4); ZERO(Z5); ZERO(Z6); ZERO(Z7); ZERO(Z8); ZERO(Z9); ZERO(Z10); ZERO(Z11)
	TESTQ CX, CX
	JZ    store

loop:
	VMOVUPS          (DX), Z0
	VFMADD231PS.BCST A0, Z0, Z4
	VFMADD231PS.BCST A1, Z0, Z5
	VFMADD231PS.BCST A2, Z0, Z6
	VFMADD231PS.BCST A3, Z0, Z7
	VFMADD231PS.BCST A4, Z0, Z8
	VFMADD231PS.BCST A5, Z0, Z9
	VFMADD231PS.BCST A6, Z0, Z10
	VFMADD231PS.BCST A7, Z0, Z11
	NEXTP(loop)

store:
	CMPB add+80(FP), $0
	JNE  add
	ROWS16(PUT16)
	JMP  done

add:
	ROWS16(ADD16)

done:
	VZEROUPPER
	RET
