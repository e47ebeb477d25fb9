package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"dcim/train/checkpoint"
)

// A completed run trained further with -resume DIR -epochs N ends with the
// weights of a run that had N epochs from the start.
func TestResumeMoreEpochs(t *testing.T) {
	straight := filepath.Join(t.TempDir(), "straight")
	if _, err := Run(context.Background(), tinyOptions(t, straight)); err != nil {
		t.Fatal(err)
	}
	want := readArrays(t, filepath.Join(straight, checkpoint.NPZName))

	dir := filepath.Join(t.TempDir(), "short")
	opts := tinyOptions(t, dir)
	opts.Settings.Epochs = 2
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	resume := func(epochs int) (*Summary, error) {
		return Run(context.Background(), Options{Settings: Settings{Command: "train-dense", Epochs: epochs}, Resume: dir, Train: opts.Train, Test: opts.Test})
	}
	var usage *SettingError
	if _, err := resume(1); !errors.As(err, &usage) {
		t.Errorf("-epochs below the completed count: error %v, want a usage error", err)
	}
	s, err := resume(3)
	if err != nil {
		t.Fatal(err)
	}
	if s.Epochs != 3 || s.Flags.Epochs != 3 {
		t.Errorf("summary: %d epochs completed of %d, want 3 of 3", s.Epochs, s.Flags.Epochs)
	}
	got := readArrays(t, filepath.Join(dir, checkpoint.NPZName))
	for name, w := range want {
		for i := range w.Data {
			if math.Float32bits(got[name].Data[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("%s[%d] = %v, want %v (3 epochs straight)", name, i, got[name].Data[i], w.Data[i])
			}
		}
	}
	// A plain -resume of the extended run now has nothing left to do.
	if s, err := resume(0); err != nil || s.Epochs != 3 {
		t.Errorf("plain resume of the completed run: %v, %+v", err, s)
	}
}
