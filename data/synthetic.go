package data

import (
	"math"
	"math/rand/v2"
)

// Synthetic returns a tiny deterministic dataset of n single-channel
// size x size images of simple shapes, one shape per class, for fast tests:
// 0 horizontal bar, 1 vertical bar, 2 box outline, 3 plus, 4 X cross,
// 5 filled square, 6 "\" diagonal, 7 "/" diagonal, 8 ring, 9 two bars.
// Position, thickness and brightness vary a little with seed. Labels cycle
// through the classes (image i has label i % classes). classes is clamped to
// 1..10, size to at least 8 (28 matches MNIST), n to at least 1.
func Synthetic(n, classes, size int, seed int64) *Set {
	n = max(n, 1)
	classes = max(1, min(classes, 10))
	size = max(size, 8)
	s := newSet(n, 1, size, size)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73796e7468657469)) // "synthetic"
	fs := float64(size)
	for i := range n {
		cls := i % classes
		s.Labels[i] = uint8(cls)
		img := s.image(i)
		jit := fs / 10
		cx := (fs-1)/2 + (rng.Float64()*2-1)*jit
		cy := (fs-1)/2 + (rng.Float64()*2-1)*jit
		r := fs * (0.28 + 0.06*rng.Float64())        // half extent
		t := math.Max(0.75, fs/28*(1+rng.Float64())) // half thickness
		v := byte(math.Round(255 * (0.7 + 0.3*rng.Float64())))
		for y := range size {
			for x := range size {
				if inShape(cls, float64(x)-cx, float64(y)-cy, r, t) {
					img[y*size+x] = v
				}
			}
		}
	}
	return s
}

// inShape reports whether the point (x, y), relative to the centre, lies in
// the shape of class cls with half extent r and half thickness t.
func inShape(cls int, x, y, r, t float64) bool {
	ax, ay := math.Abs(x), math.Abs(y)
	inBox := ax <= r && ay <= r
	switch cls {
	case 0:
		return ay <= t && ax <= r
	case 1:
		return ax <= t && ay <= r
	case 2:
		return inBox && (ax >= r-2*t || ay >= r-2*t)
	case 3:
		return inBox && (ax <= t || ay <= t)
	case 4:
		return inBox && math.Abs(ax-ay) <= t*math.Sqrt2
	case 5:
		return ax <= r*0.6 && ay <= r*0.6
	case 6:
		return inBox && math.Abs(x-y) <= t*math.Sqrt2
	case 7:
		return inBox && math.Abs(x+y) <= t*math.Sqrt2
	case 8:
		d := math.Hypot(x, y)
		return d <= r && d >= r-2*t
	default:
		return ax <= r && math.Abs(ay-r/2) <= t
	}
}
