//go:build !amd64 || purego

package simd

// OK is false where this package has no kernels.
const OK = false

// TanhAffine is not available here; callers check OK first.
func TanhAffine(dst, src []float32, b, s, m, a float32) { panic("simd: no kernels on this platform") }

// Add is not available here; callers check OK first.
func Add(dst, src []float32) { panic("simd: no kernels on this platform") }

// ActBack is not available here; callers check OK first.
func ActBack(dz, y, dy []float32, sigmoid bool) { panic("simd: no kernels on this platform") }

// Sum is not available here; callers check OK first.
func Sum(x []float32) float32 { panic("simd: no kernels on this platform") }

// Sgemm is not available here; callers check OK first.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("simd: no kernels on this platform")
}

// CopyRows is not available here; callers check OK first.
func CopyRows(dst, src []float32, rows, width, stride int) {
	panic("simd: no kernels on this platform")
}

// AddRows is not available here; callers check OK first.
func AddRows(dst, src []float32, rows, width, stride int) { panic("simd: no kernels on this platform") }

// Transpose8 is not available here; callers check OK first.
func Transpose8(dst []float32, ldd int, src []float32, lds int) {
	panic("simd: no kernels on this platform")
}

// WinoBt is not available here; callers check OK first.
func WinoBt(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	panic("simd: no kernels on this platform")
}

// WinoAt is not available here; callers check OK first.
func WinoAt(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	panic("simd: no kernels on this platform")
}

// WinoA is not available here; callers check OK first.
func WinoA(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	panic("simd: no kernels on this platform")
}

// WinoBAdd is not available here; callers check OK first.
func WinoBAdd(dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	panic("simd: no kernels on this platform")
}

// Bernoulli is not available here; callers check OK first.
func Bernoulli(dst, m, u []float32, a, s, hi, lo float32) { panic("simd: no kernels on this platform") }

// DeinterleaveRows is not available here; callers check OK first.
func DeinterleaveRows(d0, d1, src []float32, rows, width, stride int) {
	panic("simd: no kernels on this platform")
}

// InterleaveRows is not available here; callers check OK first.
func InterleaveRows(dst, s0, s1 []float32, rows, width, stride int) {
	panic("simd: no kernels on this platform")
}

// Kernel is not available here; callers check OK first.
func Kernel() string { panic("simd: no kernels on this platform") }

// Wide is false here.
func Wide() bool { return false }

// SetWide does nothing here.
func SetWide(on bool) (was bool) { return false }

// Block is 8 here.
func Block() int { return 8 }

// Transforms is not available here; callers check OK first.
func Transforms() string { panic("simd: no kernels on this platform") }

// Transpose16 is not available here; callers check OK first.
func Transpose16(dst []float32, ldd int, src []float32, lds, blocks int) {
	panic("simd: no kernels on this platform")
}

// TransposeStrip is not available here; callers check OK first.
func TransposeStrip(dst []float32, ldd int, src []float32, lds, blocks int) {
	panic("simd: no kernels on this platform")
}

// Transpose is not available here; callers check OK first.
func Transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	panic("simd: no kernels on this platform")
}

// PSAConv is not available here; callers check OK first.
func PSAConv(dst, s, arg, m, d, g []float32, w, delta, c, S, M, A float32) {
	panic("simd: no kernels on this platform")
}

// PSADense is not available here; callers check OK first.
func PSADense(dst, s, w []float32, a, m, d, up, delta, c, S, M, A float32) {
	panic("simd: no kernels on this platform")
}
