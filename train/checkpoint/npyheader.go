package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The .npy header is read by our own strict parser, not by the npy
// package of codeberg.org/sbinet/npyio (v0.14.0), because that reader,
// given hostile bytes, allocates and panics before any check can run:
// a 14-byte file declaring a version 2.0 header of 4 GiB made it
// allocate 8.6 GB (runtime.MemStats.TotalAlloc) and then panic (slice
// bounds out of range [:-1]); a header without its closing newline, or
// with its keys in another order (a valid Python dict), panicked too; a
// shape (-3,) was accepted, and (2^62,) ended in "panic: makeslice".
// Its writer is not used either: it writes version 2.0 headers whose
// data does not start on the 64-byte boundary the format asks for, and
// writes N-dimensional arrays only from nested slices, 117 times slower
// than this package (400 ms against 3.4 ms for a 512×784 float32 array).

const (
	// maxHeaderLen is the longest header dict accepted, in bytes. NumPy's
	// own reader refuses longer ones by default (max_header_size=10000).
	maxHeaderLen = 10000
	// maxDims is NumPy's NPY_MAXDIMS.
	maxDims = 64
)

// npyHeader is the parsed header of a .npy file.
type npyHeader struct {
	descr   string // canonical dtype, one of the Dtype constants
	fortran bool
	shape   []int
	len     int // bytes from the magic to the end of the header: where the data starts
}

// dtypes maps every descriptor accepted on reading to its canonical form.
var dtypes = map[string]string{
	"<f4": DtypeFloat32, "f4": DtypeFloat32,
	"<f8": DtypeFloat64, "f8": DtypeFloat64,
	"<i8": DtypeInt64, "i8": DtypeInt64,
	"<i4": DtypeInt32, "i4": DtypeInt32,
	"|u1": DtypeUint8, "u1": DtypeUint8, "<u1": DtypeUint8,
}

// elemSize is the size in bytes of one element of a canonical dtype.
func elemSize(descr string) int {
	switch descr {
	case DtypeFloat64, DtypeInt64:
		return 8
	case DtypeFloat32, DtypeInt32:
		return 4
	}
	return 1
}

// readNPYHeader reads the magic, version, length and dict of a .npy file
// (versions 1.0 to 3.0) from r, reading no more than the header. It
// allocates at most maxHeaderLen bytes, whatever the header declares.
func readNPYHeader(r io.Reader) (npyHeader, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return npyHeader{}, fmt.Errorf("not a .npy file: %w", noEOF(err))
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return npyHeader{}, errors.New("not a .npy file (bad magic)")
	}
	var hlen, start int
	switch pre[6] {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return npyHeader{}, fmt.Errorf("truncated .npy header: %w", noEOF(err))
		}
		hlen, start = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, pre[8:12]); err != nil {
			return npyHeader{}, fmt.Errorf("truncated .npy header: %w", noEOF(err))
		}
		n := binary.LittleEndian.Uint32(pre[8:12])
		if n > maxHeaderLen {
			return npyHeader{}, fmt.Errorf(".npy header of %d bytes, more than the %d accepted", n, maxHeaderLen)
		}
		hlen, start = int(n), 12
	default:
		return npyHeader{}, fmt.Errorf("unsupported .npy version %d.%d", pre[6], pre[7])
	}
	if hlen > maxHeaderLen {
		return npyHeader{}, fmt.Errorf(".npy header of %d bytes, more than the %d accepted", hlen, maxHeaderLen)
	}
	dict := make([]byte, hlen)
	if _, err := io.ReadFull(r, dict); err != nil {
		return npyHeader{}, fmt.Errorf("truncated .npy header: %w", noEOF(err))
	}
	h, err := parseNPYDict(string(dict))
	if err != nil {
		return npyHeader{}, err
	}
	h.len = start + hlen
	return h, nil
}

// noEOF turns a bare io.EOF into io.ErrUnexpectedEOF: every caller
// expects more bytes.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseNPYDict parses the Python dict literal of a .npy header: exactly
// the keys 'descr', 'fortran_order' and 'shape', in any order, followed
// by nothing but white space (the padding and the closing newline).
func parseNPYDict(dict string) (npyHeader, error) {
	p := dictParser{s: dict}
	h, err := p.dict()
	if err != nil {
		return npyHeader{}, fmt.Errorf("bad .npy header %s: %w", quoteShort(dict), err)
	}
	return h, nil
}

// quoteShort quotes a header for an error message, cut to 120 bytes.
func quoteShort(s string) string {
	s = strings.TrimRight(s, " \n")
	if len(s) > 120 {
		return strconv.Quote(s[:120]) + "…"
	}
	return strconv.Quote(s)
}

type dictParser struct {
	s string
	i int
}

func (p *dictParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// eat skips white space and the byte c, and reports whether c was there.
func (p *dictParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) dict() (npyHeader, error) {
	var h npyHeader
	if !p.eat('{') {
		return h, errors.New("want a dict")
	}
	seen := map[string]bool{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("key %q given twice", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return h, fmt.Errorf("no ':' after key %q", key)
		}
		switch key {
		case "descr":
			d, err := p.str()
			if err != nil {
				return h, fmt.Errorf("descr: %w", err)
			}
			if h.descr = dtypes[d]; h.descr == "" {
				return h, fmt.Errorf("unsupported dtype %q", d)
			}
		case "fortran_order":
			if h.fortran, err = p.boolean(); err != nil {
				return h, fmt.Errorf("fortran_order: %w", err)
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, fmt.Errorf("shape: %w", err)
			}
		default:
			return h, fmt.Errorf("unknown key %q", key)
		}
		if !p.eat(',') {
			if p.eat('}') {
				break
			}
			return h, errors.New("want ',' or '}'")
		}
	}
	p.space()
	if p.i != len(p.s) {
		return h, errors.New("text after the dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("no %q", k)
		}
	}
	return h, nil
}

// str reads a quoted string without escapes.
func (p *dictParser) str() (string, error) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("want a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	s := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return s, nil
}

func (p *dictParser) boolean() (bool, error) {
	p.space()
	for _, b := range []struct {
		word string
		v    bool
	}{{"True", true}, {"False", false}} {
		if strings.HasPrefix(p.s[p.i:], b.word) {
			p.i += len(b.word)
			return b.v, nil
		}
	}
	return false, errors.New("want True or False")
}

// tuple reads a tuple of non-negative integers: "()", "(5,)", "(3, 4)".
func (p *dictParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("want a tuple")
	}
	shape := []int{}
	for !p.eat(')') {
		p.space()
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start {
			return nil, errors.New("want a non-negative integer")
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil {
			return nil, fmt.Errorf("dimension %s does not fit an int", p.s[start:p.i])
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long
			p.i++
		}
		if len(shape) == maxDims {
			return nil, fmt.Errorf("more than %d dimensions", maxDims)
		}
		shape = append(shape, d)
		if !p.eat(',') {
			if p.eat(')') {
				break
			}
			return nil, errors.New("want ',' or ')'")
		}
	}
	return shape, nil
}

// elements returns the number of elements of shape, or false if it is
// more than limit; the product is never formed where it would overflow.
func elements(shape []int, limit int) (int, bool) {
	if slices.Contains(shape, 0) {
		return 0, true
	}
	n := 1
	for _, d := range shape {
		if d < 0 || n > limit/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// npyHeaderText returns the header dict of an array as NumPy writes it.
func npyHeaderText(descr string, shape []int) string {
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(dims) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
}
