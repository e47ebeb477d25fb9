// Command sample draws class-conditional images from a trained DCIM's
// reverse model (the paper's Figures 2 and 3) and classifies them with its
// forward model.
//
//	go run ./cmd/sample -model RUN_DIR [-mode all|chain|layer|mean] [-per-class 10] [-seed 1] [-scale 2] [-out DIR] [-reconstruct K] [-judge RUN_DIR] [-json]
//
// It writes samples.png and samples.npz (images N×28×28 float32 in [0,1],
// labels, pred, prob) into -out (default: the run folder); with -mode all
// also samples-chain.png/.npz, samples-layer.png/.npz and
// samples-mean.png/.npz, one per mode. With -reconstruct K it also writes
// reconstruct.png and reconstruct.npz: K MNIST test images beside their
// reconstruction through forward-then-reverse. It prints, for each mode,
// how many samples the forward model assigns to their class and the
// per-pixel standard deviation across a class's samples (-json: as JSON);
// with -judge, also how many another run's forward model assigns to their
// class.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"dcim/cmd/internal/cli"
	"dcim/data"
	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"
	"dcim/train/sampling"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the validated flags.
type options struct {
	model, out, dataDir string
	judge               string
	modes               []sampling.Mode
	all                 bool
	perClass, scale     int
	reconstruct, cols   int
	seed                uint64
	json                bool
	inference           string
	inf                 graph.Inference
	maxMemory           *int64
}

func newCommand() *cli.Command {
	return cli.New("sample", "-model RUN_DIR [flags]",
		"Draws class-conditional images from a DCIM checkpoint's reverse model, labels each\n"+
			"with the forward model's class and probability, and writes samples.png and samples.npz.")
}

func parseFlags(c *cli.Command, args []string, stdout io.Writer) (options, error) {
	fs := c.Flags
	var o options
	var mode string
	fs.StringVar(&o.model, "model", "", "run `folder` holding model.npz and model.json (required)")
	fs.StringVar(&mode, "mode", "all", "`mode`: chain (draw every hidden layer, Figure 2 left), layer (draw layer d-1 only, Figure 2 right), mean (no draws: the average digit) or all (the three side by side, plus one file per mode)")
	fs.IntVar(&o.perClass, "per-class", 10, "samples per class: one row per class")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed; the same seed gives byte-identical outputs")
	fs.IntVar(&o.scale, "scale", 2, "enlarge each pixel to scale×scale in the PNGs")
	fs.StringVar(&o.out, "out", "", "output `folder` (default: the -model folder)")
	fs.IntVar(&o.reconstruct, "reconstruct", 0, "also show `K` MNIST test images beside their forward-then-reverse reconstruction (reconstruct.png, reconstruct.npz)")
	fs.StringVar(&o.inference, "inference", "meanfield", "how the chains pass states on: meanfield (the paper's approximation (2)) or moments (means and variances; the mean mode and the forward model's verdicts)")
	fs.BoolVar(&o.json, "json", false, "print the verdicts (per mode: samples classified as their class, per-pixel std) as JSON instead of text")
	fs.StringVar(&o.judge, "judge", "", "also classify the samples with the forward model of this run `folder` (another network, trained apart): a verdict that does not rest on the model's own classifier")
	fs.StringVar(&o.dataDir, "data", "", "MNIST `folder` for -reconstruct (default: found as the data package does)")
	o.maxMemory = c.MaxMemory()
	if err := c.Parse(args, stdout, false); err != nil {
		return o, err
	}
	var err error
	switch {
	case o.model == "":
		err = errors.New("-model RUN_DIR is required")
	case o.perClass < 1 || o.perClass > 1000:
		err = fmt.Errorf("-per-class %d: want 1…1000", o.perClass)
	case o.scale < 1 || o.scale > 32:
		err = fmt.Errorf("-scale %d: want 1…32", o.scale)
	case o.reconstruct < 0 || o.reconstruct > 10000:
		err = fmt.Errorf("-reconstruct %d: want 0…10000", o.reconstruct)
	}
	if err == nil {
		if o.inf, err = graph.ParseNetInference(o.inference); err != nil {
			err = fmt.Errorf("-inference: %w", err)
		}
	}
	if err == nil {
		o.modes, err = sampling.ParseModes(mode)
		o.all = mode == "all"
	}
	if err != nil {
		return o, &cli.UsageError{Err: err}
	}
	if o.out == "" {
		o.out = o.model
	}
	o.cols = min(o.reconstruct, 10)
	return o, nil
}

// checkSize refuses outputs whose PNG would exceed sampling.MaxPixels, before any
// is drawn: the sample grid (classes rows of per-class tiles for each
// mode) and the reconstruction grid (K originals and K reconstructions);
// and flags whose memory, estimated by sampling.Memory (plus the judge's
// classifier with -judge), is above -max-memory.
func checkSize(o options, p, judge *graph.Params) error {
	if n := sampling.TilePixels(int64(p.Classes)*int64(o.perClass)*int64(len(o.modes)), p.Input, o.scale); n > sampling.MaxPixels {
		return cli.Usagef("-per-class %d with -scale %d and %d mode(s) makes a %d-Mpixel image; the limit is %d Mpixels: lower -per-class or -scale", o.perClass, o.scale, len(o.modes), n>>20, sampling.MaxPixels>>20)
	}
	if n := sampling.TilePixels(2*int64(o.reconstruct), p.Input, o.scale); n > sampling.MaxPixels {
		return cli.Usagef("-reconstruct %d with -scale %d makes a %d-Mpixel image; the limit is %d Mpixels: lower -reconstruct or -scale", o.reconstruct, o.scale, n>>20, sampling.MaxPixels>>20)
	}
	need, err := sampling.Memory(p, o.modes, o.perClass, o.scale, o.reconstruct)
	if err != nil {
		return err
	}
	units, _ := p.Arch.StateUnits(p.Input, p.Classes)
	flags, model := fmt.Sprintf("%d mode(s) and -reconstruct %d", len(o.modes), o.reconstruct), fmt.Sprint(units)
	if judge != nil {
		need = graph.SatAdd(need, sampling.JudgeBytes(judge, p.Classes*o.perClass))
		judgeUnits, _ := judge.Arch.StateUnits(judge.Input, judge.Classes)
		flags = fmt.Sprintf("%d mode(s), -reconstruct %d and -judge", len(o.modes), o.reconstruct)
		model = fmt.Sprintf("%d and a judge of %d", units, judgeUnits)
	}
	return cli.CheckMemory(need, *o.maxMemory,
		fmt.Sprintf("-per-class %d with -scale %d, %s, for a model of %s state units per image,", o.perClass, o.scale, flags, model),
		"-per-class", "-scale", "-reconstruct")
}

func run(args []string, stdout, stderr io.Writer) int {
	c := newCommand()
	return c.Main(stderr, func() error {
		o, err := parseFlags(c, args, stdout)
		if err != nil {
			return err
		}
		return sample(o, stdout, stderr)
	})
}

// report is what -json prints.
type report struct {
	Model       string             `json:"model"`
	Arch        string             `json:"arch"`
	Encoding    string             `json:"encoding"`
	Objective   string             `json:"objective,omitempty"`
	Modes       []sampling.Verdict `json:"modes"`
	Reconstruct *reconstructed     `json:"reconstruct,omitempty"`
}

// reconstructed is the forward model's verdict on the reconstructions.
type reconstructed struct {
	N       int    `json:"n"`
	Correct int    `json:"correct"` // classified as their label
	From    string `json:"from"`    // what the reverse chain starts from
}

func sample(o options, stdout, stderr io.Writer) error {
	text := stdout
	if o.json {
		text = io.Discard
	}
	p, meta, err := checkpoint.Load(o.model)
	if err != nil {
		return err
	}
	var judge *graph.Params
	if o.judge != "" {
		if judge, _, err = checkpoint.Load(o.judge); err != nil {
			return fmt.Errorf("-judge: %w", err)
		}
	}
	if err := checkSize(o, p, judge); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	rep := report{Model: o.model, Arch: meta.Arch, Encoding: meta.Encoding, Objective: meta.Objective}
	fmt.Fprintf(text, "model %s: %s, %s encoding", o.model, meta.Arch, meta.Encoding)
	if meta.Objective != "" {
		fmt.Fprintf(text, ", trained %s", meta.Objective)
	}
	fmt.Fprintln(text)
	var tabs []*sampling.Tableau
	for _, m := range o.modes {
		t, err := sampling.GenerateWith(p, m, o.perClass, o.seed, o.inf)
		if err != nil {
			return err
		}
		tabs = append(tabs, t)
		v := t.Verdict()
		if judge != nil {
			n, err := t.JudgedBy(judge)
			if err != nil {
				return fmt.Errorf("-judge %s: %w", o.judge, err)
			}
			v.Judge = &sampling.Judgement{Model: o.judge, Correct: n}
		}
		rep.Modes = append(rep.Modes, v)
		printVerdict(text, v)
		if o.all {
			if err := write(o, "samples-"+string(m), []*sampling.Tableau{t}); err != nil {
				return err
			}
		}
	}
	if err := write(o, "samples", tabs); err != nil {
		return err
	}
	if o.reconstruct > 0 {
		r, err := reconstruct(o, p, meta, stderr)
		if err != nil {
			return err
		}
		rep.Reconstruct = r
		fmt.Fprintf(text, "reconstruct: %d test images, %d reconstructions classified as their label (%s)\n", r.N, r.Correct, r.From)
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return nil
}

// write saves NAME.png and NAME.npz of the tableaux into the output folder.
func write(o options, name string, tabs []*sampling.Tableau) error {
	b, err := sampling.EncodePNG(tabs, o.scale)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(o.out, name+".png"), b, 0o644); err != nil {
		return err
	}
	return sampling.WriteNPZ(filepath.Join(o.out, name+".npz"), tabs)
}

// printVerdict writes one mode's verdicts: per class the samples
// classified as their class and their mean probability, then the totals
// and the per-pixel standard deviation across a class's samples.
func printVerdict(w io.Writer, v sampling.Verdict) {
	fmt.Fprintf(w, "%-5s class:", v.Mode)
	for _, s := range v.Classes {
		fmt.Fprintf(w, "  %d %d/%d %.2f", s.Class, s.Correct, s.N, s.MeanProb)
	}
	fmt.Fprintf(w, "  | %d/%d classified as their class, per-pixel std %.4f", v.Correct, v.N, v.PixelStd)
	if v.Judge != nil {
		fmt.Fprintf(w, "; %d/%d by %s", v.Judge.Correct, v.N, v.Judge.Model)
	}
	fmt.Fprintln(w)
}

// reconstruct writes reconstruct.png and reconstruct.npz and returns the
// forward model's verdict on the reconstructions.
func reconstruct(o options, p *graph.Params, meta checkpoint.Meta, stderr io.Writer) (*reconstructed, error) {
	m, err := data.Load(data.Options{Dir: o.dataDir, Log: stderr})
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	test := m.Test
	if test.C != p.Input.C || test.H != p.Input.H || test.W != p.Input.W {
		return nil, fmt.Errorf("reconstruct: test images are %d×%d×%d, the model wants %v", test.C, test.H, test.W, p.Input)
	}
	k := min(o.reconstruct, test.N)
	sub, err := test.Subset(k)
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	terms, err := meta.TrainedTerms()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(o.model, checkpoint.JSONName), err)
	}
	// Reconstruct as the model was trained: from a draw of layer d−1
	// (eq. 22) when that is what its reverse chain learned to decode.
	sampled := slices.ContainsFunc(terms, func(t models.Term) bool {
		return t.Kind == models.ReverseDraw && t.Layer == p.Depth()-1
	}) && !terms.Has(models.ReverseLabel)
	r, err := sampling.Reconstruct(p, sub.Batch(nil, 0, sub.N), sub.Labels, o.cols, sampled, o.seed)
	if err != nil {
		return nil, err
	}
	b, err := sampling.EncodePNG([]*sampling.Tableau{r.Tableau}, o.scale)
	if err != nil {
		return nil, err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(o.out, "reconstruct.png"), b, 0o644); err != nil {
		return nil, err
	}
	if err := checkpoint.WriteNPZArrays(filepath.Join(o.out, "reconstruct.npz"), r.Arrays()); err != nil {
		return nil, err
	}
	correct := 0
	for i, c := range r.Labels {
		if r.Pred[i] == c {
			correct++
		}
	}
	return &reconstructed{N: k, Correct: correct, From: r.Tableau.Title}, nil
}
