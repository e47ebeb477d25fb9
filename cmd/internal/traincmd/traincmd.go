// Package traincmd is the command line of the training commands
// (cmd/train-dense, cmd/train-cnn): flags over a named experiment of the
// models package, checked before any work, and a run of the train package
// that a signal stops with a checkpoint.
package traincmd

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"dcim/cmd/internal/cli"
	"dcim/graph"
	"dcim/models"
	"dcim/train"
)

// Main is a whole training command: name is the program, experiment the
// experiment it trains when -experiment is not given. It returns the exit
// status (see package cli).
func Main(name, experiment string, args []string, stdout, stderr io.Writer) int {
	c := cli.New(name, "[-experiment NAME] [flags]",
		"Trains a DCIM on MNIST and writes the run folder: model.npz, model.json,\n"+
			"resume.npz, metrics.csv, curves.png and summary.json. The run is an experiment\n"+
			"declared in the models package (default "+experiment+"); every flag overrides\n"+
			"the field of the experiment it names. Ctrl-C (SIGINT), SIGTERM or SIGHUP saves\n"+
			"a checkpoint; -resume continues the run.")
	return c.Main(stderr, func() error {
		collectSooner()
		opts, err := parse(c, experiment, args, stdout)
		if err != nil {
			return err
		}
		// Until the run's first step a signal ends the command at once:
		// loading and the first checkpoint leave nothing half-written.
		ctx, begin, stop := cli.SignalContext(name, stderr, "finishing the current step and saving a checkpoint")
		defer stop()
		opts.Started = begin
		opts.Log = stdout
		_, err = train.Run(ctx, opts)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("%w: %w", cli.ErrInterrupted, err)
		}
		return err
	})
}

// trainingGOGC is the garbage collector's target heap growth of a training
// run, in percent. A run's live heap is nearly all buffers that every step
// reuses, and a step leaves only tens of KB of garbage, so Go's default of
// 100 would let the heap (and the RSS) grow to twice the live buffers over a
// long run while collecting almost nothing; at 25 a collection still comes
// only every few thousand steps.
const trainingGOGC = 25

// collectSooner sets the collector's target to trainingGOGC unless the
// GOGC environment variable chooses one.
func collectSooner() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(trainingGOGC)
	}
}

// parse reads the flags over the experiment's settings and checks them.
func parse(c *cli.Command, experiment string, args []string, stdout io.Writer) (train.Options, error) {
	var opts train.Options
	e, err := models.Lookup(experiment)
	if err != nil {
		return opts, err
	}
	s := train.FromExperiment(e, c.Name)
	fs := c.Flags
	var name string
	fs.StringVar(&name, "experiment", experiment, "the `name` of an experiment declared in the models package (listed below)")
	fs.StringVar(&s.Objective, "objective", s.Objective, "training objective: discriminative (§2.2), generative (eq. 21), generative-sampled (eq. 22), or weighted terms such as \"ce+0.5*label+0.5*draw:-1\" (terms: ce, label, draw[:k], layer[:k])")
	fs.IntVar(&s.Epochs, "epochs", s.Epochs, "number of passes over the training set")
	fs.IntVar(&s.Batch, "batch", s.Batch, "mini-batch size")
	fs.Float64Var(&s.LR, "lr", s.LR, "Adam learning rate (β1 0.9, β2 0.999, ε 1e-7 as in Keras)")
	fs.StringVar(&s.LRSchedule, "lr-schedule", s.LRSchedule, "learning-rate `schedule`, a multiplier of -lr by position in the run (default constant): "+train.ScheduleSyntax)
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "random seed: initial weights, shuffling and the draws of the reverse terms")
	fs.Float64Var(&s.ReverseWeight, "reverse-weight", s.ReverseWeight, "λ, which multiplies every reverse term's weight (784 gives the exact log q of eq. 21)")
	fs.StringVar(&s.Encoding, "encoding", s.Encoding, "unit encoding: binary ({0,1}, logistic sigmoid) or spin (±1, tanh)")
	fs.StringVar(&s.Arch, "arch", s.Arch, "architecture in the paper's notation, e.g. \"(3,1,32),(2,2,32),(50),(10)\"; the last layer is the class layer")
	fs.StringVar(&s.Init, "init", s.Init, "initialisation: glorot (Glorot-uniform weights, zero biases) or centred (binary units only: rescaled so that the logistic net starts as the tanh net with those weights)")
	fs.StringVar(&s.Inference, "inference", cmp.Or(s.Inference, "meanfield"), "how the chains pass states on: meanfield (the paper's approximation (2)) or moments (means and variances, mean-and-variance propagation)")
	fs.IntVar(&s.Draws, "draws", cmp.Or(s.Draws, 1), "Bernoulli draws per image of each drawn forward layer, averaged by the reverse terms that read them (training step only)")
	fs.StringVar(&s.DrawGradient, "draw-gradient", cmp.Or(s.DrawGradient, "none"), "how gradients pass those draws: none (eq. 22: a draw is data) or straight-through (∂x/∂x̄ = 1: the reverse terms also train the forward layers below the draw)")
	fs.StringVar(&s.Data, "data", s.Data, "folder of the four MNIST IDX files (default: $MNIST_DIR, else the GoMNIST module, else a download)")
	fs.IntVar(&s.Limit, "limit", s.Limit, "train on the first `n` training images only (0: all)")
	fs.IntVar(&s.EvalEvery, "eval-every", s.EvalEvery, "evaluate every `n` iterations, besides each epoch end (0: only at epoch ends)")
	fs.StringVar(&s.Out, "out", s.Out, "run folder (default runs/<experiment>-<time>)")
	fs.StringVar(&opts.Resume, "resume", "", "continue the run in this `folder` with its own settings; only -data and -epochs (to train a run further) may be given besides")
	fs.BoolVar(&opts.Force, "force", false, "overwrite the run files in a non-empty -out folder")
	conv := fs.String("conv", "auto", "convolution `algorithm`: auto (Winograd F(2×2,3×3) for the stride-1 3×3 layers where it pays, im2col elsewhere), im2col or winograd; a speed setting, not stored with the run")
	c.After = listExperiments
	if err := c.Parse(args, stdout, false); err != nil {
		return opts, err
	}
	alg, err := graph.ParseConvAlgorithm(*conv)
	if err != nil {
		return opts, cli.Usagef("-conv: %v", err)
	}
	graph.SetConvAlgorithm(alg)
	if name != experiment {
		if e, err = models.Lookup(name); err != nil {
			return opts, cli.Usagef("-experiment: %v", err)
		}
		// The named experiment's fields, then the flags given over them.
		given := s
		s = train.FromExperiment(e, c.Name)
		overlay(c, &s, given)
	}
	if opts.Resume != "" {
		var extra []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "resume", "data", "epochs", "conv":
			default:
				extra = append(extra, "-"+f.Name)
			}
		})
		if len(extra) > 0 {
			return opts, cli.Usagef("-resume continues a run with its own settings (only -data and -epochs may change); drop %s", strings.Join(extra, ", "))
		}
		if !c.Set("epochs") {
			s.Epochs = 0 // the run's own
		}
		opts.Settings = s
		return opts, nil
	}
	cfg, err := s.Check(opts.Force) // everything checked before any work
	if err != nil {
		return opts, err
	}
	opts.Settings = cfg.Settings // with the default -out named once
	return opts, nil
}

// overlay copies into s the fields whose flags were given.
func overlay(c *cli.Command, s *train.Settings, given train.Settings) {
	for _, f := range []struct {
		flag string
		set  func()
	}{
		{"objective", func() { s.Objective = given.Objective }},
		{"epochs", func() { s.Epochs = given.Epochs }},
		{"batch", func() { s.Batch = given.Batch }},
		{"lr", func() { s.LR = given.LR }},
		{"lr-schedule", func() { s.LRSchedule = given.LRSchedule }},
		{"seed", func() { s.Seed = given.Seed }},
		{"reverse-weight", func() { s.ReverseWeight = given.ReverseWeight }},
		{"encoding", func() { s.Encoding = given.Encoding }},
		{"arch", func() { s.Arch = given.Arch }},
		{"init", func() { s.Init = given.Init }},
		{"inference", func() { s.Inference = given.Inference }},
		{"draws", func() { s.Draws = given.Draws }},
		{"draw-gradient", func() { s.DrawGradient = given.DrawGradient }},
		{"data", func() { s.Data = given.Data }},
		{"limit", func() { s.Limit = given.Limit }},
		{"eval-every", func() { s.EvalEvery = given.EvalEvery }},
		{"out", func() { s.Out = given.Out }},
	} {
		if c.Set(f.flag) {
			f.set()
		}
	}
}

// listExperiments prints the registered experiments for -h.
func listExperiments(w io.Writer) {
	fmt.Fprintln(w, "Experiments (-experiment; declare your own in a new file of models/):")
	for _, e := range models.Experiments() {
		fmt.Fprintf(w, "  %-24s %s\n", e.Name, e.Doc)
		fmt.Fprintf(w, "  %-24s %s, %v units, objective %v\n", "", e.Arch, e.Encoding, e.Objective)
	}
}
