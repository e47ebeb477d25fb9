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

// Limits on what an IDX file may hold, derived from the memory a run may use.
// A run holds its training and test images in memory as bytes, beside the
// model, and must stay under memoryBudget whatever its input files hold; the
// two images files may take half of it. A header is checked against these
// limits before anything is allocated from it, and the reader then allocates
// one block of at most blockBytes at a time, as the data arrive, so a header
// that declares more than its file holds costs no memory.
const (
	memoryBudget = 1 << 30
	// maxPixelBytes bounds the pixels read from one images file (one byte
	// per pixel): a quarter of the budget, 256 MiB. MNIST's training file
	// holds 47,040,000.
	maxPixelBytes = memoryBudget / 4
	// maxImages bounds the images (and labels) read from one file: as many
	// MNIST images as fit in maxPixelBytes, 342,392, which is 5.7 times
	// MNIST's training set.
	maxImages = maxPixelBytes / (height * width)
	// maxSide bounds rows and columns, so that one image (at most 1 MiB)
	// fits in a block.
	maxSide = 1 << 10
)

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
	ErrLimit     = errors.New("limit out of range")
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

// limitErr is the error for a limit above maxImages.
func limitErr(limit int) error {
	return fmt.Errorf("%w: %d, want 0 (all) up to %d images, the most a set may hold", ErrLimit, limit, maxImages)
}

// toRead returns how many items of a file to read: all that its header
// declares, or the first limit when limit > 0. It checks the declared count
// against the limit and against maxImages (a file larger than maxImages can
// still give its first limit items). what describes the declaration for
// error messages ("60000 images of 28x28"), unit the items ("images").
func toRead(name string, declared uint32, limit int, what, unit string) (int, error) {
	switch {
	case declared == 0:
		return 0, fileErr(name, ErrHeader, "header declares no %s", unit)
	case limit > maxImages:
		return 0, limitErr(limit)
	case limit > 0 && int64(limit) > int64(declared):
		return 0, fileErr(name, ErrLimit, "header declares %s, fewer than the limit of %d", what, limit)
	case limit > 0:
		return limit, nil
	case declared > maxImages:
		return 0, fileErr(name, ErrTooLarge, "too large: header declares %s, more than the %d a set may hold", what, maxImages)
	}
	return int(declared), nil
}

// readBlocks reads n items of itemSize bytes into blocks of whole items
// (imagesPerBlock), allocating each block only once the previous one is
// full, so a header that declares more than the file holds fails after an
// allocation of at most the data really there plus one block. what
// describes the declaration for error messages, as for toRead.
func readBlocks(r io.Reader, name string, n, itemSize int, what string) ([][]byte, error) {
	per := imagesPerBlock(itemSize)
	var blocks [][]byte
	for got := 0; got < n; {
		b := make([]byte, min(per, n-got)*itemSize)
		k, err := io.ReadFull(r, b)
		if err == nil {
			blocks = append(blocks, b)
			got += len(b) / itemSize
			continue
		}
		if errors.Is(err, errStopped) {
			return nil, err
		}
		bytes := int64(got)*int64(itemSize) + int64(k)
		holds := fmt.Sprintf("%d", bytes/int64(itemSize))
		if rest := bytes % int64(itemSize); rest != 0 {
			holds += fmt.Sprintf(" (and %d bytes)", rest)
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fileErr(name, ErrTruncated, "truncated: header declares %s, file holds %s", what, holds)
		}
		return nil, &FileError{File: name, Kind: ErrGzip, Msg: fmt.Sprintf("corrupt gzip data (header declares %s, read %s)", what, holds), Err: err}
	}
	return blocks, nil
}

// skipRest reads past the items of a file that a limit left unread, from
// item read to the declared count, without keeping them: a file is checked
// against its header in full (its length, and through idxReader's end its
// gzip checksum) whatever the limit, so that a truncated or corrupt file
// is refused even when only its first items are used.
func skipRest(r io.Reader, name string, read int, declared int64, itemSize int, what string) error {
	rest := (declared - int64(read)) * int64(itemSize)
	if rest <= 0 {
		return nil
	}
	k, err := io.CopyN(io.Discard, r, rest)
	if err == nil {
		return nil
	}
	if errors.Is(err, errStopped) {
		return err
	}
	bytes := int64(read)*int64(itemSize) + k
	holds := fmt.Sprintf("%d", bytes/int64(itemSize))
	if rem := bytes % int64(itemSize); rem != 0 {
		holds += fmt.Sprintf(" (and %d bytes)", rem)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileErr(name, ErrTruncated, "truncated: header declares %s, file holds %s", what, holds)
	}
	return &FileError{File: name, Kind: ErrGzip, Msg: fmt.Sprintf("corrupt gzip data (header declares %s, read %s)", what, holds), Err: err}
}

// readImages reads an IDX3 images file (gzipped or raw) from r: all its
// images, or the first how.limit when that is > 0. name is the file's name,
// used in errors; a name ending in ".gz" must hold gzip data. The result has
// one channel and no labels; declared is the count the header declares. It
// checks the magic number, the sizes the header declares against how, the
// limits and the data, and that the file holds exactly the images its
// header declares, however few of them are kept.
func readImages(r io.Reader, name string, how reading) (s *Set, declared int, err error) {
	src, end, err := idxReader(r, name)
	if err != nil {
		return nil, 0, err
	}
	d, err := readHeader(src, name, imagesMagic, 3)
	if err != nil {
		return nil, 0, err
	}
	what := fmt.Sprintf("%d images of %dx%d", d[0], d[1], d[2])
	if d[1] == 0 || d[2] == 0 || d[1] > maxSide || d[2] > maxSide {
		return nil, 0, fileErr(name, ErrHeader, "header declares %s, want sides 1..%d", what, maxSide)
	}
	h, w := int(d[1]), int(d[2])
	if how.h > 0 && (h != how.h || w != how.w) {
		return nil, 0, fileErr(name, ErrShape, "images are %dx%d, want %dx%d", h, w, how.h, how.w)
	}
	n, err := toRead(name, d[0], how.limit, what, "images")
	if err != nil {
		return nil, 0, err
	}
	if bytes := int64(n) * int64(h*w); bytes > maxPixelBytes {
		return nil, 0, fileErr(name, ErrTooLarge, "too large: %d images of %dx%d are %d bytes of pixels, more than the %d a set may hold", n, h, w, bytes, maxPixelBytes)
	}
	blocks, err := readBlocks(src, name, n, h*w, what)
	if err != nil {
		return nil, 0, err
	}
	if err := skipRest(src, name, n, int64(d[0]), h*w, what); err != nil {
		return nil, 0, err
	}
	if err := end(what); err != nil {
		return nil, 0, err
	}
	return &Set{N: n, C: 1, H: h, W: w, blocks: blocks, perBlock: imagesPerBlock(h * w)}, int(d[0]), nil
}

// readLabels reads an IDX1 labels file (gzipped or raw) from r: all its
// labels, or the first limit when limit > 0; declared is the count the
// header declares. name is the file's name, used in errors. Every label must
// be 0..9.
func readLabels(r io.Reader, name string, limit int) (labels []uint8, declared int, err error) {
	src, end, err := idxReader(r, name)
	if err != nil {
		return nil, 0, err
	}
	d, err := readHeader(src, name, labelsMagic, 1)
	if err != nil {
		return nil, 0, err
	}
	what := fmt.Sprintf("%d labels", d[0])
	n, err := toRead(name, d[0], limit, what, "labels")
	if err != nil {
		return nil, 0, err
	}
	blocks, err := readBlocks(src, name, n, 1, what)
	if err != nil {
		return nil, 0, err
	}
	labels = blocks[0] // n <= maxImages < blockBytes: one block
	for i, l := range labels {
		if l > 9 {
			return nil, 0, fileErr(name, ErrLabel, "label %d at index %d, want 0..9", l, i)
		}
	}
	if err := skipRest(src, name, n, int64(d[0]), 1, what); err != nil {
		return nil, 0, err
	}
	if err := end(what); err != nil {
		return nil, 0, err
	}
	return labels, int(d[0]), nil
}
