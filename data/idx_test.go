package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

func TestReadImages(t *testing.T) {
	pix := []byte{0, 255, 51, 102, 0, 0, 255, 255} // two 2x2 images
	good := idxImages(2, 2, 2, pix)
	tests := []struct {
		name    string
		file    string
		data    []byte
		wantErr error
		wantMsg string
	}{
		{"raw", "x-idx3-ubyte", good, nil, ""},
		{"gzip", "x-idx3-ubyte.gz", nil, nil, ""}, // filled below
		{"gzip without .gz name", "x-idx3-ubyte", nil, nil, ""},
		{"empty", "x-idx3-ubyte", nil, ErrTruncated, "x-idx3-ubyte: truncated: empty"},
		{"empty .gz", "x.gz", []byte{}, ErrNotGzip, "x.gz: not gzip: empty file"},
		{"not gzip", "x.gz", good, ErrNotGzip, "x.gz: not gzip: starts with 00 00, want 1f 8b"},
		{"short header", "x", good[:10], ErrTruncated, "x: truncated: header has 10 bytes, want 16"},
		{"labels magic", "x", idxLabels(2, []byte{1, 2}), ErrMagic, "x: magic 0x00000801, want 0x00000803 (this is an IDX labels file)"},
		{"not idx", "x", []byte("hello world, not idx"), ErrMagic, "x: magic 0x68656c6c, want 0x00000803 (not an IDX file)"},
		{"dims", "x", append([]byte{0, 0, 8, 2}, good[4:]...), ErrMagic, "x: magic 0x00000802, want 0x00000803 (2 dimensions, want 3)"},
		{"type", "x", append([]byte{0, 0, 9, 3}, good[4:]...), ErrMagic, "data type 0x09"},
		{"no images", "x", idxImages(0, 2, 2, nil), ErrHeader, "x: header declares no images"},
		{"zero side", "x", idxImages(2, 0, 2, pix), ErrHeader, "x: header declares 2 images of 0x2"},
		{"huge side", "x", idxImages(1, 1<<20, 1<<20, pix), ErrHeader, "want sides 1..1024"},
		{"truncated", "x", good[:len(good)-1], ErrTruncated, "x: truncated: header declares 2 images of 2x2, file holds 1 (and 3 bytes)"},
		{"huge count", "x", idxImages(1<<31, 28, 28, make([]byte, 784*3)), ErrTooLarge, "x: too large: header declares 2147483648 images of 28x28, more than the 342392 a set may hold"},
		{"count beyond data", "x", idxImages(maxImages, 28, 28, make([]byte, 784*3)), ErrTruncated, "x: truncated: header declares 342392 images of 28x28, file holds 3"},
		{"max count", "x", idxImages(1<<32-1, 1024, 1024, pix), ErrTooLarge, "header declares 4294967295 images of 1024x1024"},
		{"max pixels", "x", idxImages(300, 1024, 1024, pix), ErrTooLarge, "x: too large: 300 images of 1024x1024 are 314572800 bytes of pixels, more than the 268435456"},
		{"trailing", "x", append(append([]byte{}, good...), 7), ErrTrailing, "x: trailing data after the 2 images of 2x2"},
	}
	gz := gzipBytes(t, good)
	tests[1].data, tests[2].data = gz, gz
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := readImages(bytes.NewReader(tt.data), tt.file, reading{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), tt.file+": ") || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %q, want it to start with %q and contain %q", err, tt.file+": ", tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.N != 2 || s.C != 1 || s.H != 2 || s.W != 2 || s.Labels != nil || !bytes.Equal(s.pixels(), pix) {
				t.Fatalf("got N=%d C=%d H=%d W=%d pixels %v", s.N, s.C, s.H, s.W, s.pixels())
			}
			if im := s.floats(); im[1] != 1 || im[2] != 0.2 || im[0] != 0 {
				t.Fatalf("grey levels %v", im)
			}
		})
	}
}

func TestReadLabels(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantErr error
		wantMsg string
	}{
		{"ok", idxLabels(3, []byte{0, 9, 5}), nil, ""},
		{"images magic", idxImages(1, 1, 1, []byte{1}), ErrMagic, "l: magic 0x00000803, want 0x00000801 (this is an IDX images file)"},
		{"magic 807", append([]byte{0, 0, 8, 7}, idxLabels(1, []byte{1})[4:]...), ErrMagic, "l: magic 0x00000807, want 0x00000801"},
		{"out of range", idxLabels(3, []byte{0, 10, 5}), ErrLabel, "l: label 10 at index 1, want 0..9"},
		{"truncated", idxLabels(4, []byte{0, 1, 5}), ErrTruncated, "l: truncated: header declares 4 labels, file holds 3"},
		{"huge count", idxLabels(1<<31, []byte{0, 1, 5}), ErrTooLarge, "l: too large: header declares 2147483648 labels, more than the 342392 a set may hold"},
		{"count beyond data", idxLabels(maxImages, []byte{0, 1, 5}), ErrTruncated, "l: truncated: header declares 342392 labels, file holds 3"},
		{"no labels", idxLabels(0, nil), ErrHeader, "l: header declares no labels"},
		{"trailing", idxLabels(2, []byte{0, 1, 5}), ErrTrailing, "l: trailing data after the 2 labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, err := readLabels(bytes.NewReader(tt.data), "l", 0)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), tt.wantMsg) && !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil || !bytes.Equal(l, []byte{0, 9, 5}) {
				t.Fatalf("got %v, %v", l, err)
			}
		})
	}
}

func TestCorruptGzip(t *testing.T) {
	raw := idxImages(50, 28, 28, bytes.Repeat([]byte{1, 2, 3, 200}, 50*28*28/4))
	gz := gzipBytes(t, raw)
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"cut stream", gz[:len(gz)/2], ErrTruncated},
		{"cut trailer", gz[:len(gz)-4], ErrTruncated},
		{"bad crc", func() []byte {
			b := append([]byte{}, gz...)
			b[len(b)-8] ^= 0xff
			return b
		}(), ErrGzip},
		{"garbage after stream", append(append([]byte{}, gz...), "junk after the gzip stream"...), ErrGzip},
		{"bad header flags", func() []byte {
			b := append([]byte{}, gz...)
			b[2] = 0 // compression method
			return b
		}(), ErrGzip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readImages(bytes.NewReader(tt.data), "c.gz", reading{})
			if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "c.gz: ") {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzReadIDX feeds arbitrary bytes, raw and as a .gz name, to both readers:
// they must never panic, and what they accept must be consistent.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxImages(2, 2, 2, []byte{0, 255, 51, 102, 0, 0, 255, 255}))
	f.Add(idxLabels(3, []byte{0, 9, 5}))
	f.Add(idxImages(1<<31, 28, 28, make([]byte, 100)))
	f.Add(idxLabels(1<<31, []byte{1, 2}))
	f.Add(idxLabels(2, []byte{1, 12}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(idxImages(1, 3, 3, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, name := range []string{"f", "f.gz"} {
			for _, limit := range []int{0, 1} {
				if s, declared, err := readImages(bytes.NewReader(b), name, reading{limit: limit}); err == nil {
					if s.N < 1 || s.N > declared || limit == 0 && s.N != declared || limit > 0 && s.N != limit || len(s.pixels()) != s.N*s.H*s.W {
						t.Fatalf("inconsistent set: N=%d of %d, limit %d, H=%d W=%d %d pixels", s.N, declared, limit, s.H, s.W, len(s.pixels()))
					}
					for _, p := range s.floats() {
						if p < 0 || p > 1 {
							t.Fatalf("grey level %v", p)
						}
					}
				} else if !strings.HasPrefix(err.Error(), name+": ") {
					t.Fatalf("error %q does not start with the file name", err)
				}
				if l, declared, err := readLabels(bytes.NewReader(b), name, limit); err == nil {
					if len(l) < 1 || len(l) > declared || limit == 0 && len(l) != declared {
						t.Fatalf("%d labels of %d, limit %d", len(l), declared, limit)
					}
					for _, v := range l {
						if v > 9 {
							t.Fatalf("label %d", v)
						}
					}
				} else if !strings.HasPrefix(err.Error(), name+": ") {
					t.Fatalf("error %q does not start with the file name", err)
				}
			}
		}
	})
}
