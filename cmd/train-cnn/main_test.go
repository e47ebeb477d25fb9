package main

import (
	"testing"

	"dcim/cmd/internal/clitest"
)

// TestCommand runs the built command on -h and on bad flags.
func TestCommand(t *testing.T) {
	bin := clitest.Build(t, "train-cnn")
	clitest.Check(t, bin, []clitest.Case{
		{Name: "help shows the CNN defaults", Args: []string{"-h"}, Code: 0, Msg: `(default "spin")`},
		{Name: "bad encoding", Args: []string{"-encoding", "ising"}, Code: 2, Msg: `train-cnn: -encoding: unknown encoding "ising"`},
		{Name: "bad arch", Args: []string{"-arch", "(3,2,32),(10)"}, Code: 2, Msg: "stride 2 does not tile input 28×28"},
		{Name: "sampled needs a hidden layer", Args: []string{"-objective", "generative-sampled", "-arch", "(10)"}, Code: 2, Msg: "has none"},
		{Name: "help lists the experiments", Args: []string{"-h"}, Code: 0, Msg: "cnn-generative-sampled"},
		{Name: "unknown experiment", Args: []string{"-experiment", "mine"}, Code: 2, Msg: `-experiment: unknown experiment "mine"; known: cnn-binary-centred,`},
		{Name: "force onto a file", Args: []string{"-arch", "(3,1,8),(2,2,8),(10)", "-out", "main_test.go", "-force"}, Code: 2, Msg: "-out: main_test.go is not a folder"},
	})
}
