//go:build openblas

package graph

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int blas_thread_shutdown_(void);
// char *openblas_get_corename(void);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// BLAS names the BLAS this build multiplies matrices with and, once the
// package is initialised, the kernels OpenBLAS picked for the CPU (or was
// told to use by OPENBLAS_CORETYPE): they differ up to 1.8× in speed.
var BLAS = "OpenBLAS"

// useSgemm is false: OpenBLAS multiplies float32 matrices too.
const useSgemm = false

// With the openblas build tag every GEMM of this package, and Gorgonia's
// own, goes to OpenBLAS through gonum's cgo binding. OpenBLAS runs one
// thread per call: the ops split their work across goroutines themselves,
// so both cores stay busy without oversubscription. OpenBLAS has already
// started its thread pool when this runs; the pool is shut down, since its
// idle workers otherwise cost about a tenth of the CPU time of a training
// step (as OPENBLAS_NUM_THREADS=1 in the environment would avoid).
func init() {
	C.openblas_set_num_threads(1)
	C.blas_thread_shutdown_()
	BLAS += " (" + C.GoString(C.openblas_get_corename()) + " kernels)"
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	G.Use(netlib.Implementation{})
}
