package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	modOnce sync.Once
	modDir  string
	modErr  error
)

// moduleData returns the data/ folder of the GoMNIST module copy.
func moduleData(tb testing.TB) string {
	tb.Helper()
	modOnce.Do(func() { modDir, modErr = locateModuleData() })
	if modErr != nil {
		tb.Fatalf("locating %s: %v", modulePath, modErr)
	}
	return modDir
}

// readModuleFile returns the bytes of one of the module's files.
func readModuleFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(moduleData(tb), name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func gunzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// copyModuleDir copies the four module files into a fresh temporary folder.
func copyModuleDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, name := range fileNames {
		if err := os.WriteFile(filepath.Join(dir, name), readModuleFile(tb, name), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// idxImages builds a raw IDX3 file with the given header and pixel bytes.
func idxImages(n, h, w uint32, pix []byte) []byte {
	b := make([]byte, 16, 16+len(pix))
	binary.BigEndian.PutUint32(b[0:], imagesMagic)
	binary.BigEndian.PutUint32(b[4:], n)
	binary.BigEndian.PutUint32(b[8:], h)
	binary.BigEndian.PutUint32(b[12:], w)
	return append(b, pix...)
}

// idxLabels builds a raw IDX1 file with the given count and label bytes.
func idxLabels(n uint32, labels []byte) []byte {
	b := make([]byte, 8, 8+len(labels))
	binary.BigEndian.PutUint32(b[0:], labelsMagic)
	binary.BigEndian.PutUint32(b[4:], n)
	return append(b, labels...)
}

// pixels returns the pixel bytes of s, image after image.
func (s *Set) pixels() []byte {
	var b []byte
	for _, blk := range s.blocks {
		b = append(b, blk...)
	}
	return b
}

// floats returns all images of s as grey levels.
func (s *Set) floats() []float32 { return s.Batch(nil, 0, s.N) }

// writeDir writes train and test as the four MNIST-named IDX files into dir,
// gzipped when gz is true.
func writeDir(tb testing.TB, dir string, train, test *Set, gz bool) {
	tb.Helper()
	for i, b := range [][]byte{
		idxImages(uint32(train.N), uint32(train.H), uint32(train.W), train.pixels()),
		idxLabels(uint32(train.N), train.Labels),
		idxImages(uint32(test.N), uint32(test.H), uint32(test.W), test.pixels()),
		idxLabels(uint32(test.N), test.Labels),
	} {
		name := fileNames[i]
		if gz {
			b = gzipBytes(tb, b)
		} else {
			name = strings.TrimSuffix(name, ".gz")
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// isOriginalDir reports whether the four files in dir are byte-for-byte the
// original MNIST files (gzipped or raw).
func isOriginalDir(dir string) bool {
	for _, name := range fileNames {
		path, stored, err := findFile(dir, name)
		if err != nil {
			return false
		}
		sum, err := hashFile(path)
		if err != nil || !isOriginal(name, stored, sum) {
			return false
		}
	}
	return true
}
