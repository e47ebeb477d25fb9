//go:build !amd64 || purego

package train

// adamVector is false where there is no vector kernel.
const adamVector = false

// adamKernel is not available here; callers check adamVector first.
func adamKernel(w, g, m, v []float32, b1, c1, b2, c2, eps, lr float32) {
	panic("train: no vector kernel on this platform")
}
