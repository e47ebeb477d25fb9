package complete

import (
	"fmt"
	"image"
	"image/color"
	_ "image/png" // png: masks
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"dcim/data"
)

// Mask says which pixels of each image are observed. Fixed masks (the
// halves, the centre square, a PNG) are the same for every image; a random
// mask hides a different, seeded set of pixels in each image.
type Mask struct {
	Name string // as the table prints it, e.g. "bottom", "centre14", "random0.90", "png-NAME"
	H, W int
	// fixed holds the observed pixels (H·W, row-major) of a fixed mask.
	fixed []bool
	// p and seed define a random mask: round(p·H·W) pixels of image i
	// are hidden, chosen by a PCG stream seeded with (seed, i).
	p    float64
	seed uint64
}

// MaskOptions are the parameters of the built-in masks.
type MaskOptions struct {
	Size int     // side K of the centre square
	P    float64 // fraction of pixels a random mask hides, in [0,1)
	Seed uint64  // seed of the random masks
}

// BuiltinMasks lists the built-in mask kinds in the order "all" runs them.
var BuiltinMasks = []string{"bottom", "top", "left", "right", "centre", "random"}

// ParseMasks reads a -mask value for images of h×w pixels: a built-in kind
// (bottom, top, left, right, centre, random), "png:FILE" (a mask image of
// h×w pixels, white = observed), "all" for every built-in kind, or a
// comma-separated list of these, each mask at most once.
func ParseMasks(spec string, o MaskOptions, h, w int) ([]*Mask, error) {
	if spec == "" {
		return nil, fmt.Errorf("empty mask")
	}
	var kinds []string
	for _, s := range strings.Split(spec, ",") {
		if s == "all" {
			kinds = append(kinds, BuiltinMasks...)
		} else {
			kinds = append(kinds, s)
		}
	}
	var out []*Mask
	seen := map[string]bool{}
	for _, k := range kinds {
		m, err := NewMask(k, o, h, w)
		if err != nil {
			return nil, err
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("mask %s given twice", m.Name)
		}
		seen[m.Name] = true
		out = append(out, m)
	}
	return out, nil
}

// NewMask returns one mask of the given kind (see ParseMasks).
func NewMask(kind string, o MaskOptions, h, w int) (*Mask, error) {
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("mask for a %d×%d image", h, w)
	}
	m := &Mask{Name: kind, H: h, W: w}
	observe := func(keep func(y, x int) bool) {
		m.fixed = make([]bool, h*w)
		for y := range h {
			for x := range w {
				m.fixed[y*w+x] = keep(y, x)
			}
		}
	}
	switch {
	case kind == "bottom": // the bottom half is missing
		observe(func(y, _ int) bool { return y < h/2 })
	case kind == "top":
		observe(func(y, _ int) bool { return y >= h/2 })
	case kind == "left":
		observe(func(_, x int) bool { return x >= w/2 })
	case kind == "right":
		observe(func(_, x int) bool { return x < w/2 })
	case kind == "centre" || kind == "center":
		k := o.Size
		if k < 1 {
			return nil, fmt.Errorf("centre mask of size %d: want at least 1", k)
		}
		if k > h || k > w {
			return nil, fmt.Errorf("centre mask of size %d is larger than the %d×%d image", k, h, w)
		}
		y0, x0 := (h-k)/2, (w-k)/2
		observe(func(y, x int) bool { return y < y0 || y >= y0+k || x < x0 || x >= x0+k })
		m.Name = "centre" + strconv.Itoa(k)
	case kind == "random":
		if !(o.P >= 0 && o.P < 1) {
			return nil, fmt.Errorf("random mask with p = %v: want a fraction in [0,1)", o.P)
		}
		m.p, m.seed = o.P, o.Seed
		m.Name = fmt.Sprintf("random%.2f", o.P)
	case strings.HasPrefix(kind, "png:"):
		fixed, err := readPNGMask(strings.TrimPrefix(kind, "png:"), h, w)
		if err != nil {
			return nil, err
		}
		m.fixed = fixed
		m.Name = "png-" + strings.TrimSuffix(filepath.Base(kind[len("png:"):]), filepath.Ext(kind))
	default:
		return nil, fmt.Errorf("unknown mask %q (want bottom, top, left, right, centre, random, png:FILE or all)", kind)
	}
	return m, nil
}

// readPNGMask reads a mask image: pixels at least half white are observed.
// The file must be a regular file, and its header is read first: an image
// of another size than h×w is refused before a pixel of it is decoded.
func readPNGMask(path string, h, w int) ([]bool, error) {
	f, err := data.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("mask %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("mask %s: %w", path, err)
	}
	if cfg.Height != h || cfg.Width != w {
		return nil, fmt.Errorf("mask %s is %d×%d pixels, want %d×%d", path, cfg.Height, cfg.Width, h, w)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("mask %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("mask %s: %w", path, err)
	}
	b := img.Bounds()
	if b.Dy() != h || b.Dx() != w { // a header that lied
		return nil, fmt.Errorf("mask %s is %d×%d pixels, want %d×%d", path, b.Dy(), b.Dx(), h, w)
	}
	obs := make([]bool, h*w)
	for y := range h {
		for x := range w {
			g := color.Gray16Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray16)
			obs[y*w+x] = g.Y >= 0x8000
		}
	}
	return obs, nil
}

// Observed writes into dst (H·W values) which pixels of image i are
// observed.
func (m *Mask) Observed(i int, dst []bool) {
	if m.fixed != nil {
		copy(dst, m.fixed)
		return
	}
	n := m.H * m.W
	hide := int(m.p*float64(n) + 0.5)
	for j := range dst[:n] {
		dst[j] = true
	}
	rng := rand.New(rand.NewPCG(m.seed, uint64(i)))
	for _, j := range rng.Perm(n)[:hide] {
		dst[j] = false
	}
}
