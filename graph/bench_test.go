package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"dcim/graph/cputime"
	"dcim/models"

	"gorgonia.org/tensor"
)

// BenchmarkStep times one training step's graph run (forward and reverse
// chains, loss and all gradients) at batch 64 in float32; img/s and the
// CPU time per step (which a busy machine disturbs less) are reported as
// metrics.
func BenchmarkStep(b *testing.B) {
	for _, m := range []struct {
		name string
		arch models.Arch
		enc  Encoding
	}{{"dense", paperDense, Binary}, {"cnn", paperCNN, Spin}} {
		for _, obj := range []Objective{Discriminative, Generative, GenerativeSampled} {
			b.Run(fmt.Sprintf("%s/%v", m.name, obj), func(b *testing.B) {
				p, err := NewParams(m.arch, models.MNISTInput, 10, m.enc, tensor.Float32, 1)
				if err != nil {
					b.Fatal(err)
				}
				const batch = 64
				net, err := New(p, Config{Objective: obj, Batch: batch, Grad: true})
				if err != nil {
					b.Fatal(err)
				}
				defer net.Close()
				img, lab := tinyBatch(batch, p.Input, 10, 1)
				if err := net.SetBatch(img, lab); err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				if err := net.Run(); err != nil { // allocates every op's output once
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				c0 := cputime.Process()
				for range b.N {
					net.DrawNoise(rng)
					if err := net.Run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
				b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N)/1e6, "cpu-ms/op")
			})
		}
	}
}

// BenchmarkSampledStep times a training step of eq. (21) on the paper's
// CNN under each forward inference: mean field (the paper's), and the
// sampled forward chain (MonteCarlo) with straight-through and with PSA,
// one draw per image, batch 64, float32.
func BenchmarkSampledStep(b *testing.B) {
	for _, v := range []struct {
		inf  Inference
		grad DrawGradient
	}{{MeanField, NoDrawGradient}, {MonteCarlo, StraightThrough}, {MonteCarlo, PSA}} {
		b.Run(fmt.Sprintf("%v/%v", v.inf, v.grad), func(b *testing.B) {
			p, err := NewParams(paperCNN, models.MNISTInput, 10, Spin, tensor.Float32, 1)
			if err != nil {
				b.Fatal(err)
			}
			const batch = 64
			net, err := New(p, Config{Objective: Generative, Batch: batch, Grad: true, Inference: v.inf, DrawGradient: v.grad})
			if err != nil {
				b.Fatal(err)
			}
			defer net.Close()
			img, lab := tinyBatch(batch, p.Input, 10, 1)
			if err := net.SetBatch(img, lab); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			net.DrawNoise(rng)
			if err := net.Run(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			c0 := cputime.Process()
			for range b.N {
				net.DrawNoise(rng)
				if err := net.Run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// Frozen copies of the paper's networks (§3.1, §3.2): benchmarks and
// kernel tests measure these whatever models/paper.go holds.
var (
	paperDense = models.MustParse("(512),(512),(10)")
	paperCNN   = models.MustParse("(3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10)")
)
