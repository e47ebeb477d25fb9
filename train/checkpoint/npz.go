package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

func shapeSize(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
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
	for _, s := range a.Shape {
		if s < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", a.Shape)
		}
	}
	if n := shapeSize(a.Shape); n != a.Len() {
		return nil, fmt.Errorf("shape %v holds %d values, data has %d", a.Shape, n, a.Len())
	}
	dims := make([]string, len(a.Shape))
	for i, s := range a.Shape {
		dims[i] = strconv.Itoa(s)
	}
	shape := "(" + strings.Join(dims, ", ") + ")"
	if len(dims) == 1 {
		shape = "(" + dims[0] + ",)"
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
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

// ReadNPZ reads every array of a .npz. Arrays of dtype '<f4' and '<f8'
// are accepted and returned as float32; only C order is supported. Errors
// name the file and the array.
func ReadNPZ(path string) (map[string]Array, error) {
	all, err := readNPZ(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Array, len(all))
	for _, a := range all { // in file order, so the error names the first bad array
		switch a.Data.(type) {
		case []float32, []float64:
		default:
			return nil, fmt.Errorf("%s: array %s has dtype %s, want float32 or float64", path, a.Name, a.Dtype())
		}
		out[a.Name] = Array{Shape: a.Shape, Data: a.Float32s()}
	}
	return out, nil
}

// ReadNPZArrays reads every array of a .npz in its own element type
// ('<f4', '<f8', '<i8', '<i4', '|u1'); only C order is supported.
func ReadNPZArrays(path string) (map[string]NamedArray, error) {
	all, err := readNPZ(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]NamedArray, len(all))
	for _, a := range all {
		out[a.Name] = a
	}
	return out, nil
}

// readNPZ reads the arrays of a .npz in the order the archive holds them.
func readNPZ(path string) ([]NamedArray, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", path)
		}
		return nil, fmt.Errorf("%s: not a .npz archive: %w", path, err)
	}
	defer zr.Close()
	var out []NamedArray
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		a, err := readEntry(f)
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, name, err)
		}
		a.Name = name
		out = append(out, a)
	}
	return out, nil
}

func readEntry(f *zip.File) (NamedArray, error) {
	rc, err := f.Open()
	if err != nil {
		return NamedArray{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return NamedArray{}, err
	}
	return DecodeNPY(b)
}

// DecodeNPY parses a .npy file (versions 1.0–3.0, C order).
func DecodeNPY(b []byte) (NamedArray, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return NamedArray{}, errors.New("not a .npy file (bad magic)")
	}
	var hlen, start int
	switch b[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return NamedArray{}, errors.New("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return NamedArray{}, fmt.Errorf("unsupported .npy version %d.%d", b[6], b[7])
	}
	if len(b) < start+hlen {
		return NamedArray{}, errors.New("truncated .npy header")
	}
	descr, fortran, shape, err := parseHeader(string(b[start : start+hlen]))
	if err != nil {
		return NamedArray{}, err
	}
	if fortran {
		return NamedArray{}, errors.New("fortran_order is True: only C order is supported")
	}
	body := b[start+hlen:]
	n := shapeSize(shape)
	var data any
	var size int
	switch descr {
	case "<f4", "f4":
		data, size = make([]float32, n), 4
	case "<f8", "f8":
		data, size = make([]float64, n), 8
	case "<i8", "i8":
		data, size = make([]int64, n), 8
	case "<i4", "i4":
		data, size = make([]int32, n), 4
	case "|u1", "u1", "<u1":
		data, size = make([]uint8, n), 1
	default:
		return NamedArray{}, fmt.Errorf("unsupported dtype %s", descr)
	}
	if len(body) != n*size {
		return NamedArray{}, fmt.Errorf("shape %v of %s needs %d bytes, found %d", shape, descr, n*size, len(body))
	}
	if err := binary.Read(bytes.NewReader(body), binary.LittleEndian, data); err != nil {
		return NamedArray{}, err
	}
	return NamedArray{Shape: shape, Data: data}, nil
}

// parseHeader reads the Python dict literal of a .npy header.
func parseHeader(h string) (descr string, fortran bool, shape []int, err error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return "", false, nil, fmt.Errorf("bad .npy header %q", h)
	}
	value := func(key string) (string, bool) {
		i := strings.Index(h, "'"+key+"'")
		if i < 0 {
			return "", false
		}
		rest := strings.TrimSpace(h[i+len(key)+2:])
		rest, ok := strings.CutPrefix(rest, ":")
		return strings.TrimSpace(rest), ok
	}
	v, ok := value("descr")
	if !ok || len(v) < 2 || (v[0] != '\'' && v[0] != '"') {
		return "", false, nil, fmt.Errorf("bad .npy header %q: no descr", h)
	}
	end := strings.IndexByte(v[1:], v[0])
	if end < 0 {
		return "", false, nil, fmt.Errorf("bad .npy header %q: descr", h)
	}
	descr = v[1 : 1+end]
	if v, ok = value("fortran_order"); !ok {
		return "", false, nil, fmt.Errorf("bad .npy header %q: no fortran_order", h)
	}
	fortran = strings.HasPrefix(v, "True")
	if v, ok = value("shape"); !ok || !strings.HasPrefix(v, "(") {
		return "", false, nil, fmt.Errorf("bad .npy header %q: no shape", h)
	}
	close := strings.IndexByte(v, ')')
	if close < 0 {
		return "", false, nil, fmt.Errorf("bad .npy header %q: shape", h)
	}
	shape = []int{}
	for _, f := range strings.Split(v[1:close], ",") {
		f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "L"))
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return "", false, nil, fmt.Errorf("bad .npy header %q: shape", h)
		}
		shape = append(shape, d)
	}
	return descr, fortran, shape, nil
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
	return nil
}
