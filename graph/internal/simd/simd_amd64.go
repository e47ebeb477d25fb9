//go:build amd64 && !purego

package simd

import (
	"os"

	"golang.org/x/sys/cpu"
)

// OK says whether the kernels of this package may run: the CPU has AVX2
// and FMA, and the environment does not switch them off (DCIM_SGEMM=generic).
var OK = pickOK()

func pickOK() bool {
	return cpu.X86.HasAVX2 && cpu.X86.HasFMA && os.Getenv("DCIM_SGEMM") != "generic"
}

// wide says whether the Winograd tile kernels and TransposeStrip run their
// AVX-512 versions: with the SGEMM's kernel (pickKernel), so that
// DCIM_SGEMM=avx2 in the environment forces AVX2 throughout.
var wide = kern == avx512

// Wide says whether the Winograd tile kernels and TransposeStrip run their
// AVX-512 versions.
func Wide() bool { return wide }

// SetWide selects the AVX-512 (on) or AVX2 tile kernels and transposes,
// for tests and benchmarks, and returns the previous choice; on is ignored
// where the CPU has no AVX-512. It is not safe to call while they run.
func SetWide(on bool) (was bool) {
	was, wide = wide, on && cpu.X86.HasAVX512F
	return was
}

// Block is the side of the blocks of TransposeStrip: 16 with
// AVX-512, 8 otherwise.
func Block() int {
	if wide {
		return 16
	}
	return 8
}

// Transforms names the kernels of the Winograd tile transforms and the
// layout transposes.
func Transforms() string {
	if wide {
		return "AVX-512 16-lane"
	}
	return "AVX2 8-lane"
}

// TanhAffine writes dst[i] = a + m·tanh(s·(src[i] + b)) for the first
// len(dst) rounded down to a multiple of 8 elements, through the rational
// function of graph's tanh32 (to within rounding: it uses fused
// multiply-adds). src must be at least as long as dst; dst may be src.
//
//go:noescape
func TanhAffine(dst, src []float32, b, s, m, a float32)

// Add adds src into dst, dst[i] += src[i], for the first len(dst) rounded
// down to a multiple of 8 elements; src must be at least as long as dst.
//
//go:noescape
func Add(dst, src []float32)

// ActBack writes the derivative through an activation from its output y:
// dz[i] = dy[i]·(1 − y[i]²) for tanh, dy[i]·y[i]·(1 − y[i]) for the
// sigmoid, for the first len(dz) rounded down to a multiple of 8 elements.
//
//go:noescape
func ActBack(dz, y, dy []float32, sigmoid bool)

// Sum returns the sum of the first len(x) rounded down to a multiple of 8
// elements of x.
//
//go:noescape
func Sum(x []float32) float32

// CopyRows gathers rows rows of width values, stride apart in src, into
// dst back to back: dst[i·width+j] = src[i·stride+j]. It does not check
// bounds: dst must hold rows·width values and src (rows−1)·stride+width.
//
//go:noescape
func CopyRows(dst, src []float32, rows, width, stride int)

// AddRows is the adjoint of CopyRows: dst[i·stride+j] += src[i·width+j],
// with the same unchecked bounds (dst strided, src back to back).
//
//go:noescape
func AddRows(dst, src []float32, rows, width, stride int)

// Transpose8 writes the transpose of the 8×8 block at src (rows lds
// apart) into dst (rows ldd apart): dst[j·ldd+i] = src[i·lds+j]. It does not
// check bounds.
//
//go:noescape
func Transpose8(dst []float32, ldd int, src []float32, lds int)

// The Winograd tile kernels (WinoBt, WinoAt, WinoA, WinoBAdd) run a tile
// transform lane by lane over n lanes (a multiple of 8) on a run of tiles:
// entry (r, q) of tile t is the n values at src[t·srcStep + r·srcRow +
// q·srcCol:], and entry (i, s) of its result goes to dst[t·dstStep +
// i·dstRow + s·dstCol:]. They do not check bounds. With AVX-512 (Wide),
// n a multiple of 16 runs 16 lanes per vector, with the intermediate tile
// in registers; otherwise 8 lanes per vector (AVX2), a call per tile. Both
// give the same bits.

// WinoBt computes Bᵀ·d·B, the input transform: Bᵀ = [1 0 −1 0; 0 1 1 0;
// 0 −1 1 0; 0 1 0 −1], a 4×4 tile to a 4×4 tile.
func WinoBt(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	winoRun(winoBt16, winoBt8, dst, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
}

// WinoAt computes Aᵀ·m·A, the output transform: Aᵀ = [1 1 1 0; 0 1 −1 −1],
// a 4×4 tile to a 2×2 tile.
func WinoAt(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	winoRun(winoAt16, winoAt8, dst, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
}

// WinoA computes A·y·Aᵀ, the adjoint of WinoAt: a 2×2 tile to a 4×4 tile.
func WinoA(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	winoRun(winoA16, winoA8, dst, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
}

// WinoBAdd computes B·m·Bᵀ, the adjoint of WinoBt, added to dst: a 4×4
// tile to a 4×4 tile.
func WinoBAdd(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	winoRun(winoBAdd16, winoBAdd8, dst, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
}

type (
	wino8  func(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)
	wino16 func(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)
)

// winoRun runs a tile kernel: the 16-lane one on all tiles at once where
// it applies, the 8-lane one tile by tile otherwise.
func winoRun(k16 wino16, k8 wino8, dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	if tiles <= 0 || n < 8 {
		return
	}
	if wide && n%16 == 0 {
		k16(dst, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
		return
	}
	for t := range tiles {
		k8(dst[t*dstStep:], dstRow, dstCol, src[t*srcStep:], srcRow, srcCol, n)
	}
}

// The 8-lane (AVX2) tile kernels, one tile a call.
//
//go:noescape
func winoBt8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

//go:noescape
func winoAt8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

//go:noescape
func winoA8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

//go:noescape
func winoBAdd8(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

// The 16-lane (AVX-512) tile kernels, tiles tiles a call (at least one).
//
//go:noescape
func winoBt16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)

//go:noescape
func winoAt16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)

//go:noescape
func winoA16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)

//go:noescape
func winoBAdd16(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)

// Transpose16 transposes blocks 16×16 blocks side by side, a 16×16·blocks
// strip at src (rows lds apart), into dst (rows ldd apart): dst[j·ldd+i] =
// src[i·lds+j], in AVX-512. It does not check bounds.
//
//go:noescape
func Transpose16(dst []float32, ldd int, src []float32, lds, blocks int)

// TransposeStrip transposes a Block×Block·blocks strip as Transpose16
// does: with Transpose16 where the CPU runs AVX-512 (Wide), block by block
// with Transpose8 otherwise.
func TransposeStrip(dst []float32, ldd int, src []float32, lds, blocks int) {
	if wide {
		Transpose16(dst, ldd, src, lds, blocks)
		return
	}
	for b := range blocks {
		Transpose8(dst[8*b*ldd:], ldd, src[8*b:], lds)
	}
}

// Transpose writes dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols:
// strips of Block×Block blocks through TransposeStrip, 8×8 blocks through
// Transpose8 on what the strips leave, and the edges value by value, four
// rows at a time.
func Transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	_, _ = src[(rows-1)*lds+cols-1], dst[(cols-1)*ldd+rows-1] // the kernels do not check
	bs := Block()
	rs, cs := rows-rows%bs, cols-cols%bs
	if cs > 0 {
		for r := 0; r < rs; r += bs {
			TransposeStrip(dst[r:], ldd, src[r*lds:], lds, cs/bs)
		}
	}
	r8, c8 := rows&^7, cols&^7
	blocks8(dst, ldd, src, lds, 0, rs, cs, c8)
	blocks8(dst, ldd, src, lds, rs, r8, 0, c8)
	gather(dst, ldd, src, lds, 0, r8, c8, cols)
	gather(dst, ldd, src, lds, r8, rows, 0, cols)
}

// blocks8 is Transpose on rows [r0, r1) and columns [c0, c1), whole 8×8
// blocks, through Transpose8.
func blocks8(dst []float32, ldd int, src []float32, lds, r0, r1, c0, c1 int) {
	for r := r0; r < r1; r += 8 {
		for c := c0; c < c1; c += 8 {
			Transpose8(dst[c*ldd+r:], ldd, src[r*lds+c:], lds)
		}
	}
}

// gather is transpose on rows [r0, r1) and columns [c0, c1), element by
// element.
func gather(dst []float32, ldd int, src []float32, lds, r0, r1, c0, c1 int) {
	if c0 >= c1 {
		return
	}
	r := r0
	for ; r+4 <= r1; r += 4 {
		s0, s1 := src[r*lds:r*lds+c1], src[(r+1)*lds:(r+1)*lds+c1]
		s2, s3 := src[(r+2)*lds:(r+2)*lds+c1], src[(r+3)*lds:(r+3)*lds+c1]
		for c := c0; c < c1; c++ {
			d := dst[c*ldd+r : c*ldd+r+4 : c*ldd+r+4]
			d[0], d[1], d[2], d[3] = s0[c], s1[c], s2[c], s3[c]
		}
	}
	for ; r < r1; r++ {
		for c, v := range src[r*lds+c0 : r*lds+c1] {
			dst[(c0+c)*ldd+r] = v
		}
	}
}

// Bernoulli draws dst[i] = (hi if u[i] < p else 0) − lo with p = (m[i] + a)·s,
// for the first len(dst) rounded down to a multiple of 8 elements: a
// {0,1} unit (a = 0, s = 1, hi = 1, lo = 0) or a ±1 unit (a = 1, s = ½,
// hi = 2, lo = 1) drawn from its mean m with uniform noise u. m and u must
// be at least as long as dst.
//
//go:noescape
func Bernoulli(dst, m, u []float32, a, s, hi, lo float32)

// DeinterleaveRows splits rows rows of 2·width values, stride apart in src,
// into their even and odd entries: d0[i·width+j] = src[i·stride+2j] and
// d1[i·width+j] = src[i·stride+2j+1]. width must be a multiple of 4; it
// does not check bounds.
//
//go:noescape
func DeinterleaveRows(d0, d1, src []float32, rows, width, stride int)

// InterleaveRows is the adjoint of DeinterleaveRows, as stores:
// dst[i·stride+2j] = s0[i·width+j], dst[i·stride+2j+1] = s1[i·width+j].
// width must be a multiple of 4; it does not check bounds.
//
//go:noescape
func InterleaveRows(dst, s0, s1 []float32, rows, width, stride int)
