package graph

import (
	"fmt"
	"math"
	"testing"

	"dcim/models"

	"gorgonia.org/tensor"
)

// TestJointByEnumeration checks the joint graph on a dense net small
// enough to enumerate every hidden state h: forcing each h through the
// noise, the proposal's probabilities exp(LogP) sum to 1, and the sum of
// exp(LogQ) over h is q(x⁰ | c) = Σ_h q(x^{d−1} | c) ∏ q(x^{k−1} | x^k)
// computed here by hand — for the whole image and, with a mask, for the
// observed pixels alone (the missing ones marginalised out); LogQTopAll
// gives the graph's own LogQTop for the row's class.
func TestJointByEnumeration(t *testing.T) {
	for _, enc := range []Encoding{Binary, Spin} {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/masked=%t", enc, masked), func(t *testing.T) {
				in := models.Shape{C: 1, H: 2, W: 2}
				p := mustParams(t, "(3),(2),(3)", in, 3, enc, tensor.Float64)
				randomize(p, 13)
				for _, w := range p.W {
					d := w.Data().([]float64)
					for i := range d {
						d[i] *= 3
					}
				}
				j, err := NewJoint(p, 1, masked)
				if err != nil {
					t.Fatal(err)
				}
				defer j.Close()
				x0 := []float32{1, 0, 1, 1}
				xf := []float32{0.9, 0.2, 0.6, 0.7} // the proposal reads another image
				var mask []float32
				if masked {
					mask = []float32{1, 0, 0, 1}
				}
				const class = 2
				if err := j.SetRows(xf, x0, mask, []uint8{class}); err != nil {
					t.Fatal(err)
				}
				W1, W2, W3 := p.W[0].Data().([]float64), p.W[1].Data().([]float64), p.W[2].Data().([]float64)
				b1, b2, a0 := p.B[0].Data().([]float64), p.B[1].Data().([]float64), p.A0.Data().([]float64)
				// logBern is log P(state) of a unit of logit-scale pre-activation u.
				s := pixelScaleOf(enc)
				logBern := func(state, u float64, image bool) float64 {
					t := state
					if !image && enc == Spin {
						t = (state + 1) / 2
					}
					return t*s*u - softplus(s*u)
				}
				off := 0.0
				if enc == Spin {
					off = -1
				}
				var sumP, sumQ float64
				for h := range 1 << 5 {
					x1 := []float64{float64(h & 1), float64(h >> 1 & 1), float64(h >> 2 & 1)}
					x2 := []float64{float64(h >> 3 & 1), float64(h >> 4 & 1)}
					for i := range x1 {
						if x1[i] == 0 {
							x1[i] = off
						}
					}
					for i := range x2 {
						if x2[i] == 0 {
							x2[i] = off
						}
					}
					for k, x := range map[int][]float64{1: x1, 2: x2} {
						noise := j.Noise[k].Value().Data().([]float64)
						for i, v := range x {
							noise[i] = 1
							if v == 1 {
								noise[i] = 0
							}
						}
					}
					if err := j.Run(); err != nil {
						t.Fatal(err)
					}
					sumP += math.Exp(j.LogP()[0])
					lq := j.LogQ()[0]
					sumQ += math.Exp(lq)
					// By hand: q(x² | c) q(x¹ | x²) q(x⁰ | x¹).
					want := 0.0
					for i := range 2 {
						want += logBern(x2[i], W3[class*2+i]+b2[i], false)
					}
					for i := range 3 {
						u := b1[i]
						for k := range 2 {
							u += W2[k*3+i] * x2[k]
						}
						want += logBern(x1[i], u, false)
					}
					for i := range 4 {
						if masked && mask[i] == 0 {
							continue
						}
						u := a0[i]
						for k := range 3 {
							u += W1[k*4+i] * x1[k]
						}
						want += logBern(float64(x0[i]), u, true)
					}
					if math.Abs(lq-want) > 1e-10 {
						t.Fatalf("h = %v %v: log q(x⁰, h | c) = %.12g, by hand %.12g", x1, x2, lq, want)
					}
					if all := j.LogQTopAll(); math.Abs(all[class]-Float64s(j.LogQTop)[0]) > 1e-10 {
						t.Fatalf("LogQTopAll[%d] = %g, LogQTop %g", class, all[class], Float64s(j.LogQTop)[0])
					}
				}
				if math.Abs(sumP-1) > 1e-12 {
					t.Errorf("Σ_h p(h | x̃) = %.15g, want 1", sumP)
				}
				if sumQ <= 0 || sumQ >= 1 {
					t.Errorf("q(x⁰ | c) = %g, want a probability", sumQ)
				}
			})
		}
	}
}
