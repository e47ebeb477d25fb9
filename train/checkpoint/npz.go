package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
)

// NumPy dtype descriptors this package writes and reads.
const (
	DtypeFloat32 = "<f4"
	DtypeFloat64 = "<f8"
	DtypeInt64   = "<i8"
	DtypeInt32   = "<i4"
	DtypeUint8   = "|u1"
)

// Array is a float32 array read from a .npz, in C (row-major) order.
type Array struct {
	Shape []int
	Data  []float32
}

// NamedArray is one array of a .npz of any supported element type. Data
// is []float32 ("<f4"), []float64 ("<f8"), []int64 ("<i8"), []int32
// ("<i4") or []uint8 ("|u1"); its type fixes the dtype written.
type NamedArray struct {
	Name  string
	Shape []int
	Data  any
}

// Dtype returns the NumPy descriptor of a's element type, or "" if the
// type of Data is not supported.
func (a NamedArray) Dtype() string {
	switch a.Data.(type) {
	case []float32:
		return DtypeFloat32
	case []float64:
		return DtypeFloat64
	case []int64:
		return DtypeInt64
	case []int32:
		return DtypeInt32
	case []uint8:
		return DtypeUint8
	}
	return ""
}

// Len returns the number of elements of Data (-1 if its type is unsupported).
func (a NamedArray) Len() int {
	switch d := a.Data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []int64:
		return len(d)
	case []int32:
		return len(d)
	case []uint8:
		return len(d)
	}
	return -1
}

// Float32s returns the data converted to float32.
func (a NamedArray) Float32s() []float32 {
	switch d := a.Data.(type) {
	case []float32:
		return slices.Clone(d)
	case []float64:
		return convert[float64, float32](d)
	case []int64:
		return convert[int64, float32](d)
	case []int32:
		return convert[int32, float32](d)
	case []uint8:
		return convert[uint8, float32](d)
	}
	return nil
}

// Int64s returns the data converted to int64 (floats are truncated).
func (a NamedArray) Int64s() []int64 {
	switch d := a.Data.(type) {
	case []float32:
		return convert[float32, int64](d)
	case []float64:
		return convert[float64, int64](d)
	case []int64:
		return slices.Clone(d)
	case []int32:
		return convert[int32, int64](d)
	case []uint8:
		return convert[uint8, int64](d)
	}
	return nil
}

type number interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~uint8
}

func convert[S, D number](s []S) []D {
	out := make([]D, len(s))
	for i, v := range s {
		out[i] = D(v)
	}
	return out
}

// WriteNPZ writes named float32 arrays (in the given order) as a NumPy
// .npz archive, atomically (see WriteFileAtomic).
func WriteNPZ(path string, names []string, shapes [][]int, data [][]float32) error {
	if len(names) != len(shapes) || len(names) != len(data) {
		return fmt.Errorf("write %s: %d names, %d shapes and %d arrays", path, len(names), len(shapes), len(data))
	}
	arrays := make([]NamedArray, len(names))
	for i := range names {
		arrays[i] = NamedArray{Name: names[i], Shape: shapes[i], Data: data[i]}
	}
	return WriteNPZArrays(path, arrays)
}

// WriteNPZArrays writes arrays of any supported dtype (in the given order)
// as a NumPy .npz archive, atomically. The output depends only on the
// arrays: the same arrays give byte-identical files.
func WriteNPZArrays(path string, arrays []NamedArray) error {
	b, err := EncodeNPZ(arrays)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, b, 0o644)
}

// EncodeNPZ returns the bytes of a .npz archive holding arrays.
func EncodeNPZ(arrays []NamedArray) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	for _, a := range arrays {
		if a.Name == "" || strings.ContainsAny(a.Name, "/\\") {
			return nil, fmt.Errorf("array name %q is not a plain name", a.Name)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("array %s given twice", a.Name)
		}
		seen[a.Name] = true
		npy, err := EncodeNPY(a)
		if err != nil {
			return nil, fmt.Errorf("array %s: %w", a.Name, err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Deflate})
		if err != nil {
			return nil, fmt.Errorf("array %s: %w", a.Name, err)
		}
		if _, err := w.Write(npy); err != nil {
			return nil, fmt.Errorf("array %s: %w", a.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeNPY returns a in the .npy format, version 1.0, C order.
func EncodeNPY(a NamedArray) ([]byte, error) {
	descr := a.Dtype()
	if descr == "" {
		return nil, fmt.Errorf("unsupported element type %T", a.Data)
	}
	n, ok := elements(a.Shape, math.MaxInt)
	if !ok {
		return nil, fmt.Errorf("shape %v has a negative dimension or too many values", a.Shape)
	}
	if n != a.Len() {
		return nil, fmt.Errorf("shape %v holds %d values, data has %d", a.Shape, n, a.Len())
	}
	header := npyHeaderText(descr, a.Shape)
	// magic (6) + version (2) + length (2) + header + '\n', padded to 64.
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	if err := binary.Write(&buf, binary.LittleEndian, a.Data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFileAtomic writes data to path so that readers see either the old
// file or the whole new one: it writes a temporary file in the same
// folder, syncs it, renames it over path and syncs the folder.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	callWriteHook(path, false)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("write %s: sync folder: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("write %s: sync folder: %w", path, err)
	}
	callWriteHook(path, true)
	return nil
}

// writeHook is the function SetWriteHook installed, or nil.
var writeHook atomic.Pointer[func(path string, renamed bool)]

// SetWriteHook makes WriteFileAtomic call h at the two points of every
// write where a crash leaves something different on disk: with renamed
// false once the temporary file is written and synced (a crash leaves it
// beside the old file), and with renamed true once it has replaced path.
// It is for tests that kill a program at each of those points; nil
// removes the hook.
func SetWriteHook(h func(path string, renamed bool)) {
	if h == nil {
		writeHook.Store(nil)
		return
	}
	writeHook.Store(&h)
}

func callWriteHook(path string, renamed bool) {
	if h := writeHook.Load(); h != nil {
		(*h)(path, renamed)
	}
}
