package data

import "math/rand/v2"

// Iterator yields a set in shuffled batches, its images converted to grey
// levels in [0,1]. The order of an epoch depends only on (seed, epoch), so
// runs are reproducible and can resume at an epoch boundary. Next returns
// views of buffers that the iterator reuses: copy them if they must outlive
// the next call.
type Iterator struct {
	set      *Set
	batch    int
	seed     uint64
	dropLast bool
	perm     []int
	pos      int
	images   []float32
	labels   []uint8
}

// NewIterator returns an iterator over s in batches of batch images, shuffled
// for epoch 0 of seed. With dropLast, a last batch shorter than batch is
// skipped; otherwise it is returned (shorter slices). It panics if batch < 1.
func NewIterator(s *Set, batch int, seed uint64, dropLast bool) *Iterator {
	if batch < 1 {
		panic("data.NewIterator: batch size must be at least 1")
	}
	it := &Iterator{
		set:      s,
		batch:    batch,
		seed:     seed,
		dropLast: dropLast,
		perm:     make([]int, s.N),
		images:   make([]float32, min(batch, s.N)*s.imageSize()),
		labels:   make([]uint8, min(batch, s.N)),
	}
	it.Reset(0)
	return it
}

// Reset starts epoch epoch, shuffling deterministically for (seed, epoch).
func (it *Iterator) Reset(epoch int) {
	it.pos = 0
	for i := range it.perm {
		it.perm[i] = i
	}
	rng := rand.New(rand.NewPCG(it.seed, uint64(epoch)^0x9e3779b97f4a7c15))
	rng.Shuffle(len(it.perm), func(i, j int) { it.perm[i], it.perm[j] = it.perm[j], it.perm[i] })
}

// Next fills and returns views of the internal buffers (images batch*C*H*W,
// labels batch); ok is false at the end of the epoch. Call Reset to start
// the next one.
func (it *Iterator) Next() (images []float32, labels []uint8, ok bool) {
	n := it.set.N - it.pos
	if n <= 0 || (it.dropLast && n < it.batch) {
		return nil, nil, false
	}
	n = min(n, it.batch)
	sz := it.set.imageSize()
	for k, idx := range it.perm[it.pos : it.pos+n] {
		toFloat(it.images[k*sz:(k+1)*sz], it.set.image(idx))
		it.labels[k] = it.set.Labels[idx]
	}
	it.pos += n
	return it.images[:n*sz], it.labels[:n], true
}

// BatchesPerEpoch returns the number of batches Next yields per epoch.
func (it *Iterator) BatchesPerEpoch() int {
	if it.dropLast {
		return it.set.N / it.batch
	}
	return (it.set.N + it.batch - 1) / it.batch
}
