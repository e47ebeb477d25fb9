//go:build amd64 && !purego

package simd

import "golang.org/x/sys/cpu"

// OK says whether the kernels of this package may run: the CPU has AVX2
// and FMA.
var OK = cpu.X86.HasAVX2 && cpu.X86.HasFMA

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

// WinoBt computes Bᵀ·d·B, the input transform: Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], a 4×4 tile to a 4×4 tile, lane by lane over n lanes (a multiple of 8): the
// tile's entry (r, q) is the n values at src[r·srcRow+q·srcCol:], and
// entry (i, s) of the result goes to dst[i·dstRow+s·dstCol:]. It does not
// check bounds.
//
//go:noescape
func WinoBt(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

// WinoAt computes Aᵀ·m·A, the output transform: Aᵀ = [1 1 1 0; 0 1 −1 −1], a 4×4 tile to a 2×2 tile, lane by lane over n lanes (a multiple of 8): the
// tile's entry (r, q) is the n values at src[r·srcRow+q·srcCol:], and
// entry (i, s) of the result goes to dst[i·dstRow+s·dstCol:]. It does not
// check bounds.
//
//go:noescape
func WinoAt(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

// WinoA computes A·y·Aᵀ, the adjoint of WinoAt: a 2×2 tile to a 4×4 tile, lane by lane over n lanes (a multiple of 8): the
// tile's entry (r, q) is the n values at src[r·srcRow+q·srcCol:], and
// entry (i, s) of the result goes to dst[i·dstRow+s·dstCol:]. It does not
// check bounds.
//
//go:noescape
func WinoA(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

// WinoBAdd computes B·m·Bᵀ, the adjoint of WinoBt, added to dst: a 4×4 tile to a 4×4 tile, lane by lane over n lanes (a multiple of 8): the
// tile's entry (r, q) is the n values at src[r·srcRow+q·srcCol:], and
// entry (i, s) of the result goes to dst[i·dstRow+s·dstCol:]. It does not
// check bounds.
//
//go:noescape
func WinoBAdd(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n int)

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
