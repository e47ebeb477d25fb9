package graph

import "fmt"

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
// (one per position ξ of the 4×4 transformed tile) of the transformed
// kernels U[ξ] (O×C) with the transformed input tiles V[ξ] (C×tiles). The
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
	// channels for it to pay (winoMinC) and im2col elsewhere.
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

// winoMinC is the least number of input channels for which ConvAuto picks
// Winograd: with few channels the transforms cost more than the GEMM work
// they save (the CNN's first layer has C = 1).
const winoMinC = 16

// winoCols is the number of tile columns a chunk of images aims at in the
// Winograd GEMMs (one image of the CNN's last 3×3 layer has only 16 tiles).
var winoCols = 256

// winograd says whether the three convolution kernels of g use Winograd.
func (g ConvGeom) winograd() bool {
	fits := g.K == 3 && g.S == 1 && g.Ho%2 == 0 && g.Wo%2 == 0
	switch convAlgorithm {
	case ConvIm2col:
		return false
	case ConvWinograd:
		return fits
	}
	return fits && g.C >= winoMinC
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

// bt4 is Bᵀ applied to a column of four; b4 is B.
func bt4[T Float](d0, d1, d2, d3 T) (T, T, T, T) { return d0 - d2, d1 + d2, d2 - d1, d1 - d3 }
func b4[T Float](m0, m1, m2, m3 T) (T, T, T, T)  { return m0, m1 - m2 + m3, m1 + m2 - m0, -m3 }

// at4 is Aᵀ applied to a column of four; a2 is A applied to a column of two.
func at4[T Float](m0, m1, m2, m3 T) (T, T) { return m0 + m1 + m2, m1 - m2 - m3 }
func a2[T Float](y0, y1 T) (T, T, T, T)    { return y0, y0 + y1, y0 - y1, -y1 }

// winoInput writes the transformed input tiles V[ξ][c][off+t] = (Bᵀ d B)[ξ]
// of one image x (C×H×W) into v, whose planes ξ are plane values apart and
// whose rows c are ld apart.
func winoInput[T Float](g ConvGeom, pl winoPlan, x, v []T, plane, off int) {
	var vs [16][]T
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ti := 0; ti < pl.th; ti++ {
			r := xc[2*ti*g.W:]
			r0, r1, r2, r3 := r[:g.W], r[g.W:2*g.W], r[2*g.W:3*g.W], r[3*g.W:4*g.W]
			o := c*pl.ld + off + ti*pl.tw
			for k := range vs {
				vs[k] = v[k*plane+o : k*plane+o+pl.tw]
			}
			for tj := 0; tj < pl.tw; tj++ {
				j := 2 * tj
				a00, a10, a20, a30 := bt4(r0[j], r1[j], r2[j], r3[j])
				a01, a11, a21, a31 := bt4(r0[j+1], r1[j+1], r2[j+1], r3[j+1])
				a02, a12, a22, a32 := bt4(r0[j+2], r1[j+2], r2[j+2], r3[j+2])
				a03, a13, a23, a33 := bt4(r0[j+3], r1[j+3], r2[j+3], r3[j+3])
				vs[0][tj], vs[1][tj], vs[2][tj], vs[3][tj] = bt4(a00, a01, a02, a03)
				vs[4][tj], vs[5][tj], vs[6][tj], vs[7][tj] = bt4(a10, a11, a12, a13)
				vs[8][tj], vs[9][tj], vs[10][tj], vs[11][tj] = bt4(a20, a21, a22, a23)
				vs[12][tj], vs[13][tj], vs[14][tj], vs[15][tj] = bt4(a30, a31, a32, a33)
			}
		}
	}
}

// winoOutput writes one image y (O×Ho×Wo) from the products M[ξ][o][off+t]:
// each 2×2 tile is Aᵀ M A.
func winoOutput[T Float](g ConvGeom, pl winoPlan, m, y []T, plane, off int) {
	var ms [16][]T
	for o := 0; o < g.O; o++ {
		yo := y[o*g.Ho*g.Wo : (o+1)*g.Ho*g.Wo]
		for ti := 0; ti < pl.th; ti++ {
			y0, y1 := yo[2*ti*g.Wo:(2*ti+1)*g.Wo], yo[(2*ti+1)*g.Wo:(2*ti+2)*g.Wo]
			b := o*pl.ld + off + ti*pl.tw
			for k := range ms {
				ms[k] = m[k*plane+b : k*plane+b+pl.tw]
			}
			for tj := 0; tj < pl.tw; tj++ {
				s00, s10 := at4(ms[0][tj], ms[4][tj], ms[8][tj], ms[12][tj])
				s01, s11 := at4(ms[1][tj], ms[5][tj], ms[9][tj], ms[13][tj])
				s02, s12 := at4(ms[2][tj], ms[6][tj], ms[10][tj], ms[14][tj])
				s03, s13 := at4(ms[3][tj], ms[7][tj], ms[11][tj], ms[15][tj])
				j := 2 * tj
				y0[j], y0[j+1] = at4(s00, s01, s02, s03)
				y1[j], y1[j+1] = at4(s10, s11, s12, s13)
			}
		}
	}
}

// winoGradOut writes Z[ξ][o][off+t] = (A ȳ Aᵀ)[ξ] for each 2×2 tile ȳ of
// one image y (O×Ho×Wo): the adjoint of winoOutput.
func winoGradOut[T Float](g ConvGeom, pl winoPlan, y, z []T, plane, off int) {
	var zs [16][]T
	for o := 0; o < g.O; o++ {
		yo := y[o*g.Ho*g.Wo : (o+1)*g.Ho*g.Wo]
		for ti := 0; ti < pl.th; ti++ {
			y0, y1 := yo[2*ti*g.Wo:(2*ti+1)*g.Wo], yo[(2*ti+1)*g.Wo:(2*ti+2)*g.Wo]
			b := o*pl.ld + off + ti*pl.tw
			for k := range zs {
				zs[k] = z[k*plane+b : k*plane+b+pl.tw]
			}
			for tj := 0; tj < pl.tw; tj++ {
				j := 2 * tj
				c00, c10, c20, c30 := a2(y0[j], y1[j])
				c01, c11, c21, c31 := a2(y0[j+1], y1[j+1])
				zs[0][tj], zs[1][tj], zs[2][tj], zs[3][tj] = a2(c00, c01)
				zs[4][tj], zs[5][tj], zs[6][tj], zs[7][tj] = a2(c10, c11)
				zs[8][tj], zs[9][tj], zs[10][tj], zs[11][tj] = a2(c20, c21)
				zs[12][tj], zs[13][tj], zs[14][tj], zs[15][tj] = a2(c30, c31)
			}
		}
	}
}

// winoGradIn sums B M[·][c][off+t] Bᵀ over the overlapping 4×4 input tiles
// into one image x (C×H×W), which it overwrites: the adjoint of winoInput.
func winoGradIn[T Float](g ConvGeom, pl winoPlan, m, x []T, plane, off int) {
	clear(x[:g.inSize()])
	var ms [16][]T
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ti := 0; ti < pl.th; ti++ {
			r := xc[2*ti*g.W:]
			r0, r1, r2, r3 := r[:g.W], r[g.W:2*g.W], r[2*g.W:3*g.W], r[3*g.W:4*g.W]
			b := c*pl.ld + off + ti*pl.tw
			for k := range ms {
				ms[k] = m[k*plane+b : k*plane+b+pl.tw]
			}
			for tj := 0; tj < pl.tw; tj++ {
				// B on the rows of each column, then on each row.
				c00, c10, c20, c30 := b4(ms[0][tj], ms[4][tj], ms[8][tj], ms[12][tj])
				c01, c11, c21, c31 := b4(ms[1][tj], ms[5][tj], ms[9][tj], ms[13][tj])
				c02, c12, c22, c32 := b4(ms[2][tj], ms[6][tj], ms[10][tj], ms[14][tj])
				c03, c13, c23, c33 := b4(ms[3][tj], ms[7][tj], ms[11][tj], ms[15][tj])
				j := 2 * tj
				addRow4(r0[j:j+4], c00, c01, c02, c03)
				addRow4(r1[j:j+4], c10, c11, c12, c13)
				addRow4(r2[j:j+4], c20, c21, c22, c23)
				addRow4(r3[j:j+4], c30, c31, c32, c33)
			}
		}
	}
}

// addRow4 adds B (m0, m1, m2, m3) into the four values of d.
func addRow4[T Float](d []T, m0, m1, m2, m3 T) {
	e0, e1, e2, e3 := b4(m0, m1, m2, m3)
	d = d[:4]
	d[0] += e0
	d[1] += e1
	d[2] += e2
	d[3] += e3
}

// winoBufs returns per-worker buffers of size each and one more, shared,
// of 16·O·C values for the transformed kernels.
func winoBufs[T Float](g ConvGeom, ws *workspace[T], workers, size int) (bufs [][]T, u []T) {
	uSize := 16 * g.O * g.C
	bufs = ws.get(workers+1, max(size, uSize))
	return bufs[:workers], bufs[workers][:uSize]
}

// winoForward is convForward by Winograd: per chunk, the input tiles are
// transformed, multiplied by the transformed kernels in 16 GEMMs, and
// transformed back into NCHW.
func winoForward[T Float](g ConvGeom, x, w, y []T, ws *workspace[T]) {
	pl := g.winoPlan()
	vSize, mSize := 16*g.C*pl.ld, 16*g.O*pl.ld
	bufs, u := winoBufs(g, ws, pl.workers, vSize+mSize)
	winoKernels(g, w, u)
	oc := g.O * g.C
	parallel(g.N, pl.chunk, func(wk, n0, hi int) {
		v, m := bufs[wk][:vSize], bufs[wk][vSize:vSize+mSize]
		nb := hi - n0
		cols := nb * pl.tiles
		for b := range nb {
			winoInput(g, pl, x[(n0+b)*g.inSize():], v, g.C*pl.ld, b*pl.tiles)
		}
		for xi := range 16 {
			gemm(false, false, g.O, cols, g.C, 1, u[xi*oc:], g.C, v[xi*g.C*pl.ld:], pl.ld, 0, m[xi*g.O*pl.ld:], pl.ld)
		}
		for b := range nb {
			winoOutput(g, pl, m, y[(n0+b)*g.outSize():], g.O*pl.ld, b*pl.tiles)
		}
	})
}

// winoTranspose is convTranspose by Winograd, the adjoint of winoForward
// in x: the output tiles of y go through A·Aᵀ, the 16 GEMMs with the
// transposed U, and B·Bᵀ back onto the overlapping input tiles.
func winoTranspose[T Float](g ConvGeom, y, w, x []T, ws *workspace[T]) {
	pl := g.winoPlan()
	zSize, mSize := 16*g.O*pl.ld, 16*g.C*pl.ld
	bufs, u := winoBufs(g, ws, pl.workers, zSize+mSize)
	winoKernels(g, w, u)
	oc := g.O * g.C
	parallel(g.N, pl.chunk, func(wk, n0, hi int) {
		z, m := bufs[wk][:zSize], bufs[wk][zSize:zSize+mSize]
		nb := hi - n0
		cols := nb * pl.tiles
		for b := range nb {
			winoGradOut(g, pl, y[(n0+b)*g.outSize():], z, g.O*pl.ld, b*pl.tiles)
		}
		for xi := range 16 {
			gemm(true, false, g.C, cols, g.O, 1, u[xi*oc:], g.C, z[xi*g.O*pl.ld:], pl.ld, 0, m[xi*g.C*pl.ld:], pl.ld)
		}
		for b := range nb {
			winoGradIn(g, pl, m, x[(n0+b)*g.inSize():], g.C*pl.ld, b*pl.tiles)
		}
	})
}

// winoKernelGrad is convKernelGrad by Winograd, the adjoint of winoForward
// in w: each worker sums Z[ξ]·V[ξ]ᵀ over the chunks of its fixed share of
// the batch; the sums are added in worker order (so the result does not
// depend on timing) and taken back through Gᵀ·G.
func winoKernelGrad[T Float](g ConvGeom, x, dy, dw []T, ws *workspace[T]) {
	pl := g.winoPlan()
	vSize, zSize, uSize := 16*g.C*pl.ld, 16*g.O*pl.ld, 16*g.O*g.C
	bufs, du := winoBufs(g, ws, pl.workers, vSize+zSize+uSize)
	for _, b := range bufs {
		clear(b[vSize+zSize : vSize+zSize+uSize])
	}
	split(g.N, pl.chunk, func(wk, n0, hi int) {
		buf := bufs[wk]
		v, z, acc := buf[:vSize], buf[vSize:vSize+zSize], buf[vSize+zSize:vSize+zSize+uSize]
		nb := hi - n0
		cols := nb * pl.tiles
		for b := range nb {
			winoInput(g, pl, x[(n0+b)*g.inSize():], v, g.C*pl.ld, b*pl.tiles)
			winoGradOut(g, pl, dy[(n0+b)*g.outSize():], z, g.O*pl.ld, b*pl.tiles)
		}
		for xi := range 16 {
			gemm(false, true, g.O, g.C, cols, 1, z[xi*g.O*pl.ld:], pl.ld, v[xi*g.C*pl.ld:], pl.ld, 1, acc[xi*g.O*g.C:], g.C)
		}
	})
	off := vSize + zSize
	copy(du, bufs[0][off:off+uSize])
	for _, b := range bufs[1:] {
		addTo(du, b[off:off+uSize])
	}
	winoKernelsAdjoint(g, du, dw)
}
