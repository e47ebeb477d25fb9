package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"dcim/graph"
)

// Likelihood is the reverse model's log-likelihood of binarised test
// images (a pixel is 1 where its grey level is above ½), in nats per
// image, estimated by importance sampling with the forward chain as the
// proposal (graph.Joint): for each image x and K ancestral samples h_s ~
// p(h | x),
//
//	log q(x | c) ≈ log (1/K) Σ_s q(x, h_s | c) / p(h_s | x),
//
// an estimate that is low in expectation by a gap that closes as K grows
// (Burda et al.'s bound), so that the figures for K = 100 and 1,000 show
// how far it has converged. Conditional is log q(x | label); Unconditional
// is log q(x) = log (1/C) Σ_c q(x | c), the model with a uniform class
// prior, from the same samples (only q(x^{d−1} | c) depends on c) — the
// figure to set beside unconditional models of binarised MNIST.
type Likelihood struct {
	Binarise  string       `json:"binarise"`
	Images    int          `json:"images"`
	Estimates []LLEstimate `json:"estimates"` // by K, ascending
}

// LLEstimate is the estimate of K samples per image: the mean over the
// images, with SE its Monte-Carlo standard error (the delta method's per
// image, sd(w)/(√K·mean(w)) for the importance weights w, combined over
// images) and ImagesSE the standard error of the mean over the test
// images (the test set's own sampling error).
type LLEstimate struct {
	Draws            int     `json:"draws"`
	Conditional      Figure  `json:"conditional"`
	Unconditional    Figure  `json:"unconditional"`
	ImagesSE         float64 `json:"images_se"`
	UncondImagesSE   float64 `json:"unconditional_images_se"`
	ConditionalPixel float64 `json:"conditional_per_pixel"` // Conditional / pixels
}

// binarise returns the images with every pixel above ½ set to 1, the rest 0.
func binarise(images []float32) []float32 {
	out := make([]float32, len(images))
	for i, v := range images {
		if v > 0.5 {
			out[i] = 1
		}
	}
	return out
}

// likelihood estimates Likelihood on the first n images with K = draws
// (ascending) samples each, rows rows per graph run; done is told after
// each image.
func likelihood(p *graph.Params, images []float32, labels []uint8, n int, draws []int, rows int, rng *rand.Rand, done func(int)) (*Likelihood, error) {
	if n > len(labels) {
		n = len(labels)
	}
	kmax := slices.Max(draws)
	rows = max(1, min(rows, kmax))
	j, err := graph.NewJoint(p, rows, false)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	size := p.Input.Size()
	bin := binarise(images[:n*size])
	xs := make([]float32, rows*size)
	cs := make([]uint8, rows)
	C := p.Classes
	cond := make([][]float64, len(draws))   // per K, per image: the estimate
	condSE := make([][]float64, len(draws)) // its delta-method standard error
	unc := make([][]float64, len(draws))
	uncSE := make([][]float64, len(draws))
	lw, lu := make([]float64, 0, kmax), make([]float64, 0, kmax)
	for i := range n {
		img := bin[i*size : (i+1)*size]
		for r := range rows {
			copy(xs[r*size:], img)
			cs[r] = labels[i]
		}
		if err := j.SetRows(xs, xs, nil, cs); err != nil {
			return nil, err
		}
		lw, lu = lw[:0], lu[:0]
		for len(lw) < kmax {
			j.DrawNoise(rng)
			if err := j.Run(); err != nil {
				return nil, fmt.Errorf("importance sampling: %w", err)
			}
			w, top, all := j.LogW(), graph.Float64s(j.LogQTop), j.LogQTopAll()
			for r := range rows {
				if len(lw) == kmax {
					break
				}
				lw = append(lw, w[r])
				// log (1/C) Σ_c q(x^{d−1} | c), in place of q(x^{d−1} | label).
				lu = append(lu, w[r]-top[r]+logMeanExp(all[r*C:(r+1)*C]))
			}
		}
		for e, K := range draws {
			v, se := isEstimate(lw[:K])
			cond[e], condSE[e] = append(cond[e], v), append(condSE[e], se)
			v, se = isEstimate(lu[:K])
			unc[e], uncSE[e] = append(unc[e], v), append(uncSE[e], se)
		}
		if done != nil {
			done(i + 1)
		}
	}
	ll := &Likelihood{Binarise: "threshold: pixel = 1 where the grey level > 0.5", Images: n}
	for e, K := range draws {
		c, cSE, cImg := aggregate(cond[e], condSE[e])
		u, uSE, uImg := aggregate(unc[e], uncSE[e])
		ll.Estimates = append(ll.Estimates, LLEstimate{
			Draws: K, Conditional: Figure{c, cSE}, Unconditional: Figure{u, uSE},
			ImagesSE: cImg, UncondImagesSE: uImg, ConditionalPixel: c / float64(size),
		})
	}
	return ll, nil
}

// logMeanExp returns log (1/K) Σ exp(v).
func logMeanExp(v []float64) float64 {
	m := slices.Max(v)
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s/float64(len(v)))
}

// isEstimate returns the importance-sampling estimate log mean exp(lw) and
// its delta-method standard error sd(w)/(√K·mean(w)), w = exp(lw − max).
func isEstimate(lw []float64) (est, se float64) {
	K := float64(len(lw))
	m := slices.Max(lw)
	var s, sq float64
	for _, x := range lw {
		w := math.Exp(x - m)
		s += w
		sq += w * w
	}
	mean := s / K
	est = m + math.Log(mean)
	if len(lw) < 2 {
		return est, math.NaN()
	}
	v := (sq/K - mean*mean) * K / (K - 1)
	return est, math.Sqrt(max(0, v)/K) / mean
}

// aggregate returns the mean of per-image estimates, the Monte-Carlo
// standard error of that mean (√Σ se²/n) and the standard error over the
// images (sd/√n).
func aggregate(est, se []float64) (mean, mcSE, imgSE float64) {
	n := float64(len(est))
	var s, ss, v float64
	for i, x := range est {
		s += x
		ss += se[i] * se[i]
		_ = i
	}
	mean = s / n
	for _, x := range est {
		v += (x - mean) * (x - mean)
	}
	if n > 1 {
		imgSE = math.Sqrt(v/(n-1)) / math.Sqrt(n)
	}
	return mean, math.Sqrt(ss) / n, imgSE
}
