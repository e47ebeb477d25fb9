package data

import (
	"fmt"
	"math/rand/v2"
)

// Set is a labelled image set of N images of C×H×W pixels (NCHW) and N labels
// 0..9. The pixels are kept as bytes, one per pixel (0 black … 255 white), a
// quarter of their size as float32; Batch and the Iterator convert them to
// grey levels in [0,1] one batch at a time.
type Set struct {
	Labels     []uint8
	N, C, H, W int

	// blocks hold the pixels in whole images: block k holds images
	// k*perBlock up to (k+1)*perBlock (the last block may hold fewer). A
	// reader allocates one block at a time as the data arrive, and never
	// copies a block to grow it.
	blocks   [][]byte
	perBlock int
}

// blockBytes is the size of a pixel block (rounded down to whole images).
const blockBytes = 4 << 20

// imagesPerBlock returns the number of images of size bytes in one block.
func imagesPerBlock(size int) int { return max(1, blockBytes/size) }

// newSet returns a set of n black images of c×h×w pixels and n zero labels.
func newSet(n, c, h, w int) *Set {
	s := &Set{Labels: make([]uint8, n), N: n, C: c, H: h, W: w, perBlock: imagesPerBlock(c * h * w)}
	for i := 0; i < n; i += s.perBlock {
		s.blocks = append(s.blocks, make([]byte, min(s.perBlock, n-i)*s.imageSize()))
	}
	return s
}

// imageSize returns the number of values in one image, C*H*W.
func (s *Set) imageSize() int { return s.C * s.H * s.W }

// image returns a view of the pixel bytes of image i.
func (s *Set) image(i int) []byte {
	sz := s.imageSize()
	off := i % s.perBlock * sz
	return s.blocks[i/s.perBlock][off : off+sz : off+sz]
}

// pixelScale maps a byte to its grey level in [0,1].
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// toFloat converts bytes to grey levels in [0,1].
func toFloat(dst []float32, src []byte) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = pixelScale[b]
	}
}

// Batch converts images i … i+n-1 to grey levels in [0,1] (n*C*H*W values,
// NCHW) into dst, which it grows only when its capacity is short, and returns
// the filled slice. Pass the result back in as dst to reuse it. It panics if
// the range is not within the set.
func (s *Set) Batch(dst []float32, i, n int) []float32 {
	if i < 0 || n < 0 || i+n > s.N {
		panic(fmt.Sprintf("data: Batch of images %d..%d from a set of %d", i, i+n-1, s.N))
	}
	sz := s.imageSize()
	if cap(dst) < n*sz {
		dst = make([]float32, n*sz)
	}
	dst = dst[:n*sz]
	for k := 0; k < n; { // runs of images that lie in one block
		b, off := (i+k)/s.perBlock, (i+k)%s.perBlock
		m := min(n-k, s.perBlock-off)
		toFloat(dst[k*sz:(k+m)*sz], s.blocks[b][off*sz:(off+m)*sz])
		k += m
	}
	return dst
}

// Subset returns the first n images of s. The result shares its memory with
// s. It is an error if n < 1 or n > s.N.
func (s *Set) Subset(n int) (*Set, error) {
	if n < 1 || n > s.N {
		return nil, fmt.Errorf("subset of %d images: want 1..%d", n, s.N)
	}
	nb := (n + s.perBlock - 1) / s.perBlock
	blocks := append([][]byte(nil), s.blocks[:nb]...)
	last := (n - (nb-1)*s.perBlock) * s.imageSize()
	blocks[nb-1] = blocks[nb-1][:last:last]
	sub := *s
	sub.Labels, sub.N, sub.blocks = s.Labels[:n:n], n, blocks
	return &sub, nil
}

// mapPixels returns a copy of s whose pixels are f of those of s, in order.
func (s *Set) mapPixels(f func(p byte) byte) *Set {
	c := *s
	c.Labels = append([]uint8(nil), s.Labels...)
	c.blocks = make([][]byte, len(s.blocks))
	for k, b := range s.blocks {
		nb := make([]byte, len(b))
		for i, p := range b {
			nb[i] = f(p)
		}
		c.blocks[k] = nb
	}
	return &c
}

// Binarize returns a copy of s whose pixels are white where the grey level
// is above threshold and black elsewhere (threshold 0.5 is the usual choice).
func (s *Set) Binarize(threshold float32) *Set {
	return s.mapPixels(func(p byte) byte {
		if pixelScale[p] > threshold {
			return 255
		}
		return 0
	})
}

// BinarizeStochastic returns a copy of s whose pixels are white with
// probability equal to their grey level and black otherwise, drawn from a PCG
// generator seeded with seed, so the same seed gives the same binary images.
func (s *Set) BinarizeStochastic(seed int64) *Set {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x62696e6172697a65)) // "binarize"
	return s.mapPixels(func(p byte) byte {
		if rng.Float32() < pixelScale[p] {
			return 255
		}
		return 0
	})
}
