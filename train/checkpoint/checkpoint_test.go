package checkpoint

import (
	"bytes"
	"dcim/data/datatest"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dcim/graph"
	"dcim/graph/graphtest"
)

// newParams returns parameters with non-zero biases and a⁰, so that the
// round trip checks them too.
func newParams(t *testing.T, arch string, enc graph.Encoding) *graph.Params {
	return graphtest.NonZero(graphtest.Params(t, arch, enc, 7))
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tests := []struct {
		name, arch string
		enc        graph.Encoding
	}{
		{"dense", "(32),(16),(10)", graph.Binary},
		{"cnn", "(3,1,4),(2,2,4),(20),(10)", graph.Spin},
		{"one layer", "(10)", graph.Binary},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := newParams(t, tc.arch, tc.enc)
			meta := Meta{Objective: "generative", Extra: map[string]any{"epochs": 3.0}}
			if err := Save(dir, p, meta); err != nil {
				t.Fatal(err)
			}
			q, m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if m.Arch != p.Arch.String() || m.Encoding != tc.enc.String() || m.Input != [3]int{1, 28, 28} || m.Classes != 10 || m.Objective != "generative" || m.Extra["epochs"] != 3.0 {
				t.Errorf("meta %+v", m)
			}
			if q.Encoding != tc.enc || q.Arch.String() != p.Arch.String() {
				t.Errorf("loaded %v %v", q.Arch, q.Encoding)
			}
			for i, ts := range p.Tensors() {
				got := q.Tensors()[i]
				if !got.Shape().Eq(ts.Shape()) || !slices.Equal(got.Data().([]float32), ts.Data().([]float32)) {
					t.Errorf("%s differs after the round trip", p.Names()[i])
				}
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{JSONName, NPZName}) {
				t.Errorf("run folder holds %v, want only the two checkpoint files", names)
			}
		})
	}
}

func TestNPZArraysRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	in := []NamedArray{
		{Name: "f", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6.5}},
		{Name: "d", Shape: []int{3}, Data: []float64{1.5, 2, 3}},
		{Name: "i", Shape: []int{2}, Data: []int64{-1, 1 << 40}},
		{Name: "u", Shape: []int{4}, Data: []uint8{0, 1, 9, 255}},
		{Name: "s", Shape: []int{}, Data: []float32{42}},
		{Name: "e", Shape: []int{0, 5}, Data: []float32{}},
	}
	if err := WriteNPZArrays(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadNPZArrays(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range in {
		b, ok := out[a.Name]
		if !ok {
			t.Fatalf("array %s missing", a.Name)
		}
		if !slices.Equal(a.Shape, b.Shape) || a.Dtype() != b.Dtype() || !slices.Equal(a.Float32s(), b.Float32s()) {
			t.Errorf("array %s: wrote %v %v %v, read %v %v %v", a.Name, a.Shape, a.Dtype(), a.Data, b.Shape, b.Dtype(), b.Data)
		}
	}
	// ReadNPZ accepts only floats.
	if _, err := ReadNPZ(path); err == nil || !strings.Contains(err.Error(), "array i") {
		t.Errorf("ReadNPZ on int arrays: %v", err)
	}
}

func TestNPYHeader(t *testing.T) {
	tests := []struct {
		shape []int
		want  string
	}{
		{[]int{3, 4}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"},
		{[]int{5}, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"},
		{[]int{}, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"},
	}
	for _, tc := range tests {
		b, err := EncodeNPY(NamedArray{Shape: tc.shape, Data: make([]float32, product(tc.shape))})
		if err != nil {
			t.Fatal(err)
		}
		hlen := int(b[8]) | int(b[9])<<8
		if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' || string(b[:8]) != "\x93NUMPY\x01\x00" {
			t.Errorf("shape %v: header of %d bytes is not a padded v1.0 header", tc.shape, hlen)
		}
		if got := strings.TrimRight(string(b[10:10+hlen]), " \n"); got != tc.want {
			t.Errorf("shape %v: header %q, want %q", tc.shape, got, tc.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		arrays []NamedArray
		want   string
	}{
		{"shape mismatch", []NamedArray{{Name: "x", Shape: []int{2, 2}, Data: []float32{1}}}, "array x: shape [2 2] holds 4 values"},
		{"bad type", []NamedArray{{Name: "x", Shape: []int{1}, Data: []string{"a"}}}, "unsupported element type"},
		{"duplicate", []NamedArray{{Name: "x", Shape: []int{}, Data: []float32{1}}, {Name: "x", Shape: []int{}, Data: []float32{1}}}, "given twice"},
		{"bad name", []NamedArray{{Name: "a/b", Shape: []int{}, Data: []float32{1}}}, "not a plain name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncodeNPZ(tc.arrays)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	good := func(t *testing.T) string {
		dir := t.TempDir()
		if err := Save(dir, newParams(t, "(3,1,4),(3,1,8),(10)", graph.Spin), Meta{}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	rewriteNPZ := func(t *testing.T, dir string, edit func(map[string]Array) ([]string, map[string]Array)) {
		arrays, err := ReadNPZ(filepath.Join(dir, NPZName))
		if err != nil {
			t.Fatal(err)
		}
		names, arrays := edit(arrays)
		var shapes [][]int
		var data [][]float32
		for _, n := range names {
			shapes, data = append(shapes, arrays[n].Shape), append(data, arrays[n].Data)
		}
		if err := WriteNPZ(filepath.Join(dir, NPZName), names, shapes, data); err != nil {
			t.Fatal(err)
		}
	}
	writeJSON := func(t *testing.T, dir, s string) {
		if err := os.WriteFile(filepath.Join(dir, JSONName), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "nope: no such folder"},
		{"missing json", func(t *testing.T) string {
			dir := good(t)
			os.Remove(filepath.Join(dir, JSONName))
			return dir
		}, "model.json: no such file"},
		{"missing npz", func(t *testing.T) string {
			dir := good(t)
			os.Remove(filepath.Join(dir, NPZName))
			return dir
		}, "model.npz: no such file"},
		{"missing array", func(t *testing.T) string {
			dir := good(t)
			rewriteNPZ(t, dir, func(a map[string]Array) ([]string, map[string]Array) {
				return []string{"W1", "b1", "W2", "b2", "b3", "a0"}, a
			})
			return dir
		}, "model.npz: array W3 missing"},
		{"mis-shaped array", func(t *testing.T) string {
			dir := good(t)
			rewriteNPZ(t, dir, func(a map[string]Array) ([]string, map[string]Array) {
				a["W2"] = Array{Shape: []int{8, 2, 3, 3}, Data: make([]float32, 8*2*9)}
				return []string{"W1", "b1", "W2", "b2", "W3", "b3", "a0"}, a
			})
			return dir
		}, "model.npz: array W2 has shape [8 2 3 3], want [8 4 3 3]"},
		{"bad json", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"arch": "(10)",`)
			return dir
		}, "model.json: bad JSON"},
		{"no arch", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"encoding": "spin", "input": [1,28,28]}`)
			return dir
		}, `model.json: no "arch"`},
		{"unparsable arch", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"arch": "(3,1,", "encoding": "spin", "input": [1,28,28]}`)
			return dir
		}, `model.json: arch "(3,1,"`},
		{"bad encoding", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"arch": "(10)", "encoding": "ternary", "input": [1,28,28]}`)
			return dir
		}, `model.json: unknown encoding "ternary"`},
		{"bad input", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"arch": "(10)", "encoding": "spin"}`)
			return dir
		}, `model.json: input [0 0 0]`},
		{"npz not a zip", func(t *testing.T) string {
			dir := good(t)
			os.WriteFile(filepath.Join(dir, NPZName), []byte("hello"), 0o644)
			return dir
		}, "model.npz: not a .npz archive"},
		{"json a named pipe", func(t *testing.T) string {
			dir := good(t)
			fifo(t, filepath.Join(dir, JSONName))
			return dir
		}, "model.json: a named pipe, not a regular file"},
		{"npz a named pipe", func(t *testing.T) string {
			dir := good(t)
			fifo(t, filepath.Join(dir, NPZName))
			return dir
		}, "model.npz: a named pipe, not a regular file"},
		{"npz a device", func(t *testing.T) string {
			dir := good(t)
			os.Remove(filepath.Join(dir, NPZName))
			if err := os.Symlink("/dev/zero", filepath.Join(dir, NPZName)); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "model.npz: a character device, not a regular file"},
		{"json a folder", func(t *testing.T) string {
			dir := good(t)
			os.Remove(filepath.Join(dir, JSONName))
			os.Mkdir(filepath.Join(dir, JSONName), 0o755)
			return dir
		}, "model.json: a folder, not a regular file"},
		{"json too large", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"arch": "(10)", "encoding": "spin", "input": [1,28,28], "extra": {"pad": "`+strings.Repeat("x", MaxJSONBytes)+`"}}`)
			return dir
		}, "model.json: file of 65614 bytes, more than the 65536 accepted"},
		{"json of too many layers", func(t *testing.T) string {
			dir := good(t)
			writeJSON(t, dir, `{"arch": "`+strings.TrimSuffix(strings.Repeat("(2),", 65), ",")+`", "encoding": "spin", "input": [1,28,28]}`)
			return dir
		}, "model.json: arch \"(2),(2),(2),(2),(2),(2),(2),(2),(2),(2),\"…: 65 layers, more than the 64 accepted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(tc.setup(t))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line containing %q", msg, tc.want)
			}
		})
	}
}

// fifo replaces path by a named pipe that nobody writes.
func fifo(t *testing.T, path string) {
	t.Helper()
	os.Remove(path)
	datatest.Mkfifo(t, path)
}

// TestSaveRefusesNonFinite: saving parameters that hold a NaN or an
// infinity fails, naming the array, and leaves the files already in the
// folder as they were.
func TestSaveRefusesNonFinite(t *testing.T) {
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		t.Run(fmt.Sprint(bad), func(t *testing.T) {
			dir := t.TempDir()
			p := newParams(t, "(4),(10)", graph.Binary)
			if err := Save(dir, p, Meta{Objective: "generative"}); err != nil {
				t.Fatal(err)
			}
			before := map[string][]byte{}
			for _, name := range []string{NPZName, JSONName} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				before[name] = b
			}
			p.Tensors()[2].Data().([]float32)[7] = bad // W2
			err := Save(dir, p, Meta{Objective: "generative"})
			want := fmt.Sprintf("save checkpoint: parameter W2 holds %v at index 7", bad)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Save: %v, want an error starting %q", err, want)
			}
			for name, b := range before {
				if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, b) {
					t.Errorf("%s changed (%v)", name, err)
				}
			}
			fresh := filepath.Join(dir, "new")
			if err := Save(fresh, p, Meta{}); err == nil {
				t.Error("Save into a new folder succeeded")
			}
			if _, err := os.Stat(fresh); err == nil {
				t.Error("a refused Save created its folder")
			}
		})
	}
}

// TestWriteHook: the hook sees every atomic write twice, before and after
// the rename, with the old and then the new content on disk.
func TestWriteHook(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFileAtomic(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var seen []string
	SetWriteHook(func(p string, renamed bool) {
		b, _ := os.ReadFile(p)
		seen = append(seen, fmt.Sprintf("%s %v %s", filepath.Base(p), renamed, b))
	})
	defer SetWriteHook(nil)
	if err := WriteFileAtomic(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if want := []string{"f false old", "f true new"}; !slices.Equal(seen, want) {
		t.Errorf("hook saw %q, want %q", seen, want)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	for _, content := range []string{"first", "second, longer"} {
		if err := WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("folder holds %d entries after the write, want 1 (no temp file)", len(entries))
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "f"), nil, 0o644); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

func TestMetaJSON(t *testing.T) {
	dir := t.TempDir()
	if err := Save(dir, newParams(t, "(10)", graph.Binary), Meta{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONName))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"arch", "encoding", "input", "classes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("model.json lacks %q: %s", k, b)
		}
	}
}

// pythonCheck loads an .npz with NumPy when it is installed, and otherwise
// with Python's zipfile and the .npy header rules NumPy applies.
const pythonCheck = `
import sys, zipfile, ast, struct
path = sys.argv[1]
try:
    import numpy as np
    z = np.load(path)
    for k in z.files:
        a = z[k]
        print(k, a.dtype.str, list(a.shape), float(a.astype('f8').sum()))
except ImportError:
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            b = z.read(n)
            assert b[:8] == b'\x93NUMPY\x01\x00', b[:8]
            hl = struct.unpack('<H', b[8:10])[0]
            assert (10 + hl) % 64 == 0 and b[10+hl-1:10+hl] == b'\n'
            h = ast.literal_eval(b[10:10+hl].decode('latin1'))
            assert h['fortran_order'] is False
            n_el = 1
            for s in h['shape']:
                n_el *= s
            fmt = {'<f4': 'f', '<f8': 'd', '<i8': 'q', '|u1': 'B'}[h['descr']]
            vals = struct.unpack('<%d%s' % (n_el, fmt), b[10+hl:])
            print(n[:-4], h['descr'], list(h['shape']), float(sum(vals)))
`

func TestPythonLoads(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import numpy").Run(); err != nil {
		t.Log("numpy not installed: checking the .npy format with zipfile and ast instead")
	}
	path := filepath.Join(t.TempDir(), "a.npz")
	arrays := []NamedArray{
		{Name: "W1", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Name: "b1", Shape: []int{2}, Data: []float32{0.5, 0.25}},
		{Name: "labels", Shape: []int{3}, Data: []int64{1, 2, 3}},
		{Name: "pred", Shape: []int{2}, Data: []uint8{7, 8}},
	}
	if err := WriteNPZArrays(path, arrays); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-c", pythonCheck, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "W1 <f4 [2, 3] 21.0\nb1 <f4 [2] 0.75\nlabels <i8 [3] 6.0\npred |u1 [2] 15.0\n"
	if string(out) != want {
		t.Errorf("python read\n%s\nwant\n%s", out, want)
	}
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
