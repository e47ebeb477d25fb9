//go:build !openblas

package graph

import (
	"os"

	"dcim/graph/internal/simd"
)

// BLAS names the BLAS this build multiplies matrices with: without the
// openblas tag, float32 GEMMs run on this module's SGEMM (graph/internal/simd,
// Go assembly) where the CPU has AVX2 and FMA, with its AVX-512 micro-kernel
// where the CPU has AVX-512, everything else on gonum's pure-Go BLAS. It
// says so when DCIM_SGEMM=generic switches the assembly kernels off.
var BLAS = blasName()

func blasName() string {
	switch {
	case useSgemm:
		return "gonum (pure Go) + " + simd.Kernel() + " SGEMM (Go assembly)"
	case os.Getenv("DCIM_SGEMM") == "generic":
		return "gonum (pure Go), assembly kernels off (DCIM_SGEMM=generic)"
	}
	return "gonum (pure Go)"
}

// useSgemm routes float32 GEMMs to simd.Sgemm.
var useSgemm = simd.OK
