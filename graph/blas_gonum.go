//go:build !openblas

package graph

import "dcim/graph/internal/simd"

// BLAS names the BLAS this build multiplies matrices with: without the
// openblas tag, float32 GEMMs run on this module's SGEMM (graph/internal/simd,
// Go assembly) where the CPU has AVX2 and FMA, with its AVX-512 micro-kernel
// where the CPU has AVX-512, everything else on gonum's pure-Go BLAS.
var BLAS = blasName()

func blasName() string {
	if useSgemm {
		return "gonum (pure Go) + " + simd.Kernel() + " SGEMM (Go assembly)"
	}
	return "gonum (pure Go)"
}

// useSgemm routes float32 GEMMs to simd.Sgemm.
var useSgemm = simd.OK
