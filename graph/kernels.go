package graph

import (
	"runtime"
	"sync"

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
// openblas build tag).
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		blas32.Implementation().Sgemm(trans(tA), trans(tB), m, n, k, float32(alpha), a, lda,
			any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(trans(tA), trans(tB), m, n, k, float64(alpha), a, lda,
			any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// parallel runs f(lo, hi) over [0, n) split into at most GOMAXPROCS chunks,
// passing each chunk its worker index.
func parallel(n int, f func(worker, lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range p {
		lo, hi := w*n/p, (w+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, lo, hi)
		}()
	}
	wg.Wait()
}

// grain is the least number of elements worth a goroutine of its own.
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
	var wg sync.WaitGroup
	for w := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w, w*n/p, (w+1)*n/p)
		}()
	}
	wg.Wait()
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
func (g ConvGeom) colCols() int { return g.Ho * g.Wo }

// im2col unrolls one image x (C×H×W) into col ((C·K·K)×(Ho·Wo)), so that a
// convolution becomes the product of the kernel matrix (O×C·K·K) and col.
func im2col[T Float](g ConvGeom, x, col []T) {
	hw := g.colCols()
	r := 0
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W:]
		for ki := 0; ki < g.K; ki++ {
			for kj := 0; kj < g.K; kj++ {
				dst := col[r*hw : (r+1)*hw]
				for i := 0; i < g.Ho; i++ {
					src := xc[(i*g.S+ki)*g.W+kj:]
					d := dst[i*g.Wo : (i+1)*g.Wo]
					if g.S == 1 {
						copy(d, src[:g.Wo])
						continue
					}
					for j := range d {
						d[j] = src[j*g.S]
					}
				}
				r++
			}
		}
	}
}

// col2im is the adjoint of im2col: it sums the columns of col back into one
// image x (C×H×W), which it overwrites.
func col2im[T Float](g ConvGeom, col, x []T) {
	clear(x[:g.inSize()])
	hw := g.colCols()
	r := 0
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W:]
		for ki := 0; ki < g.K; ki++ {
			for kj := 0; kj < g.K; kj++ {
				src := col[r*hw : (r+1)*hw]
				for i := 0; i < g.Ho; i++ {
					d := xc[(i*g.S+ki)*g.W+kj:]
					s := src[i*g.Wo : (i+1)*g.Wo]
					if g.S == 1 {
						d = d[:len(s)]
						for j, v := range s {
							d[j] += v
						}
						continue
					}
					for j, v := range s {
						d[j*g.S] += v
					}
				}
				r++
			}
		}
	}
}

// workspace holds per-worker scratch buffers of one op, kept between steps
// so that a training step allocates nothing in steady state.
type workspace[T Float] struct {
	mu   sync.Mutex
	bufs [][]T
}

func (ws *workspace[T]) get(workers, size int) [][]T {
	ws.mu.Lock()
	defer ws.mu.Unlock()
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

// convForward computes y = conv(x, w): x is N×C×H×W, w is O×C×K×K, y is
// N×O×Ho×Wo, each image one GEMM written straight into NCHW.
func convForward[T Float](g ConvGeom, x, w, y []T, ws *workspace[T]) {
	cols := ws.get(workers(g.N), g.colRows()*g.colCols())
	parallel(g.N, func(wk, lo, hi int) {
		col := cols[wk]
		for n := lo; n < hi; n++ {
			im2col(g, x[n*g.inSize():], col)
			gemm(false, false, g.O, g.colCols(), g.colRows(), 1, w, g.colRows(), col, g.colCols(), 0, y[n*g.outSize():], g.colCols())
		}
	})
}

// convTranspose computes x = convT(y, w), the adjoint of convForward in its
// input: y is N×O×Ho×Wo, x is N×C×H×W.
func convTranspose[T Float](g ConvGeom, y, w, x []T, ws *workspace[T]) {
	cols := ws.get(workers(g.N), g.colRows()*g.colCols())
	parallel(g.N, func(wk, lo, hi int) {
		col := cols[wk]
		for n := lo; n < hi; n++ {
			gemm(true, false, g.colRows(), g.colCols(), g.O, 1, w, g.colRows(), y[n*g.outSize():], g.colCols(), 0, col, g.colCols())
			col2im(g, col, x[n*g.inSize():])
		}
	})
}

// convKernelGrad computes dw = Σ_n dy_n·im2col(x_n)ᵀ, the adjoint of
// convForward in its kernel: x is N×C×H×W, dy is N×O×Ho×Wo, dw is O×C×K×K.
func convKernelGrad[T Float](g ConvGeom, x, dy, dw []T, ws *workspace[T]) {
	p := workers(g.N)
	colSize, wSize := g.colRows()*g.colCols(), g.O*g.colRows()
	bufs := ws.get(p, colSize+wSize)
	parallel(g.N, func(wk, lo, hi int) {
		col, acc := bufs[wk][:colSize], bufs[wk][colSize:]
		clear(acc)
		for n := lo; n < hi; n++ {
			im2col(g, x[n*g.inSize():], col)
			gemm(false, true, g.O, g.colRows(), g.colCols(), 1, dy[n*g.outSize():], g.colCols(), col, g.colCols(), 1, acc, g.colRows())
		}
	})
	copy(dw[:wSize], bufs[0][colSize:])
	for _, b := range bufs[1:p] {
		for i, v := range b[colSize:] {
			dw[i] += v
		}
	}
}
