//go:build amd64 && !purego

package train

import "dcim/graph"

// adamVector says whether adamKernel may run: with graph's assembly
// kernels (the CPU has AVX2 and FMA, and DCIM_SGEMM=generic does not
// switch them off).
var adamVector = graph.SIMD()

// adamKernel applies Adam's update (see Adam) to the first len(w) rounded
// down to a multiple of 8 values, eight at a time with AVX2 and FMA, in
// float32: m ← β1·m + c1·g, v ← β2·v + c2·g², w ← w − lr·m/(√v + ε), with
// c1 = 1−β1 and c2 = 1−β2. g, m and v must be at least as long as w.
//
//go:noescape
func adamKernel(w, g, m, v []float32, b1, c1, b2, c2, eps, lr float32)
