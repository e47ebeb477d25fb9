package sampling

import (
	"fmt"
	"math/rand/v2"

	"dcim/graph"
)

// Reconstruct passes images through the forward model and back through
// the reverse model. With sampled (models trained with eq. 22) it draws
// layer d−1 from the forward pass and runs the reverse chain from that
// draw; otherwise it runs the reverse chain from the forward class
// posterior p(x^d | x^0) (eq. 21 models). It returns a tableau of two rows
// per group of cols images for display: the originals, then their
// reconstructions, each classified by the forward model.
func Reconstruct(p *graph.Params, images []float32, labels []uint8, cols int, sampled bool, seed uint64) (*Reconstruction, error) {
	size := p.Input.Size()
	n := len(labels)
	if n == 0 || len(images) != n*size {
		return nil, fmt.Errorf("reconstruct: %d labels and %d pixels", n, len(images))
	}
	if cols < 1 {
		return nil, fmt.Errorf("reconstruct: %d columns, want at least 1", cols)
	}
	if sampled && p.Depth() < 2 {
		sampled = false
	}
	var recon []float32
	if sampled {
		net, err := graph.New(p, graph.Config{Objective: graph.GenerativeSampled, Batch: n})
		if err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		defer net.Close()
		if err := net.SetBatch(images, labels); err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		net.DrawNoise(rand.New(rand.NewPCG(seed, 0x2ec0)))
		if err := net.Run(); err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		recon = graph.Float32s(net.Recon22)
	} else {
		probs, err := Classify(p, images, labels)
		if err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		gen, err := graph.NewGenerator(p, p.Depth(), nil, n)
		if err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		defer gen.Close()
		state := make([]float64, len(probs))
		for i, v := range probs {
			state[i] = float64(v)
		}
		if err := gen.SetState(state); err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		if err := gen.Run(); err != nil {
			return nil, fmt.Errorf("reconstruct: %w", err)
		}
		recon = gen.Images()
	}
	rec := &Reconstruction{Originals: images, Images: recon, Labels: labels, Sampled: sampled}
	probs, err := Classify(p, recon, labels)
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	rec.Pred, rec.Prob = Top(probs, p.Classes)

	// Lay out, for each group of cols, the originals then their reconstructions.
	groups := (n + cols - 1) / cols
	t := &Tableau{
		C: p.Input.C, H: p.Input.H, W: p.Input.W,
		Rows: 2 * groups, Cols: cols, Classes: p.Classes,
	}
	t.Title = "reconstruction from p(class|x)"
	if sampled {
		t.Title = "reconstruction from a draw of layer d-1"
	}
	blank := make([]float32, size)
	for g := range groups {
		for row, src := range [][]float32{images, recon} {
			for c := range cols {
				i := g*cols + c
				if i < n {
					t.Images = append(t.Images, src[i*size:(i+1)*size]...)
					t.Labels = append(t.Labels, labels[i])
					t.Blank = append(t.Blank, false)
				} else {
					t.Images = append(t.Images, blank...)
					t.Labels = append(t.Labels, 0)
					t.Blank = append(t.Blank, true)
				}
			}
			t.RowNames = append(t.RowNames, [...]string{"x", "rec"}[row])
		}
	}
	if err := t.classify(p, graph.MeanField); err != nil {
		return nil, err
	}
	rec.Tableau = t
	return rec, nil
}

// Reconstruction holds images, their reconstructions through
// forward-then-reverse, and the forward model's verdict on the latter.
type Reconstruction struct {
	Originals []float32 // N×C×H×W
	Images    []float32 // reconstructions, N×C×H×W
	Labels    []uint8   // true labels
	Pred      []uint8   // forward model's top class of each reconstruction
	Prob      []float32 // its probability
	Sampled   bool      // reconstructed from a draw of layer d−1 (eq. 22)
	Tableau   *Tableau  // originals and reconstructions in alternate rows
}
