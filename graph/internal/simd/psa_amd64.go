//go:build amd64 && !purego

package simd

// PSAConv adds one convolution tap's PSA remainder into dst: for each i,
//
//	dst[i] += g[i]·(c·s[i]·(m[i] − t) − w·d[i]),  t = A + M·tanh(S·(arg[i] − δ·w·s[i]))
//
// where arg is the pre-activation a_j of the output unit that input i meets
// through the tap's weight w, m = σ(a_j) its mean, d = σ'(a_j), g the
// upstream gradient, s the input's drawn sign and t the output's mean under
// the flip of the input (A, M, S = 0, 1, 1 for tanh, ½, ½, ½ for the
// sigmoid), for the first len(dst) rounded down to a multiple of 8
// elements. The other slices must be at least as long as dst.
//
//go:noescape
func PSAConv(dst, s, arg, m, d, g []float32, w, delta, c, S, M, A float32)

// PSADense is PSAConv for one output unit of a dense layer against a run
// of its inputs: the pre-activation a, mean m, derivative d and upstream
// gradient up are the output's, the weights w[i] and signs s[i] the
// inputs':
//
//	dst[i] += up·(c·s[i]·(m − t) − w[i]·d),  t = A + M·tanh(S·(a − δ·w[i]·s[i]))
//
//go:noescape
func PSADense(dst, s, w []float32, a, m, d, up, delta, c, S, M, A float32)
