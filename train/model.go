package train

import (
	"context"
	"errors"
	"fmt"

	"dcim/data"
	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"
	"dcim/train/sampling"
)

// Model is a DCIM in memory: its parameters, the settings it was trained
// with and the figures of its training. [Fit] returns one; [Load] reads
// one from a run folder. Its methods are what a notebook cell calls:
// Evaluate, Classify, Sample and Save.
type Model struct {
	Params   *graph.Params
	Settings Settings // as trained; the zero value for a model loaded from a bare checkpoint
	// Metrics has a row per evaluation point of the training, the last
	// one at its end; Summary holds the final figures (nil for a loaded
	// model without summary.json).
	Metrics []Row
	Summary *Summary
}

// Fit trains the model opts.Settings describe, in memory: nothing is
// written to disk (Settings.Out and Force are not used, Resume is an
// error). Train and Test, when nil, are MNIST loaded as the settings say
// (-data, -limit). A cancelled ctx stops after the current step and
// returns the model so far with an error wrapping ErrInterrupted.
//
//	s, _ := train.NewSettings("notebook", "dense-generative")
//	s.Epochs = 1
//	m, err := train.Fit(ctx, train.Options{Settings: s})
func Fit(ctx context.Context, opts Options) (*Model, error) {
	if opts.Resume != "" {
		return nil, settingErrorf("Fit trains in memory; resume the run folder %s with Run", opts.Resume)
	}
	t := newTrainer(opts, true)
	defer t.close()
	if _, err := t.setup(); err != nil {
		return nil, err
	}
	s, err := t.loop(ctx)
	m := &Model{Params: t.params, Settings: t.cfg.Settings, Metrics: t.metrics.Rows(), Summary: s}
	if err != nil && !errors.Is(err, ErrInterrupted) {
		return nil, err
	}
	return m, err
}

// Load reads the model of a run folder (model.npz and model.json), and
// its settings and summary when the folder has a summary.json.
func Load(dir string) (*Model, error) {
	p, _, err := checkpoint.Load(dir)
	if err != nil {
		return nil, err
	}
	m := &Model{Params: p}
	if s, err := readSummary(dir); err == nil {
		m.Summary, m.Settings = s, s.Flags
		m.Settings.normalize()
	}
	return m, nil
}

// Save writes model.npz and model.json into dir (created if needed) with
// the model's name, terms and settings; it refuses a model with a
// non-finite parameter and writes over a model already there.
func (m *Model) Save(dir string) error {
	meta := checkpoint.Meta{Name: m.Settings.Name, Objective: m.Settings.Objective, Settings: map[string]string{}}
	if m.Settings.Objective != "" {
		o, err := models.ParseObjective(m.Settings.Objective)
		if err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
		terms, err := o.Resolve(m.Params.Depth())
		if err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
		meta.Terms = checkpoint.TermsMeta(terms, m.Settings.ReverseWeight)
		for _, st := range table {
			if st.Named {
				meta.Settings[st.Name] = st.Get(m.Settings)
			}
		}
	}
	if err := checkFinite(m.Params); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	return checkpoint.Save(dir, m.Params, meta)
}

// checkFinite returns an error naming the first parameter with a NaN or
// an infinity.
func checkFinite(p *graph.Params) error {
	for i, t := range p.Tensors() {
		for j, v := range t.Data().([]float32) {
			if !finite(float64(v)) {
				return fmt.Errorf("parameter %s[%d] is %v", p.Names()[i], j, v)
			}
		}
	}
	return nil
}

// Evaluate returns the model's accuracy and the terms of its objective
// (both reverse BCEs always) over every image of set, under the
// inference it was trained with; the draws of the reverse terms come from
// a generator seeded with seed.
func (m *Model) Evaluate(ctx context.Context, set *data.Set, seed uint64) (Eval, error) {
	cfg, err := m.graphConfig()
	if err != nil {
		return Eval{}, err
	}
	cfg.Batch = EvalBatch(m.Params.Arch)
	ev := NewEvaluator(m.Params, cfg)
	defer ev.Close()
	return ev.Evaluate(ctx, set, seed)
}

// graphConfig is the graph configuration of the model's settings (the
// forward cross-entropy under mean field for a model without them).
func (m *Model) graphConfig() (graph.Config, error) {
	if m.Settings.Objective == "" {
		return graph.Config{}, nil
	}
	s := m.Settings
	s.normalize()
	o, err := graph.ParseObjective(s.Objective)
	if err != nil {
		return graph.Config{}, err
	}
	inf, err := graph.ParseNetInference(s.Inference)
	if err != nil {
		return graph.Config{}, err
	}
	return graph.Config{Objective: o, Lambda: s.ReverseWeight, Inference: inf}, nil
}

// Classify returns the class probabilities p(class | image) of each image
// (N·C·H·W grey levels in [0,1]), N rows of Classes values, under mean
// field.
func (m *Model) Classify(images []float32) ([]float32, error) {
	return sampling.Classify(m.Params, images, make([]uint8, len(images)/m.Params.Input.Size()))
}

// Sample draws perClass images of every class from the reverse model in
// the given mode (the paper's Figures 2 and 3), each classified by the
// forward model; the same seed gives the same images.
func (m *Model) Sample(mode sampling.Mode, perClass int, seed uint64) (*sampling.Tableau, error) {
	return sampling.Generate(m.Params, mode, perClass, seed)
}
