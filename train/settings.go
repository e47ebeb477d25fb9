package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"
)

// Settings are a run's settings: an experiment from the models package
// (its architecture, encoding, objective and defaults) with every field
// overridable. Each field is a setting of [Table], named after the
// command-line flag that sets it. They are stored in the run folder
// (resume.npz and summary.json, under "flags") so that a resumed run
// continues with exactly the settings it started with.
type Settings struct {
	Command    string `json:"command"`
	Experiment string `json:"experiment,omitempty"`
	// Name is the run's name: the experiment and the settings that differ
	// from it (see RunName); Check fills it in when it is empty.
	Name          string  `json:"name,omitempty"`
	Objective     string  `json:"objective"`
	Epochs        int     `json:"epochs"`
	Batch         int     `json:"batch"`
	LR            float64 `json:"lr"`
	LRSchedule    string  `json:"lr_schedule,omitempty"`
	Seed          uint64  `json:"seed"`
	ReverseWeight float64 `json:"reverse_weight"`
	Encoding      string  `json:"encoding"`
	Arch          string  `json:"arch"`
	Init          string  `json:"init,omitempty"`
	Inference     string  `json:"inference,omitempty"`
	Draws         int     `json:"draws,omitempty"`
	DrawGradient  string  `json:"draw_gradient,omitempty"`
	ReverseDraws  string  `json:"reverse_draws,omitempty"`
	Data          string  `json:"data"`
	Limit         int     `json:"limit"`
	EvalEvery     int     `json:"eval_every"`
	Out           string  `json:"out"`
}

// Defaults of the training settings an experiment leaves at zero.
const (
	DefaultEpochs    = 10
	DefaultBatch     = 64
	DefaultSeed      = 1
	DefaultEvalEvery = 500
)

// normalize fills in the defaults of the settings that files written
// before those settings had one leave empty.
func (s *Settings) normalize() {
	for _, f := range []struct {
		p   *string
		def string
	}{{&s.LRSchedule, "constant"}, {&s.Init, "glorot"}, {&s.Inference, "meanfield"}, {&s.DrawGradient, "none"}, {&s.ReverseDraws, "gradient"}} {
		if *f.p == "" {
			*f.p = f.def
		}
	}
	if s.Draws == 0 {
		s.Draws = 1
	}
}

// SettingError is a bad setting: a value out of range, a malformed
// architecture or objective, an -out folder that cannot be used. Commands
// report it as a usage error (exit status 2).
type SettingError struct{ Err error }

func (e *SettingError) Error() string { return e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Usage marks the error as the command line's fault.
func (e *SettingError) Usage() bool { return true }

func settingErrorf(format string, args ...any) error {
	return &SettingError{fmt.Errorf(format, args...)}
}

// Config is a checked set of settings, with the parsed values.
type Config struct {
	Settings
	Objective graph.Objective
	Encoding  graph.Encoding
	Arch      models.Arch
	Inference graph.Inference
	Schedule  Schedule
	// Terms is the objective with its layers resolved for Arch.
	Terms models.Objective
	// DrawGradient, ReverseDrawsAsData and Draws configure the training
	// step's draws; the evaluation draws once per image.
	DrawGradient       graph.DrawGradient
	ReverseDrawsAsData bool
	Draws              int
}

// Check validates every setting and returns their parsed values; errors
// are *SettingError and name the flag, or both flags when a setting has
// no effect under another. It does no work beyond looking at the file
// system: the -data folder must exist and the -out folder must be absent
// or an empty folder unless force is set (then it must still be a
// folder). Name is set by RunName (a name stored by a run whose
// experiment is no longer registered is kept), an empty Out to a folder
// under runs/ named after the run.
func (s Settings) Check(force bool) (*Config, error) {
	c, err := s.checkValues()
	if err != nil {
		return nil, err
	}
	if s.Out == "" {
		c.Out = defaultOut(c.Name, time.Now().Format("20060102-150405"))
	}
	names, err := dirEntries(c.Out)
	if err != nil {
		return nil, settingErrorf("-out: %v", err)
	}
	if len(names) > 0 && !force {
		hint := "give -force to overwrite it"
		if _, err := os.Stat(filepath.Join(c.Out, ResumeName)); err == nil {
			hint = fmt.Sprintf("give -resume %s to continue that run or -force to overwrite it", c.Out)
		}
		return nil, settingErrorf("-out %s is not empty (holds %s); %s", c.Out, names[0], hint)
	}
	return c, nil
}

// checkValues validates every setting but the run folder, and names the
// run: after its registered experiment and the settings that differ from
// it, or as it was named before when its experiment is not registered.
func (s Settings) checkValues() (*Config, error) {
	for _, st := range table {
		if st.check != nil {
			if err := st.check(s); err != nil {
				return nil, err
			}
		}
	}
	c := &Config{Settings: s}
	c.Objective, _ = graph.ParseObjective(s.Objective)
	c.Schedule, _ = ParseSchedule(s.LRSchedule)
	c.Encoding, _ = graph.ParseEncoding(s.Encoding)
	c.Arch, _ = models.Parse(s.Arch)
	c.Inference, _ = graph.ParseTrainInference(s.Inference)
	c.DrawGradient, _ = graph.ParseDrawGradient(s.DrawGradient)
	c.Draws = s.Draws
	c.ReverseDrawsAsData = s.ReverseDraws == "data"
	// Objectives and architectures are stored as their String methods
	// write them, one spelling per value.
	c.Settings.Objective, c.Settings.Arch = c.Objective.String(), c.Arch.String()
	if err := c.Arch.CheckSize(models.MNISTInput, models.MNISTClasses, max(s.Batch, EvalBatch(c.Arch))); err != nil {
		return nil, settingErrorf("-arch %q with -batch %d: %v", s.Arch, s.Batch, err)
	}
	d := len(c.Arch)
	terms, err := c.Objective.Resolve(d)
	c.Terms = terms
	if err != nil {
		return nil, settingErrorf("-objective %v with -arch %q: %v", s.Objective, s.Arch, err)
	}
	if err := c.Arch.CheckSize(models.MNISTInput, models.MNISTClasses, s.Batch*c.Draws); err != nil {
		return nil, settingErrorf("-batch %d with -draws %d: %v", s.Batch, c.Draws, err)
	}
	if err := noEffect(c, terms.Draws(d), terms); err != nil {
		return nil, err
	}
	if s.Limit > 0 && s.Limit < s.Batch {
		return nil, settingErrorf("-limit %d is smaller than -batch %d: no full batch to train on", s.Limit, s.Batch)
	}
	if _, err := models.Lookup(s.Experiment); err == nil || c.Name == "" {
		c.Name = c.Settings.RunName()
	}
	return c, nil
}

// noEffect refuses a setting that changes nothing under the others: draws
// or a draw gradient for an objective that draws no layer (under mean
// field: the sampled forward chain draws every layer), λ for one without a
// reverse term, logistic-only initialisation for ±1 units, several draws
// under the moment method, which propagates none; and it refuses the
// sampled forward chain without a draw gradient and PSA without it.
func noEffect(c *Config, drawn []int, terms models.Objective) error {
	s := c.Settings
	switch {
	case s.Init == "centred" && c.Encoding != graph.Binary:
		return settingErrorf("-init centred is for -encoding binary, not %v", c.Encoding)
	case c.Draws > 1 && c.Inference == graph.Moments:
		return settingErrorf("-draws %d: the moment method propagates no draws; use -inference meanfield or montecarlo", s.Draws)
	case c.Inference == graph.MonteCarlo && c.DrawGradient == graph.NoDrawGradient:
		return settingErrorf("-inference montecarlo draws every hidden layer: give -draw-gradient straight-through or psa (with none, the cross-entropy trains the class layer alone)")
	case c.DrawGradient == graph.PSA && c.Inference != graph.MonteCarlo:
		return settingErrorf("-draw-gradient psa is for -inference montecarlo, not %v", c.Inference)
	case s.ReverseDraws == "data" && c.Inference != graph.MonteCarlo:
		return settingErrorf("-reverse-draws data is for -inference montecarlo, not %v (there -draw-gradient none reads the draws as data)", c.Inference)
	case s.ReverseDraws == "data" && !slices.ContainsFunc(terms, func(t models.Term) bool { return len(t.Draws(len(c.Arch))) > 0 }):
		return settingErrorf("-reverse-draws data has no effect: -objective %v has no term that reads a draw (draw, layer)", s.Objective)
	case s.ReverseWeight != 1 && !slices.ContainsFunc(terms, func(t models.Term) bool { return t.Kind.Reverse() }):
		return settingErrorf("-reverse-weight %g has no effect: -objective %v has no reverse term", s.ReverseWeight, s.Objective)
	case c.Inference == graph.MonteCarlo:
		// every hidden layer is drawn: draws and the draw gradient always act
	case c.Draws > 1 && len(drawn) == 0:
		return settingErrorf("-draws %d has no effect: -objective %v draws no layer (the draw and layer terms do)", s.Draws, s.Objective)
	case c.DrawGradient != graph.NoDrawGradient && len(drawn) == 0:
		return settingErrorf("-draw-gradient %v has no effect: -objective %v draws no layer (the draw and layer terms do)", s.DrawGradient, s.Objective)
	}
	return nil
}

// dirEntries lists the names in dir but the lock file; a missing dir has none, a file is an error.
func dirEntries(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		// The lock file left by an earlier run locks nothing by itself,
		// and a run's own temporary file is what a write killed half-way
		// leaves (a run removes them when it starts).
		if n := e.Name(); n != LockName && !runTemporary(n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// runTemporary reports whether name is the temporary file of an atomic
// write of one of the files a run writes (".resume.npz.tmp123…").
func runTemporary(name string) bool {
	for _, f := range []string{ResumeName, checkpoint.NPZName, checkpoint.JSONName, MetricsName, CurvesName, SummaryName} {
		if strings.HasPrefix(name, "."+f+".tmp") {
			return true
		}
	}
	return false
}
