package complete

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// probFloor keeps log q finite where a float32 mean has saturated to 0 or 1.
const probFloor = 1e-7

// logPair returns log m and log(1−m) of a Bernoulli mean, m clamped to
// [probFloor, 1−probFloor].
func logPair(m float32) (float64, float64) {
	v := min(max(float64(m), probFloor), 1-probFloor)
	return math.Log(v), math.Log1p(-v)
}

// LogLikelihoods returns the n×J matrix of log q(x_obs | j) for n images
// and J reverse mean images (each size values, q(x = 1 | j) in [0,1]):
//
//	log q(x_obs | j) = Σ_{p observed} x_p log m_jp + (1 − x_p) log(1 − m_jp),
//
// the grey-level form of the reverse model's Bernoulli log-likelihood.
// Under the factorised reverse mean field (eq. 18–20) the image pixels are
// independent given the state the chain starts from, so summing a missing
// pixel over its two values multiplies the likelihood by m + (1 − m) = 1:
// the missing pixels marginalise out exactly and are simply left out of
// the sum. observed has one value per pixel of images.
func LogLikelihoods(images []float32, observed []bool, means []float32, size int) []float64 {
	return newObserved(images, observed, size).logLik(means)
}

// observedImages are a batch of images with their observed pixels, as the
// two factors of LogLikelihoods's products: A·log(M)ᵀ + B·log(1−M)ᵀ, with
// A = observed·x and B = observed·(1−x), n×size each.
type observedImages struct {
	a, b    []float64
	n, size int
}

func newObserved(images []float32, observed []bool, size int) *observedImages {
	n := len(images) / size
	o := &observedImages{a: make([]float64, n*size), b: make([]float64, n*size), n: n, size: size}
	for i, x := range images {
		if observed[i] {
			o.a[i], o.b[i] = float64(x), 1-float64(x)
		}
	}
	return o
}

// logLik returns the n×J matrix of log q(x_obs | j) for J mean images.
func (o *observedImages) logLik(means []float32) []float64 {
	n, size, J := o.n, o.size, len(means)/o.size
	l1, l0 := make([]float64, J*size), make([]float64, J*size)
	for i, m := range means {
		l1[i], l0[i] = logPair(m)
	}
	out := make([]float64, n*J)
	c := blas64.General{Rows: n, Cols: J, Stride: J, Data: out}
	mat := func(d []float64, rows int) blas64.General {
		return blas64.General{Rows: rows, Cols: size, Stride: size, Data: d}
	}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, mat(o.a, n), mat(l1, J), 0, c)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, mat(o.b, n), mat(l0, J), 1, c)
	return out
}

// logSumExp returns log Σ_i exp(v_i), computed without overflow.
func logSumExp(v []float64) float64 {
	top := math.Inf(-1)
	for _, x := range v {
		top = max(top, x)
	}
	var z float64
	for _, x := range v {
		z += math.Exp(x - top)
	}
	return top + math.Log(z)
}

// softmaxRow turns log scores into probabilities in place.
func softmaxRow(s []float64) {
	z := logSumExp(s)
	for i, v := range s {
		s[i] = math.Exp(v - z)
	}
}

// pixelBCE is −[x log q + (1 − x) log(1 − q)] with q clamped as in logPair.
func pixelBCE(x, q float32) float64 {
	l1, l0 := logPair(q)
	return -(float64(x)*l1 + (1-float64(x))*l0)
}
