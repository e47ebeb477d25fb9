package main

import (
	"os"
	"path/filepath"
	"testing"

	"dcim/cmd/internal/clitest"
)

// TestCommand runs the built command on -h and on bad flags. The unknown
// experiment is a name no experiment can have (it holds spaces), so that a
// user's own experiment never makes the test train.
func TestCommand(t *testing.T) {
	bin := clitest.Build(t, "train-cnn")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	clitest.Check(t, bin, []clitest.Case{
		{Name: "help shows the CNN defaults", Args: []string{"-h"}, Code: 0, Msg: `(default "spin")`},
		{Name: "bad encoding", Args: []string{"-encoding", "ising"}, Code: 2, Msg: `train-cnn: -encoding: unknown encoding "ising"`},
		{Name: "bad arch", Args: []string{"-arch", "(3,2,32),(10)"}, Code: 2, Msg: "stride 2 does not tile input 28×28"},
		{Name: "sampled needs a hidden layer", Args: []string{"-objective", "generative-sampled", "-arch", "(10)"}, Code: 2, Msg: "has none"},
		{Name: "help lists the experiments", Args: []string{"-h"}, Code: 0, Msg: "cnn-generative-sampled"},
		{Name: "unknown experiment", Args: []string{"-experiment", "no such experiment", "-out", t.TempDir()}, Code: 2, Msg: `-experiment: unknown experiment "no such experiment"; known: cnn-binary-centred,`},
		{Name: "force onto a file", Args: []string{"-arch", "(3,1,8),(2,2,8),(10)", "-out", file, "-force"}, Code: 2, Msg: "-out: " + file + " is not a folder"},
	})
}
