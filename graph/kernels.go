package graph

import (
	"runtime"
	"sync"
	"sync/atomic"

	"dcim/graph/internal/simd"
	"dcim/graph/internal/team"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// Float is the element type of every kernel: the model runs in float32 by
// default and in float64 for gradient checks.
type Float interface{ ~float32 | ~float64 }

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes C = alpha·op(A)·op(B) + beta·C on row-major slices through
// the BLAS installed in gonum (pure Go by default, OpenBLAS with the
// openblas build tag), or for float32 without OpenBLAS through simd.Sgemm.
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		if useSgemm {
			simd.Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
		blas32.Implementation().Sgemm(trans(tA), trans(tB), m, n, k, float32(alpha), a, lda,
			any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(trans(tA), trans(tB), m, n, k, float64(alpha), a, lda,
			any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// parallel runs f over [0, n) in pieces of step indices that up to
// GOMAXPROCS workers (the calling goroutine one of them) claim in turn, so
// that a worker held up by the rest of the machine takes fewer pieces
// instead of holding up the others; worker is the index of the worker
// running a piece.
func parallel(n, step int, f func(worker, lo, hi int)) {
	p := workers(n)
	if p <= 1 || n <= step {
		for lo := 0; lo < n; lo += step {
			f(0, lo, min(lo+step, n))
		}
		return
	}
	var next atomic.Int64
	team.Run(p, func(w int) {
		for {
			lo := int(next.Add(int64(step))) - step
			if lo >= n {
				return
			}
			f(w, lo, min(lo+step, n))
		}
	})
}

// split runs f over [0, n) split into one contiguous share per worker
// (up to GOMAXPROCS), each share in pieces of step indices. Unlike parallel,
// which worker runs which index is fixed, so that per-worker partial sums,
// and the floating-point result, do not depend on timing.
func split(n, step int, f func(worker, lo, hi int)) {
	p := workers(n)
	share := func(w int) {
		end := (w + 1) * n / p
		for lo := w * n / p; lo < end; lo += step {
			f(w, lo, min(lo+step, end))
		}
	}
	team.Run(p, share)
}

// grain is the least number of elements worth a core of its own.
const grain = 1 << 14

// chunks runs f over [0, n) in contiguous pieces, one per core when there
// are at least grain·unit elements of work (unit elements per index), and
// returns how many pieces it used; piece w covers [w·n/p, (w+1)·n/p).
func chunks(n, unit int, f func(worker, lo, hi int)) int {
	p := min(workers(n), max(1, n*unit/grain))
	if p <= 1 {
		f(0, 0, n)
		return 1
	}
	team.Run(p, func(w int) { f(w, w*n/p, (w+1)*n/p) })
	return p
}

// ConvGeom is the geometry of one convolution: a batch of N inputs of C×H×W,
// O kernels of C×K×K applied with stride S and no padding, giving outputs
// of O×Ho×Wo.
type ConvGeom struct {
	N, C, H, W int // input
	O, K, S    int // kernels
	Ho, Wo     int // output
}

// NewConvGeom returns the geometry of a valid convolution; ok is false when
// the kernel does not fit or the stride does not tile the input.
func NewConvGeom(n, c, h, w, o, k, s int) (ConvGeom, bool) {
	if k < 1 || s < 1 || k > h || k > w || (h-k)%s != 0 || (w-k)%s != 0 {
		return ConvGeom{}, false
	}
	return ConvGeom{N: n, C: c, H: h, W: w, O: o, K: k, S: s, Ho: (h-k)/s + 1, Wo: (w-k)/s + 1}, true
}

func (g ConvGeom) inSize() int  { return g.C * g.H * g.W }
func (g ConvGeom) outSize() int { return g.O * g.Ho * g.Wo }
func (g ConvGeom) colRows() int { return g.C * g.K * g.K }

// The convolution kernels can work on chunks of images at a time, each
// image a block of columns of one matrix, to make GEMMs larger. The columns
// of a block are the output positions on a grid of Ho rows of Wg columns.
// For stride 1 the grid can be as wide as the input (Wg = W, see
// fullWidth): a row of im2col is then one contiguous piece of the input
// channel, so im2col is one copy and col2im one vector add per row, and the
// K−1 extra columns of each grid row are dead (computed and dropped on the
// way out, zero on the way in, so they add nothing). Other strides use the
// output grid itself (Wg = Wo), which for one image at a time is y's own
// NCHW layout, so the GEMMs read and write y directly.

// convCols is the number of GEMM columns a chunk of images aims at. One
// image per GEMM (convCols = 1) is fastest on the paper's CNN: one image's
// im2col matrix (at most 0.7 MB) stays in the core's L2 cache between
// im2col and the GEMM, and chunks of 512, 2048 and 8192 columns measured
// 10–50% slower (BenchmarkConvChunk), although each GEMM is larger.
var convCols = 1

// fullWidth says whether the grid is as wide as the input: for stride 1,
// where the K−1 dead columns are at most an eighth of the input's width
// (more dead columns cost more GEMM work than the copies they save), and
// where im2col has many more rows to copy (C·K·K) than the output (O), for
// the output must then be copied between the grid and NCHW. On the CNN
// this picks layer 2 alone, 20% faster than the plain layout; layer 1
// (C = 1) is 40% slower with it.
func (g ConvGeom) fullWidth() bool {
	return g.S == 1 && 8*(g.K-1) <= g.W && g.C*g.K*g.K >= 2*g.O
}

// grid returns the width of the grid rows and the columns of one image.
func (g ConvGeom) grid() (wg, lg int) {
	if g.fullWidth() {
		return g.W, g.Ho * g.W
	}
	return g.Wo, g.Ho * g.Wo
}

// chunk is the number of images per GEMM when p workers share the batch.
func (g ConvGeom) chunk(p int) int {
	_, lg := g.grid()
	return max(1, min((g.N+p-1)/p, (convCols+lg-1)/lg))
}

// convPlan is how the three convolution kernels lay out a chunk of images
// for one GEMM: workers share the batch, chunk images go into one GEMM,
// each taking lg grid columns, ld = chunk·lg columns in all, of rows =
// C·K·K; direct says the grid is y's own layout (one image per chunk on the
// Ho×Wo grid), so that the GEMMs read and write y itself.
type convPlan struct {
	workers, chunk, lg, ld, rows int
	direct                       bool
}

func (g ConvGeom) plan() convPlan {
	p := workers(g.N)
	nc := g.chunk(p)
	_, lg := g.grid()
	return convPlan{workers: p, chunk: nc, lg: lg, ld: nc * lg, rows: g.colRows(), direct: nc == 1 && !g.fullWidth()}
}

// im2colBlock unrolls one image x (C×H×W) into its block of col: row
// r = (c, ki, kj) of the block, at col[r·ld:], holds the input values that
// kernel tap (c, ki, kj) meets at each grid position.
func im2colBlock[T Float](g ConvGeom, x, col []T, ld int) {
	_, lg := g.grid()
	full := g.fullWidth()
	r := 0
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W:]
		if g.halves() {
			for ki := range 2 { // rows ki, ki+2, … of the channel
				deinterleaveRows(col[r*ld:r*ld+lg], col[(r+1)*ld:(r+1)*ld+lg], xc[ki*g.W:], g.Ho, g.Wo, 2*g.W)
				r += 2
			}
			continue
		}
		for ki := 0; ki < g.K; ki++ {
			for kj := 0; kj < g.K; kj++ {
				dst := col[r*ld : r*ld+lg]
				r++
				if full {
					l := lg - (g.K - 1) // the last K−1 columns would run past the channel
					copy(dst[:l], xc[ki*g.W+kj:])
					clear(dst[l:])
					continue
				}
				if g.S == 1 {
					copyRows(dst, xc[ki*g.W+kj:], g.Ho, g.Wo, g.W)
					continue
				}
				for i := 0; i < g.Ho; i++ {
					src := xc[(i*g.S+ki)*g.W+kj:]
					d := dst[i*g.Wo : (i+1)*g.Wo]
					for j := range d {
						d[j] = src[j*g.S]
					}
				}
			}
		}
	}
}

// col2imBlock is the adjoint of im2colBlock: it sums the block of col back
// into one image x (C×H×W), which it overwrites. Dead grid columns must be
// zero. When the kernel tiles the input (K = S) every input value receives
// exactly one column entry, and the sums are plain stores.
func col2imBlock[T Float](g ConvGeom, col, x []T, ld int) {
	tiles := g.K == g.S && g.Ho*g.S == g.H && g.Wo*g.S == g.W
	if !tiles {
		clear(x[:g.inSize()])
	}
	_, lg := g.grid()
	full := g.fullWidth()
	r := 0
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W:]
		if g.halves() { // tiles, so plain stores
			for ki := range 2 {
				interleaveRows(xc[ki*g.W:], col[r*ld:r*ld+lg], col[(r+1)*ld:(r+1)*ld+lg], g.Ho, g.Wo, 2*g.W)
				r += 2
			}
			continue
		}
		for ki := 0; ki < g.K; ki++ {
			for kj := 0; kj < g.K; kj++ {
				src := col[r*ld : r*ld+lg]
				r++
				if full {
					l := lg - (g.K - 1)
					addTo(xc[ki*g.W+kj:ki*g.W+kj+l], src)
					continue
				}
				if g.S == 1 {
					addRows(xc[ki*g.W+kj:], src, g.Ho, g.Wo, g.W)
					continue
				}
				for i := 0; i < g.Ho; i++ {
					d := xc[(i*g.S+ki)*g.W+kj:]
					s := src[i*g.Wo : (i+1)*g.Wo]
					if tiles {
						for j, v := range s {
							d[j*g.S] = v
						}
						continue
					}
					for j, v := range s {
						d[j*g.S] += v
					}
				}
			}
		}
	}
}

// halves says whether the kernel is 2×2 with stride 2 and tiles the input
// (the CNN's pooling-like layers 3 and 6): the input row 2i+ki then holds
// the entries of both kernel columns of output row i, interleaved, and
// im2col and col2im split and merge it in one vector pass
// (deinterleaveRows, interleaveRows) instead of two strided scalar ones.
func (g ConvGeom) halves() bool {
	return g.K == 2 && g.S == 2 && 2*g.Ho == g.H && 2*g.Wo == g.W
}

// deinterleaveRows writes the even entries of rows rows of 2·width values,
// stride apart in src, into d0 and the odd ones into d1, width per row:
// d0[i·width+j] = src[i·stride+2j], d1[i·width+j] = src[i·stride+2j+1].
func deinterleaveRows[T Float](d0, d1, src []T, rows, width, stride int) {
	if rows == 0 || width == 0 {
		return
	}
	_, _, _ = d0[rows*width-1], d1[rows*width-1], src[(rows-1)*stride+2*width-1] // bounds, for the kernel
	if d32, ok := any(d0).([]float32); ok && simd.OK && width%4 == 0 {
		simd.DeinterleaveRows(d32, any(d1).([]float32), any(src).([]float32), rows, width, stride)
		return
	}
	for i := range rows {
		s := src[i*stride : i*stride+2*width]
		e, o := d0[i*width:(i+1)*width], d1[i*width:(i+1)*width]
		for j := range e {
			e[j], o[j] = s[2*j], s[2*j+1]
		}
	}
}

// interleaveRows is the adjoint of deinterleaveRows, as stores:
// dst[i·stride+2j] = s0[i·width+j], dst[i·stride+2j+1] = s1[i·width+j].
func interleaveRows[T Float](dst, s0, s1 []T, rows, width, stride int) {
	if rows == 0 || width == 0 {
		return
	}
	_, _, _ = s0[rows*width-1], s1[rows*width-1], dst[(rows-1)*stride+2*width-1] // bounds, for the kernel
	if d32, ok := any(dst).([]float32); ok && simd.OK && width%4 == 0 {
		simd.InterleaveRows(d32, any(s0).([]float32), any(s1).([]float32), rows, width, stride)
		return
	}
	for i := range rows {
		d := dst[i*stride : i*stride+2*width]
		e, o := s0[i*width:(i+1)*width], s1[i*width:(i+1)*width]
		for j := range e {
			d[2*j], d[2*j+1] = e[j], o[j]
		}
	}
}

// packY copies one image's output-shaped y (O×Ho×Wo) into its block of the
// grid matrix yg (row o at yg[o·ld:]), zeroing the dead columns.
func packY[T Float](g ConvGeom, y, yg []T, ld int) {
	wg, lg := g.grid()
	for o := 0; o < g.O; o++ {
		src, dst := y[o*g.Ho*g.Wo:(o+1)*g.Ho*g.Wo], yg[o*ld:o*ld+lg]
		if wg == g.Wo {
			copy(dst, src)
			continue
		}
		for i := 0; i < g.Ho; i++ {
			copy(dst[i*wg:i*wg+g.Wo], src[i*g.Wo:])
			clear(dst[i*wg+g.Wo : (i+1)*wg])
		}
	}
}

// unpackY copies one image's block of the grid matrix yg into y
// (O×Ho×Wo), dropping the dead columns.
func unpackY[T Float](g ConvGeom, yg, y []T, ld int) {
	wg, lg := g.grid()
	for o := 0; o < g.O; o++ {
		src, dst := yg[o*ld:o*ld+lg], y[o*g.Ho*g.Wo:(o+1)*g.Ho*g.Wo]
		if wg == g.Wo {
			copy(dst, src)
			continue
		}
		copyRows(dst, src, g.Ho, g.Wo, wg)
	}
}

// copyRows gathers rows rows of width values, stride apart in src, into
// dst back to back: dst[i·width+j] = src[i·stride+j].
func copyRows[T Float](dst, src []T, rows, width, stride int) {
	if rows == 0 || width == 0 {
		return
	}
	_, _ = dst[rows*width-1], src[(rows-1)*stride+width-1] // bounds, for the kernel
	if d32, ok := any(dst).([]float32); ok && simd.OK {
		simd.CopyRows(d32, any(src).([]float32), rows, width, stride)
		return
	}
	for i := range rows {
		copy(dst[i*width:(i+1)*width], src[i*stride:])
	}
}

// addRows is the adjoint of copyRows: dst[i·stride+j] += src[i·width+j].
func addRows[T Float](dst, src []T, rows, width, stride int) {
	if rows == 0 || width == 0 {
		return
	}
	_, _ = src[rows*width-1], dst[(rows-1)*stride+width-1] // bounds, for the kernel
	if d32, ok := any(dst).([]float32); ok && simd.OK {
		simd.AddRows(d32, any(src).([]float32), rows, width, stride)
		return
	}
	for i := range rows {
		d := dst[i*stride : i*stride+width]
		for j, v := range src[i*width : (i+1)*width] {
			d[j] += v
		}
	}
}

// addTo adds src into dst, with the vector kernel for float32.
func addTo[T Float](dst, src []T) {
	i := 0
	if d32, ok := any(dst).([]float32); ok && simd.OK && len(dst) >= 8 {
		simd.Add(d32, any(src).([]float32)[:len(dst)])
		i = len(dst) &^ 7
	}
	for ; i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// bernoulliVec draws the first len(s) rounded down to a multiple of 8
// values of bernoulli with the vector kernel, for float32 where the CPU
// has AVX2, and returns how many it drew. It compares u < p in float32,
// which is exact, as bernoulli's sign bit of u − p is: the draws are the
// same.
func bernoulliVec[T Float](spin bool, m, u, s []T) int {
	s32, ok := any(s).([]float32)
	if !ok || !simd.OK || len(s) < 8 {
		return 0
	}
	a, sc, hi, lo := float32(0), float32(1), float32(1), float32(0)
	if spin { // p = (1+m)/2, draw ±1
		a, sc, hi, lo = 1, 0.5, 2, 1
	}
	simd.Bernoulli(s32, any(m).([]float32)[:len(s)], any(u).([]float32)[:len(s)], a, sc, hi, lo)
	return len(s) &^ 7
}

// workspace holds per-worker scratch buffers of a kernel, kept between
// calls so that a training step allocates nothing in steady state. A kernel
// overwrites (or clears) every part of its scratch that it reads. One call
// at a time uses a workspace (borrow lends it), so it needs no lock.
type workspace[T Float] struct {
	bufs [][]T
}

// scratch lends the ops their workspaces for the length of one call. A
// graph runs its ops one at a time, so one workspace, grown to the largest
// op's need, serves every op of every graph: a CNN training step and its
// evaluation graph share the 7 MB of the largest convolution's scratch
// where one workspace per convolution op held 150 MB (heap profiles of a
// training run). Graphs run at once from several goroutines each borrow a
// workspace of their own.
type scratch[T Float] struct {
	mu   sync.Mutex
	free []*workspace[T]
}

var (
	scratch32 scratch[float32]
	scratch64 scratch[float64]
)

// borrow takes a workspace from the pool of T (a new one when all are
// lent); giveBack returns it.
func borrow[T Float]() *workspace[T] {
	p := scratchOf[T]()
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		ws := p.free[n-1]
		p.free = p.free[:n-1]
		return ws
	}
	return new(workspace[T])
}

func giveBack[T Float](ws *workspace[T]) {
	p := scratchOf[T]()
	p.mu.Lock()
	p.free = append(p.free, ws)
	p.mu.Unlock()
}

func scratchOf[T Float]() *scratch[T] {
	if p, ok := any(&scratch32).(*scratch[T]); ok {
		return p
	}
	return any(&scratch64).(*scratch[T])
}

// get returns workers buffers of size elements each, grown as needed.
func (ws *workspace[T]) get(workers, size int) [][]T {
	for len(ws.bufs) < workers {
		ws.bufs = append(ws.bufs, nil)
	}
	for i := range ws.bufs[:workers] {
		if cap(ws.bufs[i]) < size {
			ws.bufs[i] = make([]T, size)
		}
		ws.bufs[i] = ws.bufs[i][:size]
	}
	return ws.bufs[:workers]
}

func workers(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n)) }

// convForward, convTranspose and convKernelGrad use Winograd's algorithm
// instead (winograd.go) where ConvGeom.winograd says so.

// convForward computes y = conv(x, w): x is N×C×H×W, w is O×C×K×K, y is
// N×O×Ho×Wo. Workers claim chunks of images in turn: im2col of the chunk
// side by side, one GEMM, and the result copied into NCHW (or written there
// by the GEMM directly when the grid is y's own layout).
func convForward[T Float](g ConvGeom, x, w, y []T, ws *workspace[T]) {
	if g.winograd() {
		winoForward(g, x, w, y, ws)
		return
	}
	pl := g.plan()
	p, nc, lg, ld, rows, direct := pl.workers, pl.chunk, pl.lg, pl.ld, pl.rows, pl.direct
	bufs := ws.get(p, (rows+g.O)*ld)
	parallel(g.N, nc, func(wk, n0, hi int) {
		col, yg := bufs[wk][:rows*ld], bufs[wk][rows*ld:]
		m := hi - n0
		for b := range m {
			im2colBlock(g, x[(n0+b)*g.inSize():], col[b*lg:], ld)
		}
		if direct {
			gemm(false, false, g.O, lg, rows, 1, w, rows, col, ld, 0, y[n0*g.outSize():], lg)
			return
		}
		gemm(false, false, g.O, m*lg, rows, 1, w, rows, col, ld, 0, yg, ld)
		for b := range m {
			unpackY(g, yg[b*lg:], y[(n0+b)*g.outSize():], ld)
		}
	})
}

// convTranspose computes x = convT(y, w), the adjoint of convForward in its
// input: y is N×O×Ho×Wo, x is N×C×H×W. Per chunk: y onto the grid, one
// GEMM with wᵀ, col2im into NCHW. (Computing it instead as the full
// convolution of the zero-padded y with the flipped kernel, whose GEMM has a
// longer inner dimension, measured 15–90% slower on the CNN's layers.)
func convTranspose[T Float](g ConvGeom, y, w, x []T, ws *workspace[T]) {
	if g.winograd() {
		winoTranspose(g, y, w, x, ws)
		return
	}
	pl := g.plan()
	p, nc, lg, ld, rows, direct := pl.workers, pl.chunk, pl.lg, pl.ld, pl.rows, pl.direct
	bufs := ws.get(p, (rows+g.O)*ld)
	parallel(g.N, nc, func(wk, n0, hi int) {
		col, yg := bufs[wk][:rows*ld], bufs[wk][rows*ld:]
		m := hi - n0
		if direct {
			gemm(true, false, rows, lg, g.O, 1, w, rows, y[n0*g.outSize():], lg, 0, col, ld)
		} else {
			for b := range m {
				packY(g, y[(n0+b)*g.outSize():], yg[b*lg:], ld)
			}
			gemm(true, false, rows, m*lg, g.O, 1, w, rows, yg, ld, 0, col, ld)
		}
		for b := range m {
			col2imBlock(g, col[b*lg:], x[(n0+b)*g.inSize():], ld)
		}
	})
}

// convKernelGrad computes dw = Σ_n dy_n·im2col(x_n)ᵀ, the adjoint of
// convForward in its kernel: x is N×C×H×W, dy is N×O×Ho×Wo, dw is O×C×K×K.
// Each worker accumulates one GEMM per chunk of its fixed share of the
// batch into a sum of its own; the sums are added at the end, in worker
// order, so the result does not depend on timing.
func convKernelGrad[T Float](g ConvGeom, x, dy, dw []T, ws *workspace[T]) {
	if g.winograd() {
		winoKernelGrad(g, x, dy, dw, ws)
		return
	}
	pl := g.plan()
	p, nc, lg, ld, rows, direct := pl.workers, pl.chunk, pl.lg, pl.ld, pl.rows, pl.direct
	colSize, ygSize, wSize := rows*ld, g.O*ld, g.O*rows
	bufs := ws.get(p, colSize+ygSize+wSize)
	for _, b := range bufs {
		clear(b[colSize+ygSize:])
	}
	split(g.N, nc, func(wk, n0, hi int) {
		col, yg, acc := bufs[wk][:colSize], bufs[wk][colSize:colSize+ygSize], bufs[wk][colSize+ygSize:]
		m := hi - n0
		for b := range m {
			im2colBlock(g, x[(n0+b)*g.inSize():], col[b*lg:], ld)
		}
		if direct {
			gemm(false, true, g.O, rows, lg, 1, dy[n0*g.outSize():], lg, col, ld, 1, acc, rows)
			return
		}
		for b := range m {
			packY(g, dy[(n0+b)*g.outSize():], yg[b*lg:], ld)
		}
		gemm(false, true, g.O, rows, m*lg, 1, yg, ld, col, ld, 1, acc, rows)
	})
	off := colSize + ygSize
	copy(dw[:wSize], bufs[0][off:])
	for _, b := range bufs[1:p] {
		addTo(dw[:wSize], b[off:off+wSize])
	}
}
