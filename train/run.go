// Package train trains a DCIM (the paper's §2.3 and §3): the Adam loop over
// shuffled mini-batches, metrics at evaluation points, curves like the
// paper's Figure 1, checkpoints in the DESIGN.md §5 contract and exact
// resumption. cmd/train-dense and cmd/train-cnn are thin commands over
// Main.
//
// A run folder holds:
//
//	model.npz, model.json  the parameters (checkpoint package)
//	resume.npz             parameters, Adam moments and the loop's position and RNG state, for -resume
//	metrics.csv            one row per evaluation point
//	curves.png             accuracy and reverse-loss curves
//	summary.json           final figures, written when the run completes
//
// Every file is written atomically; the checkpoint is written at the start,
// at each epoch end, on interrupt and at the end, and never after a
// non-finite loss.
package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"dcim/data"
	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"

	"gorgonia.org/tensor"
)

// Names of the files this package writes in a run folder, besides the
// checkpoint's model.npz and model.json.
const (
	ResumeName  = "resume.npz"
	MetricsName = "metrics.csv"
	CurvesName  = "curves.png"
	SummaryName = "summary.json"
)

// ErrInterrupted is returned (wrapped, with the resume command) when the
// context is cancelled: the current step finished and a checkpoint was saved.
var ErrInterrupted = errors.New("interrupted")

// ErrNonFinite is returned (wrapped) when the loss or a parameter becomes
// NaN or infinite; the last good checkpoint is left as it was.
var ErrNonFinite = errors.New("non-finite loss")

// Options are what Run needs besides the flags.
type Options struct {
	Flags Flags
	// Train and Test, when set, are used instead of loading MNIST (tests;
	// -limit still applies to Train).
	Train, Test *data.Set
	// EvalLimit, when positive, evaluates on the first EvalLimit test
	// images only (tests); the default is the full test set.
	EvalLimit int
	// Log receives the progress bar or lines and messages (nil: discarded).
	Log io.Writer
	// Plain forces plain progress lines even when Log is a terminal.
	Plain bool
	// AfterStep, if set, is called after every training step with the
	// number of steps taken so far (tests use it to interrupt a run).
	AfterStep func(iteration int)
}

// Summary is summary.json, written when a run completes.
type Summary struct {
	ValAccuracy     float64 `json:"val_accuracy"`
	ValCE           float64 `json:"val_ce"`
	ValReverseBCE   float64 `json:"val_reverse_bce"`
	ValReverseBCE21 Number  `json:"val_reverse_bce_21"`
	ValReverseBCE22 Number  `json:"val_reverse_bce_22"` // null for a net without hidden layers
	TrainAccuracy   float64 `json:"train_accuracy"`
	TrainLoss       float64 `json:"train_loss"`
	Objective       string  `json:"objective"`
	Arch            string  `json:"arch"`
	Encoding        string  `json:"encoding"`
	Epochs          int     `json:"epochs"`
	Iterations      int     `json:"iterations"`
	TrainImages     int     `json:"train_images"`
	ValImages       int     `json:"val_images"`
	Seconds         float64 `json:"seconds"`
	SecondsPerEpoch float64 `json:"seconds_per_epoch"`
	ImagesPerSecond float64 `json:"images_per_second"`
	Seed            uint64  `json:"seed"`
	Flags           Flags   `json:"flags"`
}

// trainer is one run in progress.
type trainer struct {
	cfg      *Config
	opts     Options
	log      io.Writer
	train    *data.Set
	test     *data.Set
	params   *graph.Params
	net      *graph.Net // training graph
	eval     *graph.Net // evaluation graph, all terms
	adam     *Adam
	rng      *rand.Rand
	pcg      *rand.PCG
	st       state
	metrics  *metricsFile
	progress progress
	session  time.Time // start of this session
	stepTime time.Duration
}

// Run trains as opts.Flags say, writing the run folder, and returns the
// summary. A cancelled ctx stops after the current step with a checkpoint
// and an error wrapping ErrInterrupted; a flag error is a *UsageError.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	t := &trainer{opts: opts, log: opts.Log, session: time.Now()}
	if t.log == nil {
		t.log = io.Discard
	}
	resume, err := t.setup()
	if err != nil {
		return nil, err
	}
	defer t.close()
	if t.st.Epoch >= t.cfg.Epochs {
		fmt.Fprintf(t.log, "run %s is complete (%d epochs); nothing to do\n", t.cfg.Out, t.cfg.Epochs)
		return readSummary(t.cfg.Out)
	}
	if !resume {
		if err := t.saveCheckpoint(); err != nil {
			return nil, err
		}
	}
	return t.loop(ctx)
}

// setup checks the flags (or reads those of the run to resume), loads the
// data, builds the parameters, graphs and optimiser and restores the
// resume state. It reports whether the run is resumed.
func (t *trainer) setup() (bool, error) {
	f := t.opts.Flags
	resume := f.Resume != ""
	var saved *savedState
	if resume {
		var err error
		if saved, err = readResume(f.Resume); err != nil {
			return false, &UsageError{fmt.Errorf("-resume: %w", err)}
		}
		data, epochs := f.Data, f.Epochs
		f = saved.State.Flags
		f.Out, f.Resume, f.Force = filepath.Clean(t.opts.Flags.Resume), t.opts.Flags.Resume, true
		if data != "" {
			f.Data = data
		}
		if epochs > 0 { // train the run further (or stop it earlier)
			if epochs < saved.State.Epoch {
				return false, usageErrorf("-epochs %d: run %s has already completed %d epochs", epochs, f.Resume, saved.State.Epoch)
			}
			f.Epochs = epochs
		}
	}
	cfg, err := f.Check()
	if err != nil {
		return false, err
	}
	if resume {
		cfg.Force = false
	}
	t.cfg = cfg
	if err := t.loadData(); err != nil {
		return false, err
	}
	in := models.Shape{C: t.train.C, H: t.train.H, W: t.train.W}
	summary, err := cfg.Arch.Summary(in, models.MNISTClasses)
	if err != nil {
		return false, fmt.Errorf("-arch %q on %v images: %w", cfg.Flags.Arch, in, err)
	}
	if t.params, err = graph.NewParams(cfg.Arch, in, models.MNISTClasses, cfg.Encoding, tensor.Float32, cfg.Seed); err != nil {
		return false, err
	}
	if t.net, err = graph.New(t.params, graph.Config{Objective: cfg.Objective, Lambda: cfg.ReverseWeight, Batch: cfg.Batch, Grad: true}); err != nil {
		return false, fmt.Errorf("building the training graph: %w", err)
	}
	if t.eval, err = graph.New(t.params, graph.Config{Objective: cfg.Objective, Lambda: cfg.ReverseWeight, Batch: evalBatch(t.test.N, cfg.Arch), AllTerms: true}); err != nil {
		return false, fmt.Errorf("building the evaluation graph: %w", err)
	}
	var sizes []int
	for _, p := range t.params.Tensors() {
		sizes = append(sizes, p.Len())
	}
	t.adam = NewAdam(cfg.LR, sizes)
	t.pcg = rand.NewPCG(cfg.Seed, 0x6e6f697365) // "noise"
	t.rng = rand.New(t.pcg)
	t.st = state{Version: stateVersion, Flags: cfg.Flags}
	if resume {
		if err := t.restore(saved); err != nil {
			return false, err
		}
	} else {
		if cfg.Force {
			if err := removeRunFiles(cfg.Out); err != nil {
				return false, err
			}
		}
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return false, fmt.Errorf("creating the run folder: %w", err)
		}
	}
	if t.metrics, err = openMetrics(filepath.Join(cfg.Out, MetricsName), t.st.Iteration); err != nil {
		return false, err
	}
	if t.st.Epoch < cfg.Epochs {
		verb := "training"
		if resume {
			verb = fmt.Sprintf("resuming at epoch %d, iteration %d:", t.st.Epoch+1, t.st.Iteration)
		}
		fmt.Fprintf(t.log, "%s %s, objective %v, encoding %v, λ %g, %d training and %d validation images, batch %d, lr %g, seed %d, %d epochs → %s\n%s",
			verb, cfg.Flags.Arch, cfg.Objective, cfg.Encoding, cfg.ReverseWeight, t.train.N, t.test.N, cfg.Batch, cfg.LR, cfg.Seed, cfg.Epochs, cfg.Out, summary)
	}
	return resume, nil
}

// loadData loads MNIST (or takes the sets given in the options) and
// applies -limit.
func (t *trainer) loadData() error {
	train, test := t.opts.Train, t.opts.Test
	if train == nil || test == nil {
		m, err := data.Load(data.Options{Dir: t.cfg.Data, Limit: t.cfg.Limit, Log: t.log})
		if errors.Is(err, data.ErrLimit) {
			return &UsageError{fmt.Errorf("-limit %d: %w", t.cfg.Limit, err)}
		}
		if err != nil {
			return fmt.Errorf("loading MNIST: %w", err)
		}
		train, test = m.Train, m.Test
	}
	if t.cfg.Limit > 0 {
		if t.cfg.Limit > train.N {
			return &UsageError{fmt.Errorf("-limit %d: the training set has only %d images", t.cfg.Limit, train.N)}
		}
		var err error
		if train, err = train.Subset(t.cfg.Limit); err != nil {
			return err
		}
	}
	if train.N < t.cfg.Batch {
		return &UsageError{fmt.Errorf("-batch %d is larger than the %d training images", t.cfg.Batch, train.N)}
	}
	if t.opts.EvalLimit > 0 && t.opts.EvalLimit < test.N {
		var err error
		if test, err = test.Subset(t.opts.EvalLimit); err != nil {
			return err
		}
	}
	t.train, t.test = train, test
	return nil
}

// evalBatch is the batch size of the evaluation graph: the largest divisor
// of n not above a limit (1000 images, 250 for convolutional nets), so that
// no batch is padded.
func evalBatch(n int, arch models.Arch) int {
	limit := 1000
	for _, l := range arch {
		if l.Kind == models.Conv {
			limit = 250
		}
	}
	for b := min(n, limit); b > 1; b-- {
		if n%b == 0 {
			return b
		}
	}
	return 1
}

func (t *trainer) close() {
	if t.metrics != nil {
		t.metrics.Close()
	}
	if t.net != nil {
		t.net.Close()
	}
	if t.eval != nil {
		t.eval.Close()
	}
}

// seconds is the wall time of the run so far, over all its sessions.
func (t *trainer) seconds() float64 {
	return t.st.Seconds + time.Since(t.session).Seconds()
}

// loop runs the remaining epochs.
func (t *trainer) loop(ctx context.Context) (*Summary, error) {
	cfg := t.cfg
	it := data.NewIterator(t.train, cfg.Batch, int64(cfg.Seed), true)
	steps := it.BatchesPerEpoch()
	t.progress = newProgress(t.log, t.opts.Plain, cfg.Batch)
	defer t.progress.done()
	for t.st.Epoch < cfg.Epochs {
		it.Reset(t.st.Epoch)
		for range t.st.Step { // replay to the position of an interrupted epoch
			it.Next()
		}
		t.progress.startEpoch(t.st.Epoch+1, cfg.Epochs, steps, t.st.Step)
		for {
			// An evaluation point every EvalEvery steps and at the epoch
			// end; one cut short by an interrupt is done on resume.
			if t.st.Iteration != t.st.LastEval && (t.st.Step == steps || cfg.EvalEvery > 0 && t.st.Iteration%cfg.EvalEvery == 0) {
				if err := t.evalPoint(ctx, steps); errors.Is(err, errEvalInterrupted) {
					return nil, t.interrupt()
				} else if err != nil {
					return nil, err
				}
			}
			if t.st.Step == steps {
				break
			}
			if ctx.Err() != nil {
				return nil, t.interrupt()
			}
			images, labels, _ := it.Next()
			if err := t.step(images, labels); err != nil {
				return nil, err
			}
			t.st.Step++
			if t.opts.AfterStep != nil {
				t.opts.AfterStep(t.st.Iteration)
			}
		}
		t.progress.endEpoch()
		t.st.Epoch++
		t.st.Step = 0
		if err := t.saveCheckpoint(); err != nil {
			return nil, err
		}
		if err := t.writeCurves(); err != nil {
			return nil, err
		}
	}
	return t.finish()
}

// step runs one training step on a batch and updates the parameters.
func (t *trainer) step(images []float32, labels []uint8) error {
	start := time.Now()
	if err := t.net.SetBatch(images, labels); err != nil {
		return err
	}
	t.net.DrawNoise(t.rng)
	if err := t.net.Run(); err != nil {
		return fmt.Errorf("iteration %d: %w", t.st.Iteration+1, err)
	}
	loss := graph.Scalar(t.net.Loss)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return t.nonFinite(fmt.Sprintf("loss is %v", loss))
	}
	ce := graph.Scalar(t.net.CE)
	var bce float64
	switch t.cfg.Objective {
	case graph.Generative:
		bce = graph.Scalar(t.net.BCE21)
	case graph.GenerativeSampled:
		bce = graph.Scalar(t.net.BCE22)
	}
	correct := countCorrect(graph.Float32s(t.net.Probs), labels, t.params.Classes)

	ps, gs := t.params.Tensors(), make([][]float32, len(t.net.Grads))
	pd := make([][]float32, len(ps))
	for i, p := range ps {
		pd[i] = p.Data().([]float32)
		if g := t.net.Grads[i]; g != nil {
			gs[i] = g.Value().Data().([]float32)
		}
	}
	if err := t.adam.Step(pd, gs); err != nil {
		return err
	}
	t.st.Iteration++
	t.st.Since.add(loss, ce, bce, correct, len(labels))
	dt := time.Since(start)
	t.stepTime += dt
	t.progress.step(loss, float64(correct)/float64(len(labels)), dt)
	return nil
}

// countCorrect counts the rows of probs (n×classes) whose largest entry is
// at the label.
func countCorrect(probs []float32, labels []uint8, classes int) int {
	c := 0
	for i, y := range labels {
		row := probs[i*classes : (i+1)*classes]
		best := 0
		for j, p := range row {
			if p > row[best] {
				best = j
			}
		}
		if best == int(y) {
			c++
		}
	}
	return c
}

// nonFinite stops the run after a NaN or infinite value, leaving the last
// checkpoint as it is.
func (t *trainer) nonFinite(what string) error {
	last := "the initial one"
	if t.st.Epoch > 0 {
		last = fmt.Sprintf("end of epoch %d", t.st.Epoch)
	}
	t.writeCurves()
	return fmt.Errorf("%w: %s at iteration %d (epoch %d): training diverged, try a smaller -lr; the last good checkpoint (%s) is kept in %s",
		ErrNonFinite, what, t.st.Iteration+1, t.st.Epoch+1, last, t.cfg.Out)
}

// errEvalInterrupted is evaluate's error when the context is cancelled.
var errEvalInterrupted = errors.New("evaluation interrupted")

// evalPoint evaluates on the validation set and writes a metrics row.
func (t *trainer) evalPoint(ctx context.Context, steps int) error {
	v, err := t.evaluate(ctx)
	if err != nil {
		return err
	}
	step := t.st.Step
	s := t.st.Since
	row := Row{
		Iteration:       t.st.Iteration,
		Epoch:           float64(t.st.Epoch) + float64(step)/float64(steps),
		Seconds:         t.seconds(),
		TrainLoss:       s.mean(s.Loss),
		TrainAccuracy:   s.Correct / s.Images,
		TrainCE:         s.mean(s.CE),
		TrainReverseBCE: math.NaN(),
		ValAccuracy:     v.accuracy,
		ValCE:           v.ce,
		ValReverseBCE:   v.bce21,
		ValReverseBCE21: v.bce21,
		ValReverseBCE22: v.bce22,
	}
	if t.cfg.Objective != graph.Discriminative {
		row.TrainReverseBCE = s.mean(s.BCE)
	}
	if t.cfg.Objective == graph.GenerativeSampled {
		row.ValReverseBCE = v.bce22
	}
	if math.IsNaN(row.ValCE) || math.IsInf(row.ValCE, 0) {
		return t.nonFinite(fmt.Sprintf("validation CE is %v", row.ValCE))
	}
	t.st.Since = running{}
	t.st.LastEval = t.st.Iteration
	if err := t.metrics.Write(row); err != nil {
		return err
	}
	t.progress.message(row.String())
	return nil
}

type evalResult struct{ accuracy, ce, bce21, bce22 float64 }

// evaluate runs the evaluation graph over the validation set. The draws of
// eq. (22) come from a generator seeded afresh each time, so evaluations
// differ only by the parameters and do not disturb the training stream.
func (t *trainer) evaluate(ctx context.Context) (evalResult, error) {
	rng := rand.New(rand.NewPCG(t.cfg.Seed, 0x6576616c)) // "eval"
	n := t.eval.Config.Batch
	var r evalResult
	correct := 0
	var images []float32
	for i := 0; i < t.test.N; i += n {
		if ctx.Err() != nil {
			return r, errEvalInterrupted
		}
		labels := t.test.Labels[i : i+n]
		images = t.test.Batch(images, i, n)
		if err := t.eval.SetBatch(images, labels); err != nil {
			return r, err
		}
		t.eval.DrawNoise(rng)
		if err := t.eval.Run(); err != nil {
			return r, fmt.Errorf("evaluation: %w", err)
		}
		r.ce += graph.Scalar(t.eval.CE) * float64(n)
		r.bce21 += graph.Scalar(t.eval.BCE21) * float64(n)
		r.bce22 += graph.Scalar(t.eval.BCE22) * float64(n)
		correct += countCorrect(graph.Float32s(t.eval.Probs), labels, t.params.Classes)
	}
	N := float64(t.test.N)
	r.accuracy, r.ce, r.bce21, r.bce22 = float64(correct)/N, r.ce/N, r.bce21/N, r.bce22/N
	return r, nil
}

// interrupt saves a checkpoint at the current position and returns the
// error telling how to resume.
func (t *trainer) interrupt() error {
	t.progress.done()
	if err := t.saveCheckpoint(); err != nil {
		return fmt.Errorf("interrupted, and saving the checkpoint failed: %w", err)
	}
	if err := t.writeCurves(); err != nil {
		fmt.Fprintf(t.log, "warning: %v\n", err)
	}
	return fmt.Errorf("%w at iteration %d (epoch %d of %d); checkpoint saved in %s; continue with: %s -resume %s",
		ErrInterrupted, t.st.Iteration, t.st.Epoch+1, t.cfg.Epochs, t.cfg.Out, t.cfg.Command, t.cfg.Out)
}

// saveCheckpoint writes model.npz, model.json and resume.npz for the
// current state, after checking that every parameter is finite.
func (t *trainer) saveCheckpoint() error {
	for i, p := range t.params.Tensors() {
		for _, v := range p.Data().([]float32) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return t.nonFinite(fmt.Sprintf("parameter %s holds %v", t.params.Names()[i], v))
			}
		}
	}
	t.st.Seconds = t.seconds()
	t.st.TrainSeconds += t.stepTime.Seconds()
	t.session, t.stepTime = time.Now(), 0
	rngState, err := t.pcg.MarshalBinary()
	if err != nil {
		return err
	}
	t.st.RNG = rngState
	t.st.Iteration = t.adam.T
	if err := writeResume(t.cfg.Out, t.params, t.adam, t.st); err != nil {
		return err
	}
	meta := checkpoint.Meta{
		Objective: t.cfg.Objective.String(),
		Extra: map[string]any{
			"epochs_completed": t.st.Epoch,
			"iteration":        t.st.Iteration,
			"lambda":           t.cfg.ReverseWeight,
			"command":          t.cfg.Command,
		},
	}
	return checkpoint.Save(t.cfg.Out, t.params, meta)
}

// restore puts the saved parameters, moments and loop state in place.
func (t *trainer) restore(s *savedState) error {
	names := t.params.Names()
	for i, p := range t.params.Tensors() {
		for _, set := range []struct {
			key string
			dst []float32
		}{{names[i], p.Data().([]float32)}, {"m_" + names[i], t.adam.M[i]}, {"v_" + names[i], t.adam.V[i]}} {
			a, ok := s.Arrays[set.key]
			if !ok || len(a) != len(set.dst) {
				return fmt.Errorf("-resume: %s: array %s missing or of the wrong size (was the architecture in models/ edited?)", filepath.Join(t.cfg.Out, ResumeName), set.key)
			}
			copy(set.dst, a)
		}
	}
	t.st = s.State
	t.st.Flags = t.cfg.Flags
	t.adam.T = t.st.Iteration
	if err := t.pcg.UnmarshalBinary(t.st.RNG); err != nil {
		return fmt.Errorf("-resume: random generator state: %w", err)
	}
	return nil
}

// finish writes the summary and the curves of a completed run.
func (t *trainer) finish() (*Summary, error) {
	rows := t.metrics.Rows()
	if len(rows) == 0 {
		return nil, errors.New("no evaluation recorded")
	}
	last := rows[len(rows)-1]
	s := &Summary{
		ValAccuracy:     last.ValAccuracy,
		ValCE:           last.ValCE,
		ValReverseBCE:   last.ValReverseBCE,
		ValReverseBCE21: Number(last.ValReverseBCE21),
		ValReverseBCE22: Number(last.ValReverseBCE22),
		TrainAccuracy:   last.TrainAccuracy,
		TrainLoss:       last.TrainLoss,
		Objective:       t.cfg.Objective.String(),
		Arch:            t.cfg.Arch.String(),
		Encoding:        t.cfg.Encoding.String(),
		Epochs:          t.st.Epoch,
		Iterations:      t.st.Iteration,
		TrainImages:     t.train.N,
		ValImages:       t.test.N,
		Seconds:         t.st.Seconds,
		Seed:            t.cfg.Seed,
		Flags:           t.cfg.Flags,
	}
	if s.Epochs > 0 {
		s.SecondsPerEpoch = s.Seconds / float64(s.Epochs)
	}
	if t.st.TrainSeconds > 0 {
		s.ImagesPerSecond = float64(t.st.Iteration*t.cfg.Batch) / t.st.TrainSeconds
	}
	if err := writeJSON(filepath.Join(t.cfg.Out, SummaryName), s); err != nil {
		return nil, err
	}
	fmt.Fprintf(t.log, "done: %d epochs in %.0fs (%.1fs/epoch, %.0f img/s): validation accuracy %.4f, reverse BCE %.4f (eq. 21 %.4f, eq. 22 %.4f); run folder %s\n",
		s.Epochs, s.Seconds, s.SecondsPerEpoch, s.ImagesPerSecond, s.ValAccuracy, s.ValReverseBCE, s.ValReverseBCE21, s.ValReverseBCE22, t.cfg.Out)
	return s, nil
}

// writeCurves draws curves.png from the metrics so far.
func (t *trainer) writeCurves() error {
	rows := t.metrics.Rows()
	if len(rows) == 0 {
		return nil
	}
	return PlotRuns(filepath.Join(t.cfg.Out, CurvesName), []Curves{{Label: t.cfg.Objective.String(), Rows: rows}})
}

// removeRunFiles deletes the files a run writes from dir (for -force).
func removeRunFiles(dir string) error {
	for _, name := range []string{checkpoint.NPZName, checkpoint.JSONName, ResumeName, MetricsName, CurvesName, SummaryName} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("-force: %w", err)
		}
	}
	return nil
}
