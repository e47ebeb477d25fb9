package train

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"dcim/graph"
	"dcim/models"
)

// Settings are a run's settings: an experiment from the models package
// (its architecture, encoding, objective and defaults) with every field
// overridable. They are stored in the run folder (resume.npz and
// summary.json, under "flags") so that a resumed run continues with exactly
// the settings it started with. Each field is named after the command-line
// flag that sets it.
type Settings struct {
	Command       string  `json:"command"`
	Experiment    string  `json:"experiment,omitempty"`
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

// FromExperiment returns the settings of experiment e, with the defaults
// above where e leaves a field at zero; command names the program in
// messages and in the default run folder.
func FromExperiment(e models.Experiment, command string) Settings {
	s := Settings{
		Command:       command,
		Experiment:    e.Name,
		Objective:     e.Objective.String(),
		Epochs:        cmp.Or(e.Epochs, DefaultEpochs),
		Batch:         cmp.Or(e.Batch, DefaultBatch),
		LR:            cmp.Or(e.LR, DefaultLR),
		LRSchedule:    e.LRSchedule,
		Seed:          DefaultSeed,
		ReverseWeight: cmp.Or(e.ReverseWeight, 1),
		Encoding:      e.Encoding.String(),
		Arch:          e.Arch.String(),
		Init:          e.Init,
		Inference:     e.Inference,
		Draws:         e.Draws,
		DrawGradient:  e.DrawGradient,
		EvalEvery:     DefaultEvalEvery,
	}
	return s
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
	// DrawGradient and Draws configure the training step's draws; the
	// evaluation draws once per image.
	DrawGradient graph.DrawGradient
	Draws        int
}

// Check validates every setting and returns their parsed values; errors
// are *SettingError and name the flag. It does no work beyond looking at
// the file system: the -data folder must exist and the -out folder must be
// absent or an empty folder unless force is set (then it must still be a
// folder). An empty Out is replaced by the default name.
func (s Settings) Check(force bool) (*Config, error) {
	c := &Config{Settings: s}
	var err error
	if c.Objective, err = graph.ParseObjective(s.Objective); err != nil {
		return nil, settingErrorf("-objective: %v", err)
	}
	if s.Epochs < 1 {
		return nil, settingErrorf("-epochs %d: want at least 1", s.Epochs)
	}
	if s.Batch < 1 {
		return nil, settingErrorf("-batch %d: want at least 1", s.Batch)
	}
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		return nil, settingErrorf("-lr %g: want a positive finite number", s.LR)
	}
	if c.Schedule, err = ParseSchedule(s.LRSchedule); err != nil {
		return nil, settingErrorf("-lr-schedule: %v", err)
	}
	if !(s.ReverseWeight > 0) || math.IsInf(s.ReverseWeight, 0) {
		return nil, settingErrorf("-reverse-weight %g: want a positive finite number", s.ReverseWeight)
	}
	if c.Encoding, err = graph.ParseEncoding(s.Encoding); err != nil {
		return nil, settingErrorf("-encoding: %v", err)
	}
	if c.Arch, err = models.Parse(s.Arch); err != nil {
		return nil, settingErrorf("-arch: %v", err)
	}
	if err := c.Arch.CheckSize(models.MNISTInput, models.MNISTClasses, max(s.Batch, EvalBatch(c.Arch))); err != nil {
		return nil, settingErrorf("-arch %q with -batch %d: %v", s.Arch, s.Batch, err)
	}
	if _, err := c.Objective.Resolve(len(c.Arch)); err != nil {
		return nil, settingErrorf("-objective %v with -arch %q: %v", s.Objective, s.Arch, err)
	}
	switch {
	case s.Init != "" && s.Init != "glorot" && s.Init != "centred":
		return nil, settingErrorf("-init %q: want glorot or centred", s.Init)
	case s.Init == "centred" && c.Encoding != graph.Binary:
		return nil, settingErrorf("-init centred is for -encoding binary, not %v", c.Encoding)
	}
	if s.Inference != "" {
		if c.Inference, err = graph.ParseNetInference(s.Inference); err != nil {
			return nil, settingErrorf("-inference %q: want meanfield or moments", s.Inference)
		}
	}
	if c.DrawGradient, err = graph.ParseDrawGradient(s.DrawGradient); err != nil {
		return nil, settingErrorf("-draw-gradient: %v", err)
	}
	c.Draws = max(s.Draws, 1)
	switch {
	case s.Draws < 0 || s.Draws > graph.MaxDraws:
		return nil, settingErrorf("-draws %d: want 1…%d", s.Draws, graph.MaxDraws)
	case c.Draws > 1 && c.Inference != graph.MeanField:
		return nil, settingErrorf("-draws %d: the moment method propagates no draws; use -inference meanfield", s.Draws)
	}
	if err := c.Arch.CheckSize(models.MNISTInput, models.MNISTClasses, s.Batch*c.Draws); err != nil {
		return nil, settingErrorf("-batch %d with -draws %d: %v", s.Batch, c.Draws, err)
	}
	if s.Limit < 0 {
		return nil, settingErrorf("-limit %d: want 0 (all) or a positive number of images", s.Limit)
	}
	if s.Limit > 0 && s.Limit < s.Batch {
		return nil, settingErrorf("-limit %d is smaller than -batch %d: no full batch to train on", s.Limit, s.Batch)
	}
	if s.EvalEvery < 0 {
		return nil, settingErrorf("-eval-every %d: want 0 (epoch ends only) or a positive number of iterations", s.EvalEvery)
	}
	if s.Data != "" {
		st, err := os.Stat(s.Data)
		if err != nil {
			return nil, settingErrorf("-data: %v", err)
		}
		if !st.IsDir() {
			return nil, settingErrorf("-data %s: not a folder", s.Data)
		}
	}
	if s.Out == "" {
		name := s.Experiment
		if name == "" {
			name = s.Command + "-" + s.Objective
		}
		c.Out = filepath.Join("runs", fmt.Sprintf("%s-%s", name, time.Now().Format("20060102-150405")))
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
		if e.Name() != LockName { // left by an earlier run; it locks nothing by itself
			names = append(names, e.Name())
		}
	}
	return names, nil
}
