//go:build openblas

package graph

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS this build multiplies matrices with.
const BLAS = "OpenBLAS"

// With the openblas build tag every GEMM of this package, and Gorgonia's
// own, goes to OpenBLAS through gonum's cgo binding. OpenBLAS runs one
// thread per call: the ops split their work across goroutines themselves,
// so both cores stay busy without oversubscription.
func init() {
	C.openblas_set_num_threads(1)
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	G.Use(netlib.Implementation{})
}
