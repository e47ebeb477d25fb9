package graph

import "dcim/graph/internal/simd"

// SIMD says whether graph's float32 element-wise kernels, Winograd
// transforms and (without OpenBLAS) SGEMM run in Go assembly: on amd64
// with AVX2 and FMA, unless DCIM_SGEMM=generic in the environment
// switches every assembly kernel off, so that the pure-Go code runs.
func SIMD() bool { return simd.OK }
