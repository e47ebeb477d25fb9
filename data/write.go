package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// toFloat converts bytes to grey levels in [0,1], in parallel for large inputs.
func toFloat(dst []float32, src []byte) {
	const chunk = 1 << 20
	if len(src) <= chunk {
		for i, b := range src {
			dst[i] = pixelScale[b]
		}
		return
	}
	parts := min(runtime.GOMAXPROCS(0), (len(src)+chunk-1)/chunk)
	step := (len(src) + parts - 1) / parts
	var wg sync.WaitGroup
	for lo := 0; lo < len(src); lo += step {
		hi := min(lo+step, len(src))
		wg.Go(func() {
			d, s := dst[lo:hi], src[lo:hi]
			for i, b := range s {
				d[i] = pixelScale[b]
			}
		})
	}
	wg.Wait()
}

// WriteImages writes the images of s as an IDX3 file (raw, not gzipped) to
// w, rounding grey levels to bytes. s must have one channel.
func WriteImages(w io.Writer, s *Set) error {
	if s.C != 1 {
		return fmt.Errorf("write images: %d channels, IDX3 holds 1", s.C)
	}
	if len(s.Images) != s.N*s.H*s.W {
		return fmt.Errorf("write images: %d values, want %d", len(s.Images), s.N*s.H*s.W)
	}
	bw := bufio.NewWriter(w)
	var hdr [16]byte
	binary.BigEndian.PutUint32(hdr[0:], imagesMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(s.N))
	binary.BigEndian.PutUint32(hdr[8:], uint32(s.H))
	binary.BigEndian.PutUint32(hdr[12:], uint32(s.W))
	bw.Write(hdr[:])
	for _, p := range s.Images {
		v := math.Round(float64(p) * 255)
		bw.WriteByte(byte(max(0, min(255, v))))
	}
	return bw.Flush()
}

// WriteLabels writes labels as an IDX1 file (raw, not gzipped) to w.
func WriteLabels(w io.Writer, labels []uint8) error {
	bw := bufio.NewWriter(w)
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[0:], labelsMagic)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(labels)))
	bw.Write(hdr[:])
	bw.Write(labels)
	return bw.Flush()
}

// WriteDir writes train and test as the four MNIST-named IDX files into dir
// (created if needed), gzipped when gz is true. It lets tests build a small
// dataset directory to pass as -data (see Synthetic).
func WriteDir(dir string, train, test *Set, gz bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(io.Writer) error) error {
		if !gz {
			name = name[:len(name)-len(".gz")]
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		var w io.Writer = f
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(f)
			w = zw
		}
		err = fn(w)
		if zw != nil && err == nil {
			err = zw.Close()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	for _, p := range []struct {
		name string
		fn   func(io.Writer) error
	}{
		{TrainImagesFile, func(w io.Writer) error { return WriteImages(w, train) }},
		{TrainLabelsFile, func(w io.Writer) error { return WriteLabels(w, train.Labels) }},
		{TestImagesFile, func(w io.Writer) error { return WriteImages(w, test) }},
		{TestLabelsFile, func(w io.Writer) error { return WriteLabels(w, test.Labels) }},
	} {
		if err := write(p.name, p.fn); err != nil {
			return err
		}
	}
	return nil
}
