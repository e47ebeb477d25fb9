package checkpoint

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"dcim/data"
	"dcim/models"
)

// MaxArrayBytes bounds the data a reader accepts for arrays whose shape it
// does not know in advance (a Want without Shape), all of them together:
// the size of the largest parameter array a model within the limits of
// [models.Arch.CheckSize] can have, as float32.
const MaxArrayBytes = models.MaxParams * 4

// Want is what a reader requires of one array of a .npz. Sizes come from
// it, or from an npy header only after that header passed the checks it
// implies; nothing is allocated from an unchecked size.
type Want struct {
	Name string
	// Shape is the exact shape required; nil accepts any shape of at most
	// Max elements.
	Shape []int
	// Max bounds the elements of an array of unknown shape; 0 means
	// MaxArrayBytes of data.
	Max int
	// Dtypes lists the descriptors accepted (DtypeFloat32, …); none
	// accepts every supported one.
	Dtypes []string
	// Finite refuses float arrays holding NaN or ±Inf.
	Finite bool
	// Into, if not nil, receives the array converted to float32 instead
	// of a new slice; its length must be the number of elements of Shape.
	Into []float32
}

// ReadArrays reads from the .npz at path the arrays named in want, and
// only those: an entry no Want names is neither inflated nor parsed. Each
// entry is checked before anything is allocated for it: its npy header
// against the Want (dtype, shape or size bound), and the entry's
// uncompressed size in the zip directory against the size its header
// declares; it is then read only up to that size. Every error is one
// line naming the file and the array.
func ReadArrays(path string, want []Want) (map[string]NamedArray, error) {
	zr, err := openNPZ(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return readArrays(path, zr.File, want)
}

// npzFile is an open .npz archive.
type npzFile struct {
	*zip.Reader
	f *os.File
}

func (z npzFile) Close() error { return z.f.Close() }

// openNPZ opens the zip archive at path, a regular file.
func openNPZ(path string) (npzFile, error) {
	f, err := data.OpenFile(path)
	if err != nil {
		return npzFile{}, fileError(path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return npzFile{}, fileError(path, err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return npzFile{}, fmt.Errorf("%s: not a .npz archive: %v", path, err)
	}
	return npzFile{zr, f}, nil
}

func readArrays(path string, files []*zip.File, want []Want) (map[string]NamedArray, error) {
	wanted := make(map[string]*Want, len(want))
	for i := range want {
		wanted[want[i].Name] = &want[i]
	}
	budget := MaxArrayBytes // for the arrays of unknown shape, together
	out := make(map[string]NamedArray, len(want))
	for _, f := range files { // in archive order, so errors name the first bad array
		name := strings.TrimSuffix(f.Name, ".npy")
		w, ok := wanted[name]
		if !ok {
			continue
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: array %s is in the archive twice", path, name)
		}
		a, err := readEntry(f, w, &budget)
		if err != nil {
			sep := ": " // "array W1: entry holds …", but "array W1 has shape …"
			if msg := err.Error(); strings.HasPrefix(msg, "has ") || strings.HasPrefix(msg, "holds ") {
				sep = " "
			}
			return nil, fmt.Errorf("%s: array %s%s%v", path, name, sep, err)
		}
		a.Name = name
		out[name] = a
	}
	for _, w := range want {
		if _, ok := out[w.Name]; !ok {
			return nil, fmt.Errorf("%s: array %s missing", path, w.Name)
		}
	}
	return out, nil
}

// readEntry reads one array, checked against w. budget is what is left of
// MaxArrayBytes for arrays of unknown shape.
func readEntry(f *zip.File, w *Want, budget *int) (NamedArray, error) {
	// The entry holds a header of at most maxHeaderLen+12 bytes and the
	// data: refuse an entry larger than the data could be before
	// inflating a byte of it.
	maxData := *budget
	if w.Shape != nil {
		n, ok := elements(w.Shape, math.MaxInt/8)
		if !ok {
			return NamedArray{}, fmt.Errorf("wanted shape %v is too large", w.Shape)
		}
		maxData = n * 8
	}
	if f.UncompressedSize64 > uint64(maxHeaderLen+12+maxData) {
		return NamedArray{}, fmt.Errorf("entry of %d bytes uncompressed, more than the array can need (%d)",
			f.UncompressedSize64, maxHeaderLen+12+maxData)
	}
	rc, err := f.Open()
	if err != nil {
		return NamedArray{}, err
	}
	defer rc.Close()
	h, err := readNPYHeader(rc)
	if err != nil {
		return NamedArray{}, err
	}
	if len(w.Dtypes) > 0 && !slices.Contains(w.Dtypes, h.descr) {
		return NamedArray{}, fmt.Errorf("has dtype %s, want %s", h.descr, strings.Join(w.Dtypes, " or "))
	}
	if h.fortran {
		return NamedArray{}, errors.New("fortran_order is True: only C order is supported")
	}
	size := elemSize(h.descr)
	var n int
	if w.Shape != nil {
		if !slices.Equal(h.shape, w.Shape) {
			return NamedArray{}, fmt.Errorf("has shape %v, want %v", h.shape, w.Shape)
		}
		n, _ = elements(h.shape, math.MaxInt)
	} else {
		limit := *budget / size
		if w.Max > 0 {
			limit = min(limit, w.Max)
		}
		var ok bool
		if n, ok = elements(h.shape, limit); !ok {
			return NamedArray{}, fmt.Errorf("shape %v of %s is more than the %d elements accepted", h.shape, h.descr, limit)
		}
		*budget -= n * size
	}
	if want := uint64(h.len + n*size); f.UncompressedSize64 != want {
		return NamedArray{}, fmt.Errorf("entry holds %d bytes, its header declares %d (shape %v of %s)",
			f.UncompressedSize64, want, h.shape, h.descr)
	}
	if w.Into != nil && len(w.Into) != n {
		return NamedArray{}, fmt.Errorf("destination holds %d values, shape %v has %d", len(w.Into), h.shape, n)
	}
	body := io.LimitReader(rc, int64(n*size))
	data, err := decode(body, h.descr, n, w.Into)
	if err != nil {
		return NamedArray{}, fmt.Errorf("data: %v", noEOF(err))
	}
	// LimitReader stopped at the header's size, which the directory's
	// matched; the zip reader fails past the directory's size and checks
	// the CRC at the end: anything but a clean end is refused.
	var one [1]byte
	switch _, err := io.ReadFull(rc, one[:]); {
	case err == nil, errors.Is(err, zip.ErrFormat):
		return NamedArray{}, fmt.Errorf("entry holds more than the %d bytes its header declares", h.len+n*size)
	case err != io.EOF:
		return NamedArray{}, fmt.Errorf("entry: %v", err)
	}
	a := NamedArray{Shape: h.shape, Data: data}
	if w.Finite {
		if err := checkFinite(a); err != nil {
			return NamedArray{}, err
		}
	}
	return a, nil
}

// decode reads n little-endian values of dtype descr from r: into a new
// slice of their own type, or converted into into when it is not nil.
func decode(r io.Reader, descr string, n int, into []float32) (any, error) {
	switch {
	case into != nil && descr == DtypeFloat32:
		return into, readValues(r, into)
	case into != nil && descr == DtypeFloat64:
		d := make([]float64, n)
		if err := readValues(r, d); err != nil {
			return nil, err
		}
		for i, v := range d {
			into[i] = float32(v)
		}
		return into, nil
	case into != nil:
		return nil, fmt.Errorf("dtype %s cannot be read as float32", descr)
	}
	switch descr {
	case DtypeFloat32:
		return readNew[float32](r, n)
	case DtypeFloat64:
		return readNew[float64](r, n)
	case DtypeInt64:
		return readNew[int64](r, n)
	case DtypeInt32:
		return readNew[int32](r, n)
	case DtypeUint8:
		return readNew[uint8](r, n)
	}
	return nil, fmt.Errorf("unsupported dtype %s", descr)
}

func readNew[T number](r io.Reader, n int) ([]T, error) {
	d := make([]T, n)
	return d, readValues(r, d)
}

// readValues fills dst from r in chunks of 64 KiB, so that reading holds
// no second copy of the array.
func readValues[T number](r io.Reader, dst []T) error {
	var zero T
	size := binary.Size(zero)
	buf := make([]byte, (64<<10)/size*size)
	for i := 0; i < len(dst); {
		k := min(len(dst)-i, len(buf)/size)
		if _, err := io.ReadFull(r, buf[:k*size]); err != nil {
			return err
		}
		if _, err := binary.Decode(buf[:k*size], binary.LittleEndian, dst[i:i+k]); err != nil {
			return err
		}
		i += k
	}
	return nil
}

// checkFinite refuses a float array holding NaN or ±Inf.
func checkFinite(a NamedArray) error {
	bad := func(i int, v float64) error {
		return fmt.Errorf("holds %v at index %d: non-finite values are refused", v, i)
	}
	switch d := a.Data.(type) {
	case []float32:
		for i, v := range d {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return bad(i, f)
			}
		}
	case []float64:
		for i, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return bad(i, v)
			}
		}
	}
	return nil
}

// ReadNPZ reads every array of a .npz, of dtype '<f4' or '<f8', as
// float32; only C order is supported. Arrays together may hold at most
// MaxArrayBytes. Errors name the file and the array.
func ReadNPZ(path string) (map[string]Array, error) {
	all, err := readAll(path, DtypeFloat32, DtypeFloat64)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Array, len(all))
	for name, a := range all {
		out[name] = Array{Shape: a.Shape, Data: a.Float32s()}
	}
	return out, nil
}

// ReadNPZArrays reads every array of a .npz in its own element type
// ('<f4', '<f8', '<i8', '<i4', '|u1'); only C order is supported. Arrays
// together may hold at most MaxArrayBytes. Readers that know which arrays
// they need, and their shapes, use ReadArrays.
func ReadNPZArrays(path string) (map[string]NamedArray, error) {
	return readAll(path)
}

// readAll reads every array of the archive, of the given dtypes (any
// supported one when none is given).
func readAll(path string, dtypes ...string) (map[string]NamedArray, error) {
	zr, err := openNPZ(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var want []Want
	seen := map[string]bool{}
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if seen[name] {
			return nil, fmt.Errorf("%s: array %s is in the archive twice", path, name)
		}
		seen[name] = true
		want = append(want, Want{Name: name, Dtypes: dtypes})
	}
	return readArrays(path, zr.File, want)
}
