//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 Winograd tile kernels: 16 lanes per zmm, a run of tiles per
// call, the intermediate tile in registers. Per tile and group of 16 lanes,
// a 1-D transform (OP16_*) runs down each column of the tile (loaded into
// Z0…Z3, Z15 = 0) into the intermediate tile t (entry (i, q) in Z(16+4i+q)),
// then along each row of t into Z0…Z3, stored to dst. The operations and
// their order are those of the AVX2 kernels (simd_amd64.s), so both give
// the same bits. AX walks the columns of a source tile, BX the rows of a
// destination tile; R8, R9 are dst's row and column strides in bytes, R13
// three column strides; R10, R11 src's, R12 three row strides; DX is the
// lane offset, CX counts groups of 16 lanes and R14 tiles.
#define OP16_BT(a0, a1, a2, a3, o0, o1, o2, o3) VSUBPS a2, a0, o0; VADDPS a2, a1, o1; VSUBPS a1, a2, o2; VSUBPS a3, a1, o3
#define OP16_AT(a0, a1, a2, a3, o0, o1) VADDPS a1, a0, o0; VADDPS a2, o0, o0; VSUBPS a2, a1, o1; VSUBPS a3, o1, o1
#define OP16_A(a0, a1, o0, o1, o2, o3) VMOVAPS a0, o0; VADDPS a1, a0, o1; VSUBPS a1, a0, o2; VSUBPS a1, Z15, o3
#define OP16_B(a0, a1, a2, a3, o0, o1, o2, o3) VMOVAPS a0, o0; VSUBPS a2, a1, o1; VADDPS a3, o1, o1; VADDPS a2, a1, o2; VSUBPS a0, o2, o2; VSUBPS a3, Z15, o3

#define WINO16_ARGS \
	MOVQ dst_base+0(FP), DI; MOVQ dstRow+24(FP), R8; SHLQ $2, R8; MOVQ dstCol+32(FP), R9; SHLQ $2, R9; \
	LEAQ (R9)(R9*2), R13; MOVQ src_base+40(FP), SI; MOVQ srcRow+64(FP), R10; SHLQ $2, R10; \
	LEAQ (R10)(R10*2), R12; MOVQ srcCol+72(FP), R11; SHLQ $2, R11; MOVQ tiles+88(FP), R14; \
	VXORPS Y15, Y15, Y15

// TILE_START starts a tile: the lane offset and count. LANE_NEXT closes a
// group of lanes, TILE_NEXT a tile (to the next by dstStep and srcStep).
#define TILE_START XORQ DX, DX; MOVQ n+80(FP), CX; SHRQ $4, CX
#define LANE_NEXT(l) ADDQ $64, DX; DECQ CX; JNZ l
#define TILE_NEXT(t) \
	MOVQ dstStep+96(FP), CX; SHLQ $2, CX; ADDQ CX, DI; MOVQ srcStep+104(FP), CX; SHLQ $2, CX; ADDQ CX, SI; \
	DECQ R14; JNZ t; VZEROUPPER; RET

// WINO16_HEAD starts a tile kernel and its loops over tiles and groups of
// lanes, AX at the tile's source; WINO16_TAIL closes them.
#define WINO16_HEAD WINO16_ARGS; tile: TILE_START; lane: LEAQ (SI)(DX*1), AX
#define WINO16_TAIL LANE_NEXT(lane); TILE_NEXT(tile)

// Column q of the source tile (AX at its top), rows 0…3 or 0…1.
#define LOAD16_4 VMOVUPS (AX), Z0; VMOVUPS (AX)(R10*1), Z1; VMOVUPS (AX)(R10*2), Z2; VMOVUPS (AX)(R12*1), Z3
#define LOAD16_2 VMOVUPS (AX), Z0; VMOVUPS (AX)(R10*1), Z1

// Row i of the destination tile (BX at its start), columns 0…3 or 0…1.
#define STORE16_4 VMOVUPS Z0, (BX); VMOVUPS Z1, (BX)(R9*1); VMOVUPS Z2, (BX)(R9*2); VMOVUPS Z3, (BX)(R13*1)
#define STORE16_2 VMOVUPS Z0, (BX); VMOVUPS Z1, (BX)(R9*1)
#define ADD16_4 \
	VADDPS (BX), Z0, Z0; VMOVUPS Z0, (BX); VADDPS (BX)(R9*1), Z1, Z1; VMOVUPS Z1, (BX)(R9*1); \
	VADDPS (BX)(R9*2), Z2, Z2; VMOVUPS Z2, (BX)(R9*2); VADDPS (BX)(R13*1), Z3, Z3; VMOVUPS Z3, (BX)(R13*1)

// WINO16_44 is the body of a 4×4 to 4×4 tile kernel: the transform op,
// the row store out (STORE16_4 or ADD16_4).
#define WINO16_44(op, out) \
	WINO16_HEAD; \
	LOAD16_4; op(Z0, Z1, Z2, Z3, Z16, Z20, Z24, Z28); ADDQ R11, AX; \
	LOAD16_4; op(Z0, Z1, Z2, Z3, Z17, Z21, Z25, Z29); ADDQ R11, AX; \
	LOAD16_4; op(Z0, Z1, Z2, Z3, Z18, Z22, Z26, Z30); ADDQ R11, AX; \
	LOAD16_4; op(Z0, Z1, Z2, Z3, Z19, Z23, Z27, Z31); \
	LEAQ (DI)(DX*1), BX; \
	op(Z16, Z17, Z18, Z19, Z0, Z1, Z2, Z3); out; ADDQ R8, BX; \
	op(Z20, Z21, Z22, Z23, Z0, Z1, Z2, Z3); out; ADDQ R8, BX; \
	op(Z24, Z25, Z26, Z27, Z0, Z1, Z2, Z3); out; ADDQ R8, BX; \
	op(Z28, Z29, Z30, Z31, Z0, Z1, Z2, Z3); out; \
	WINO16_TAIL

// func winoBt16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)
TEXT ·winoBt16(SB), NOSPLIT, $0-112
	WINO16_44(OP16_BT, STORE16_4)

// func winoAt16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)
TEXT ·winoAt16(SB), NOSPLIT, $0-112
	WINO16_HEAD
	LOAD16_4; OP16_AT(Z0, Z1, Z2, Z3, Z16, Z20); ADDQ R11, AX
	LOAD16_4; OP16_AT(Z0, Z1, Z2, Z3, Z17, Z21); ADDQ R11, AX
	LOAD16_4; OP16_AT(Z0, Z1, Z2, Z3, Z18, Z22); ADDQ R11, AX
	LOAD16_4; OP16_AT(Z0, Z1, Z2, Z3, Z19, Z23)
	LEAQ (DI)(DX*1), BX
	OP16_AT(Z16, Z17, Z18, Z19, Z0, Z1); STORE16_2; ADDQ R8, BX
	OP16_AT(Z20, Z21, Z22, Z23, Z0, Z1); STORE16_2
	WINO16_TAIL

// func winoA16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)
TEXT ·winoA16(SB), NOSPLIT, $0-112
	WINO16_HEAD
	LOAD16_2; OP16_A(Z0, Z1, Z16, Z20, Z24, Z28); ADDQ R11, AX
	LOAD16_2; OP16_A(Z0, Z1, Z17, Z21, Z25, Z29)
	LEAQ (DI)(DX*1), BX
	OP16_A(Z16, Z17, Z0, Z1, Z2, Z3); STORE16_4; ADDQ R8, BX
	OP16_A(Z20, Z21, Z0, Z1, Z2, Z3); STORE16_4; ADDQ R8, BX
	OP16_A(Z24, Z25, Z0, Z1, Z2, Z3); STORE16_4; ADDQ R8, BX
	OP16_A(Z28, Z29, Z0, Z1, Z2, Z3); STORE16_4
	WINO16_TAIL

// func winoBAdd16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)
TEXT ·winoBAdd16(SB), NOSPLIT, $0-112
	WINO16_44(OP16_B, ADD16_4)

// Transpose16's rows: LOADT(r) loads source row r (AX at row 0, R9 the row
// stride, R10 three) into Z(r); STORET stores Z0…Z15 as rows of dst.
#define LOADT4(a, b, c, d) VMOVUPS (AX), a; VMOVUPS (AX)(R9*1), b; VMOVUPS (AX)(R9*2), c; VMOVUPS (AX)(R10*1), d; LEAQ (AX)(R9*4), AX
#define STORET4(a, b, c, d) VMOVUPS a, (AX); VMOVUPS b, (AX)(R8*1); VMOVUPS c, (AX)(R8*2); VMOVUPS d, (AX)(R11*1); LEAQ (AX)(R8*4), AX

// UNPCK interleaves rows a and b (lo: entries 0, 1 of each 128-bit lane,
// hi: 2, 3); SHUF2 takes pairs from two interleaved rows (lo: the first
// pair of each lane of a and b, hi: the second).
#define UNPCK(a, b, lo, hi) VUNPCKLPS b, a, lo; VUNPCKHPS b, a, hi
#define SHUF2(a, b, lo, hi) VSHUFPS $0x44, b, a, lo; VSHUFPS $0xEE, b, a, hi

// Stage 3 of the transpose for column m of each 128-bit lane: from rows
// u = Z(m), Z(4+m), Z(8+m), Z(12+m) (lane k of each holds column 4k+m of
// four rows) to the columns m, 4+m, 8+m, 12+m, in the same registers.
#define TCOL(u0, u1, u2, u3) \
	VSHUFF32X4 $0x88, u1, u0, Z16; VSHUFF32X4 $0xDD, u1, u0, Z17; \
	VSHUFF32X4 $0x88, u3, u2, Z18; VSHUFF32X4 $0xDD, u3, u2, Z19; \
	VSHUFF32X4 $0x88, Z18, Z16, u0; VSHUFF32X4 $0xDD, Z18, Z16, u2; \
	VSHUFF32X4 $0x88, Z19, Z17, u1; VSHUFF32X4 $0xDD, Z19, Z17, u3

// func Transpose16(dst []float32, ldd int, src []float32, lds, blocks int)
TEXT ·Transpose16(SB), NOSPLIT, $0-72
	MOVQ  dst_base+0(FP), DI
	MOVQ  ldd+24(FP), R8
	SHLQ  $2, R8
	LEAQ  (R8)(R8*2), R11
	MOVQ  R8, R12
	SHLQ  $4, R12 // 16 rows of dst
	MOVQ  src_base+32(FP), SI
	MOVQ  lds+56(FP), R9
	SHLQ  $2, R9
	LEAQ  (R9)(R9*2), R10
	MOVQ  blocks+64(FP), CX
	TESTQ CX, CX
	JZ    done

block:
	MOVQ SI, AX
	LOADT4(Z0, Z1, Z2, Z3)
	LOADT4(Z4, Z5, Z6, Z7)
	LOADT4(Z8, Z9, Z10, Z11)
	LOADT4(Z12, Z13, Z14, Z15)

	// Pairs of rows interleaved, then pairs of pairs: afterwards lane k
	// of Z(4g+m) holds column 4k+m of rows 4g…4g+3.
	UNPCK(Z0, Z1, Z16, Z17)
	UNPCK(Z2, Z3, Z18, Z19)
	UNPCK(Z4, Z5, Z20, Z21)
	UNPCK(Z6, Z7, Z22, Z23)
	UNPCK(Z8, Z9, Z24, Z25)
	UNPCK(Z10, Z11, Z26, Z27)
	UNPCK(Z12, Z13, Z28, Z29)
	UNPCK(Z14, Z15, Z30, Z31)
	SHUF2(Z16, Z18, Z0, Z1)
	SHUF2(Z17, Z19, Z2, Z3)
	SHUF2(Z20, Z22, Z4, Z5)
	SHUF2(Z21, Z23, Z6, Z7)
	SHUF2(Z24, Z26, Z8, Z9)
	SHUF2(Z25, Z27, Z10, Z11)
	SHUF2(Z28, Z30, Z12, Z13)
	SHUF2(Z29, Z31, Z14, Z15)
	TCOL(Z0, Z4, Z8, Z12)
	TCOL(Z1, Z5, Z9, Z13)
	TCOL(Z2, Z6, Z10, Z14)
	TCOL(Z3, Z7, Z11, Z15)

	MOVQ DI, AX
	STORET4(Z0, Z1, Z2, Z3)
	STORET4(Z4, Z5, Z6, Z7)
	STORET4(Z8, Z9, Z10, Z11)
	STORET4(Z12, Z13, Z14, Z15)
	ADDQ $64, SI
	ADDQ R12, DI
	DECQ CX
	JNZ  block
	VZEROUPPER

done:
	RET
