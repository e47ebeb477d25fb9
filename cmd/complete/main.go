// Command complete classifies and completes MNIST test images with parts
// hidden, using a trained DCIM's forward chain (a classifier) and reverse
// chain (a class-conditional image model) together.
//
//	go run ./cmd/complete -model RUN_DIR [-mask all|bottom|top|left|right|centre|random|png:FILE] [-method all|zero|mean|generative|joint|iterate|mixture|synthesis|generative-is|joint-is] [-n N] [-size 14] [-p 0.9] [-steps 3] [-draws 32] [-beta 1] [-seed 1] [-data DIR] [-out DIR] [-json]
//
// It prints the accuracy of every mask × method and the per-pixel BCE of
// the completed pixels, and writes complete.png (original, masked and each
// method's completion of the first -show images, labelled with the
// predicted class and probability) and complete.npz into -out (default:
// the run folder). The same flags give byte-identical outputs. With
// -fit E it first fine-tunes the forward chain for E epochs on training
// images hidden by the -mask kinds and saves the model into -out, a new
// folder (a non-empty one only with -force, and never the -model folder).
// Flags whose estimated memory is above -max-memory (default 2GiB) are
// refused before any work.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"dcim/cmd/internal/cli"
	"dcim/data"
	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"
	"dcim/train/complete"
	"dcim/train/sampling"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the flags.
type options struct {
	model, out, dataDir string
	mask, method        string
	n, size, steps      int
	draws, show, scale  int
	p, beta             float64
	fitLR, fitWhole     float64
	fit                 int
	set                 string
	seed                uint64
	json                bool
	inference           string
	inf                 graph.Inference
	force               bool
	maxMemory           *int64
}

func newCommand() *cli.Command {
	return cli.New("complete", "-model RUN_DIR [flags]",
		"Classifies and completes MNIST test images with parts hidden, with a DCIM's forward\n"+
			"and reverse chains, and writes complete.png and complete.npz.")
}

func parseFlags(c *cli.Command, args []string, stdout io.Writer) (options, error) {
	fs := c.Flags
	var o options
	fs.StringVar(&o.model, "model", "", "run `folder` holding model.npz and model.json (required)")
	fs.StringVar(&o.mask, "mask", "all", "`kind` of the missing part: bottom, top, left, right (halves), centre (a -size square), random (a -p fraction), png:FILE (white = observed), all (every built-in kind) or a comma-separated list")
	fs.StringVar(&o.method, "method", "all", "`method`: zero, mean, generative, joint, iterate, mixture, synthesis, generative-is, joint-is (generative and joint with the DCIM's importance-sampled likelihood of the observed pixels, -draws samples of the forward chain per image), all (all but synthesis and the -is methods; mixture only for eq. (22) models) or a comma-separated list")
	fs.IntVar(&o.n, "n", 0, "use the first `N` test images (0: all)")
	fs.IntVar(&o.size, "size", 14, "side `K` of the centre square")
	c.Float(&o.p, "p", 0.9, fractionRange, "fraction of pixels the random mask hides")
	fs.IntVar(&o.steps, "steps", 3, "rounds `T` of the iterate method")
	c.Float(&o.beta, "beta", 1, betaRange, "weight β of the generative log-likelihood in the joint and synthesis methods (1: the plain product)")
	fs.IntVar(&o.fit, "fit", 0, "first fine-tune the forward chain for `E` epochs on training images hidden by the -mask kinds (mean-filled) and save the model into -out, a new folder")
	c.Float(&o.fitLR, "fit-lr", 1e-4, fitLRRange, "Adam learning rate of -fit")
	c.Float(&o.fitWhole, "fit-whole", -1, fitWholeRange, "fraction of -fit examples shown whole (below 0: as likely as each mask)")
	fs.BoolVar(&o.force, "force", false, "with -fit, write the fine-tuned model into a non-empty -out folder")
	fs.StringVar(&o.set, "set", "test", "MNIST `part` to evaluate: test or train")
	fs.StringVar(&o.inference, "inference", "meanfield", "how the chains pass states on: meanfield (the paper's approximation (2)) or moments (means and variances) in the forward chain and the reverse chain from the class")
	fs.IntVar(&o.draws, "draws", 32, "draws `S` of layer d-1 per class for the mixture method, and samples of the forward chain per image for the -is methods")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random masks, the mixture's draws and the importance samples")
	fs.IntVar(&o.show, "show", 10, "images drawn in complete.png and kept whole in complete.npz")
	fs.IntVar(&o.scale, "scale", 2, "enlarge each pixel to scale×scale in complete.png")
	fs.StringVar(&o.dataDir, "data", "", "MNIST `folder` (default: found as the data package does)")
	fs.StringVar(&o.out, "out", "", "output `folder` (default: the -model folder)")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON instead of a table")
	o.maxMemory = c.MaxMemory()
	if err := c.Parse(args, stdout, false); err != nil {
		return o, err
	}
	var err error
	switch {
	case o.model == "":
		err = errors.New("-model RUN_DIR is required")
	case o.n < 0:
		err = fmt.Errorf("-n %d: want 0 (all) or more", o.n)
	case o.size < 1:
		err = fmt.Errorf("-size %d: want at least 1", o.size)
	case o.steps < 0 || o.steps > 100:
		err = fmt.Errorf("-steps %d: want 0…100", o.steps)
	case o.draws < 1 || o.draws > 4096:
		err = fmt.Errorf("-draws %d: want 1…4096", o.draws)
	case o.set != "test" && o.set != "train":
		err = fmt.Errorf("-set %q: want test or train", o.set)
	case o.fit < 0 || o.fit > 1000:
		err = fmt.Errorf("-fit %d: want 0…1000 epochs", o.fit)
	case o.fit > 0 && o.out == "":
		err = errors.New("-fit writes the fine-tuned model into a new folder: give it with -out")
	case o.force && o.fit == 0:
		err = errors.New("-force is for -fit (complete.png and complete.npz are always written over)")
	case o.show < 0 || o.show > 100:
		err = fmt.Errorf("-show %d: want 0…100", o.show)
	case o.scale < 1 || o.scale > 32:
		err = fmt.Errorf("-scale %d: want 1…32", o.scale)
	}
	if err == nil {
		_, err = complete.ParseMethods(o.method, true)
	}
	if err == nil {
		if o.inf, err = graph.ParseNetInference(o.inference); err != nil {
			err = fmt.Errorf("-inference: %w", err)
		}
	}
	if err != nil {
		return o, &cli.UsageError{Err: err}
	}
	if o.out == "" {
		o.out = o.model
	}
	return o, nil
}

// The ranges of the float flags.
var (
	fractionRange = models.Range{Min: 0, Max: 1, MaxOpen: true}
	betaRange     = models.Range{Min: 0, MinOpen: true, Max: 1000}
	fitLRRange    = models.Range{Min: 0, MinOpen: true, Max: 1}
	fitWholeRange = models.Range{Min: -1, Max: 1, MaxOpen: true}
)

// checkFitOut refuses, before any work, a -fit whose -out would write the
// fine-tuned model over a model the user has: the -model folder itself,
// whatever -force says, or a non-empty folder without -force.
func checkFitOut(o options) error {
	if o.fit == 0 {
		return nil
	}
	st, err := os.Stat(o.out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("-out: %w", err)
	case !st.IsDir():
		return cli.Usagef("-out %s is not a folder", o.out)
	}
	if mst, err := os.Stat(o.model); err == nil && os.SameFile(st, mst) {
		return cli.Usagef("-out %s is the -model folder: -fit writes the fine-tuned model into a new folder, never over the model it starts from", o.out)
	}
	es, err := os.ReadDir(o.out)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if len(es) > 0 && !o.force {
		return cli.Usagef("-out %s is not empty (holds %s): give a new folder, or -force to write the fine-tuned model into it", o.out, es[0].Name())
	}
	return nil
}

// checkSize refuses a picture of more than sampling.MaxPixels before anything is
// computed: per mask, 2 + methods rows of -show tiles.
func checkSize(o options, p *graph.Params, masks, methods int) error {
	if n := sampling.TilePixels(int64(masks)*int64(2+methods)*int64(o.show), p.Input, o.scale); n > sampling.MaxPixels {
		return cli.Usagef("-show %d with -scale %d, %d mask(s) and %d method(s) makes a %d-Mpixel complete.png; the limit is %d Mpixels: lower -show or -scale", o.show, o.scale, masks, methods, n>>20, sampling.MaxPixels>>20)
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	c := newCommand()
	return c.Main(stderr, func() error {
		o, err := parseFlags(c, args, stdout)
		if err != nil {
			return err
		}
		return completeImages(o, stdout, stderr)
	})
}

func completeImages(o options, stdout, stderr io.Writer) error {
	if err := checkFitOut(o); err != nil {
		return err
	}
	p, meta, err := checkpoint.Load(o.model)
	if err != nil {
		return err
	}
	masks, err := complete.ParseMasks(o.mask, complete.MaskOptions{Size: o.size, P: o.p, Seed: o.seed}, p.Input.H, p.Input.W)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	// -method all includes mixture for models trained with eq. (22)'s term.
	terms, err := meta.TrainedTerms()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(o.model, checkpoint.JSONName), err)
	}
	methods, err := complete.ParseMethods(o.method, terms.Has(models.ReverseDraw))
	if err != nil {
		return err
	}
	if err := checkSize(o, p, len(masks), len(methods)); err != nil {
		return err
	}
	m, err := data.Load(data.Options{Dir: o.dataDir})
	if err != nil {
		return err
	}
	test := m.Test
	if o.set == "train" {
		test = m.Train
	}
	if o.n > 0 {
		if test, err = test.Subset(o.n); err != nil {
			return fmt.Errorf("-n %d: %w", o.n, err)
		}
	}
	cfg := complete.Config{
		Masks: masks, Methods: methods, Steps: o.steps, Draws: o.draws,
		Seed: o.seed, Show: o.show, Beta: o.beta, Inference: o.inf,
	}
	if err := checkMemory(o, p, m, test.N, cfg); err != nil {
		return err
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(len(masks)*test.N,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("completing"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("img"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(25),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		)
		cfg.Progress = func(done, _ int) { bar.Set(done) }
	}
	fill := complete.PixelMean(m.Train)
	if o.fit > 0 {
		if err := fit(o, p, meta, m.Train, masks, fill, stderr); err != nil {
			return err
		}
	}
	res, err := complete.Evaluate(p, test, fill, cfg)
	if err != nil {
		return err
	}
	if err := write(o, res); err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(stdout, "model %s: %s, %s encoding", o.model, meta.Arch, meta.Encoding)
	if meta.Objective != "" {
		fmt.Fprintf(stdout, ", trained %s", meta.Objective)
	}
	fmt.Fprintln(stdout)
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	if res.Show > 0 {
		fmt.Fprintf(stdout, "\nwrote %s and %s\n", filepath.Join(o.out, "complete.png"), filepath.Join(o.out, "complete.npz"))
	} else {
		fmt.Fprintf(stdout, "\nwrote %s\n", filepath.Join(o.out, "complete.npz"))
	}
	return nil
}

// checkMemory refuses flags whose memory, estimated from them and the
// model's shapes before anything is computed, is above -max-memory: the
// data loaded, Evaluate's graphs, buffers and results, and the fit.
func checkMemory(o options, p *graph.Params, m *data.MNIST, n int, cfg complete.Config) error {
	live := int64(m.Train.N+m.Test.N) * int64(m.Train.PixelsPerImage()+1)
	live = graph.SatAdd(live, complete.Memory(p, n, cfg, o.scale))
	if o.fit > 0 {
		live = graph.SatAdd(live, complete.FitMemory(p, complete.FitOptions{}))
	}
	units, _ := p.Arch.StateUnits(p.Input, p.Classes)
	return cli.CheckMemory(live, *o.maxMemory,
		fmt.Sprintf("%d images with %d mask(s), %d method(s), -draws %d, -show %d and -scale %d, for a model of %d state units per image,", n, len(cfg.Masks), len(cfg.Methods), o.draws, o.show, o.scale, units),
		"-n", "-draws", "-show", "-scale")
}

// fit fine-tunes the forward chain on masked training images and saves
// the model into the output folder.
func fit(o options, p *graph.Params, meta checkpoint.Meta, train *data.Set, masks []*complete.Mask, fill []float32, stderr io.Writer) error {
	err := complete.FitMasked(p, train, masks, fill, complete.FitOptions{
		Epochs: o.fit, LR: o.fitLR, Seed: o.seed, Whole: o.fitWhole,
		Progress: func(epoch int, ce float64) {
			fmt.Fprintf(stderr, "fit epoch %d/%d: cross-entropy %.4f\n", epoch, o.fit, ce)
		},
	})
	if err != nil {
		return err
	}
	if meta.Extra == nil {
		meta.Extra = map[string]any{}
	}
	meta.Extra["fit_masked"] = map[string]any{"from": o.model, "masks": o.mask, "epochs": o.fit, "lr": o.fitLR, "whole": o.fitWhole, "seed": o.seed}
	return checkpoint.Save(o.out, p, meta)
}

// write saves complete.png (when images are kept) and complete.npz.
func write(o options, res *complete.Result) error {
	var png []byte
	if res.Show > 0 {
		tabs, err := res.Tableaux()
		if err != nil {
			return err
		}
		if png, err = sampling.EncodePNG(tabs, o.scale); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if png != nil {
		if err := checkpoint.WriteFileAtomic(filepath.Join(o.out, "complete.png"), png, 0o644); err != nil {
			return err
		}
	}
	return checkpoint.WriteNPZArrays(filepath.Join(o.out, "complete.npz"), res.Arrays())
}
