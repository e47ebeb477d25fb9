package train

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"

	"gorgonia.org/tensor"
)

// TestReadResumeHostile edits a valid resume.npz in the ways issue-style
// hostile files do; each must end in one error line naming resume.npz
// (or model.json) and the array, and an entry resume does not need must
// not be read at all.
func TestReadResumeHostile(t *testing.T) {
	arch, err := models.Parse("(3,1,2),(10)")
	if err != nil {
		t.Fatal(err)
	}
	// valid writes model.json and resume.npz of a small model, and returns
	// the arrays of resume.npz.
	valid := func(t *testing.T, dir string) []checkpoint.NamedArray {
		p, err := graph.NewParams(arch, models.MNISTInput, 10, graph.Binary, tensor.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for _, x := range p.Tensors() {
			sizes = append(sizes, x.Shape().TotalSize())
		}
		if err := checkpoint.Save(dir, p, checkpoint.Meta{}); err != nil {
			t.Fatal(err)
		}
		if err := writeResume(dir, p, NewAdam(1e-3, sizes), state{Version: stateVersion}); err != nil {
			t.Fatal(err)
		}
		arrays, err := checkpoint.ReadNPZArrays(filepath.Join(dir, ResumeName))
		if err != nil {
			t.Fatal(err)
		}
		var out []checkpoint.NamedArray
		for _, name := range []string{"W1", "m_W1", "v_W1", "b1", "m_b1", "v_b1", "W2", "m_W2", "v_W2", "b2", "m_b2", "v_b2", "a0", "m_a0", "v_a0", stateKey} {
			a := arrays[name]
			a.Name = name
			out = append(out, a)
		}
		return out
	}
	set := func(arrays []checkpoint.NamedArray, a checkpoint.NamedArray) []checkpoint.NamedArray {
		for i := range arrays {
			if arrays[i].Name == a.Name {
				arrays[i] = a
				return arrays
			}
		}
		return append(arrays, a)
	}
	tests := []struct {
		name string
		edit func(t *testing.T, dir string, arrays []checkpoint.NamedArray) []checkpoint.NamedArray
		want string // "" for success
	}{
		{"valid", nil, ""},
		{"unneeded entry is not read", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			// An entry that is not even an npy file: reading it would fail.
			return append(a, checkpoint.NamedArray{Name: "junk"})
		}, ""},
		{"NaN in a moment", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			m := make([]float32, 2*9)
			m[5] = float32(math.NaN())
			return set(a, checkpoint.NamedArray{Name: "m_W1", Shape: []int{2, 1, 3, 3}, Data: m})
		}, "resume.npz: array m_W1 holds NaN at index 5"},
		{"array of another architecture", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			return set(a, checkpoint.NamedArray{Name: "W2", Shape: []int{10, 100}, Data: make([]float32, 1000)})
		}, "resume.npz: array W2 has shape [10 100], want [10 1352]"},
		{"float64 moments", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			return set(a, checkpoint.NamedArray{Name: "v_b2", Shape: []int{10}, Data: make([]float64, 10)})
		}, "resume.npz: array v_b2 has dtype <f8, want <f4"},
		{"missing moment", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			return append(a[:1:1], a[2:]...) // drop m_W1
		}, "resume.npz: array m_W1 missing"},
		{"state of 2 MiB", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			return set(a, checkpoint.NamedArray{Name: stateKey, Shape: []int{2 << 20}, Data: make([]uint8, 2<<20)})
		}, "resume.npz: array state_json: shape [2097152] of |u1 is more than the 1048576 elements accepted"},
		{"model.json of a huge architecture, state without a model", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			js := `{"arch": "(100000000),(10)", "encoding": "binary", "input": [1, 28, 28]}`
			if err := os.WriteFile(filepath.Join(dir, checkpoint.JSONName), []byte(js), 0o644); err != nil {
				t.Fatal(err)
			}
			return set(a, stateArray(t, state{Version: stateVersion}))
		}, `model.json: arch "(100000000),(10)", input [1 28 28], classes 10: `},
		{"state without a model needs model.json", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			os.Remove(filepath.Join(dir, checkpoint.JSONName))
			return set(a, stateArray(t, state{Version: stateVersion}))
		}, "model.json: no such file"},
		{"model.json missing: the state's model is enough", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			os.Remove(filepath.Join(dir, checkpoint.JSONName))
			return a
		}, ""},
		{"model.json of another model: the state's model counts", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			js := `{"arch": "(100000000),(10)", "encoding": "binary", "input": [1, 28, 28]}`
			if err := os.WriteFile(filepath.Join(dir, checkpoint.JSONName), []byte(js), 0o644); err != nil {
				t.Fatal(err)
			}
			return a
		}, ""},
		{"state's model of a huge architecture", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			m := &checkpoint.Meta{Arch: "(100000000),(10)", Encoding: "binary", Input: [3]int{1, 28, 28}, Classes: 10}
			return set(a, stateArray(t, state{Version: stateVersion, Model: m}))
		}, `resume.npz: state: model: arch "(100000000),(10)", input [1 28 28], classes 10: `},
		{"state's model of 65 layers", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			m := &checkpoint.Meta{Arch: strings.Repeat("(2),", 64) + "(10)", Encoding: "binary", Input: [3]int{1, 28, 28}, Classes: 10}
			return set(a, stateArray(t, state{Version: stateVersion, Model: m}))
		}, `resume.npz: state: model: arch "(2),(2),(2),(2),(2),(2),(2),(2),(2),(2),"…: 65 layers, more than the 64 accepted`},
		{"state's model without an architecture", func(t *testing.T, dir string, a []checkpoint.NamedArray) []checkpoint.NamedArray {
			return set(a, stateArray(t, state{Version: stateVersion, Model: &checkpoint.Meta{Encoding: "binary"}}))
		}, "resume.npz: state: model without an architecture"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			arrays := valid(t, dir)
			if tc.edit != nil {
				arrays = tc.edit(t, dir, arrays)
				writeArchive(t, filepath.Join(dir, ResumeName), arrays)
			}
			s, err := readResume(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Arrays) != 15 {
					t.Errorf("read %d arrays, want the 15 parameters and moments", len(s.Arrays))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("readResume: %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

// stateArray is the state_json array of resume.npz holding st.
func stateArray(t *testing.T, st state) checkpoint.NamedArray {
	t.Helper()
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return checkpoint.NamedArray{Name: stateKey, Shape: []int{len(js)}, Data: js}
}

// writeArchive writes arrays as a .npz; an array without data becomes an
// entry of bytes that are no npy file.
func writeArchive(t *testing.T, path string, arrays []checkpoint.NamedArray) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, a := range arrays {
		b := []byte("not an npy file")
		if a.Data != nil {
			var err error
			if b, err = checkpoint.EncodeNPY(a); err != nil {
				t.Fatal(err)
			}
		}
		w, err := zw.Create(a.Name + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
