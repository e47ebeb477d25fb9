package data

import (
	"math"
	"slices"
	"testing"
)

// indexedSet returns n 2x2 images whose pixels all hold the image's index,
// with label index%10, so batches reveal the order.
func indexedSet(n int) *Set {
	s := &Set{Images: make([]float32, n*4), Labels: make([]uint8, n), N: n, C: 1, H: 2, W: 2}
	for i := range n {
		for j := range 4 {
			s.Images[i*4+j] = float32(i)
		}
		s.Labels[i] = uint8(i % 10)
	}
	return s
}

// runEpoch runs the rest of an epoch and returns the image indices in order
// and the batch sizes.
func runEpoch(it *Iterator) (order []int, sizes []int) {
	for {
		im, lb, ok := it.Next()
		if !ok {
			return
		}
		sizes = append(sizes, len(lb))
		for k := range lb {
			idx := int(im[k*4])
			if im[k*4+3] != float32(idx) || lb[k] != uint8(idx%10) {
				panic("image and label out of step")
			}
			order = append(order, idx)
		}
	}
}

func TestIterator(t *testing.T) {
	s := indexedSet(103)
	tests := []struct {
		batch    int
		dropLast bool
		batches  int
		last     int
	}{
		{10, false, 11, 3},
		{10, true, 10, 10},
		{103, true, 1, 103},
		{200, false, 1, 103},
		{200, true, 0, 0},
		{1, false, 103, 1},
	}
	for _, tt := range tests {
		it := NewIterator(s, tt.batch, 7, tt.dropLast)
		order, sizes := runEpoch(it)
		if it.BatchesPerEpoch() != tt.batches || len(sizes) != tt.batches {
			t.Errorf("batch %d dropLast %v: BatchesPerEpoch %d, got %d batches, want %d", tt.batch, tt.dropLast, it.BatchesPerEpoch(), len(sizes), tt.batches)
			continue
		}
		if tt.batches > 0 && sizes[len(sizes)-1] != tt.last {
			t.Errorf("batch %d dropLast %v: last batch %d, want %d", tt.batch, tt.dropLast, sizes[len(sizes)-1], tt.last)
		}
		if !tt.dropLast {
			sorted := slices.Sorted(slices.Values(order))
			for i, v := range sorted {
				if v != i {
					t.Fatalf("epoch is not a permutation: %v", sorted)
				}
			}
		}
	}
}

func TestIteratorDeterminism(t *testing.T) {
	s := indexedSet(500)
	a := NewIterator(s, 32, 42, false)
	b := NewIterator(s, 32, 42, false)
	c := NewIterator(s, 32, 43, false)
	e0a, _ := runEpoch(a)
	e0b, _ := runEpoch(b)
	e0c, _ := runEpoch(c)
	if !slices.Equal(e0a, e0b) {
		t.Fatal("same seed, different order")
	}
	if slices.Equal(e0a, e0c) {
		t.Fatal("different seeds, same order")
	}
	if slices.Equal(e0a, indexedOrder(500)) {
		t.Fatal("not shuffled")
	}
	a.Reset(1)
	e1, _ := runEpoch(a)
	if slices.Equal(e0a, e1) {
		t.Fatal("epochs 0 and 1 have the same order")
	}
	// Resuming at epoch 1 in a fresh iterator gives the same order; so does
	// going back to epoch 0.
	d := NewIterator(s, 32, 42, false)
	d.Reset(1)
	if e1d, _ := runEpoch(d); !slices.Equal(e1, e1d) || d.Epoch() != 1 {
		t.Fatal("resumed epoch differs")
	}
	a.Reset(0)
	if again, _ := runEpoch(a); !slices.Equal(e0a, again) {
		t.Fatal("Reset(0) differs")
	}
	// The first order of seed 42 is fixed across runs and Go releases
	// (math/rand/v2 PCG is stable).
	want := []int{e0a[0], e0a[1], e0a[2]}
	t.Logf("seed 42 epoch 0 starts %v", want)
}

func indexedOrder(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

func TestIteratorReusesBuffers(t *testing.T) {
	s := indexedSet(64)
	it := NewIterator(s, 16, 1, true)
	im1, lb1, _ := it.Next()
	im2, lb2, _ := it.Next()
	if &im1[0] != &im2[0] || &lb1[0] != &lb2[0] {
		t.Fatal("buffers not reused")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, ok := it.Next(); !ok {
			it.Reset(it.Epoch() + 1)
		}
	})
	if allocs > 0.1 { // Reset allocates the generator once per epoch
		t.Fatalf("%v allocations per Next", allocs)
	}
}

func TestIteratorPanicsOnBadBatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewIterator(indexedSet(3), 0, 1, false)
}

func TestSetOps(t *testing.T) {
	s := Synthetic(50, 10, 28, 3)
	sub, err := s.Subset(20)
	if err != nil || sub.Len() != 20 || len(sub.Images) != 20*784 || len(sub.Labels) != 20 || &sub.Images[0] != &s.Images[0] {
		t.Fatalf("Subset: %v", err)
	}
	for _, n := range []int{0, -1, 51} {
		if _, err := s.Subset(n); err == nil {
			t.Errorf("Subset(%d): no error", n)
		}
	}
	if img := s.Image(3); len(img) != 784 || &img[0] != &s.Images[3*784] {
		t.Fatal("Image is not a view")
	}

	bin := s.Binarize(0.5)
	if bin == s || &bin.Images[0] == &s.Images[0] {
		t.Fatal("Binarize did not copy")
	}
	for i, p := range bin.Images {
		if want := float32(0); s.Images[i] > 0.5 {
			want = 1
			if p != want {
				t.Fatalf("Binarize pixel %d: %v from %v", i, p, s.Images[i])
			}
		} else if p != want {
			t.Fatalf("Binarize pixel %d: %v from %v", i, p, s.Images[i])
		}
	}

	// Stochastic binarisation: 0/1, seeded, mean matches the grey levels.
	grey := &Set{Images: make([]float32, 100000), Labels: make([]uint8, 1), N: 1, C: 1, H: 1, W: 100000}
	for i := range grey.Images {
		grey.Images[i] = float32(i%11) / 10
	}
	a, b, c := grey.BinarizeStochastic(1), grey.BinarizeStochastic(1), grey.BinarizeStochastic(2)
	if !slices.Equal(a.Images, b.Images) || slices.Equal(a.Images, c.Images) {
		t.Fatal("BinarizeStochastic is not deterministic per seed")
	}
	var sum, want float64
	for i, p := range a.Images {
		if p != 0 && p != 1 {
			t.Fatalf("pixel %v", p)
		}
		if g := grey.Images[i]; (g == 0 && p != 0) || (g == 1 && p != 1) {
			t.Fatalf("grey %v gave %v", g, p)
		}
		sum += float64(p)
		want += float64(grey.Images[i])
	}
	if math.Abs(sum-want)/want > 0.02 {
		t.Fatalf("mean %v, want %v", sum/1e5, want/1e5)
	}
}

func TestSynthetic(t *testing.T) {
	a, b := Synthetic(40, 10, 28, 5), Synthetic(40, 10, 28, 5)
	if !slices.Equal(a.Images, b.Images) || !slices.Equal(a.Labels, b.Labels) {
		t.Fatal("not deterministic")
	}
	if c := Synthetic(40, 10, 28, 6); slices.Equal(a.Images, c.Images) {
		t.Fatal("seed has no effect")
	}
	if a.N != 40 || a.C != 1 || a.H != 28 || a.W != 28 || len(a.Images) != 40*784 {
		t.Fatalf("shape N=%d C=%d H=%d W=%d", a.N, a.C, a.H, a.W)
	}
	// Each class has ink, values in [0,1], and class means differ clearly.
	means := make([][]float64, 10)
	for i := range a.N {
		l := int(a.Labels[i])
		if l != i%10 {
			t.Fatalf("label %d of image %d", l, i)
		}
		if means[l] == nil {
			means[l] = make([]float64, 784)
		}
		ink := 0
		for j, p := range a.Image(i) {
			if p < 0 || p > 1 {
				t.Fatalf("pixel %v", p)
			}
			if p > 0 {
				ink++
			}
			means[l][j] += float64(p) / 4
		}
		if ink < 20 {
			t.Fatalf("image %d (class %d) has %d ink pixels", i, l, ink)
		}
	}
	for i := range 10 {
		for j := range i {
			var d float64
			for k := range 784 {
				d += math.Abs(means[i][k] - means[j][k])
			}
			if d < 20 {
				t.Errorf("classes %d and %d look alike (L1 %v)", i, j, d)
			}
		}
	}
	small := Synthetic(6, 3, 8, 1)
	if small.H != 8 || small.N != 6 || small.Labels[5] != 2 {
		t.Fatalf("small: %+v", small.Labels)
	}
}
