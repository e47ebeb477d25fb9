package graph

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// convFlag runs the whole test suite under one convolution algorithm:
// go test ./graph -args -conv=winograd checks the gradients and adjoint
// identities of every test with Winograd wherever it applies.
var convFlag = flag.String("conv", "auto", "convolution algorithm for every test: auto, im2col or winograd")

func TestMain(m *testing.M) {
	flag.Parse()
	a, err := ParseConvAlgorithm(*convFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	SetConvAlgorithm(a)
	os.Exit(m.Run())
}
