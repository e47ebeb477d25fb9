package data

import (
	"fmt"
	"math/rand/v2"
)

// Set is a labelled image set: Images holds N*C*H*W float32 in [0,1] (NCHW),
// Labels N values 0..9.
type Set struct {
	Images     []float32
	Labels     []uint8
	N, C, H, W int
}

// Len returns the number of images in the set.
func (s *Set) Len() int { return s.N }

// ImageSize returns the number of values in one image, C*H*W.
func (s *Set) ImageSize() int { return s.C * s.H * s.W }

// Image returns a view (not a copy) of image i, C*H*W values.
func (s *Set) Image(i int) []float32 {
	sz := s.ImageSize()
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Subset returns the first n images of s. The result shares its memory with
// s. It is an error if n < 1 or n > s.Len().
func (s *Set) Subset(n int) (*Set, error) {
	if n < 1 || n > s.N {
		return nil, fmt.Errorf("subset of %d images: want 1..%d", n, s.N)
	}
	sz := s.ImageSize()
	return &Set{
		Images: s.Images[: n*sz : n*sz],
		Labels: s.Labels[:n:n],
		N:      n, C: s.C, H: s.H, W: s.W,
	}, nil
}

// clone returns a deep copy of s.
func (s *Set) clone() *Set {
	c := *s
	c.Images = append([]float32(nil), s.Images...)
	c.Labels = append([]uint8(nil), s.Labels...)
	return &c
}

// Binarize returns a copy of s whose pixels are 1 where the grey level is
// above threshold and 0 elsewhere (threshold 0.5 is the usual choice).
func (s *Set) Binarize(threshold float32) *Set {
	c := s.clone()
	for i, p := range c.Images {
		if p > threshold {
			c.Images[i] = 1
		} else {
			c.Images[i] = 0
		}
	}
	return c
}

// BinarizeStochastic returns a copy of s whose pixels are 1 with probability
// equal to their grey level and 0 otherwise, drawn from a PCG generator
// seeded with seed, so the same seed gives the same binary images.
func (s *Set) BinarizeStochastic(seed int64) *Set {
	c := s.clone()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x62696e6172697a65)) // "binarize"
	for i, p := range c.Images {
		if rng.Float32() < p {
			c.Images[i] = 1
		} else {
			c.Images[i] = 0
		}
	}
	return c
}

// Batch converts images i…i+n−1 into dst (grown if needed) and returns it.
func (s *Set) Batch(dst []float32, i, n int) []float32 {
	sz := s.ImageSize()
	dst = append(dst[:0], s.Images[i*sz:(i+n)*sz]...)
	return dst
}
