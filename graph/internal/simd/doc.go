// Package simd holds the float32 kernels of package graph that Go does not
// vectorise by itself, written in AVX2/FMA assembly for amd64, and an SGEMM
// whose micro-kernel is AVX-512 where the CPU has it (AVX2 otherwise, or
// with DCIM_SGEMM=avx2 in the environment). The Winograd tile transforms
// and the block transposes around them follow the same choice: 16 lanes
// per zmm with AVX-512, 8 per ymm otherwise (Wide, Transforms). Callers
// check OK and handle the elements past the last multiple of 8 themselves.
//
// DCIM_SGEMM=generic in the environment switches every assembly kernel
// off (OK is false; train's Adam update follows it through graph.SIMD):
// the pure-Go code runs, as on a CPU without AVX2 or off amd64, so that
// it can be tested and measured on any machine.
// It is a package of its own because graph uses cgo in its openblas build,
// and a cgo package cannot hold Go assembly.
package simd
