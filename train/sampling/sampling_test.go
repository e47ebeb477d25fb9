package sampling

import (
	"bytes"
	"image"
	"math"
	"slices"
	"strings"
	"testing"

	"dcim/graph"
	"dcim/graph/graphtest"
)

func randomParams(t *testing.T, arch string, enc graph.Encoding) *graph.Params {
	return graphtest.Params(t, arch, enc, 3)
}

func TestParseModes(t *testing.T) {
	tests := []struct {
		in   string
		want []Mode
		err  bool
	}{
		{"all", []Mode{Chain, Layer, Mean}, false},
		{"chain", []Mode{Chain}, false},
		{"layer", []Mode{Layer}, false},
		{"mean", []Mode{Mean}, false},
		{"gibbs", nil, true},
		{"", nil, true},
	}
	for _, tc := range tests {
		got, err := ParseModes(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("ParseModes(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestDraws(t *testing.T) {
	tests := []struct {
		mode Mode
		d    int
		want []int
	}{
		{Chain, 3, []int{2, 1}},
		{Chain, 8, []int{7, 6, 5, 4, 3, 2, 1}},
		{Layer, 3, []int{2}},
		{Mean, 3, nil},
		{Chain, 1, nil},
		{Layer, 1, nil},
	}
	for _, tc := range tests {
		if got := tc.mode.Draws(tc.d); !slices.Equal(got, tc.want) {
			t.Errorf("%s.Draws(%d) = %v, want %v", tc.mode, tc.d, got, tc.want)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	tests := []struct {
		name, arch string
		enc        graph.Encoding
		mode       Mode
		random     bool // whether another seed changes the images
	}{
		{"dense chain", "(40),(30),(10)", graph.Binary, Chain, true},
		{"dense layer", "(40),(30),(10)", graph.Binary, Layer, true},
		{"dense mean", "(40),(30),(10)", graph.Binary, Mean, false},
		{"cnn spin chain", "(3,1,4),(2,2,4),(20),(10)", graph.Spin, Chain, true},
		{"one layer chain", "(10)", graph.Binary, Chain, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := randomParams(t, tc.arch, tc.enc)
			a, err := Generate(p, tc.mode, 3, 7)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Generate(p, tc.mode, 3, 7)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Generate(p, tc.mode, 3, 8)
			if err != nil {
				t.Fatal(err)
			}
			if a.N() != 30 || len(a.Images) != 30*28*28 || a.Rows != 10 || a.Cols != 3 {
				t.Fatalf("tableau of %d images, %d×%d", a.N(), a.Rows, a.Cols)
			}
			if !slices.Equal(a.Images, b.Images) || !slices.Equal(a.Prob, b.Prob) {
				t.Error("the same seed gave different samples")
			}
			if differ := !slices.Equal(a.Images, c.Images); differ != tc.random {
				t.Errorf("another seed changed the images: %v, want %v", differ, tc.random)
			}
			for i, l := range a.Labels {
				if int(l) != i/3 {
					t.Fatalf("sample %d drawn for class %d, want %d", i, l, i/3)
				}
			}
			for _, v := range a.Images {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("image value %v outside [0,1]", v)
				}
			}
			pa, _ := EncodePNG([]*Tableau{a}, 2)
			pb, _ := EncodePNG([]*Tableau{b}, 2)
			if !bytes.Equal(pa, pb) {
				t.Error("the same seed gave different PNGs")
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	p := randomParams(t, "(20),(10)", graph.Binary)
	tests := []struct {
		mode     Mode
		perClass int
		want     string
	}{
		{Mean, 0, "0 samples per class"},
		{"gibbs", 2, `unknown mode "gibbs"`},
	}
	for _, tc := range tests {
		if _, err := Generate(p, tc.mode, tc.perClass, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Generate(%s, %d): %v, want %q", tc.mode, tc.perClass, err, tc.want)
		}
	}
}

// synthetic returns a tableau whose image i is filled with the grey level
// (i+1)/(n+1), so that tiles can be told apart in the rendering.
func synthetic(rows, cols int) *Tableau {
	n := rows * cols
	t := &Tableau{Title: "test", C: 1, H: 28, W: 28, Rows: rows, Cols: cols, Classes: 10}
	for i := range n {
		for range 28 * 28 {
			t.Images = append(t.Images, float32(i+1)/float32(n+1))
		}
		t.Labels = append(t.Labels, uint8(i/cols%10))
		t.Pred = append(t.Pred, uint8(i%10))
		t.Prob = append(t.Prob, 0.5)
		p := make([]float32, 10)
		p[i%10] = 0.5
		t.Probs = append(t.Probs, p...)
	}
	for r := range rows {
		t.RowNames = append(t.RowNames, string(rune('0'+r%10)))
	}
	return t
}

func TestTileLayout(t *testing.T) {
	tests := []struct {
		rows, cols, scale int
	}{
		{10, 10, 2},
		{10, 3, 1},
		{2, 5, 4},
		{1, 1, 3},
	}
	for _, tc := range tests {
		tab := synthetic(tc.rows, tc.cols)
		l, err := tab.Layout(tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Render([]*Tableau{tab}, tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		margin := (img.Bounds().Dx() - l.Width) / 2
		if img.Bounds().Dy()-2*margin != l.Height {
			t.Errorf("%+v: image %v, layout %d×%d", tc, img.Bounds(), l.Width, l.Height)
		}
		if l.ImageW != 28*tc.scale || l.ImageH != 28*tc.scale {
			t.Errorf("%+v: scaled image %d×%d", tc, l.ImageW, l.ImageH)
		}
		var prev image.Rectangle
		tiles := 0
		for i := range tab.N() {
			r := l.Tile(tab, i).Add(image.Pt(margin, margin))
			if !r.In(img.Bounds()) {
				t.Fatalf("%+v: tile %d at %v outside %v", tc, i, r, img.Bounds())
			}
			if i%tc.cols > 0 && (r.Min.Y != prev.Min.Y || r.Min.X < prev.Max.X) {
				t.Errorf("%+v: tile %d at %v not right of tile %d at %v", tc, i, r, i-1, prev)
			}
			if i%tc.cols == 0 && i > 0 && r.Min.Y < prev.Max.Y+l.LabelH {
				t.Errorf("%+v: row of tile %d at %v overlaps the row above (%v)", tc, i, r, prev)
			}
			want := grey(tab.Images[i*28*28])
			for _, pt := range []image.Point{r.Min, r.Max.Sub(image.Pt(1, 1)), r.Min.Add(r.Max).Div(2)} {
				if got := img.RGBAAt(pt.X, pt.Y); got.R != want || got.G != want || got.B != want {
					t.Fatalf("%+v: tile %d pixel %v = %v, want grey %d", tc, i, pt, got, want)
				}
			}
			// The label band above the image holds dark text pixels.
			band := image.Rect(r.Min.X-(l.TileW-l.ImageW)/2, r.Min.Y-l.LabelH, r.Max.X+(l.TileW-l.ImageW)/2, r.Min.Y)
			if !hasInk(img, band) {
				t.Errorf("%+v: no label above tile %d", tc, i)
			}
			prev = r
			tiles++
		}
		if tiles != tc.rows*tc.cols {
			t.Errorf("%d tiles, want %d", tiles, tc.rows*tc.cols)
		}
	}
}

func hasInk(img *image.RGBA, r image.Rectangle) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := img.RGBAAt(x, y); c.R < 128 || c.G < 128 {
				return true
			}
		}
	}
	return false
}

func TestRenderSideBySide(t *testing.T) {
	a, b := synthetic(10, 2), synthetic(10, 3)
	la, _ := a.Layout(2)
	lb, _ := b.Layout(2)
	img, err := Render([]*Tableau{a, b}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() <= la.Width+lb.Width || img.Bounds().Dy() < max(la.Height, lb.Height) {
		t.Errorf("combined %v for tableaux %d and %d wide", img.Bounds(), la.Width, lb.Width)
	}
	if _, err := Render(nil, 2); err == nil {
		t.Error("rendering nothing succeeded")
	}
	if _, err := Render([]*Tableau{a}, 0); err == nil {
		t.Error("scale 0 accepted")
	}
}

func TestArraysAndStats(t *testing.T) {
	a := synthetic(10, 2)
	a.Mode = Layer
	b := synthetic(10, 1)
	b.Mode = Mean
	b.Blank = make([]bool, b.N())
	b.Blank[3] = true
	arrays, err := Arrays([]*Tableau{a, b})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, x := range arrays {
		got[x.Name] = x.Shape
	}
	want := map[string][]int{"images": {29, 28, 28}, "labels": {29}, "pred": {29}, "prob": {29}, "probs": {29, 10}, "mode": {29}}
	for k, s := range want {
		if !slices.Equal(got[k], s) {
			t.Errorf("array %s shape %v, want %v", k, got[k], s)
		}
	}
	if arrays[1].Dtype() != "<i8" || arrays[3].Dtype() != "<f4" {
		t.Errorf("labels %s, prob %s", arrays[1].Dtype(), arrays[3].Dtype())
	}
	stats := a.Stats()
	if len(stats) != 10 || stats[0].N != 2 || stats[0].Correct != 1 || stats[0].MeanProb != 0.25 {
		t.Errorf("stats %+v", stats[0])
	}
}

func TestReconstruct(t *testing.T) {
	tests := []struct {
		name    string
		sampled bool
		n, cols int
	}{
		{"posterior", false, 13, 5},
		{"sampled", true, 10, 10},
	}
	p := randomParams(t, "(40),(30),(10)", graph.Binary)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			images := make([]float32, tc.n*28*28)
			labels := make([]uint8, tc.n)
			for i := range images {
				images[i] = float32(i%29) / 28
			}
			for i := range labels {
				labels[i] = uint8(i % 10)
			}
			r, err := Reconstruct(p, images, labels, tc.cols, tc.sampled, 1)
			if err != nil {
				t.Fatal(err)
			}
			groups := (tc.n + tc.cols - 1) / tc.cols
			if r.Tableau.Rows != 2*groups || r.Tableau.N() != 2*groups*tc.cols || len(r.Images) != len(images) || len(r.Pred) != tc.n {
				t.Errorf("rows %d, tiles %d, %d reconstructions", r.Tableau.Rows, r.Tableau.N(), len(r.Pred))
			}
			if !slices.Equal(r.Tableau.Image(0), images[:28*28]) || !slices.Equal(r.Tableau.Image(tc.cols), r.Images[:28*28]) {
				t.Error("first column does not hold the first original above its reconstruction")
			}
			if _, err := EncodePNG([]*Tableau{r.Tableau}, 2); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGenerateMoments: under the moment method the mean mode draws the
// reverse chain's moment means, which differ from mean field's, and the
// verdicts come from the moment forward chain; under mean field the
// reverse graph of either kind gives the same images.
func TestGenerateMoments(t *testing.T) {
	p := randomParams(t, "(20),(16),(10)", graph.Binary)
	classes := []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	size := p.Input.Size()
	twice := func(images []float32) []float32 { // each class's image, two per class
		var out []float32
		for c := range classes {
			out = append(out, images[c*size:(c+1)*size]...)
			out = append(out, images[c*size:(c+1)*size]...)
		}
		return out
	}
	mf, err := GenerateWith(p, Mean, 2, 1, graph.MeanField)
	if err != nil {
		t.Fatal(err)
	}
	same, err := graph.ClassImages(p, classes, graph.MeanField)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mf.Images, twice(same)) {
		t.Error("mean-field class images differ between the generator and the reverse graph")
	}
	mo, err := GenerateWith(p, Mean, 2, 1, graph.Moments)
	if err != nil {
		t.Fatal(err)
	}
	want, err := graph.ClassImages(p, classes, graph.Moments)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mo.Images, twice(want)) || slices.Equal(mo.Images, mf.Images) {
		t.Error("moment mean mode does not draw the moment reverse chain's means")
	}
}

// TestPixelStd: the spread of a class's samples is the standard deviation
// of each pixel over them, averaged over pixels and then classes.
func TestPixelStd(t *testing.T) {
	tests := []struct {
		name string
		tab  func() *Tableau
		want float64
	}{
		// Class c holds two flat images of grey (2c+1)/21 and (2c+2)/21:
		// each pixel is 1/42 from their mean.
		{"two per class", func() *Tableau { return synthetic(10, 2) }, 1.0 / 42},
		// One image per class: nothing to differ from.
		{"one per class", func() *Tableau { return synthetic(10, 1) }, 0},
		// Class c holds (3c+1)/31, (3c+2)/31, (3c+3)/31: std √(2/3)/31.
		{"three per class", func() *Tableau { return synthetic(10, 3) }, math.Sqrt(2.0/3) / 31},
		// A blank tile is no sample: class 0 keeps one image, std 0.
		{"blank", func() *Tableau {
			b := synthetic(10, 2)
			b.Blank = make([]bool, b.N())
			b.Blank[1] = true
			return b
		}, 9.0 / 10 / 42},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.tab().Verdict()
			if len(v.Classes) != 10 {
				t.Fatalf("%d classes, want 10", len(v.Classes))
			}
			if math.Abs(v.PixelStd-tc.want) > 1e-7 {
				t.Errorf("pixel std %.9g, want %.9g", v.PixelStd, tc.want)
			}
		})
	}
}

// TestMeanModeNoSpread: the mean mode draws nothing, so a class's samples
// are one image and their spread is exactly 0, under either inference;
// the drawn modes of the same network spread.
func TestMeanModeNoSpread(t *testing.T) {
	for _, arch := range []string{"(40),(30),(10)", "(3,1,4),(2,2,4),(20),(10)"} {
		p := randomParams(t, arch, graph.Spin)
		for _, inf := range []graph.Inference{graph.MeanField, graph.Moments} {
			for _, m := range Modes {
				tab, err := GenerateWith(p, m, 7, 1, inf)
				if err != nil {
					t.Fatal(err)
				}
				v := tab.Verdict()
				if v.N != 70 {
					t.Errorf("%s %s: %d samples, want 70", arch, m, v.N)
				}
				if m == Mean && v.PixelStd != 0 {
					t.Errorf("%s, %v: mean mode has pixel std %g, want exactly 0", arch, inf, v.PixelStd)
				}
				if m != Mean && !(v.PixelStd > 0) {
					t.Errorf("%s, %v: %s mode has pixel std %g, want above 0", arch, inf, m, v.PixelStd)
				}
			}
		}
	}
}
