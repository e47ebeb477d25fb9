package train

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"dcim/graph"
	"dcim/models"
)

// Setting is one training setting: a flag of the training commands, a
// field of Settings (stored under "flags" in summary.json and resume.npz,
// and under "settings" in model.json) and an axis a sweep may vary. The
// table of them, [Table], is the one place a setting is declared: its
// name, type, default, validation and doc, and whether an experiment may
// set it. The commands' flags, the experiment fields they override, the
// name of a run that overrides them and the sweeps' axes are derived
// from it.
type Setting struct {
	Name string // the flag without its dash, e.g. "reverse-weight"
	Doc  string // the flag's help text
	// Experiment: a models.Experiment declares the setting (it has the
	// field); the training commands' flags override the experiment's value.
	Experiment bool
	// Named: the setting changes what is trained, so a run that gives it a
	// value other than its experiment's is named by it
	// ("cnn-generative+reverse-weight=2").
	Named bool

	field func(*Settings) any // a pointer to the field: *int, *uint64, *float64 or *string
	def   any                 // the value when the experiment leaves it; nil: the experiment's own
	// fromExperiment is the experiment's value, or nil where it leaves
	// the setting to its default.
	fromExperiment func(models.Experiment) any
	// check validates the value alone; cross-setting rules are in
	// Settings.Check.
	check func(Settings) error
}

// Table lists every training setting, in the order of the commands' -h.
func Table() []Setting { return slices.Clone(table) }

// LookupSetting returns the setting of that name (a flag without its
// dash).
func LookupSetting(name string) (Setting, bool) {
	i := slices.IndexFunc(table, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		return Setting{}, false
	}
	return table[i], true
}

// SettingNames lists the names of the settings, for messages.
func SettingNames() []string {
	ns := make([]string, len(table))
	for i, s := range table {
		ns[i] = s.Name
	}
	return ns
}

var table = []Setting{
	{Name: "objective", Experiment: true, Named: true,
		Doc:            "training objective: discriminative (§2.2), generative (eq. 21), generative-sampled (eq. 22), or weighted terms such as \"ce+0.5*label+0.5*draw:-1\" (terms: " + termKindNames() + ")",
		field:          func(s *Settings) any { return &s.Objective },
		fromExperiment: func(e models.Experiment) any { return e.Objective.String() },
		check: func(s Settings) error {
			if _, err := graph.ParseObjective(s.Objective); err != nil {
				return settingErrorf("-objective: %v", err)
			}
			return nil
		}},
	{Name: "epochs", Experiment: true, Named: true, def: DefaultEpochs,
		Doc:            "number of passes over the training set",
		field:          func(s *Settings) any { return &s.Epochs },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.Epochs) },
		check:          func(s Settings) error { return atLeast("epochs", s.Epochs, 1) }},
	{Name: "batch", Experiment: true, Named: true, def: DefaultBatch,
		Doc:            "mini-batch size",
		field:          func(s *Settings) any { return &s.Batch },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.Batch) },
		check:          func(s Settings) error { return atLeast("batch", s.Batch, 1) }},
	{Name: "lr", Experiment: true, Named: true, def: DefaultLR,
		Doc:            "Adam learning rate (β1 0.9, β2 0.999, ε 1e-7 as in Keras)",
		field:          func(s *Settings) any { return &s.LR },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.LR) },
		check:          func(s Settings) error { return inRange("lr", s.LR, models.Positive) }},
	{Name: "lr-schedule", Experiment: true, Named: true, def: "constant",
		Doc:            "learning-rate schedule, a multiplier of -lr by position in the run: " + ScheduleSyntax,
		field:          func(s *Settings) any { return &s.LRSchedule },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.LRSchedule) },
		check: func(s Settings) error {
			if _, err := ParseSchedule(s.LRSchedule); err != nil {
				return settingErrorf("-lr-schedule: %v", err)
			}
			return nil
		}},
	{Name: "seed", Named: true, def: uint64(DefaultSeed),
		Doc:   "random seed: initial weights, shuffling and the draws of the terms",
		field: func(s *Settings) any { return &s.Seed }},
	{Name: "reverse-weight", Experiment: true, Named: true, def: 1.0,
		Doc:            "λ, which multiplies every reverse term's weight (784 gives the exact log q of eq. 21)",
		field:          func(s *Settings) any { return &s.ReverseWeight },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.ReverseWeight) },
		check:          func(s Settings) error { return inRange("reverse-weight", s.ReverseWeight, models.Positive) }},
	{Name: "encoding", Experiment: true, Named: true,
		Doc:            "unit encoding: binary ({0,1}, logistic sigmoid) or spin (±1, tanh)",
		field:          func(s *Settings) any { return &s.Encoding },
		fromExperiment: func(e models.Experiment) any { return e.Encoding.String() },
		check: func(s Settings) error {
			if _, err := graph.ParseEncoding(s.Encoding); err != nil {
				return settingErrorf("-encoding: %v", err)
			}
			return nil
		}},
	{Name: "arch", Experiment: true, Named: true,
		Doc:            "architecture in the paper's notation, e.g. \"(3,1,32),(2,2,32),(50),(10)\"; the last layer is the class layer",
		field:          func(s *Settings) any { return &s.Arch },
		fromExperiment: func(e models.Experiment) any { return e.Arch.String() },
		check: func(s Settings) error {
			if _, err := models.Parse(s.Arch); err != nil {
				return settingErrorf("-arch: %v", err)
			}
			return nil
		}},
	{Name: "init", Experiment: true, Named: true, def: "glorot",
		Doc:            "initialisation: glorot (Glorot-uniform weights, zero biases) or centred (binary units only: rescaled so that the logistic net starts as the tanh net with those weights)",
		field:          func(s *Settings) any { return &s.Init },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.Init) },
		check:          func(s Settings) error { return oneOf("init", s.Init, "glorot", "centred") }},
	{Name: "inference", Experiment: true, Named: true, def: "meanfield",
		Doc:            "how the forward chain passes states on: meanfield (the paper's approximation (2)), moments (means and variances, mean-and-variance propagation) or montecarlo (the DCIM itself: every hidden layer drawn from its parent's draw, -draws samples per image, the loss E[−log p(label | x^{d−1})] over them; needs -draw-gradient straight-through or psa)",
		field:          func(s *Settings) any { return &s.Inference },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.Inference) },
		check: func(s Settings) error {
			if _, err := graph.ParseTrainInference(s.Inference); err != nil {
				return settingErrorf("-inference %q: want meanfield, moments or montecarlo", s.Inference)
			}
			return nil
		}},
	{Name: "draws", Experiment: true, Named: true, def: 1,
		Doc:            "Bernoulli draws per image of each drawn forward layer, averaged by the terms that read them; under -inference montecarlo, samples of the whole forward chain per image (training step only)",
		field:          func(s *Settings) any { return &s.Draws },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.Draws) },
		check: func(s Settings) error {
			if s.Draws < 1 || s.Draws > graph.MaxDraws {
				return settingErrorf("-draws %d: want 1…%d", s.Draws, graph.MaxDraws)
			}
			return nil
		}},
	{Name: "draw-gradient", Experiment: true, Named: true, def: "none",
		Doc:            "how gradients pass those draws: none (eq. 22: a draw is data), straight-through (the gradient of a draw goes to its mean, whose derivative is the unit's: the reverse terms also train the forward layers below the draw) or psa (-inference montecarlo only: path sample-analytic, each drawn unit's flip propagated exactly through the next layer)",
		field:          func(s *Settings) any { return &s.DrawGradient },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.DrawGradient) },
		check: func(s Settings) error {
			if _, err := graph.ParseDrawGradient(s.DrawGradient); err != nil {
				return settingErrorf("-draw-gradient: %v", err)
			}
			return nil
		}},
	{Name: "reverse-draws", Experiment: true, Named: true, def: "gradient",
		Doc:            "how the reverse terms read the draws of -inference montecarlo: gradient (their gradient passes the draws as -draw-gradient says, also training the forward layers below) or data (no gradient through them: wake-sleep's wake phase, the reverse model fitted to the forward model's samples)",
		field:          func(s *Settings) any { return &s.ReverseDraws },
		fromExperiment: func(e models.Experiment) any { return nonZero(e.ReverseDraws) },
		check:          func(s Settings) error { return oneOf("reverse-draws", s.ReverseDraws, "gradient", "data") }},
	{Name: "data", def: "",
		Doc:   "folder of the four MNIST IDX files (default: $MNIST_DIR, else the GoMNIST module, else a download)",
		field: func(s *Settings) any { return &s.Data },
		check: func(s Settings) error {
			if s.Data == "" {
				return nil
			}
			st, err := os.Stat(s.Data)
			if err != nil {
				return settingErrorf("-data: %v", err)
			}
			if !st.IsDir() {
				return settingErrorf("-data %s: not a folder", s.Data)
			}
			return nil
		}},
	{Name: "limit", Named: true, def: 0,
		Doc:   "train on the first `n` training images only (0: all)",
		field: func(s *Settings) any { return &s.Limit },
		check: func(s Settings) error {
			if s.Limit < 0 {
				return settingErrorf("-limit %d: want 0 (all) or a positive number of images", s.Limit)
			}
			return nil
		}},
	{Name: "eval-every", def: DefaultEvalEvery,
		Doc:   "evaluate every `n` iterations, besides each epoch end (0: only at epoch ends)",
		field: func(s *Settings) any { return &s.EvalEvery },
		check: func(s Settings) error {
			if s.EvalEvery < 0 {
				return settingErrorf("-eval-every %d: want 0 (epoch ends only) or a positive number of iterations", s.EvalEvery)
			}
			return nil
		}},
	{Name: "out", def: "",
		Doc:   "run `folder` (default runs/<run name>-<time>)",
		field: func(s *Settings) any { return &s.Out }},
}

// nonZero is v, or nil for the zero value: an experiment's field left
// to the setting's default.
func nonZero[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

func atLeast(name string, v, lo int) error {
	if v < lo {
		return settingErrorf("-%s %d: want at least %d", name, v, lo)
	}
	return nil
}

func inRange(name string, v float64, r models.Range) error {
	if err := r.Check(v); err != nil {
		return settingErrorf("-%s %v", name, err)
	}
	return nil
}

func oneOf(name, v string, values ...string) error {
	if !slices.Contains(values, v) {
		return settingErrorf("-%s %q: want %s", name, v, strings.Join(values, " or "))
	}
	return nil
}

// Get returns the setting's value in s, written as its flag takes it.
func (st Setting) Get(s Settings) string {
	switch p := st.field(&s).(type) {
	case *int:
		return strconv.Itoa(*p)
	case *uint64:
		return strconv.FormatUint(*p, 10)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *string:
		return *p
	}
	panic("train: setting " + st.Name + " of an unknown type")
}

// Set parses v into the setting's field of s. It checks the syntax only
// (an integer, a number); Settings.Check validates the value. The error
// names the setting.
func (st Setting) Set(s *Settings, v string) error {
	var err error
	switch p := st.field(s).(type) {
	case *int:
		var n int64
		if n, err = strconv.ParseInt(v, 0, strconv.IntSize); err == nil {
			*p = int(n)
		}
	case *uint64:
		var n uint64
		if n, err = strconv.ParseUint(v, 0, 64); err == nil {
			*p = n
		}
	case *float64:
		var f float64
		if f, err = strconv.ParseFloat(v, 64); err == nil {
			*p = f
		}
	case *string:
		*p = v
	}
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			err = ne.Err
		}
		return settingErrorf("-%s %q: %v", st.Name, v, err)
	}
	return nil
}

// Define defines the setting's flag on fs, bound to its field of s, with
// the field's present value as the default.
func (st Setting) Define(fs *flag.FlagSet, s *Settings) {
	switch p := st.field(s).(type) {
	case *int:
		fs.IntVar(p, st.Name, *p, st.Doc)
	case *uint64:
		fs.Uint64Var(p, st.Name, *p, st.Doc)
	case *float64:
		fs.Float64Var(p, st.Name, *p, st.Doc)
	case *string:
		fs.StringVar(p, st.Name, *p, st.Doc)
	}
}

// Override is one setting given over an experiment's, by name.
type Override struct{ Name, Value string }

func (o Override) String() string { return o.Name + "=" + o.Value }

// ParseOverride reads "name=value".
func ParseOverride(s string) (Override, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return Override{}, fmt.Errorf("%q: want setting=value", s)
	}
	if _, ok := LookupSetting(name); !ok && name != "experiment" {
		return Override{}, fmt.Errorf("%q: unknown setting %q (settings: experiment, %s)", s, name, strings.Join(SettingNames(), ", "))
	}
	return Override{name, value}, nil
}

// FromExperiment returns the settings of experiment e: every setting
// the experiment declares, and the table's default for the rest; command
// names the program in messages.
func FromExperiment(e models.Experiment, command string) Settings {
	s := Settings{Command: command, Experiment: e.Name}
	for _, st := range table {
		v := st.def
		if st.fromExperiment != nil {
			if ev := st.fromExperiment(e); ev != nil {
				v = ev
			}
		}
		if v == nil {
			continue
		}
		switch p := st.field(&s).(type) {
		case *int:
			*p = v.(int)
		case *uint64:
			*p = v.(uint64)
		case *float64:
			*p = v.(float64)
		case *string:
			*p = v.(string)
		}
	}
	return s
}

// NewSettings returns the settings of the registered experiment named
// experiment with the overrides applied in order (an override of
// "experiment" starts again from that experiment), named by the
// experiment and the overrides that change it (see [Settings.RunName]).
// It checks the syntax of every value; Check validates them.
func NewSettings(command, experiment string, overrides ...Override) (Settings, error) {
	for _, o := range overrides {
		if o.Name == "experiment" {
			experiment = o.Value
		}
	}
	e, err := models.Lookup(experiment)
	if err != nil {
		return Settings{}, &SettingError{fmt.Errorf("-experiment: %w", err)}
	}
	s := FromExperiment(e, command)
	for _, o := range overrides {
		if o.Name == "experiment" {
			continue
		}
		st, ok := LookupSetting(o.Name)
		if !ok {
			return Settings{}, settingErrorf("unknown setting %q (settings: %s)", o.Name, strings.Join(SettingNames(), ", "))
		}
		if err := st.Set(&s, o.Value); err != nil {
			return Settings{}, err
		}
	}
	s.Name = s.RunName()
	return s, nil
}

// Overrides lists the named settings whose value in s differs from its
// experiment's, in the table's order; nil when the experiment is not
// registered.
func (s Settings) Overrides() []Override {
	e, err := models.Lookup(s.Experiment)
	if err != nil {
		return nil
	}
	base := FromExperiment(e, s.Command)
	var out []Override
	for _, st := range table {
		if v := st.canonical(s); st.Named && v != st.canonical(base) {
			out = append(out, Override{st.Name, v})
		}
	}
	return out
}

// canonical is the setting's value in s written one way: objectives and
// architectures as their String methods write them, so that "ce+label"
// and "generative", or "(50), (10)" and "(50),(10)", are one value.
func (st Setting) canonical(s Settings) string {
	v := st.Get(s)
	switch st.Name {
	case "objective":
		if o, err := graph.ParseObjective(v); err == nil {
			return o.String()
		}
	case "arch":
		if a, err := models.Parse(v); err == nil {
			return a.String()
		}
	}
	return v
}

// RunName is the name of the run s describes: its experiment, followed by
// "+" and the settings that differ from the experiment's, as
// "name=value" joined by commas — "cnn-generative",
// "cnn-generative+reverse-weight=2,seed=3". A run without an experiment is
// named after its command and objective.
func (s Settings) RunName() string {
	name := s.Experiment
	if name == "" {
		name = s.Command + "-" + s.Objective
	}
	if o := s.Overrides(); len(o) > 0 {
		parts := make([]string, len(o))
		for i, v := range o {
			parts[i] = v.String()
		}
		name += "+" + strings.Join(parts, ",")
	}
	return name
}

// PathName turns a run name into a file name that every file system
// takes: the characters Windows refuses (<>:"/\|?*) and control
// characters become '_'.
func PathName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || strings.ContainsRune(`<>:"/\|?*`, r) {
			return '_'
		}
		return r
	}, name)
}

// defaultOut is the run folder of a run that names none.
func defaultOut(name, stamp string) string {
	return filepath.Join("runs", PathName(name)+"-"+stamp)
}

// termKindNames lists the term kinds as objectives spell them, layered
// ones with their optional layer: "ce, label, draw[:k], …".
func termKindNames() string {
	var names []string
	for _, k := range models.TermKinds() {
		name := k.String()
		if k.Layered() {
			name += "[:k]"
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}
