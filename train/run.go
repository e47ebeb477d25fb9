package train

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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
	LockName    = ".lock"
)

// ErrInterrupted is returned (wrapped, with the resume command) when the
// context is cancelled: the current step finished and a checkpoint was saved.
var ErrInterrupted = errors.New("interrupted")

// ErrNonFinite is returned (wrapped) when the loss or a parameter becomes
// NaN or infinite; the last good checkpoint is left as it was.
var ErrNonFinite = errors.New("non-finite loss")

// Options are what Run needs besides the settings.
type Options struct {
	Settings Settings
	// Resume continues the run in this folder with its own settings; of
	// Settings only a non-empty Data and a positive Epochs (to train the
	// run further) are taken.
	Resume string
	// Force overwrites the run files of a non-empty Settings.Out.
	Force bool
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
	// Started, if set, is called once the run is set up (data loaded, the
	// run folder locked and its first checkpoint written) and its steps,
	// which a cancelled ctx stops cleanly, begin. A command ends at once on
	// a signal before this, and cancels ctx after.
	Started func()
}

// TermSummary is one objective term's final figures in summary.json.
type TermSummary struct {
	Term   string  `json:"term"`   // as written in the objective, e.g. "0.5*draw:-1"
	Weight float64 `json:"weight"` // in the loss, λ included
	Train  Number  `json:"train"`  // mean over the steps since the last evaluation point
	Val    Number  `json:"val"`    // over the validation set
}

// Summary is summary.json, written when a run completes.
type Summary struct {
	Name            string                 `json:"name"` // the run's name, see Settings.RunName
	ValAccuracy     float64                `json:"val_accuracy"`
	ValCE           float64                `json:"val_ce"`
	ValReverseBCE   float64                `json:"val_reverse_bce"`
	ValReverseBCE21 Number                 `json:"val_reverse_bce_21"`
	ValReverseBCE22 Number                 `json:"val_reverse_bce_22"` // null for a net without hidden layers
	TrainAccuracy   float64                `json:"train_accuracy"`
	TrainLoss       float64                `json:"train_loss"`
	Terms           map[string]TermSummary `json:"terms,omitempty"` // by term key: ce, label, draw7, layer6 …
	Objective       string                 `json:"objective"`
	Arch            string                 `json:"arch"`
	Encoding        string                 `json:"encoding"`
	Epochs          int                    `json:"epochs"`
	Iterations      int                    `json:"iterations"`
	TrainImages     int                    `json:"train_images"`
	ValImages       int                    `json:"val_images"`
	Seconds         float64                `json:"seconds"`
	SecondsPerEpoch float64                `json:"seconds_per_epoch"`
	ImagesPerSecond float64                `json:"images_per_second"`
	Seed            uint64                 `json:"seed"`
	RunID           string                 `json:"run_id,omitempty"`
	Flags           Settings               `json:"flags"`
}

// trainer is one run in progress.
type trainer struct {
	cfg      *Config
	opts     Options
	log      io.Writer
	train    *data.Set
	test     *data.Set
	params   *graph.Params
	step     *Step
	eval     *Evaluator
	rng      *mrand.Rand
	pcg      *mrand.PCG
	st       state
	metrics  *metricsFile
	lock     *runLock
	progress progress
	session  time.Time // start of this session
	stepTime time.Duration
	// memory: the run writes nothing (Fit); it has no folder, no lock, no
	// checkpoint and no resume.
	memory bool
}

// Run trains as opts say, writing the run folder, and returns the summary.
// A cancelled ctx stops after the current step with a checkpoint and an
// error wrapping ErrInterrupted; a bad setting is a *SettingError.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	t := newTrainer(opts, false)
	defer t.close()
	if _, err := t.setup(); err != nil {
		return nil, err
	}
	if t.st.Epoch >= t.cfg.Epochs {
		fmt.Fprintf(t.log, "run %s is complete (%d epochs); nothing to do\n", t.cfg.Out, t.cfg.Epochs)
		if s, err := readSummary(t.cfg.Out); err == nil {
			return s, nil
		}
		return t.finish() // summary.json lost: written again from the metrics
	}
	return t.loop(ctx)
}

func newTrainer(opts Options, memory bool) *trainer {
	t := &trainer{opts: opts, log: opts.Log, session: time.Now(), memory: memory}
	if t.log == nil {
		t.log = io.Discard
	}
	return t
}

// setup checks the settings (or reads those of the run to resume), locks
// the run folder, loads the data, builds the parameters, graphs and
// optimiser and restores the resume state. It reports whether the run is
// resumed.
func (t *trainer) setup() (bool, error) {
	f := t.opts.Settings
	resume := t.opts.Resume != ""
	var saved *savedState
	if resume {
		dir := filepath.Clean(t.opts.Resume)
		if _, err := os.Stat(filepath.Join(dir, ResumeName)); err != nil {
			return false, settingErrorf("-resume: %s holds no run to resume: %v", dir, err)
		}
		var err error
		if t.lock, err = lockRun(dir); err != nil {
			return false, err
		}
		if saved, err = readResume(dir); err != nil { // a missing run is a usage error, a damaged file not
			return false, fmt.Errorf("-resume: %w", err)
		}
		data, epochs := f.Data, f.Epochs
		f = saved.State.Flags
		f.Out = dir
		if data != "" {
			f.Data = data
		}
		if epochs > 0 { // train the run further (or stop it earlier)
			if epochs < saved.State.Epoch {
				return false, settingErrorf("-epochs %d: run %s has already completed %d epochs", epochs, dir, saved.State.Epoch)
			}
			f.Epochs = epochs
		}
	}
	var cfg *Config
	var err error
	if t.memory {
		cfg, err = f.checkValues()
	} else {
		cfg, err = f.Check(t.opts.Force || resume)
	}
	if err != nil {
		return false, err
	}
	t.cfg = cfg
	if !resume && !t.memory {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return false, fmt.Errorf("creating the run folder: %w", err)
		}
		if t.lock, err = lockRun(cfg.Out); err != nil {
			return false, err
		}
	}
	if err := t.loadData(); err != nil {
		return false, err
	}
	in := models.Shape{C: t.train.C, H: t.train.H, W: t.train.W}
	if _, err := cfg.Arch.Shapes(in, models.MNISTClasses); err != nil {
		return false, fmt.Errorf("-arch %q on %v images: %w", cfg.Settings.Arch, in, err)
	}
	if t.params, err = graph.NewParams(cfg.Arch, in, models.MNISTClasses, cfg.Encoding, tensor.Float32, cfg.Seed); err != nil {
		return false, err
	}
	if cfg.Init == "centred" {
		if err := t.params.CentreBinary(); err != nil {
			return false, &SettingError{fmt.Errorf("-init: %w", err)}
		}
	}
	gcfg := graph.Config{Objective: cfg.Objective, Lambda: cfg.ReverseWeight, Batch: cfg.Batch, Inference: cfg.Inference, Draws: cfg.Draws, DrawGradient: cfg.DrawGradient, ReverseDrawsAsData: cfg.ReverseDrawsAsData}
	if t.step, err = NewStep(t.params, gcfg, cfg.LR); err != nil {
		return false, err
	}
	gcfg.Batch, gcfg.Draws = EvalBatch(cfg.Arch), 1
	t.eval = NewEvaluator(t.params, gcfg)
	t.pcg = mrand.NewPCG(cfg.Seed, 0x6e6f697365) // "noise"
	t.rng = mrand.New(t.pcg)
	t.st = state{Version: stateVersion, Flags: cfg.Settings, RunID: newRunID()}
	if t.memory {
		t.metrics = &metricsFile{keys: t.termKeys()}
		return false, t.started(false)
	}
	if resume {
		if err := t.restore(saved); err != nil {
			return false, err
		}
	} else if err := removeRunFiles(cfg.Out); err != nil {
		return false, err
	}
	if err := removeTemporaries(cfg.Out, t.log); err != nil {
		return false, err
	}
	if !resume { // the run's first file: from here on -resume continues it
		if err := t.saveCheckpoint(); err != nil {
			return false, err
		}
	}
	if t.metrics, err = openMetrics(filepath.Join(cfg.Out, MetricsName), t.st.Iteration, t.termKeys(), t.log); err != nil {
		return false, err
	}
	if resume {
		if err := t.repairModel(); err != nil {
			return false, err
		}
	}
	return resume, t.started(resume)
}

// started calls Options.Started and says what the run trains.
func (t *trainer) started(resume bool) error {
	cfg := t.cfg
	if t.st.Epoch >= cfg.Epochs {
		return nil
	}
	if t.opts.Started != nil { // before the line that says so
		t.opts.Started()
	}
	in := models.Shape{C: t.train.C, H: t.train.H, W: t.train.W}
	summary, err := cfg.Arch.Summary(in, models.MNISTClasses)
	if err != nil {
		return err
	}
	verb, out := "training", cfg.Out
	if resume {
		verb = fmt.Sprintf("resuming at epoch %d, iteration %d:", t.st.Epoch+1, t.st.Iteration)
	}
	if t.memory {
		out = "memory"
	}
	schedule := ""
	if cfg.Schedule.String() != "constant" {
		schedule = " (schedule " + cfg.Schedule.String() + ")"
	}
	fmt.Fprintf(t.log, "%s %s: %s, objective %v, encoding %v, λ %g, %d training and %d validation images, batch %d, lr %g%s, seed %d, %d epochs → %s\n%s",
		verb, cfg.Name, cfg.Settings.Arch, cfg.Settings.Objective, cfg.Encoding, cfg.ReverseWeight, t.train.N, t.test.N, cfg.Batch, cfg.LR, schedule, cfg.Seed, cfg.Epochs, out, summary)
	return nil
}

// newRunID returns a random identifier that ties a run folder's files
// together.
func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// loadData loads MNIST (or takes the sets given in the options) and
// applies -limit.
func (t *trainer) loadData() error {
	train, test := t.opts.Train, t.opts.Test
	if train == nil || test == nil {
		m, err := data.Load(data.Options{Dir: t.cfg.Data, Limit: t.cfg.Limit, Log: t.log})
		if errors.Is(err, data.ErrLimit) {
			return settingErrorf("-limit %d: %w", t.cfg.Limit, err)
		}
		if err != nil {
			return fmt.Errorf("loading MNIST: %w", err)
		}
		train, test = m.Train, m.Test
	}
	if t.cfg.Limit > 0 {
		if t.cfg.Limit > train.N {
			return settingErrorf("-limit %d: the training set has only %d images", t.cfg.Limit, train.N)
		}
		var err error
		if train, err = train.Subset(t.cfg.Limit); err != nil {
			return err
		}
	}
	if train.N < t.cfg.Batch {
		return settingErrorf("-batch %d is larger than the %d training images", t.cfg.Batch, train.N)
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

func (t *trainer) close() {
	if t.metrics != nil {
		t.metrics.Close()
	}
	if t.step != nil {
		t.step.Close()
	}
	if t.eval != nil {
		t.eval.Close()
	}
	if t.lock != nil {
		t.lock.release()
	}
}

// seconds is the wall time of the run so far, over all its sessions.
func (t *trainer) seconds() float64 {
	return t.st.Seconds + time.Since(t.session).Seconds()
}

// loop runs the remaining epochs.
func (t *trainer) loop(ctx context.Context) (*Summary, error) {
	cfg := t.cfg
	it := data.NewIterator(t.train, cfg.Batch, cfg.Seed, true)
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
				if err := t.evalPoint(ctx, steps); errors.Is(err, ErrEvalInterrupted) {
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
			t.step.Adam.LR = t.lr(t.st.Iteration)
			if err := t.trainStep(images, labels); err != nil {
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

// lr is the learning rate of the step that follows iteration steps: the
// base rate times the schedule's multiplier, a function of the iteration
// and the stored settings only, so that a resumed run takes the same rates
// as an uninterrupted one. The constant schedule gives the base rate
// exactly (×1).
func (t *trainer) lr(iteration int) float64 {
	return t.cfg.LR * t.cfg.Schedule.Multiplier(iteration, t.stepsPerEpoch(), t.cfg.Epochs)
}

// stepsPerEpoch is the number of full batches in an epoch (a short last
// batch is not trained on).
func (t *trainer) stepsPerEpoch() int { return t.train.N / t.cfg.Batch }

// trainStep runs one training step on a batch and records its figures.
func (t *trainer) trainStep(images []float32, labels []uint8) error {
	start := time.Now()
	r, err := t.step.Run(images, labels, t.rng)
	if err != nil {
		return fmt.Errorf("iteration %d: %w", t.st.Iteration+1, err)
	}
	if !finite(r.Loss) {
		return t.nonFinite(fmt.Sprintf("the loss is %v%s", r.Loss, t.culprit(r.Terms)))
	}
	t.st.Iteration++
	t.st.Since.add(r, len(labels))
	dt := time.Since(start)
	t.stepTime += dt
	t.progress.step(r.Loss, float64(r.Correct)/float64(len(labels)), dt)
	return nil
}

// culprit names the terms whose value, or weighted value, is not finite,
// or else the term with the largest weighted value (the sum overflowed).
func (t *trainer) culprit(values []float64) string {
	terms := t.step.Net.Terms
	describe := func(i int) string {
		return fmt.Sprintf("term %s = %g with weight %g (λ %g)", terms[i].Key(), values[i], terms[i].Scale, t.cfg.ReverseWeight)
	}
	var bad []string
	largest, at := -1.0, -1
	for i, v := range values {
		w := terms[i].Scale
		if !finite(v) || !finite(w*v) {
			bad = append(bad, describe(i))
		} else if a := math.Abs(w * v); a > largest {
			largest, at = a, i
		}
	}
	switch {
	case len(bad) > 0:
		return ": " + strings.Join(bad, ", ")
	case at >= 0:
		return ": the weighted terms overflow; the largest is " + describe(at)
	}
	return ""
}

// nonFinite stops the run after a NaN or infinite value, leaving the last
// checkpoint as it is.
func (t *trainer) nonFinite(what string) error {
	last := "the initial one"
	if t.st.Epoch > 0 {
		last = fmt.Sprintf("end of epoch %d", t.st.Epoch)
	}
	if t.memory {
		return fmt.Errorf("%w: %s at iteration %d (epoch %d): training diverged", ErrNonFinite, what, t.st.Iteration+1, t.st.Epoch+1)
	}
	if err := t.writeCurves(); err != nil {
		fmt.Fprintf(t.log, "warning: %v\n", err)
	}
	return fmt.Errorf("%w: %s at iteration %d (epoch %d): training diverged; the last good checkpoint (%s) is kept in %s",
		ErrNonFinite, what, t.st.Iteration+1, t.st.Epoch+1, last, t.cfg.Out)
}

// evalPoint evaluates on the validation set and writes a metrics row.
func (t *trainer) evalPoint(ctx context.Context, steps int) error {
	v, err := t.eval.Evaluate(ctx, t.test, t.cfg.Seed) // the same draws at every point
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
		ValAccuracy:     v.Accuracy,
		ValCE:           v.CE,
		ValReverseBCE:   v.BCE21,
		ValReverseBCE21: v.BCE21,
		ValReverseBCE22: v.BCE22,
		LR:              t.lr(t.st.Iteration - 1), // of the last step taken
		Terms:           map[string][2]float64{},
	}
	if rev := t.mainReverse(); rev >= 0 {
		row.TrainReverseBCE = s.mean(s.Terms[rev])
		row.ValReverseBCE = v.Terms[rev]
	}
	for i, term := range t.step.Net.Terms {
		row.Terms[term.Key()] = [2]float64{s.mean(s.Terms[i]), v.Terms[i]}
	}
	if !finite(row.ValCE) {
		return t.nonFinite(fmt.Sprintf("the validation CE is %v", row.ValCE))
	}
	t.st.Since = running{}
	t.st.LastEval = t.st.Iteration
	if err := t.metrics.Write(row); err != nil {
		return err
	}
	t.progress.message(row.String())
	return nil
}

// mainReverse is the index of the term reported as the run's reverse BCE:
// the first reverse term of the image (eq. 21 or 22), or -1.
func (t *trainer) mainReverse() int {
	for i, term := range t.step.Net.Terms {
		if term.Kind == models.ReverseLabel || term.Kind == models.ReverseDraw {
			return i
		}
	}
	return -1
}

func (t *trainer) termKeys() []string {
	keys := make([]string, len(t.step.Net.Terms))
	for i, term := range t.step.Net.Terms {
		keys[i] = term.Key()
	}
	return keys
}

// interrupt saves a checkpoint at the current position and returns the
// error telling how to resume.
func (t *trainer) interrupt() error {
	t.progress.done()
	if t.memory {
		return fmt.Errorf("%w at iteration %d (epoch %d of %d)", ErrInterrupted, t.st.Iteration, t.st.Epoch+1, t.cfg.Epochs)
	}
	if err := t.saveCheckpoint(); err != nil {
		return fmt.Errorf("interrupted, and saving the checkpoint failed: %w", err)
	}
	if err := t.writeCurves(); err != nil {
		fmt.Fprintf(t.log, "warning: %v\n", err)
	}
	return fmt.Errorf("%w at iteration %d (epoch %d of %d); checkpoint saved in %s; continue with: %s -resume %s",
		ErrInterrupted, t.st.Iteration, t.st.Epoch+1, t.cfg.Epochs, t.cfg.Out, t.cfg.Command, t.cfg.Out)
}

// saveCheckpoint writes resume.npz, then model.npz and model.json, for the
// current state, after checking that every parameter is finite. Both name
// the run and the iteration, so a resume can tell whether model.npz lags
// behind resume.npz (a kill between the two writes) and write it again.
func (t *trainer) saveCheckpoint() error {
	for i, p := range t.params.Tensors() {
		for _, v := range p.Data().([]float32) {
			if !finite(float64(v)) {
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
	t.st.Iteration = t.step.Adam.T
	if t.memory {
		return nil
	}
	if err := writeResume(t.cfg.Out, t.params, t.step.Adam, t.st); err != nil {
		return err
	}
	return t.saveModel()
}

// saveModel writes model.npz and model.json of the current parameters.
func (t *trainer) saveModel() error {
	meta := checkpoint.Meta{
		Name:      t.cfg.Name,
		Objective: t.cfg.Settings.Objective,
		Terms:     checkpoint.TermsMeta(t.cfg.Terms, t.cfg.ReverseWeight),
		Settings:  map[string]string{},
		Extra: map[string]any{
			"epochs_completed": t.st.Epoch,
			"iteration":        t.st.Iteration,
			"lambda":           t.cfg.ReverseWeight,
			"command":          t.cfg.Command,
			"run_id":           t.st.RunID,
		},
	}
	if t.cfg.Experiment != "" {
		meta.Extra["experiment"] = t.cfg.Experiment
	}
	for _, st := range table {
		if st.Named {
			meta.Settings[st.Name] = st.Get(t.cfg.Settings)
		}
	}
	return checkpoint.Save(t.cfg.Out, t.params, meta)
}

// repairModel writes model.npz and model.json again from the restored
// state when they are missing or belong to another iteration than
// resume.npz.
func (t *trainer) repairModel() error {
	meta, err := checkpoint.ReadMeta(t.cfg.Out)
	if err == nil {
		if it, ok := meta.Extra["iteration"].(float64); ok && int(it) == t.st.Iteration {
			return nil
		}
	}
	fmt.Fprintf(t.log, "%s: model.npz does not match resume.npz (iteration %d); written again from resume.npz\n", t.cfg.Out, t.st.Iteration)
	return t.saveModel()
}

// restore puts the saved parameters, moments and loop state in place,
// after checking that they belong to this run and make sense.
func (t *trainer) restore(s *savedState) error {
	path := filepath.Join(t.cfg.Out, ResumeName)
	if meta, err := checkpoint.ReadMeta(t.cfg.Out); err == nil {
		if id, _ := meta.Extra["run_id"].(string); id != "" && s.State.RunID != "" && id != s.State.RunID {
			return fmt.Errorf("-resume: %s belongs to run %s, but %s names run %s: the file was copied from another run folder", path, s.State.RunID, filepath.Join(t.cfg.Out, checkpoint.JSONName), id)
		}
	}
	steps := t.stepsPerEpoch()
	st := s.State
	switch {
	case st.Epoch < 0 || st.Step < 0 || st.Iteration < 0 || st.LastEval < 0 || st.LastEval > st.Iteration:
		return fmt.Errorf("-resume: %s: state epoch %d, step %d, iteration %d, last evaluation %d: negative or inconsistent", path, st.Epoch, st.Step, st.Iteration, st.LastEval)
	case st.Step > steps:
		return fmt.Errorf("-resume: %s: state step %d, but an epoch of %d training images in batches of %d has %d steps", path, st.Step, t.train.N, t.cfg.Batch, steps)
	case st.Iteration != st.Epoch*steps+st.Step:
		return fmt.Errorf("-resume: %s: state iteration %d does not match epoch %d and step %d (%d steps an epoch)", path, st.Iteration, st.Epoch, st.Step, steps)
	}
	names := t.params.Names()
	adam := t.step.Adam
	for i, p := range t.params.Tensors() {
		for _, set := range []struct {
			key string
			dst []float32
		}{{names[i], p.Data().([]float32)}, {"m_" + names[i], adam.M[i]}, {"v_" + names[i], adam.V[i]}} {
			a, ok := s.Arrays[set.key]
			if !ok || len(a) != len(set.dst) {
				return fmt.Errorf("-resume: %s: array %s missing or of the wrong size (was the experiment's architecture edited?)", path, set.key)
			}
			copy(set.dst, a)
		}
	}
	runID := t.st.RunID
	t.st = st
	if t.st.RunID == "" { // a run from before run ids
		t.st.RunID = runID
	}
	t.st.Flags = t.cfg.Settings
	adam.T = t.st.Iteration
	if err := t.pcg.UnmarshalBinary(t.st.RNG); err != nil {
		return fmt.Errorf("-resume: %s: random generator state: %w", path, err)
	}
	return nil
}

// finish writes the summary and the curves of a completed run.
func (t *trainer) finish() (*Summary, error) {
	rows := t.metrics.Rows()
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no evaluation recorded", filepath.Join(t.cfg.Out, MetricsName))
	}
	last := rows[len(rows)-1]
	s := &Summary{
		Name:            t.cfg.Name,
		ValAccuracy:     last.ValAccuracy,
		ValCE:           last.ValCE,
		ValReverseBCE:   last.ValReverseBCE,
		ValReverseBCE21: Number(last.ValReverseBCE21),
		ValReverseBCE22: Number(last.ValReverseBCE22),
		TrainAccuracy:   last.TrainAccuracy,
		TrainLoss:       last.TrainLoss,
		Terms:           map[string]TermSummary{},
		Objective:       t.cfg.Settings.Objective,
		Arch:            t.cfg.Arch.String(),
		Encoding:        t.cfg.Encoding.String(),
		Epochs:          t.st.Epoch,
		Iterations:      t.st.Iteration,
		TrainImages:     t.train.N,
		ValImages:       t.test.N,
		Seconds:         t.st.Seconds,
		Seed:            t.cfg.Seed,
		RunID:           t.st.RunID,
		Flags:           t.cfg.Settings,
	}
	written := termSpellings(t.cfg.Objective, t.cfg.Terms, len(t.cfg.Arch))
	for i, term := range t.step.Net.Terms {
		v, ok := last.Terms[term.Key()]
		if !ok {
			v = [2]float64{math.NaN(), math.NaN()}
		}
		s.Terms[term.Key()] = TermSummary{Term: written[i], Weight: term.Scale, Train: Number(v[0]), Val: Number(v[1])}
	}
	if s.Epochs > 0 {
		s.SecondsPerEpoch = s.Seconds / float64(s.Epochs)
	}
	if t.st.TrainSeconds > 0 {
		s.ImagesPerSecond = float64(t.st.Iteration*t.cfg.Batch) / t.st.TrainSeconds
	}
	where := "in memory"
	if !t.memory {
		if err := writeJSON(filepath.Join(t.cfg.Out, SummaryName), s); err != nil {
			return nil, err
		}
		if err := t.writeCurves(); err != nil {
			return nil, err
		}
		where = "run folder " + t.cfg.Out
	}
	fmt.Fprintf(t.log, "done: %d epochs in %.0fs (%.1fs/epoch, %.0f img/s): validation accuracy %.4f, reverse BCE %.4f (eq. 21 %.4f, eq. 22 %.4f); %s\n",
		s.Epochs, s.Seconds, s.SecondsPerEpoch, s.ImagesPerSecond, s.ValAccuracy, s.ValReverseBCE, s.ValReverseBCE21, s.ValReverseBCE22, where)
	return s, nil
}

// writeCurves draws curves.png from the metrics so far.
func (t *trainer) writeCurves() error {
	if t.metrics == nil || t.memory {
		return nil
	}
	rows := t.metrics.Rows()
	if len(rows) == 0 {
		return nil
	}
	return PlotRuns(filepath.Join(t.cfg.Out, CurvesName), []Curves{{Label: t.cfg.Settings.Objective, Objective: t.cfg.Settings.Objective, Rows: rows}})
}

// removeRunFiles deletes the files a run writes from dir (a fresh run in
// a folder given with -force).
func removeRunFiles(dir string) error {
	for _, name := range []string{checkpoint.NPZName, checkpoint.JSONName, ResumeName, MetricsName, CurvesName, SummaryName} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("-force: %w", err)
		}
	}
	return nil
}

// removeTemporaries deletes the temporary files that an atomic write of a
// run file killed half-way leaves in dir (".NAME.tmp…", see
// runTemporary); the lock guarantees that no other process is writing
// them.
func removeTemporaries(dir string, log io.Writer) error {
	es, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	for _, e := range es {
		if n := e.Name(); runTemporary(n) && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("removing a stale temporary file: %w", err)
			}
			fmt.Fprintf(log, "%s: removed %s, left by an interrupted write\n", dir, n)
		}
	}
	return nil
}
