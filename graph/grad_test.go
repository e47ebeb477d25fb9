package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"dcim/models"

	"gorgonia.org/tensor"
)

// tinyBatch returns a deterministic batch of grey-level images and labels.
func tinyBatch(n int, in models.Shape, classes int, seed uint64) ([]float32, []uint8) {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := make([]float32, n*in.Size())
	for i := range img {
		img[i] = float32(rng.Float64())
	}
	lab := make([]uint8, n)
	for i := range lab {
		lab[i] = uint8(rng.IntN(classes))
	}
	return img, lab
}

// randomize gives every parameter (biases and a⁰ included) a random value
// so that no gradient is trivially zero.
func randomize(p *Params, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, t := range p.Tensors() {
		fill(t, func() float64 { return rng.Float64() - 0.5 })
	}
}

func TestGradientCheck(t *testing.T) {
	archs := []struct {
		name, arch string
		in         models.Shape
	}{
		{"dense", "(5),(4),(3)", models.Shape{C: 1, H: 4, W: 3}},
		{"conv", "(3,1,2),(3,2,3),(4),(3)", models.Shape{C: 1, H: 7, W: 7}},
		{"conv-only", "(2,2,2),(3)", models.Shape{C: 2, H: 4, W: 6}},
	}
	for _, a := range archs {
		for _, enc := range []Encoding{Binary, Spin} {
			objs := []Objective{Discriminative, Generative, GenerativeSampled}
			arch, err := models.Parse(a.arch)
			if err != nil {
				t.Fatal(err)
			}
			if len(arch) >= 3 {
				// A mixed objective: eq. (21) and a draw of layer d−2 at half
				// weight, plus both kinds of reverse-layer term.
				objs = append(objs, models.MustParseObjective("ce + 0.5*label + 0.5*draw:-1 + 0.3*layer + 0.2*layer:1"))
			}
			for _, c := range cases(objs) {
				obj, inf := c.obj, c.inf
				t.Run(fmt.Sprintf("%s/%v/%v/%v", a.name, enc, obj, inf), func(t *testing.T) {
					p, err := NewParams(arch, a.in, 3, enc, tensor.Float64, 1)
					if err != nil {
						t.Fatal(err)
					}
					randomize(p, 3)
					net, _, analytic := runNet(t, p, Config{Objective: obj, Lambda: 0.7, Batch: 3, Grad: true, Inference: inf}, nil)
					loss := func() float64 {
						if err := net.Run(); err != nil {
							t.Fatal(err)
						}
						return Scalar(net.Loss)
					}
					var values [][]float64
					for _, pt := range p.Tensors() {
						values = append(values, pt.Data().([]float64))
					}
					worst, where := worstGradError(values, p.Names(), analytic, loss, 1e-6)
					if worst > 1e-5 {
						t.Errorf("max relative error %.3g at %s", worst, where)
					}
				})
			}
		}
	}
}

// gradCase is an objective and the inference its graph uses.
type gradCase struct {
	obj Objective
	inf Inference
}

// cases pairs every objective with mean field, and the paper's two
// generative objectives also with the moment method.
func cases(objs []Objective) []gradCase {
	var out []gradCase
	for _, o := range objs {
		out = append(out, gradCase{o, MeanField})
	}
	return append(out, gradCase{Generative, Moments}, gradCase{GenerativeSampled, Moments})
}

// worstGradError compares the analytic gradients of loss with central
// differences over every entry of values (the parameters, changed in
// place and restored) and returns the worst relative error, the scale
// floored at floor, and where it is.
func worstGradError(values [][]float64, names []string, analytic [][]float64, loss func() float64, floor float64) (float64, string) {
	const eps = 1e-6
	worst, where := 0.0, ""
	for i, d := range values {
		for j := range d {
			old := d[j]
			d[j] = old + eps
			up := loss()
			d[j] = old - eps
			down := loss()
			d[j] = old
			num := (up - down) / (2 * eps)
			an := analytic[i][j]
			scale := math.Max(math.Max(math.Abs(num), math.Abs(an)), floor)
			if r := math.Abs(num-an) / scale; r > worst {
				worst, where = r, fmt.Sprintf("%s[%d]: analytic %g numeric %g", names[i], j, an, num)
			}
		}
	}
	return worst, where
}
