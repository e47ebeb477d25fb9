package checkpoint

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is one hand-made entry of a hostile .npz: prefix (an npy header
// and maybe data) followed by zeros, deflated; the zip directory declares
// declare bytes uncompressed (the real size when declare is 0).
type entry struct {
	name    string
	prefix  []byte
	zeros   int64 // rounded up to 64 KiB plus a whole number of MiB
	declare int64
}

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// zeroBlock is a deflate block that inflates to 1 MiB of zeros wherever
// the 32 KiB before it are zeros, so that a GiB of zeros costs a MiB of
// disk and no time to build.
var zeroBlock = func() []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(make([]byte, 64*kib))
	fw.Flush()
	buf.Reset()
	fw.Write(make([]byte, mib))
	fw.Flush()
	return bytes.Clone(buf.Bytes())
}()

// deflate returns e's data deflated, its CRC-32 and its length.
func (e entry) deflate() ([]byte, uint32, int64) {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	fw.Write(e.prefix)
	crc := crc32.ChecksumIEEE(e.prefix)
	size := int64(len(e.prefix))
	if e.zeros > 0 {
		z := make([]byte, 64*kib)
		fw.Write(z)
		crc = crc32.Update(crc, crc32.IEEETable, z)
		size += 64 * kib
	}
	fw.Flush()
	z := make([]byte, mib)
	for size < int64(len(e.prefix))+e.zeros {
		buf.Write(zeroBlock)
		crc = crc32.Update(crc, crc32.IEEETable, z)
		size += mib
	}
	var tail bytes.Buffer // the final empty block
	fw.Reset(&tail)
	fw.Close()
	return append(buf.Bytes(), tail.Bytes()...), crc, size
}

func writeEntries(t *testing.T, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		data, crc, size := e.deflate()
		if e.declare != 0 {
			size = e.declare
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name + ".npy", Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(size)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// npy returns a .npy file: a v1.0 header of the given dict text, padded,
// and data.
func npy(dict string, data []byte) []byte {
	dict += strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
	return append(append(b, dict...), data...)
}

func npyOf(t *testing.T, a NamedArray) []byte {
	t.Helper()
	b, err := EncodeNPY(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goodEntries are the arrays of a valid "(10)" model: W1 10×784, b1, a0.
func goodEntries(t *testing.T) []entry {
	return []entry{
		{name: "W1", prefix: npyOf(t, NamedArray{Shape: []int{10, 784}, Data: make([]float32, 7840)})},
		{name: "b1", prefix: npyOf(t, NamedArray{Shape: []int{10}, Data: make([]float32, 10)})},
		{name: "a0", prefix: npyOf(t, NamedArray{Shape: []int{1, 28, 28}, Data: make([]float32, 784)})},
	}
}

const goodJSON = `{"arch": "(10)", "encoding": "binary", "input": [1, 28, 28], "classes": 10}`

// hostileCases are the hostile model folders of issue 11, each with the
// words its one-line error must hold besides the file's name. A case with
// no want must load. They serve both TestLoadHostile and the by-hand
// measurement of peak memory (see TestWriteHostileFolders).
func hostileCases(t *testing.T) []struct {
	name, json string
	entries    []entry
	file       string // the file the error names
	want       []string
} {
	good := goodEntries(t)
	replace := func(i int, e entry) []entry {
		out := append([]entry(nil), good...)
		out[i] = e
		return out
	}
	f32 := func(vs ...float32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	nanW1 := make([]float32, 7840)
	nanW1[3] = float32(math.NaN())
	infB1 := make([]float32, 10)
	infB1[9] = float32(math.Inf(-1))
	return []struct {
		name, json string
		entries    []entry
		file       string
		want       []string
	}{
		{"input 2^32×2^32", `{"arch": "(10)", "encoding": "binary", "input": [4294967296, 4294967296, 1]}`, good,
			JSONName, []string{"input [4294967296 4294967296 1]", "too many units"}},
		{"arch MaxInt units", `{"arch": "(9223372036854775807),(10)", "encoding": "binary", "input": [1, 28, 28]}`, good,
			JSONName, []string{`arch "(9223372036854775807),(10)"`, "more than the limit"}},
		{"arch 1e8 units", `{"arch": "(100000000),(10)", "encoding": "binary", "input": [1, 28, 28]}`, good,
			JSONName, []string{`arch "(100000000),(10)"`, "79500000794 parameters, more than the limit of 33554432"}},
		{"input 1e5×1e5", `{"arch": "(10)", "encoding": "binary", "input": [1, 100000, 100000]}`, good,
			JSONName, []string{"input [1 100000 100000]", "more than the limit"}},
		{"negative classes", `{"arch": "(10)", "encoding": "binary", "input": [1, 28, 28], "classes": -10}`, good,
			JSONName, []string{"classes -10", "must be positive"}},
		{"header shape 2^62", goodJSON,
			replace(0, entry{name: "W1", prefix: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", nil)}),
			NPZName, []string{"array W1 has shape [4611686018427387904], want [10 784]"}},
		{"header shape 1e11", goodJSON,
			replace(0, entry{name: "W1", prefix: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }", nil)}),
			NPZName, []string{"array W1 has shape [100000000000], want [10 784]"}},
		{"header length 4 GiB", goodJSON,
			replace(1, entry{name: "b1", prefix: []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff{}")}),
			NPZName, []string{"array b1: .npy header of 4294967295 bytes, more than the 10000 accepted"}},
		{"extra 1 GiB entry is not read", goodJSON,
			append(goodEntries(t), entry{name: "junk", prefix: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1073741824,), }", nil), zeros: gib}),
			"", nil},
		{"W1 inflates to 1 GiB", goodJSON,
			replace(0, entry{name: "W1", prefix: good[0].prefix, zeros: gib}),
			NPZName, []string{"array W1: entry of 1073838848 bytes uncompressed, more than the array can need (72732)"}},
		{"W1 inflates past a lying directory", goodJSON,
			replace(0, entry{name: "W1", prefix: good[0].prefix, zeros: 64 * mib, declare: int64(len(good[0].prefix))}),
			NPZName, []string{"array W1: entry holds more than the 31488 bytes its header declares"}},
		{"W1 shorter than its header", goodJSON,
			replace(0, entry{name: "W1", prefix: good[0].prefix[:1000]}),
			NPZName, []string{"array W1: entry holds 1000 bytes, its header declares 31488"}},
		{"NaN in W1", goodJSON,
			replace(0, entry{name: "W1", prefix: npyOf(t, NamedArray{Shape: []int{10, 784}, Data: nanW1})}),
			NPZName, []string{"array W1 holds NaN at index 3"}},
		{"-Inf in b1", goodJSON,
			replace(1, entry{name: "b1", prefix: npyOf(t, NamedArray{Shape: []int{10}, Data: infB1})}),
			NPZName, []string{"array b1 holds -Inf at index 9"}},
		{"float64 b1 is converted", goodJSON,
			replace(1, entry{name: "b1", prefix: npyOf(t, NamedArray{Shape: []int{10}, Data: make([]float64, 10)})}),
			"", nil},
		{"wrong dtype", goodJSON,
			replace(1, entry{name: "b1", prefix: npyOf(t, NamedArray{Shape: []int{10}, Data: make([]int64, 10)})}),
			NPZName, []string{"array b1 has dtype <i8, want <f4 or <f8"}},
		{"big-endian dtype", goodJSON,
			replace(1, entry{name: "b1", prefix: npy("{'descr': '>f4', 'fortran_order': False, 'shape': (10,), }", f32(make([]float32, 10)...))}),
			NPZName, []string{"array b1: bad .npy header", `unsupported dtype ">f4"`}},
		{"fortran order", goodJSON,
			replace(0, entry{name: "W1", prefix: npy("{'descr': '<f4', 'fortran_order': True, 'shape': (10, 784), }", make([]byte, 4*7840))}),
			NPZName, []string{"array W1: fortran_order is True"}},
		{"missing array", goodJSON, good[1:],
			NPZName, []string{"array W1 missing"}},
		{"array twice", goodJSON, append(goodEntries(t), good[2]),
			NPZName, []string{"array a0 is in the archive twice"}},
	}
}

// TestLoadHostile loads each hostile folder: every one must end in one
// error line naming the file and the array or field, never a panic and
// never an allocation the size of what the file declares.
func TestLoadHostile(t *testing.T) {
	for _, tc := range hostileCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeEntries(t, filepath.Join(dir, NPZName), tc.entries)
			if err := os.WriteFile(filepath.Join(dir, JSONName), []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(filepath.Join(dir, NPZName)); st.Size() > 2*mib {
				t.Fatalf("hostile archive of %d bytes, want it small", st.Size())
			}
			p, _, err := Load(dir)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if len(p.Tensors()) != 3 {
					t.Fatalf("loaded %d parameters, want 3", len(p.Tensors()))
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tc.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, filepath.Join(dir, tc.file)+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line that begins with the path of %s", msg, tc.file)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestReadAllHostile reads archives without knowing their arrays: sizes
// then come from the npy headers and the zip directory, and are bounded
// by MaxArrayBytes.
func TestReadAllHostile(t *testing.T) {
	big := func(name string) entry {
		const n = 64*kib + 76*mib
		return entry{name: name, prefix: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (79757312,), }", nil), zeros: n}
	}
	tests := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"shape 2^62", []entry{{name: "x", prefix: npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", nil)}},
			"array x: shape [4611686018427387904] of <f4 is more than the 33554432 elements accepted"},
		{"shape 1e11", []entry{{name: "x", prefix: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (100000000000,), }", nil)}},
			"array x: shape [100000000000] of |u1 is more than the 134217728 elements accepted"},
		{"1 GiB of zeros", []entry{{name: "x", prefix: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1073741824,), }", nil), zeros: gib}},
			"array x: entry of 1073807488 bytes uncompressed, more than the array can need (134227740)"},
		// The first array takes 80 MB of the 128 MiB: the second, as
		// large, is refused before it is inflated.
		{"two arrays over the budget together", []entry{big("x"), big("y")},
			"array y: entry of 79757440 bytes uncompressed, more than the array can need (54470428)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.npz")
			writeEntries(t, path, tc.entries)
			_, err := ReadNPZArrays(path)
			if err == nil || !strings.Contains(err.Error(), path+": "+tc.want) {
				t.Errorf("ReadNPZArrays: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestWriteHostileFolders writes the hostile folders into the folder named
// by $DCIM_HOSTILE_DIR, for measuring a command on them by hand (for
// example the peak memory of sample -model DIR under /usr/bin/time -v);
// it is skipped when the variable is not set.
func TestWriteHostileFolders(t *testing.T) {
	root := os.Getenv("DCIM_HOSTILE_DIR")
	if root == "" {
		t.Skip("DCIM_HOSTILE_DIR not set")
	}
	for _, tc := range hostileCases(t) {
		dir := filepath.Join(root, strings.NewReplacer(" ", "-", "^", "", "×", "x").Replace(tc.name))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeEntries(t, filepath.Join(dir, NPZName), tc.entries)
		if err := os.WriteFile(filepath.Join(dir, JSONName), []byte(tc.json), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
