// Command approx measures approximation (2) of the paper on a trained DCIM:
// it samples the forward chain from MNIST test images and the reverse
// chain from each class exactly (ancestral sampling) and compares every
// layer's Monte-Carlo marginals with those of mean field and of
// mean-and-variance propagation.
//
//	go run ./cmd/approx -model RUN_DIR [-n 1000] [-draws 200] [-seed 1] [-inference meanfield,moments] [-ll-draws 100,1000] [-ll-n N] [-out DIR] [-json] [-max-memory 2GiB]
//
// It prints the tables (or, with -json, the report as JSON) and writes
// approx.json and approx.png (error per layer, forward and reverse, one
// line per method) into -out (default: the run folder), and the reverse
// model's importance-sampled log-likelihood of the binarised test images
// (-ll-draws samples per image, 0 to skip). An image's draws
// are run in chunks, so memory does not grow with -draws; flags whose
// estimated memory is above -max-memory are refused before any work.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"dcim/cmd/internal/cli"
	"dcim/data"
	"dcim/graph"
	"dcim/models"
	"dcim/train/approx"
	"dcim/train/checkpoint"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// flags are the validated flags.
type flags struct {
	model, out, dataDir string
	n, draws            int
	seed                uint64
	json                bool
	methods             []graph.Inference
	maxMemory           *int64
	llDraws             []int // K of the importance-sampled likelihood; none: skipped
	llN                 int
}

func newCommand() *cli.Command {
	return cli.New("approx", "-model RUN_DIR [flags]",
		"Runs a DCIM checkpoint's forward chain on MNIST test images and its reverse chain from\n"+
			"each class by exact ancestral sampling, and compares each layer's Monte-Carlo marginals\n"+
			"with those of mean field (approximation (2)) and of mean-and-variance propagation.")
}

func parseFlags(c *cli.Command, args []string, stdout io.Writer) (flags, error) {
	fs := c.Flags
	var f flags
	var inference string
	fs.StringVar(&f.model, "model", "", "run `folder` holding model.npz and model.json (required)")
	fs.IntVar(&f.n, "n", 1000, "the first `N` MNIST test images")
	fs.IntVar(&f.draws, "draws", 200, fmt.Sprintf("Monte-Carlo draws `S` per image and per class, 1…%d", approx.MaxDraws))
	fs.Uint64Var(&f.seed, "seed", 1, "random seed; the same seed gives the same output")
	fs.StringVar(&f.dataDir, "data", "", "MNIST `folder` (default: found as the data package does)")
	fs.StringVar(&f.out, "out", "", "output `folder` for approx.json and approx.png (default: the -model folder)")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON instead of tables")
	fs.StringVar(&inference, "inference", "meanfield,moments", "approximations to compare with Monte Carlo: meanfield, moments or both, comma-separated")
	var llDraws string
	fs.StringVar(&llDraws, "ll-draws", "100,1000", fmt.Sprintf("importance samples `K` per image (comma-separated, 1…%d) of the reverse model's log-likelihood of the binarised test images, the forward chain the proposal; 0 skips it", approx.MaxLikelihoodDraws))
	fs.IntVar(&f.llN, "ll-n", 0, "estimate the log-likelihood on the first `N` of the -n images only (0: all)")
	f.maxMemory = c.MaxMemory()
	if err := c.Parse(args, stdout, false); err != nil {
		return f, err
	}
	switch {
	case f.model == "":
		return f, cli.Usagef("-model RUN_DIR is required")
	case f.n < 1:
		return f, cli.Usagef("-n %d: want at least 1", f.n)
	case f.draws < 1 || f.draws > approx.MaxDraws:
		return f, cli.Usagef("-draws %d: want 1…%d", f.draws, approx.MaxDraws)
	}
	if llDraws != "0" {
		for _, v := range strings.Split(llDraws, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || k < 1 || k > approx.MaxLikelihoodDraws {
				return f, cli.Usagef("-ll-draws %q: want numbers 1…%d, comma-separated, or 0", llDraws, approx.MaxLikelihoodDraws)
			}
			f.llDraws = append(f.llDraws, k)
		}
	}
	if f.llN < 0 {
		return f, cli.Usagef("-ll-n %d: want 0 (all -n images) or a positive number", f.llN)
	}
	for _, s := range strings.Split(inference, ",") {
		m, err := graph.ParseInference(s)
		if err != nil || m == graph.MonteCarlo {
			return f, cli.Usagef("-inference %q: want meanfield, moments or both", inference)
		}
		f.methods = append(f.methods, m)
	}
	if f.out == "" {
		f.out = f.model
	}
	return f, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	c := newCommand()
	return c.Main(stderr, func() error {
		f, err := parseFlags(c, args, stdout)
		if err != nil {
			return err
		}
		return measure(f, stdout, stderr)
	})
}

func measure(f flags, stdout, stderr io.Writer) error {
	meta, err := checkpoint.ReadMeta(f.model)
	if err != nil {
		return err
	}
	if _, err := models.Parse(meta.Arch); err != nil {
		return cli.Usagef("-model %s: layers %q: %v", f.model, meta.Arch, err)
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
	opts := approx.Options{Draws: f.draws, Seed: f.seed, Methods: f.methods, LikelihoodDraws: f.llDraws, LikelihoodImages: f.llN}
	live := graph.SatAdd(int64(m.Train.N+m.Test.N)*int64(m.Train.PixelsPerImage()+1), approx.Memory(p, f.n, opts))
	units, _ := p.Arch.StateUnits(p.Input, p.Classes)
	if err := cli.CheckMemory(live, *f.maxMemory, fmt.Sprintf("-n %d with -draws %d, for a model of %d state units per image,", f.n, f.draws, units), "-n"); err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	start := time.Now()
	opts.Progress = newBar(stderr)
	rep, err := approx.Run(p, images, labels, opts)
	if err != nil {
		return err
	}
	if err := rep.WriteFiles(f.out); err != nil {
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
// [0,1] (NCHW) and their labels.
func testImages(s *data.Set, n int, in models.Shape) ([]float32, []uint8, error) {
	if n > s.N {
		return nil, nil, cli.Usagef("-n %d: the test set has %d images", n, s.N)
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
