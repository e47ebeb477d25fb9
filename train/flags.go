package train

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"dcim/graph"
	"dcim/models"
)

// Flags are a training command's settings as given on the command line.
// They are stored in the run folder (resume.npz and summary.json) so that
// -resume continues a run with exactly the flags it started with.
type Flags struct {
	Command       string  `json:"command"`
	Objective     string  `json:"objective"`
	Epochs        int     `json:"epochs"`
	Batch         int     `json:"batch"`
	LR            float64 `json:"lr"`
	Seed          uint64  `json:"seed"`
	ReverseWeight float64 `json:"reverse_weight"`
	Encoding      string  `json:"encoding"`
	Arch          string  `json:"arch"`
	Data          string  `json:"data"`
	Limit         int     `json:"limit"`
	EvalEvery     int     `json:"eval_every"`
	Out           string  `json:"out"`
	Resume        string  `json:"resume,omitempty"`
	Force         bool    `json:"force,omitempty"`
}

// DenseDefaults are the defaults of cmd/train-dense: the dense network of
// the paper's §3.1 in the {0,1}/logistic encoding.
func DenseDefaults() Flags {
	return Flags{
		Command:       "train-dense",
		Objective:     graph.Generative.String(),
		Epochs:        10,
		Batch:         64,
		LR:            DefaultLR,
		Seed:          1,
		ReverseWeight: 1,
		Encoding:      graph.Binary.String(),
		Arch:          models.MNISTDense().String(),
		EvalEvery:     500,
	}
}

// CNNDefaults are the defaults of cmd/train-cnn: the CNN of the paper's
// §3.2 in the ±1/tanh encoding (DESIGN.md §1 explains why not {0,1}); the
// training settings are those of DenseDefaults.
func CNNDefaults() Flags {
	f := DenseDefaults()
	f.Command = "train-cnn"
	f.Encoding = graph.Spin.String()
	f.Arch = models.MNISTCNN().String()
	return f
}

// UsageError is an error in the command line: a bad flag or flag value.
// Commands exit with status 2 on it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// ParseFlags parses a training command's arguments over defaults.
// Help (-h) returns flag.ErrHelp after printing the usage to usage.
// Every other error is a *UsageError. The values are not yet checked:
// see Flags.Check.
func ParseFlags(defaults Flags, args []string, usage io.Writer) (Flags, error) {
	f := defaults
	fs := flag.NewFlagSet(f.Command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.Objective, "objective", f.Objective, "training objective: discriminative (§2.2), generative (eq. 21) or generative-sampled (eq. 22)")
	fs.IntVar(&f.Epochs, "epochs", f.Epochs, "number of passes over the training set")
	fs.IntVar(&f.Batch, "batch", f.Batch, "mini-batch size")
	fs.Float64Var(&f.LR, "lr", f.LR, "Adam learning rate (β1 0.9, β2 0.999, ε 1e-7 as in Keras)")
	fs.Uint64Var(&f.Seed, "seed", f.Seed, "random seed: initial weights, shuffling and the draws of eq. (22)")
	fs.Float64Var(&f.ReverseWeight, "reverse-weight", f.ReverseWeight, "λ, the weight of the reverse model's per-pixel BCE in the loss (784 gives the exact log q)")
	fs.StringVar(&f.Encoding, "encoding", f.Encoding, "unit encoding: binary ({0,1}, logistic sigmoid) or spin (±1, tanh)")
	fs.StringVar(&f.Arch, "arch", f.Arch, "architecture in the paper's notation, e.g. \"(3,1,32),(2,2,32),(50),(10)\"; the last layer is the class layer")
	fs.StringVar(&f.Data, "data", f.Data, "folder of the four MNIST IDX files (default: $MNIST_DIR, else the GoMNIST module, else a download)")
	fs.IntVar(&f.Limit, "limit", f.Limit, "train on the first `n` training images only (0: all)")
	fs.IntVar(&f.EvalEvery, "eval-every", f.EvalEvery, "evaluate every `n` iterations, besides each epoch end (0: only at epoch ends)")
	fs.StringVar(&f.Out, "out", f.Out, "run folder (default runs/"+f.Command+"-<objective>-<time>)")
	fs.StringVar(&f.Resume, "resume", f.Resume, "continue the run in this `folder` with its own flags; only -data and -epochs (to train a run further) may be given besides")
	fs.BoolVar(&f.Force, "force", f.Force, "overwrite the run files in a non-empty -out folder")
	fs.Usage = func() {} // printed below for -h only; errors are one line
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(usage, "Usage: %s [flags]\n\nTrains a DCIM on MNIST and writes the run folder: model.npz, model.json,\nresume.npz, metrics.csv, curves.png and summary.json. Ctrl-C (SIGINT) or\nSIGTERM saves a checkpoint; -resume continues the run.\n\nFlags:\n", f.Command)
			fs.SetOutput(usage)
			fs.PrintDefaults()
			return f, flag.ErrHelp
		}
		return f, &UsageError{err}
	}
	if fs.NArg() > 0 {
		return f, usageErrorf("unexpected argument %q (all settings are flags)", fs.Arg(0))
	}
	if f.Resume != "" {
		var extra []string
		epochs := false
		fs.Visit(func(fl *flag.Flag) {
			switch fl.Name {
			case "resume", "data":
			case "epochs":
				epochs = true
			default:
				extra = append(extra, "-"+fl.Name)
			}
		})
		if len(extra) > 0 {
			return f, usageErrorf("-resume continues a run with its own flags (only -data and -epochs may change); drop %s", strings.Join(extra, ", "))
		}
		if !epochs {
			f.Epochs = 0 // the run's own
		}
	}
	return f, nil
}

// Config is a checked set of flags, with the parsed values.
type Config struct {
	Flags
	Objective graph.Objective
	Encoding  graph.Encoding
	Arch      models.Arch
}

// Check validates every flag and returns their parsed values. It does no
// work beyond looking at the file system: the -data folder must exist and
// the -out folder must be absent or empty unless -force is given. Errors
// are *UsageError. An empty Out is replaced by the default name; Resume is
// not handled here (see Run).
func (f Flags) Check() (*Config, error) {
	c := &Config{Flags: f}
	var err error
	if c.Objective, err = graph.ParseObjective(f.Objective); err != nil {
		return nil, usageErrorf("-objective: %v", err)
	}
	if f.Epochs < 1 {
		return nil, usageErrorf("-epochs %d: want at least 1", f.Epochs)
	}
	if f.Batch < 1 {
		return nil, usageErrorf("-batch %d: want at least 1", f.Batch)
	}
	if !(f.LR > 0) || math.IsInf(f.LR, 0) {
		return nil, usageErrorf("-lr %g: want a positive finite number", f.LR)
	}
	if !(f.ReverseWeight > 0) || math.IsInf(f.ReverseWeight, 0) {
		return nil, usageErrorf("-reverse-weight %g: want a positive finite number", f.ReverseWeight)
	}
	if c.Encoding, err = graph.ParseEncoding(f.Encoding); err != nil {
		return nil, usageErrorf("-encoding: %v", err)
	}
	if c.Arch, err = models.Parse(f.Arch); err != nil {
		return nil, usageErrorf("-arch: %v", err)
	}
	if _, err := c.Arch.Shapes(models.MNISTInput, models.MNISTClasses); err != nil {
		return nil, usageErrorf("-arch %q: %v", f.Arch, err)
	}
	if c.Objective == graph.GenerativeSampled && len(c.Arch) < 2 {
		return nil, usageErrorf("-objective %v draws the last hidden layer; -arch %q has none", c.Objective, f.Arch)
	}
	if f.Limit < 0 {
		return nil, usageErrorf("-limit %d: want 0 (all) or a positive number of images", f.Limit)
	}
	if f.Limit > 0 && f.Limit < f.Batch {
		return nil, usageErrorf("-limit %d is smaller than -batch %d: no full batch to train on", f.Limit, f.Batch)
	}
	if f.EvalEvery < 0 {
		return nil, usageErrorf("-eval-every %d: want 0 (epoch ends only) or a positive number of iterations", f.EvalEvery)
	}
	if f.Data != "" {
		st, err := os.Stat(f.Data)
		if err != nil {
			return nil, usageErrorf("-data: %v", err)
		}
		if !st.IsDir() {
			return nil, usageErrorf("-data %s: not a folder", f.Data)
		}
	}
	if f.Out == "" {
		c.Out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s", f.Command, f.Objective, time.Now().Format("20060102-150405")))
	}
	if !f.Force {
		if names, err := dirEntries(c.Out); err != nil {
			return nil, usageErrorf("-out: %v", err)
		} else if len(names) > 0 {
			return nil, usageErrorf("-out %s is not empty (holds %s); give -resume %s to continue that run or -force to overwrite it", c.Out, names[0], c.Out)
		}
	}
	return c, nil
}

// dirEntries lists the names in dir; a missing dir has none, a file is an error.
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
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	return names, nil
}
