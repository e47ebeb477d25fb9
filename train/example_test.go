package train_test

import (
	"context"
	"fmt"

	"dcim/train"
	"dcim/train/sampling"
)

// A notebook cell: train the paper's dense net with eq. (21) for three
// epochs on 8,192 MNIST images, in memory, then draw each class's mean
// digit and let the forward model classify it.
func Example_notebook() {
	s, err := train.NewSettings("notebook", "dense-generative")
	if err != nil {
		panic(err)
	}
	s.Epochs, s.Limit = 3, 8192
	m, err := train.Fit(context.Background(), train.Options{Settings: s})
	if err != nil {
		panic(err)
	}
	fmt.Println("accuracy above 0.85:", m.Summary.ValAccuracy > 0.85)
	digits, err := m.Sample(sampling.Mean, 1, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(digits.N(), "digits, at least 5 given their class:", digits.Verdict().Correct >= 5)
	// Output:
	// accuracy above 0.85: true
	// 10 digits, at least 5 given their class: true
}
