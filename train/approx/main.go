package approx

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"dcim/data"
	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Exit statuses of Main.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// flags are Main's validated flags.
type flags struct {
	model, out, dataDir string
	n, draws            int
	seed                uint64
	json                bool
	methods             []graph.Inference
}

// usageError is an error in the flags or in what they name (exit 2).
type usageError struct{ error }

// errParseOnly ends Main with status 0 once the command line has parsed,
// when DCIM_PARSE_ONLY=1 is in the environment: the test hook of the
// commands' shared command-line package, which lets a test check the
// command lines that the README shows.
var errParseOnly = errors.New("parse only")

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	fs := flag.NewFlagSet("approx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	var inference string
	fs.StringVar(&f.model, "model", "", "run `folder` holding model.npz and model.json (required)")
	fs.IntVar(&f.n, "n", 1000, "the first `N` MNIST test images")
	fs.IntVar(&f.draws, "draws", 200, "Monte-Carlo draws `S` per image and per class")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed; the same seed gives the same output")
	fs.StringVar(&f.dataDir, "data", "", "MNIST `folder` (default: found as the data package does)")
	fs.StringVar(&f.out, "out", "", "output `folder` for approx.json and approx.png (default: the -model folder)")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON instead of tables")
	fs.StringVar(&inference, "inference", "meanfield,moments", "approximations to compare with Monte Carlo: meanfield, moments or both, comma-separated")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: approx -model RUN_DIR [flags]\n\nRuns a DCIM checkpoint's forward chain on MNIST test images and its reverse chain from\neach class by exact ancestral sampling, and compares each layer's Monte-Carlo marginals\nwith those of mean field (approximation (2)) and of mean-and-variance propagation.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if fs.NArg() == 0 && os.Getenv("DCIM_PARSE_ONLY") == "1" {
		return f, errParseOnly
	}
	switch {
	case fs.NArg() > 0:
		return f, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	case f.model == "":
		return f, usageError{errors.New("-model RUN_DIR is required")}
	case f.n < 1:
		return f, usageError{fmt.Errorf("-n %d: want at least 1", f.n)}
	case f.draws < 1:
		return f, usageError{fmt.Errorf("-draws %d: want at least 1", f.draws)}
	}
	for _, s := range strings.Split(inference, ",") {
		m, err := graph.ParseInference(s)
		if err != nil || m == graph.MonteCarlo {
			return f, usageError{fmt.Errorf("-inference %q: want meanfield, moments or both", inference)}
		}
		f.methods = append(f.methods, m)
	}
	if f.out == "" {
		f.out = f.model
	}
	return f, nil
}

// Main is the whole cmd/approx command; it returns the exit status. Errors
// are one line on stderr; errors in the flags, a -n beyond the test set and
// a model whose layers are unknown exit 2, others 1.
func Main(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errParseOnly) {
		return exitOK
	}
	if err == nil {
		err = run(f, stdout, stderr)
	}
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "approx: %v (see approx -h)\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "approx: %v\n", err)
		return exitError
	}
}

func run(f flags, stdout, stderr io.Writer) error {
	meta, err := checkpoint.ReadMeta(f.model)
	if err != nil {
		return err
	}
	if _, err := models.Parse(meta.Arch); err != nil {
		return usageError{fmt.Errorf("-model %s: layers %q: %v", f.model, meta.Arch, err)}
	}
	p, _, err := checkpoint.Load(f.model)
	if err != nil {
		return err
	}
	m, err := data.Load(data.Options{Dir: f.dataDir, Log: stderr})
	if err != nil {
		return err
	}
	images, labels, err := testImages(m.Test, f.n, p.Input)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	start := time.Now()
	bar := newBar(stderr)
	rep, err := Run(p, images, labels, Options{Draws: f.draws, Seed: f.seed, Methods: f.methods, Progress: bar})
	if err != nil {
		return err
	}
	if err := rep.writeFiles(f.out); err != nil {
		return err
	}
	if f.json {
		js, err := rep.JSON()
		if err != nil {
			return err
		}
		_, err = stdout.Write(js)
		return err
	}
	rep.WriteTable(stdout)
	fmt.Fprintf(stderr, "approx: %v; wrote %s and %s\n", time.Since(start).Round(time.Second), filepath.Join(f.out, "approx.json"), filepath.Join(f.out, "approx.png"))
	return nil
}

// testImages returns the first n images of the test set as grey levels in
// [0,1] (NCHW) and their labels; it is the package's one access to a
// data.Set's pixels.
func testImages(s *data.Set, n int, in models.Shape) ([]float32, []uint8, error) {
	if n > s.N {
		return nil, nil, usageError{fmt.Errorf("-n %d: the test set has %d images", n, s.N)}
	}
	if s.C != in.C || s.H != in.H || s.W != in.W {
		return nil, nil, fmt.Errorf("test images are %d×%d×%d, the model wants %v", s.C, s.H, s.W, in)
	}
	return s.Batch(nil, 0, n), append([]uint8(nil), s.Labels[:n]...), nil
}

// newBar returns a progress callback that draws a bar on a terminal w,
// and elsewhere writes a line every minute.
func newBar(w io.Writer) func(done, total int) {
	if f, ok := w.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		start, last := time.Now(), time.Now()
		return func(done, total int) {
			if time.Since(last) >= time.Minute {
				last = time.Now()
				fmt.Fprintf(w, "approx: %d/%d (test images, then classes) after %v\n", done, total, time.Since(start).Round(time.Second))
			}
		}
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("approx"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(25),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
		}
		bar.Set(done)
	}
}
