package checkpoint

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
)

// numpyArrays are the arrays of testdata/numpy.npz and
// testdata/numpy-compressed.npz, written by NumPy 1.24 with np.savez and
// np.savez_compressed.
var numpyArrays = []NamedArray{
	{Name: "W", Shape: []int{2, 3}, Data: []float32{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5}},
	{Name: "d", Shape: []int{3}, Data: []float64{1.5, -2, 3.25}},
	{Name: "i", Shape: []int{2}, Data: []int64{-1, 1 << 40}},
	{Name: "j", Shape: []int{2, 1}, Data: []int32{7, -8}},
	{Name: "u", Shape: []int{4}, Data: []uint8{0, 1, 9, 255}},
	{Name: "s", Shape: []int{}, Data: []float32{42}},
	{Name: "e", Shape: []int{0, 5}, Data: []float32{}},
}

func sameArray(a, b NamedArray) bool {
	return a.Name == b.Name && slices.Equal(a.Shape, b.Shape) && a.Dtype() == b.Dtype() &&
		slices.Equal(a.Float32s(), b.Float32s()) && slices.Equal(a.Int64s(), b.Int64s())
}

// TestReadNumPyFiles reads archives NumPy wrote, stored and deflated.
func TestReadNumPyFiles(t *testing.T) {
	for _, file := range []string{"numpy.npz", "numpy-compressed.npz"} {
		got, err := ReadNPZArrays(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(numpyArrays) {
			t.Errorf("%s: %d arrays, want %d", file, len(got), len(numpyArrays))
		}
		for _, want := range numpyArrays {
			a := got[want.Name]
			a.Name = want.Name
			if !sameArray(a, want) {
				t.Errorf("%s: array %s is %v %s %v, want %v %s %v", file, want.Name, a.Shape, a.Dtype(), a.Data, want.Shape, want.Dtype(), want.Data)
			}
		}
	}
}

// TestSecondImplementationReads reads an archive this package wrote with
// the npz reader of codeberg.org/sbinet/npyio, an implementation of the
// format that shares no code with this one.
func TestSecondImplementationReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := WriteNPZArrays(path, numpyArrays[:5]); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	r, err := npz.NewReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var (
		w []float32
		d []float64
		i []int64
		j []int32
		u []uint8
	)
	for _, c := range []struct {
		name string
		ptr  any
	}{{"W", &w}, {"d", &d}, {"i", &i}, {"j", &j}, {"u", &u}} {
		if err := r.Read(c.name+".npy", c.ptr); err != nil {
			t.Fatalf("array %s: %v", c.name, err)
		}
		if h := r.Header(c.name + ".npy"); h == nil || h.Descr.Fortran {
			t.Errorf("array %s: header %v", c.name, h)
		}
	}
	if h := r.Header("W.npy"); !slices.Equal(h.Descr.Shape, []int{2, 3}) {
		t.Errorf("W has shape %v, want [2 3]", h.Descr.Shape)
	}
	got := []NamedArray{{Name: "W", Shape: []int{2, 3}, Data: w}, {Name: "d", Shape: []int{3}, Data: d},
		{Name: "i", Shape: []int{2}, Data: i}, {Name: "j", Shape: []int{2, 1}, Data: j}, {Name: "u", Shape: []int{4}, Data: u}}
	for k, a := range got {
		if !sameArray(a, numpyArrays[k]) {
			t.Errorf("array %s reads as %v, want %v", a.Name, a.Data, numpyArrays[k].Data)
		}
	}
}
