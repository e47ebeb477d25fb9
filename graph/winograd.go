package graph

import (
	"fmt"

	"dcim/graph/internal/simd"
)

// Winograd's minimal filtering F(2×2, 3×3) computes a 2×2 tile of a
// stride-1 3×3 convolution from a 4×4 tile d of the input with 16
// multiplications instead of 36:
//
//	y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// with the kernel g (3×3) and the fixed matrices
//
//	Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//	G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//	Aᵀ = [1 1 1 0; 0 1 −1 −1].
//
// Summed over input channels, the 16 products of each tile become 16 GEMMs
// (one per position ξ of the 4×4 transformed tile) of the transformed input
// tiles V[ξ] (tiles×C) with the transformed kernels U[ξ] (O×C). The tile
// transforms work on an image in channel-last layout, so that each runs
// over the C (or O) values of a tile position at once, 16 lanes at a time
// with AVX-512 and 8 with AVX2 (simd.WinoBt and its kin, a row of tiles a
// call); an image is transposed into that layout and back on the way. The
// transposed convolution and the kernel gradient are the exact adjoints of
// that formula, in d and in g:
//
//	d̄ = B [ (G g Gᵀ) ⊙ (A ȳ Aᵀ) ] Bᵀ   (summed where input tiles overlap)
//	ḡ = Gᵀ [ Σ_tiles (A ȳ Aᵀ) ⊙ (Bᵀ d B) ] G
//
// so the three kernels stay adjoint to each other as the im2col ones are.
// They apply to stride-1 3×3 convolutions with an even output size (the
// tiles then cover the output exactly); ConvGeom.winograd chooses them per
// layer.

// ConvAlgorithm selects how stride-1 3×3 convolutions are computed.
type ConvAlgorithm int

const (
	// ConvAuto uses Winograd F(2×2, 3×3) where the layer has enough input
	// channels for it to pay (winoMinC) and im2col elsewhere. On the
	// paper's CNN that is layers 2, 4 and 5, where all three directions
	// measured 25–50% less CPU time than im2col (BenchmarkConv).
	ConvAuto ConvAlgorithm = iota
	// ConvIm2col uses im2col and one GEMM for every convolution.
	ConvIm2col
	// ConvWinograd uses Winograd for every convolution it applies to.
	ConvWinograd
)

var convAlgorithmNames = [...]string{"auto", "im2col", "winograd"}

func (a ConvAlgorithm) String() string { return convAlgorithmNames[a] }

// ParseConvAlgorithm reads "auto", "im2col" or "winograd".
func ParseConvAlgorithm(s string) (ConvAlgorithm, error) {
	for i, n := range convAlgorithmNames {
		if n == s {
			return ConvAlgorithm(i), nil
		}
	}
	return 0, fmt.Errorf("unknown convolution algorithm %q (want auto, im2col or winograd)", s)
}

// convAlgorithm is the process-wide choice; SetConvAlgorithm changes it.
var convAlgorithm = ConvAuto

// SetConvAlgorithm selects the convolution algorithm of every graph run
// after the call (for benchmarks and tests; the default is ConvAuto). It is
// not safe to call while a graph runs.
func SetConvAlgorithm(a ConvAlgorithm) { convAlgorithm = a }

// WinoTransforms names the kernels that run the float32 Winograd tile
// transforms and layout transposes: AVX-512 with 16 lanes where the CPU has
// it (unless the environment sets DCIM_SGEMM=avx2, as for the SGEMM), AVX2
// with 8 lanes otherwise, or scalar Go without AVX2 (or with
// DCIM_SGEMM=generic).
func WinoTransforms() string {
	if !simd.OK {
		return "scalar"
	}
	return simd.Transforms()
}

// winoMinC is the least number of input channels for which ConvAuto picks
// Winograd: with few channels the transforms cost more than the GEMM work
// they save (the CNN's first layer has C = 1). ConvAuto also wants C and O
// to be multiples of 8, the lanes of the vector tile transforms.
const winoMinC = 16

// winoCols is the number of tile columns a chunk of images aims at in the
// Winograd GEMMs (one image of the CNN's last 3×3 layer has only 16 tiles).
// 128 took 10–35% less CPU time than 256 on the CNN's layers 2, 4 and 5
// (BenchmarkConvChunk, Zen 5, with the AVX2 and the AVX-512 transforms),
// likely because a chunk's planes V and M then fit a 1 MB L2 cache (590 KB
// on layer 2, one image; 1.2 MB at 256, two images).
var winoCols = 128

// winograd says whether the three convolution kernels of g use Winograd.
func (g ConvGeom) winograd() bool {
	fits := g.K == 3 && g.S == 1 && g.Ho%2 == 0 && g.Wo%2 == 0
	switch convAlgorithm {
	case ConvIm2col:
		return false
	case ConvWinograd:
		return fits
	}
	return fits && g.C >= winoMinC && g.C%8 == 0 && g.O%8 == 0
}

// winoPlan is the chunk layout of the Winograd kernels: workers share the
// batch, chunk images go into one set of 16 GEMMs, each image giving tiles
// = th·tw tile columns, ld = chunk·tiles in all.
type winoPlan struct {
	workers, chunk, th, tw, tiles, ld int
}

func (g ConvGeom) winoPlan() winoPlan {
	p := workers(g.N)
	th, tw := g.Ho/2, g.Wo/2
	t := th * tw
	nc := max(1, min((g.N+p-1)/p, (winoCols+t-1)/t))
	return winoPlan{workers: p, chunk: nc, th: th, tw: tw, tiles: t, ld: nc * t}
}

// winoKernels writes U[ξ][o][c] = (G w[o][c] Gᵀ)[ξ] for the O×C×3×3 kernels w.
func winoKernels[T Float](g ConvGeom, w, u []T) {
	oc := g.O * g.C
	for i := 0; i < oc; i++ {
		k := w[i*9 : i*9+9]
		// G on the columns: t[r][q] = (G k)[r][q].
		var t [4][3]T
		for q := range 3 {
			t[0][q], t[1][q], t[2][q], t[3][q] = g4(k[q], k[3+q], k[6+q])
		}
		for r := range 4 {
			u[(4*r)*oc+i], u[(4*r+1)*oc+i], u[(4*r+2)*oc+i], u[(4*r+3)*oc+i] = g4(t[r][0], t[r][1], t[r][2])
		}
	}
}

// winoKernelsAdjoint writes dw[o][c] = Gᵀ dU[·][o][c] G, the adjoint of
// winoKernels.
func winoKernelsAdjoint[T Float](g ConvGeom, du, dw []T) {
	oc := g.O * g.C
	for i := 0; i < oc; i++ {
		var t [4][3]T
		for r := range 4 {
			t[r][0], t[r][1], t[r][2] = gt4(du[(4*r)*oc+i], du[(4*r+1)*oc+i], du[(4*r+2)*oc+i], du[(4*r+3)*oc+i])
		}
		k := dw[i*9 : i*9+9]
		for q := range 3 {
			k[q], k[3+q], k[6+q] = gt4(t[0][q], t[1][q], t[2][q], t[3][q])
		}
	}
}

// g4 is G applied to a column (k0, k1, k2); gt4 is Gᵀ.
func g4[T Float](k0, k1, k2 T) (T, T, T, T) {
	return k0, (k0 + k1 + k2) / 2, (k0 - k1 + k2) / 2, k2
}

func gt4[T Float](u0, u1, u2, u3 T) (T, T, T) {
	return u0 + (u1+u2)/2, (u1 - u2) / 2, (u1+u2)/2 + u3
}

// winoCoef is a tile transform out = L·d·Rᵀ of a tile d of ni×ni vectors
// into no×no vectors (added to the destination when add is set), with its
// vector kernel for float32.
type winoCoef struct {
	l, r   [4][4]float64
	ni, no int
	add    bool
	kern   func(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int)
}

// The four tile transforms: the input tiles (Bᵀ d B), the output tiles
// (Aᵀ m A), and their adjoints, A ȳ Aᵀ and B m Bᵀ (summed into the input).
var (
	matBt = [4][4]float64{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}
	matB  = [4][4]float64{{1, 0, 0, 0}, {0, 1, -1, 1}, {-1, 1, 1, 0}, {0, 0, 0, -1}}
	matAt = [4][4]float64{{1, 1, 1, 0}, {0, 1, -1, -1}}
	matA  = [4][4]float64{{1, 0}, {1, 1}, {1, -1}, {0, -1}}

	winoIn     = &winoCoef{l: matBt, r: matBt, ni: 4, no: 4, kern: simd.WinoBt}
	winoOut    = &winoCoef{l: matAt, r: matAt, ni: 4, no: 2, kern: simd.WinoAt}
	winoOutAdj = &winoCoef{l: matA, r: matA, ni: 2, no: 4, kern: simd.WinoA}
	winoInAdj  = &winoCoef{l: matB, r: matB, ni: 4, no: 4, add: true, kern: simd.WinoBAdd}
)

// winoTransform applies the tile transform c to a run of tiles of vectors
// of n values, entry (r, q) of tile t at src[t·srcStep + r·srcRow +
// q·srcCol:], writing (or adding) entry (i, s) of its result at
// dst[t·dstStep + i·dstRow + s·dstCol:]: with the vector kernel in float32
// when n is a multiple of 8, value by value otherwise.
func winoTransform[T Float](c *winoCoef, dst []T, dstRow, dstCol int, src []T, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	if tiles == 0 {
		return
	}
	if d32, ok := any(dst).([]float32); ok && simd.OK && n%8 == 0 {
		// bounds, for the kernel
		_, _ = dst[(tiles-1)*dstStep+(c.no-1)*(dstRow+dstCol)+n-1], src[(tiles-1)*srcStep+(c.ni-1)*(srcRow+srcCol)+n-1]
		c.kern(d32, dstRow, dstCol, any(src).([]float32), srcRow, srcCol, n, tiles, dstStep, srcStep)
		return
	}
	for t := range tiles {
		winoTile(c, dst[t*dstStep:], dstRow, dstCol, src[t*srcStep:], srcRow, srcCol, n)
	}
}

// winoTile is winoTransform of one tile, value by value.
func winoTile[T Float](c *winoCoef, dst []T, dstRow, dstCol int, src []T, srcRow, srcCol, n int) {
	for k := range n {
		var t [4][4]float64
		for i := range c.no {
			for q := range c.ni {
				for r := range c.ni {
					t[i][q] += c.l[i][r] * float64(src[r*srcRow+q*srcCol+k])
				}
			}
		}
		for i := range c.no {
			for s := range c.no {
				var v float64
				for q := range c.ni {
					v += c.r[s][q] * t[i][q]
				}
				o := &dst[i*dstRow+s*dstCol+k]
				if c.add {
					v += float64(*o)
				}
				*o = T(v)
			}
		}
	}
}

// transpose writes the rows×cols matrix src into dst as cols×rows: in
// float32 through simd.Transpose (strips of 16×16 blocks with AVX-512,
// 8×8 blocks with AVX2), otherwise value by value in 8×8 blocks for the
// caches.
func transpose[T Float](dst, src []T, rows, cols int) {
	_, _ = dst[rows*cols-1], src[rows*cols-1]
	if d32, ok := any(dst).([]float32); ok && simd.OK {
		simd.Transpose(d32, rows, any(src).([]float32), cols, rows, cols)
		return
	}
	const bs = 8
	for i0 := 0; i0 < rows; i0 += bs {
		for j0 := 0; j0 < cols; j0 += bs {
			for i := i0; i < min(i0+bs, rows); i++ {
				row := src[i*cols : (i+1)*cols]
				for j := j0; j < min(j0+bs, cols); j++ {
					dst[j*rows+i] = row[j]
				}
			}
		}
	}
}

// winoTiles runs f on each row of tiles of one image, with the index of its
// first tile in the image and the offsets of that tile's top-left corner in
// the channel-last input (H·W positions of C values) and output (Ho·Wo
// positions of O values); the tiles of a row are 2·C (2·O) apart there.
func winoTiles(g ConvGeom, pl winoPlan, f func(t, in, out int)) {
	for ti := range pl.th {
		f(ti*pl.tw, 2*ti*g.W*g.C, 2*ti*g.Wo*g.O)
	}
}

// winoBufs returns the per-worker scratch of the Winograd kernels and, one
// more buffer, shared, the 16·O·C transformed kernels U. A worker's scratch
// is split by winoParts.
func winoBufs[T Float](g ConvGeom, pl winoPlan, ws *workspace[T]) (bufs [][]T, u []T) {
	oc := 16 * g.O * g.C
	size := g.C*g.H*g.W + g.O*g.Ho*g.Wo + 16*pl.ld*(g.C+g.O) + oc
	bufs = ws.get(pl.workers+1, max(size, oc))
	return bufs[:pl.workers], bufs[pl.workers][:oc]
}

// winoParts splits a worker's scratch into one image in channel-last
// layout at the input (xt, H·W×C) and at the output (yt, Ho·Wo×O), the 16
// planes of tile columns by input channel (vc, ld×C each) and by output
// channel (vo, ld×O each), and a 16·O·C kernel-gradient sum.
func winoParts[T Float](g ConvGeom, pl winoPlan, buf []T) (xt, yt, vc, vo, acc []T) {
	sizes := [...]int{g.C * g.H * g.W, g.O * g.Ho * g.Wo, 16 * pl.ld * g.C, 16 * pl.ld * g.O, 16 * g.O * g.C}
	var parts [5][]T
	for i, n := range sizes {
		parts[i], buf = buf[:n:n], buf[n:]
	}
	return parts[0], parts[1], parts[2], parts[3], parts[4]
}

// winoForward is convForward by Winograd. Per chunk of images: each image
// into channel-last layout, its input tiles transformed (Bᵀ d B) into the
// planes V[ξ] (tiles×C), 16 GEMMs M[ξ] = V[ξ]·U[ξ]ᵀ (tiles×O), and each
// output tile transformed back (Aᵀ m A) and the image into NCHW.
func winoForward[T Float](g ConvGeom, x, w, y []T, ws *workspace[T]) {
	pl := g.winoPlan()
	bufs, u := winoBufs(g, pl, ws)
	winoKernels(g, w, u)
	oc, pc, po := g.O*g.C, pl.ld*g.C, pl.ld*g.O
	parallel(g.N, pl.chunk, func(wk, n0, hi int) {
		xt, yt, v, m, _ := winoParts(g, pl, bufs[wk])
		nb := hi - n0
		for bi := range nb {
			transpose(xt, x[(n0+bi)*g.inSize():], g.C, g.H*g.W)
			base := bi * pl.tiles
			winoTiles(g, pl, func(t, in, _ int) {
				winoTransform(winoIn, v[(base+t)*g.C:], 4*pc, pc, xt[in:], g.W*g.C, g.C, g.C, pl.tw, g.C, 2*g.C)
			})
		}
		for xi := range 16 {
			gemm(false, true, nb*pl.tiles, g.O, g.C, 1, v[xi*pc:], g.C, u[xi*oc:], g.C, 0, m[xi*po:], g.O)
		}
		for bi := range nb {
			base := bi * pl.tiles
			winoTiles(g, pl, func(t, _, out int) {
				winoTransform(winoOut, yt[out:], g.Wo*g.O, g.O, m[(base+t)*g.O:], 4*po, po, g.O, pl.tw, 2*g.O, g.O)
			})
			transpose(y[(n0+bi)*g.outSize():], yt, g.Ho*g.Wo, g.O)
		}
	})
}

// winoTranspose is convTranspose by Winograd, the adjoint of winoForward
// in x: the output tiles of y go through A ȳ Aᵀ, the 16 GEMMs with U[ξ]
// itself, and B m Bᵀ is summed onto the overlapping input tiles.
func winoTranspose[T Float](g ConvGeom, y, w, x []T, ws *workspace[T]) {
	pl := g.winoPlan()
	bufs, u := winoBufs(g, pl, ws)
	winoKernels(g, w, u)
	oc, pc, po := g.O*g.C, pl.ld*g.C, pl.ld*g.O
	parallel(g.N, pl.chunk, func(wk, n0, hi int) {
		xt, yt, m, z, _ := winoParts(g, pl, bufs[wk])
		nb := hi - n0
		for bi := range nb {
			transpose(yt, y[(n0+bi)*g.outSize():], g.O, g.Ho*g.Wo)
			base := bi * pl.tiles
			winoTiles(g, pl, func(t, _, out int) {
				winoTransform(winoOutAdj, z[(base+t)*g.O:], 4*po, po, yt[out:], g.Wo*g.O, g.O, g.O, pl.tw, g.O, 2*g.O)
			})
		}
		for xi := range 16 {
			gemm(false, false, nb*pl.tiles, g.C, g.O, 1, z[xi*po:], g.O, u[xi*oc:], g.C, 0, m[xi*pc:], g.C)
		}
		for bi := range nb {
			clear(xt)
			base := bi * pl.tiles
			winoTiles(g, pl, func(t, in, _ int) {
				winoTransform(winoInAdj, xt[in:], g.W*g.C, g.C, m[(base+t)*g.C:], 4*pc, pc, g.C, pl.tw, 2*g.C, g.C)
			})
			transpose(x[(n0+bi)*g.inSize():], xt, g.H*g.W, g.C)
		}
	})
}

// winoKernelGrad is convKernelGrad by Winograd, the adjoint of winoForward
// in w: each worker sums Z[ξ]ᵀ·V[ξ] over the chunks of its fixed share of
// the batch; the sums are added in worker order (so the result does not
// depend on timing) and taken back through Gᵀ dU G.
func winoKernelGrad[T Float](g ConvGeom, x, dy, dw []T, ws *workspace[T]) {
	pl := g.winoPlan()
	bufs, du := winoBufs(g, pl, ws)
	oc, pc, po := g.O*g.C, pl.ld*g.C, pl.ld*g.O
	for _, b := range bufs {
		_, _, _, _, acc := winoParts(g, pl, b)
		clear(acc)
	}
	split(g.N, pl.chunk, func(wk, n0, hi int) {
		xt, yt, v, z, acc := winoParts(g, pl, bufs[wk])
		nb := hi - n0
		for bi := range nb {
			transpose(xt, x[(n0+bi)*g.inSize():], g.C, g.H*g.W)
			transpose(yt, dy[(n0+bi)*g.outSize():], g.O, g.Ho*g.Wo)
			base := bi * pl.tiles
			winoTiles(g, pl, func(t, in, out int) {
				winoTransform(winoIn, v[(base+t)*g.C:], 4*pc, pc, xt[in:], g.W*g.C, g.C, g.C, pl.tw, g.C, 2*g.C)
				winoTransform(winoOutAdj, z[(base+t)*g.O:], 4*po, po, yt[out:], g.Wo*g.O, g.O, g.O, pl.tw, g.O, 2*g.O)
			})
		}
		for xi := range 16 {
			gemm(true, false, g.O, g.C, nb*pl.tiles, 1, z[xi*po:], g.O, v[xi*pc:], g.C, 1, acc[xi*oc:], g.C)
		}
	})
	_, _, _, _, acc := winoParts(g, pl, bufs[0])
	copy(du, acc)
	for _, b := range bufs[1:] {
		_, _, _, _, acc := winoParts(g, pl, b)
		addTo(du, acc)
	}
	winoKernelsAdjoint(g, du, dw)
}
