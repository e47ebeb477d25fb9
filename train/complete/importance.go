package complete

import (
	"fmt"
	"math"
	"math/rand/v2"

	"dcim/graph"
)

// The methods of the DCIM itself rather than of approximation (2): the
// likelihood of the observed pixels under the reverse model with every
// hidden layer a random variable, estimated by importance sampling.
const (
	// GenerativeIS is Generative with log q(x_obs | c) importance-sampled:
	// S ancestral samples h_s of the forward chain run on the mean-filled
	// image are the proposal, and log q(x_obs | c) ≈ log (1/S) Σ_s
	// q(x_obs, h_s | c) / p(h_s | x̃), the missing pixels marginalised out
	// exactly given x¹ (graph.Joint). The missing pixels are completed
	// with q(x = 1 | x¹_s) averaged under the normalised weights.
	GenerativeIS Method = "generative-is"
	// JointIS is Joint with both factors the DCIM's own: the Monte-Carlo
	// class posterior of the forward chain on the mean-filled image (the
	// mean of p(c | x^{d−1}_s) over the same S samples) times the
	// importance-sampled q(x_obs | c) raised to β.
	JointIS Method = "joint-is"
)

// importanceRows is the number of rows (image × sample) of one run of the
// joint graph; importanceGroup bounds the samples whose image means are
// kept at once (the images of a batch are taken in groups of at most
// importanceGroup/S, at least one).
const (
	importanceRows  = 256
	importanceGroup = 4096
)

// logMeanExp returns log (1/n) Σ exp(v).
func logMeanExp(v []float64) float64 { return logSumExp(v) - math.Log(float64(len(v))) }

// importanceResults are the two importance-sampling methods' posteriors
// and completions of a batch.
type importanceResults struct {
	genPost, jointPost []float64 // b×K
	genDone, jointDone []float32 // b×size
}

// importanceMethods runs GenerativeIS and JointIS on a batch, its images
// in groups that bound the samples kept at once.
func (e *evaluator) importanceMethods(x []float32, obs []bool, meanFilled []float32) (*importanceResults, error) {
	size, K, S := e.size, e.classes, e.cfg.Draws
	b := len(x) / size
	g := max(1, importanceGroup/S)
	r := &importanceResults{}
	for lo := 0; lo < b; lo += g {
		hi := min(lo+g, b)
		xs, os, fs := x[lo*size:hi*size], obs[lo*size:hi*size], meanFilled[lo*size:hi*size]
		im, err := e.importanceSample(xs, os, fs, e.isRNG)
		if err != nil {
			return nil, err
		}
		post, done := im.posterior(xs, os, nil, 1, size, K)
		r.genPost, r.genDone = append(r.genPost, post...), append(r.genDone, done...)
		post, done = im.posterior(xs, os, im.fwdPost, e.cfg.Beta, size, K)
		r.jointPost, r.jointDone = append(r.jointPost, post...), append(r.jointDone, done...)
	}
	return r, nil
}

// importance is what the importance-sampling methods read for a batch: for
// each image, log q(x_obs | c) and the Monte-Carlo forward posterior
// p(c | x̃) over the classes, and what it takes to complete the image
// under any weighting of the classes: the image means q(x = 1 | x¹_s) of
// the samples and each sample's log weight per class.
type importance struct {
	logLik, fwdPost []float64 // b×K
	logW            []float64 // b×S×K: log q(x_obs, h_s | c) − log p(h_s | x̃)
	images          []float32 // b×S×size: q(x = 1 | x¹_s)
}

// importanceSample draws S = cfg.Draws samples of the forward chain per
// image from the mean-filled images and scores them under the reverse
// model at the observed pixels of x.
func (e *evaluator) importanceSample(x []float32, obs []bool, meanFilled []float32, rng *rand.Rand) (*importance, error) {
	if e.joint == nil {
		var err error
		if e.joint, err = graph.NewJoint(e.p, importanceRows, true); err != nil {
			return nil, fmt.Errorf("joint graph: %w", err)
		}
	}
	size, K, S := e.size, e.classes, e.cfg.Draws
	b := len(x) / size
	total := b * S
	im := &importance{logLik: make([]float64, b*K), fwdPost: make([]float64, b*K), logW: make([]float64, total*K), images: make([]float32, total*size)}
	R := importanceRows
	xf, x0, mask := make([]float32, R*size), make([]float32, R*size), make([]float32, R*size)
	classes := make([]uint8, R) // any class: the weights of all of them come from LogQTopAll
	for lo := 0; lo < total; lo += R {
		hi := min(lo+R, total)
		for r := range R {
			i := min(lo+r, hi-1) / S // rows past hi repeat the last one and are dropped
			copy(xf[r*size:(r+1)*size], meanFilled[i*size:(i+1)*size])
			copy(x0[r*size:(r+1)*size], x[i*size:(i+1)*size])
			for j := range size {
				mask[r*size+j] = 0
				if obs[i*size+j] {
					mask[r*size+j] = 1
				}
			}
		}
		if err := e.joint.SetRows(xf, x0, mask, classes); err != nil {
			return nil, err
		}
		e.joint.DrawNoise(rng)
		if err := e.joint.Run(); err != nil {
			return nil, err
		}
		w, top, all := e.joint.LogW(), graph.Float64s(e.joint.LogQTop), e.joint.LogQTopAll()
		probs := graph.Float64s(e.joint.ClassProbs)
		imgs := graph.Float32s(e.joint.Image)
		for r := range hi - lo {
			row := lo + r
			i := row / S
			for c := range K {
				im.logW[row*K+c] = w[r] - top[r] + all[r*K+c]
				im.fwdPost[i*K+c] += probs[r*K+c] / float64(S)
			}
			copy(im.images[row*size:(row+1)*size], imgs[r*size:(r+1)*size])
		}
	}
	col := make([]float64, S)
	for i := range b {
		for c := range K {
			for s := range S {
				col[s] = im.logW[(i*S+s)*K+c]
			}
			im.logLik[i*K+c] = logMeanExp(col)
		}
	}
	return im, nil
}

// posterior returns the class posterior ∝ prior(c)·q(x_obs | c)^β (prior
// nil: uniform) and the completion of x: each missing pixel the mean of
// q(x = 1 | x¹_s) under the weights ∝ prior(c)·(q(x_obs, h_s | c) /
// p(h_s | x̃))^β over the samples and classes.
func (im *importance) posterior(x []float32, obs []bool, prior []float64, beta float64, size, K int) ([]float64, []float32) {
	b := len(x) / size
	S := len(im.logW) / (b * K)
	post := make([]float64, b*K)
	done := make([]float32, len(x))
	w := make([]float64, S*K)
	for i := range b {
		for c := range K {
			lp := 0.0
			if prior != nil {
				lp = math.Log(max(prior[i*K+c], 1e-300))
			}
			post[i*K+c] = lp + beta*im.logLik[i*K+c]
			for s := range S {
				w[s*K+c] = lp + beta*im.logW[(i*S+s)*K+c]
			}
		}
		softmaxRow(post[i*K : (i+1)*K])
		softmaxRow(w)
		for j := range size {
			k := i*size + j
			if obs[k] {
				done[k] = x[k]
				continue
			}
			var v float64
			for s := range S {
				var ws float64
				for c := range K {
					ws += w[s*K+c]
				}
				v += ws * float64(im.images[(i*S+s)*size+j])
			}
			done[k] = float32(v)
		}
	}
	return post, done
}
