package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// IDX magic numbers: 0x00 0x00, data type 0x08 (unsigned byte), number of
// dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// Limits on what an IDX file may hold. They reject absurd headers and
// decompression bombs without refusing any real dataset.
const (
	maxSide = 1 << 15 // rows and columns
)

// MaxPixelBytes is the most pixel data (in bytes, one byte per pixel) that
// ReadImages accepts from one file; reading stops with an error once a file
// actually holds more. MNIST's training file holds 47,040,000.
var MaxPixelBytes int64 = 1 << 30

// Kinds of file errors; a *FileError unwraps to one of them, so callers can
// test with errors.Is.
var (
	ErrMissing   = errors.New("missing file")
	ErrNotGzip   = errors.New("not gzip")
	ErrGzip      = errors.New("corrupt gzip data")
	ErrMagic     = errors.New("bad magic number")
	ErrHeader    = errors.New("bad header")
	ErrTruncated = errors.New("truncated")
	ErrTrailing  = errors.New("trailing data")
	ErrTooLarge  = errors.New("too large")
	ErrLabel     = errors.New("label out of range")
	ErrCount     = errors.New("images/labels count mismatch")
	ErrShape     = errors.New("image shape mismatch")
	ErrChecksum  = errors.New("checksum mismatch")
	ErrDownload  = errors.New("download failed")
)

// FileError is an error about one file. Its message starts with the file
// name: "train-labels-idx1-ubyte.gz: magic 0x00000807, want 0x00000801".
type FileError struct {
	File string // file name as given to the reader (usually the base name)
	Kind error  // one of the Err* values
	Msg  string // what is wrong
	Err  error  // underlying error, if any
	Dir  string // directory holding the file, if known
}

// Error implements error.
func (e *FileError) Error() string {
	s := e.File + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Dir != "" {
		s += " (in " + e.Dir + ")"
	}
	return s
}

// Unwrap returns the error kind and the underlying error.
func (e *FileError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func fileErr(name string, kind error, format string, args ...any) *FileError {
	return &FileError{File: name, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// idxReader opens r, transparently decompressing gzip. A name ending in
// ".gz" must hold gzip data. The returned function checks that the stream
// ends where it should (no trailing data, gzip checksum verified).
func idxReader(r io.Reader, name string) (io.Reader, func(holds string) error, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(2)
	isGzip := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	var src io.Reader = br
	if isGzip {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, &FileError{File: name, Kind: ErrGzip, Msg: "corrupt gzip header", Err: err}
		}
		src = zr
	} else if strings.HasSuffix(name, ".gz") {
		if len(head) == 0 {
			return nil, nil, fileErr(name, ErrNotGzip, "not gzip: empty file")
		}
		return nil, nil, fileErr(name, ErrNotGzip, "not gzip: starts with % x, want 1f 8b", head)
	}
	end := func(holds string) error {
		var one [1]byte
		n, err := io.ReadFull(src, one[:])
		switch {
		case n > 0:
			return fileErr(name, ErrTrailing, "trailing data after the %s the header declares", holds)
		case err == io.EOF:
			return nil
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &FileError{File: name, Kind: ErrTruncated, Msg: "truncated: gzip stream ends early, after the " + holds, Err: err}
		default:
			return &FileError{File: name, Kind: ErrGzip, Msg: "corrupt gzip data after the " + holds, Err: err}
		}
	}
	return src, end, nil
}

// readHeader reads the magic number and dims dimensions.
func readHeader(r io.Reader, name string, magic uint32, dims int) ([]uint32, error) {
	buf := make([]byte, 4*(1+dims))
	n, err := io.ReadFull(r, buf)
	if err != nil {
		if n == 0 && err == io.EOF {
			return nil, fileErr(name, ErrTruncated, "truncated: empty, want an IDX header of %d bytes", len(buf))
		}
		if n >= 4 {
			if got := binary.BigEndian.Uint32(buf); got != magic {
				return nil, magicErr(name, got, magic)
			}
		}
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, fileErr(name, ErrTruncated, "truncated: header has %d bytes, want %d", n, len(buf))
		}
		return nil, &FileError{File: name, Kind: ErrGzip, Msg: fmt.Sprintf("reading header (%d of %d bytes)", n, len(buf)), Err: err}
	}
	if got := binary.BigEndian.Uint32(buf); got != magic {
		return nil, magicErr(name, got, magic)
	}
	out := make([]uint32, dims)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(buf[4*(i+1):])
	}
	return out, nil
}

func magicErr(name string, got, want uint32) error {
	hint := ""
	switch {
	case got == imagesMagic && want == labelsMagic:
		hint = " (this is an IDX images file)"
	case got == labelsMagic && want == imagesMagic:
		hint = " (this is an IDX labels file)"
	case got>>16 != 0:
		hint = " (not an IDX file)"
	case got>>8&0xff != 0x08:
		hint = fmt.Sprintf(" (data type 0x%02x, want 0x08 unsigned byte)", got>>8&0xff)
	default:
		hint = fmt.Sprintf(" (%d dimensions, want %d)", got&0xff, want&0xff)
	}
	return fileErr(name, ErrMagic, "magic 0x%08x, want 0x%08x%s", got, want, hint)
}

// readBody reads exactly want bytes of items of itemSize bytes, growing its
// buffer only as data actually arrives, so a header that declares more than
// the file holds fails without a large allocation. what describes the
// declaration for error messages ("60000 images of 28x28"), unit the item
// ("images").
func readBody(r io.Reader, name string, want, itemSize int64, what, unit string) ([]byte, error) {
	target := want
	if target > MaxPixelBytes {
		target = MaxPixelBytes + 1
	}
	const first = 1 << 22
	buf := make([]byte, 0, min(target, first))
	for int64(len(buf)) < target {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(target, 2*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == nil {
			continue
		}
		if int64(len(buf)) == target {
			break // the caller's end check reports any error at the end
		}
		got := int64(len(buf))
		holds := fmt.Sprintf("%d", got/itemSize)
		if got%itemSize != 0 {
			holds += fmt.Sprintf(" (and %d bytes)", got%itemSize)
		}
		if err == io.EOF {
			return nil, fileErr(name, ErrTruncated, "truncated: header declares %s, file holds %s", what, holds)
		}
		if errors.Is(err, errStopped) {
			return nil, err
		}
		kind := ErrGzip
		msg := fmt.Sprintf("corrupt gzip data (header declares %s, read %s)", what, holds)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			kind = ErrTruncated
			msg = fmt.Sprintf("truncated: header declares %s, file holds %s", what, holds)
		}
		return nil, &FileError{File: name, Kind: kind, Msg: msg, Err: err}
	}
	if target != want {
		return nil, fileErr(name, ErrTooLarge, "too large: header declares %s and the file holds more than %d bytes of %s (limit data.MaxPixelBytes)", what, MaxPixelBytes, unit)
	}
	return buf, nil
}

// pixelScale maps a byte to its grey level in [0,1].
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// ReadImages reads an IDX3 images file (gzipped or raw) from r. name is the
// file's name, used in errors; a name ending in ".gz" must hold gzip data.
// The result has N images of 1 channel of H x W pixels scaled to [0,1] and no
// labels. It checks the magic number, the sizes the header declares against
// the data, and that nothing follows the data.
func ReadImages(r io.Reader, name string) (*Set, error) {
	raw, n, h, w, err := readImagesRaw(r, name)
	if err != nil {
		return nil, err
	}
	pix := make([]float32, len(raw))
	toFloat(pix, raw)
	return &Set{Images: pix, N: n, C: 1, H: h, W: w}, nil
}

// readImagesRaw is ReadImages without the conversion to float32.
func readImagesRaw(r io.Reader, name string) (raw []byte, n, h, w int, err error) {
	src, end, err := idxReader(r, name)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	d, err := readHeader(src, name, imagesMagic, 3)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	what := fmt.Sprintf("%d images of %dx%d", d[0], d[1], d[2])
	switch {
	case d[0] == 0:
		return nil, 0, 0, 0, fileErr(name, ErrHeader, "header declares no images")
	case d[1] == 0 || d[2] == 0 || d[1] > maxSide || d[2] > maxSide:
		return nil, 0, 0, 0, fileErr(name, ErrHeader, "header declares %s, want sides 1..%d", what, maxSide)
	}
	item := int64(d[1]) * int64(d[2])
	raw, err = readBody(src, name, int64(d[0])*item, item, what, "pixels")
	if err != nil {
		return nil, 0, 0, 0, err
	}
	if err := end(what); err != nil {
		return nil, 0, 0, 0, err
	}
	return raw, int(d[0]), int(d[1]), int(d[2]), nil
}

// ReadLabels reads an IDX1 labels file (gzipped or raw) from r. name is the
// file's name, used in errors. Every label must be 0..9.
func ReadLabels(r io.Reader, name string) ([]uint8, error) {
	src, end, err := idxReader(r, name)
	if err != nil {
		return nil, err
	}
	d, err := readHeader(src, name, labelsMagic, 1)
	if err != nil {
		return nil, err
	}
	if d[0] == 0 {
		return nil, fileErr(name, ErrHeader, "header declares no labels")
	}
	what := fmt.Sprintf("%d labels", d[0])
	labels, err := readBody(src, name, int64(d[0]), 1, what, "labels")
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l > 9 {
			return nil, fileErr(name, ErrLabel, "label %d at index %d, want 0..9", l, i)
		}
	}
	if err := end(what); err != nil {
		return nil, err
	}
	return labels, nil
}
