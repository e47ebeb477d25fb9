//go:build !openblas

package graph

// BLAS names the BLAS this build multiplies matrices with: gonum's pure-Go
// implementation unless built with the openblas tag.
const BLAS = "gonum (pure Go)"
