package models_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"dcim/data"
	"dcim/models"
	"dcim/train"
)

// An experiment is declared as a value (in a file of this package it would
// be registered from an init function) and trained from Go in a few lines,
// here on synthetic 28×28 shapes instead of MNIST.
func Example_trainExperiment() {
	e := models.Experiment{
		Name:      "tiny",
		Arch:      models.MustParse("(4,2,4),(16),(10)"),
		Encoding:  models.Spin,
		Objective: models.MustParseObjective("ce + 0.5*label + 0.5*draw"),
		Epochs:    3,
		Batch:     16,
	}
	dir, _ := os.MkdirTemp("", "tiny")
	defer os.RemoveAll(dir)

	s := train.FromExperiment(e, "example")
	s.Out = filepath.Join(dir, "run")
	summary, err := train.Run(context.Background(), train.Options{
		Settings: s,
		Train:    data.Synthetic(320, 10, 28, 1),
		Test:     data.Synthetic(100, 10, 28, 2),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("objective:", summary.Objective)
	fmt.Println("epochs:", summary.Epochs, "iterations:", summary.Iterations)
	fmt.Println("terms:", summary.Terms["ce"].Weight, summary.Terms["label"].Weight, summary.Terms["draw2"].Weight)
	fmt.Println("learned the shapes:", summary.ValAccuracy > 0.5)
	// Output:
	// objective: ce+0.5*label+0.5*draw
	// epochs: 3 iterations: 60
	// terms: 1 0.5 0.5
	// learned the shapes: true
}
