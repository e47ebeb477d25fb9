package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
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
	for _, name := range Files {
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

func gzipWriter(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }
