package models

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Experiment is a named training run, declared as a plain Go value: the
// network, its unit encoding, the objective and the training defaults.
// The training commands train one with -experiment NAME, and every flag
// still overrides the field it names. A new experiment is one new file in
// this package whose init function calls [Register]:
//
//	func init() {
//		Register(Experiment{
//			Name:      "mine",
//			Doc:       "a smaller CNN with eq. (21) and half of eq. (22)",
//			Arch:      MustParse("(3,1,16),(2,2,16),(50),(10)"),
//			Encoding:  Spin,
//			Objective: MustParseObjective("ce+label+0.5*draw"),
//		})
//	}
type Experiment struct {
	Name string // the -experiment spelling: letters, digits, '-', '_' and '.'
	Doc  string // one line, shown by -h and in the list of experiments

	Arch      Arch
	Encoding  Encoding
	Objective Objective
	// ReverseWeight is λ, which multiplies every reverse term's weight
	// (-reverse-weight); 0 means 1.
	ReverseWeight float64
	// Init is the initialisation (-init): "" or "glorot" is Glorot-uniform
	// weights and zero biases, as Keras does; "centred" (binary units only)
	// then rescales them so that the logistic network starts as the tanh
	// network with those weights (see graph.Params.CentreBinary).
	Init string
	// Inference is how the chains pass states on (-inference): "" or
	// "meanfield" is the paper's approximation (2); "moments" carries
	// means and variances (mean-and-variance propagation); "montecarlo"
	// draws every hidden layer of the forward chain from its parent's
	// draw (the DCIM itself; needs a DrawGradient).
	Inference string
	// Draws is the number of Bernoulli draws per image of every drawn
	// forward layer (-draws), averaged by the terms that read them; 0
	// means 1.
	Draws int
	// DrawGradient is how gradients pass those draws (-draw-gradient): ""
	// or "none", as eq. (22) has it, "straight-through" (the reverse
	// terms then also train the forward layers below each draw) or, under
	// "montecarlo", "psa" (path sample-analytic).
	DrawGradient string
	// ReverseDraws is how the reverse terms read the draws of the sampled
	// forward chain (-reverse-draws): "" or "gradient" (their gradient
	// passes the draws as DrawGradient says) or "data" (wake-sleep's wake
	// phase: no gradient through them).
	ReverseDraws string

	// Training defaults; zero takes the command's default (10 epochs,
	// batch 64, learning rate 1e-3).
	Epochs int
	Batch  int
	LR     float64
	// LRSchedule is the learning-rate schedule (-lr-schedule): "" or
	// "constant", "step:E1,E2,…[@f]", "cosine" or "cosine-restarts:T[*m]"
	// (see train.ParseSchedule).
	LRSchedule string
}

var (
	registryMu sync.Mutex
	registry   = map[string]Experiment{}
	validName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Register adds an experiment to the list the commands know. It is meant
// for init functions and panics, naming the experiment, if the name is
// taken or malformed or the experiment is incomplete: a mistake in a
// declaration shows at once, before any flag is read. The values of the
// string settings (Init, Inference, DrawGradient, LRSchedule) are checked
// by the training settings' own validation (train.Table) when the
// experiment is run, before any work.
//
// Register also takes a [Sweep], a set of runs over experiments.
func Register[T Experiment | Sweep](v T) {
	switch v := any(v).(type) {
	case Experiment:
		registerExperiment(v)
	case Sweep:
		registerSweep(v)
	}
}

func registerExperiment(e Experiment) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if err := e.check(); err != nil {
		panic(fmt.Sprintf("models.Register: %v", err))
	}
	if _, dup := registry[e.Name]; dup {
		panic(fmt.Sprintf("models.Register: experiment %q registered twice", e.Name))
	}
	e.Arch, e.Objective = slices.Clone(e.Arch), slices.Clone(e.Objective)
	registry[e.Name] = e
}

func (e Experiment) check() error {
	switch {
	case !validName.MatchString(e.Name):
		return fmt.Errorf("experiment name %q: want letters, digits, '-', '_' or '.'", e.Name)
	case len(e.Arch) == 0:
		return fmt.Errorf("experiment %q has no Arch", e.Name)
	case len(e.Objective) == 0:
		return fmt.Errorf("experiment %q has no Objective", e.Name)
	case e.Encoding != Binary && e.Encoding != Spin:
		return fmt.Errorf("experiment %q: unknown encoding %d", e.Name, int(e.Encoding))
	case e.Epochs < 0 || e.Batch < 0 || e.LR < 0 || e.ReverseWeight < 0 || e.Draws < 0:
		return fmt.Errorf("experiment %q: negative epochs, batch, lr, reverse weight or draws", e.Name)
	}
	if _, err := e.Objective.Resolve(len(e.Arch)); err != nil {
		return fmt.Errorf("experiment %q: %w", e.Name, err)
	}
	return nil
}

// Lookup returns the experiment registered under name.
func Lookup(name string) (Experiment, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	e, ok := registry[name]
	if !ok {
		return e, fmt.Errorf("unknown experiment %q; known: %s", name, strings.Join(names(), ", "))
	}
	e.Arch, e.Objective = slices.Clone(e.Arch), slices.Clone(e.Objective)
	return e, nil
}

// Experiments lists the registered experiments by name.
func Experiments() []Experiment {
	registryMu.Lock()
	defer registryMu.Unlock()
	var out []Experiment
	for _, n := range names() {
		out = append(out, registry[n])
	}
	return out
}

func names() []string {
	ns := make([]string, 0, len(registry))
	for n := range registry {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// MustParse is [Parse] for declarations: it panics on a malformed
// architecture.
func MustParse(s string) Arch {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// MustParseObjective is [ParseObjective] for declarations: it panics on a
// malformed objective.
func MustParseObjective(s string) Objective {
	o, err := ParseObjective(s)
	if err != nil {
		panic(err)
	}
	return o
}
