// Command bench measures the training and sampling throughput of the DCIM
// graphs and the peak memory of each, on synthetic MNIST-sized input:
//
//	go run ./cmd/bench                          # all models × objectives, batch 64
//	go run -tags openblas ./cmd/bench -json     # OpenBLAS build, JSON array
//	go run ./cmd/bench -model cnn -objective generative -repeats 9
//	go run -tags openblas ./cmd/bench -model cnn -cpuprofile /tmp/bench   # then go tool pprof -top
//	for n in 1 2 4 8 16; do go run ./cmd/bench -model cnn -threads $n -json; done   # scaling
//	go run ./cmd/bench -model cnn -conv im2col   # without Winograd
//	go run ./cmd/bench -model cnn -objective none -sample=false -draws 200   # Monte-Carlo forward chain alone
//	DCIM_SGEMM=avx2 go run ./cmd/bench -model cnn      # AVX2 kernels on an AVX-512 CPU
//	DCIM_SGEMM=generic go run ./cmd/bench -model cnn   # every assembly kernel off: the pure-Go code
//
// The header line names the kernels that ran: the BLAS (with the SGEMM's
// micro-kernel, or "assembly kernels off (DCIM_SGEMM=generic)") and the
// Winograd transforms.
//
// A training step is what train does per batch: SetBatch, DrawNoise, one
// run of the graph (forward chain, reverse chain, loss and all gradients),
// then an Adam update (train.Adam) of every parameter. Sampling is the
// paper's "layer" mode: a generator graph from the class layer down to the
// image that draws layer d−1 (graph.NewGenerator). The Monte-Carlo row is
// the forward chain that cmd/approx runs: graph.NewForward with
// MonteCarlo inference, every hidden layer drawn, on a batch of
// max(1, batch/draws) images each repeated -draws times; its throughput is
// in images·draws (rows) per second.
//
// Every configuration runs in a fresh child process of this command, so that
// its peak resident set size (VmHWM of /proc/self/status) is its own. Each
// child runs -warmup steps, then -repeats timed repeats of -steps steps, and
// reports the median throughput over the repeats in images per second.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"dcim/cmd/internal/cli"
	"dcim/data"
	"dcim/graph"
	"dcim/graph/cputime"
	"dcim/models"
	"dcim/train"

	"gorgonia.org/tensor"
)

// Result is one measured configuration, one element of the -json output.
type Result struct {
	Model     string  `json:"model"`
	Objective string  `json:"objective"`       // an objective, "sample-layer" for sampling or "forward-mc" for the Monte-Carlo forward chain
	Batch     int     `json:"batch"`           // rows of a graph run: images, or images·draws for forward-mc
	Draws     int     `json:"draws,omitempty"` // forward-mc: draws per image
	ImgPerS   float64 `json:"img_per_s"`       // median over the repeats
	MsPerStep float64 `json:"ms_per_step"`     // median over the repeats
	// CPUMsPerStep is the process's CPU time (user and system) per step,
	// median over the repeats: on a busy machine it says what a step
	// costs better than wall time does. It includes the time the graph's
	// idle workers poll for the next parallel loop (DCIM_SPIN=0 in the
	// environment makes them sleep instead, at a cost in wall time).
	CPUMsPerStep float64   `json:"cpu_ms_per_step"`
	Repeats      []float64 `json:"repeats_img_per_s"`
	PeakRSSMB    float64   `json:"peak_rss_mb"`
	BLAS         string    `json:"blas"`
	Procs        int       `json:"gomaxprocs"`
	Conv         string    `json:"conv"` // convolution algorithm (graph.ConvAlgorithm)
}

// config is what one child measures.
type config struct {
	Model, Objective string
	Batch            int
	Warmup, Repeats  int
	Steps            int
	Seed             uint64
	Profile          string // CPU profile file, or ""
	Threads          int    // GOMAXPROCS of the child; 0 leaves Go's default
	Conv             string // convolution algorithm
	Draws            int    // forward-mc: draws per image
}

// The two rows that are not training steps.
const (
	sampleObjective = "sample-layer"
	mcObjective     = "forward-mc"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// maxBatch bounds -batch: a CNN training step holds about 0.5 MB of
// states and gradients per image, so 4096 images stay near 2 GB.
const maxBatch = 4096

func run(args []string, stdout, stderr io.Writer) int {
	c := cli.New("bench", "[flags]",
		"Measures the training and sampling throughput of the DCIM graphs on synthetic\n"+
			"MNIST-sized input, each configuration in a child process of its own.")
	fs := c.Flags
	model := fs.String("model", "all", "dense, cnn or all")
	objective := fs.String("objective", "all", "discriminative, generative, generative-sampled, all, or none (comma-separated list allowed)")
	batch := fs.Int("batch", 64, "batch size")
	warmup := fs.Int("warmup", 3, "untimed steps before timing")
	repeats := fs.Int("repeats", 5, "timed repeats; the median is reported")
	steps := fs.Int("steps", 0, "steps per repeat (0: about 1 s of work, at least 2)")
	sample := fs.Bool("sample", true, "also measure sampling throughput (layer mode, batch -batch)")
	mc := fs.Bool("mc", true, "also measure the Monte-Carlo forward chain of cmd/approx (images·draws per second)")
	draws := fs.Int("draws", 16, "draws per image of the Monte-Carlo forward chain (-mc)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	seed := fs.Uint64("seed", 1, "seed of parameters, data and noise")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps of each configuration to `prefix`-model-objective.pprof")
	threads := fs.Int("threads", 0, "GOMAXPROCS of each measured process, for a scaling table (0: Go's default, the number of cores)")
	conv := fs.String("conv", "auto", "convolution algorithm: auto, im2col or winograd (Winograd F(2×2,3×3) wherever it applies)")
	child := fs.String("child", "", "internal: measure one configuration given as JSON and print its result")
	maxMemory := c.MaxMemory()
	var results []Result
	code := c.Main(stderr, func() error {
		if err := c.Parse(args, stdout, false); err != nil {
			return err
		}
		if *child != "" {
			return runChild(*child, stdout)
		}
		cfgs, err := configs(*model, *objective, *sample, *mc)
		if err != nil {
			return &cli.UsageError{Err: err}
		}
		switch {
		case *batch < 1 || *batch > maxBatch:
			return cli.Usagef("-batch %d: want 1…%d", *batch, maxBatch)
		case *repeats < 1:
			return cli.Usagef("-repeats %d: want at least 1", *repeats)
		case *warmup < 0 || *steps < 0 || *threads < 0:
			return cli.Usagef("-warmup, -steps and -threads must not be negative")
		case *draws < 1 || *draws > maxBatch:
			return cli.Usagef("-draws %d: want 1…%d", *draws, maxBatch)
		}
		if _, err := graph.ParseConvAlgorithm(*conv); err != nil {
			return &cli.UsageError{Err: err}
		}
		for i := range cfgs {
			cfgs[i].Threads, cfgs[i].Conv = *threads, *conv
			if cfgs[i].Objective == mcObjective {
				cfgs[i].Draws = *draws
			}
			cfgs[i].Batch = *batch
			live, err := memory(cfgs[i])
			if err != nil {
				return err
			}
			if err := cli.CheckMemory(live, *maxMemory, fmt.Sprintf("-batch %d for %s %s", *batch, cfgs[i].Model, cfgs[i].Objective), "-batch"); err != nil {
				return err
			}
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		results, err = measureAll(self, cfgs, *batch, *warmup, *repeats, *steps, *seed, *profile, *asJSON, stdout, stderr)
		return err
	})
	if code != cli.ExitOK || *child != "" || !*asJSON || len(results) == 0 {
		return code
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

// measureAll measures each configuration in a child process, printing a
// table row for each unless asJSON.
func measureAll(self string, cfgs []config, batch, warmup, repeats, steps int, seed uint64, profile string, asJSON bool, stdout, stderr io.Writer) ([]Result, error) {
	if !asJSON && len(cfgs) > 0 {
		procs := runtime.GOMAXPROCS(0)
		if cfgs[0].Threads > 0 {
			procs = cfgs[0].Threads
		}
		fmt.Fprintf(stdout, "BLAS %s, GOMAXPROCS %d, conv %s (Winograd transforms %s), batch %d, median of %d repeats after %d warm-up steps\n",
			graph.BLAS, procs, cfgs[0].Conv, graph.WinoTransforms(), batch, repeats, warmup)
		if i := slices.IndexFunc(cfgs, func(c config) bool { return c.Objective == mcObjective }); i >= 0 {
			d := cfgs[i].Draws
			fmt.Fprintf(stdout, "forward-mc: %d images × %d draws a run, img/s counts images·draws\n", max(1, batch/d), d)
		}
		fmt.Fprintf(stdout, "%-6s %-19s %10s %10s %12s %10s\n", "model", "objective", "img/s", "ms/step", "cpu ms/step", "peak MB")
	}
	var results []Result
	for _, c := range cfgs {
		c.Batch, c.Warmup, c.Repeats, c.Steps, c.Seed = batch, warmup, repeats, steps, seed
		if profile != "" {
			c.Profile = fmt.Sprintf("%s-%s-%s.pprof", profile, c.Model, c.Objective)
		}
		r, err := spawn(self, c, stderr)
		if err != nil {
			return results, fmt.Errorf("%s %s: %w", c.Model, c.Objective, err)
		}
		results = append(results, r)
		if !asJSON {
			fmt.Fprintf(stdout, "%-6s %-19s %10.1f %10.2f %12.2f %10.1f\n", r.Model, r.Objective, r.ImgPerS, r.MsPerStep, r.CPUMsPerStep, r.PeakRSSMB)
		}
	}
	return results, nil
}

// configs expands the -model and -objective flags and adds the sampling
// and Monte-Carlo rows.
func configs(model, objective string, sample, mc bool) ([]config, error) {
	ms := []string{"dense", "cnn"}
	if model != "all" {
		ms = strings.Split(model, ",")
		for _, m := range ms {
			if _, _, err := arch(m); err != nil {
				return nil, err
			}
		}
	}
	objs := []string{"discriminative", "generative", "generative-sampled"}
	switch objective {
	case "all":
	case "none":
		objs = nil
	default:
		objs = strings.Split(objective, ",")
		for _, o := range objs {
			if _, err := graph.ParseObjective(o); err != nil {
				return nil, err
			}
		}
	}
	var cs []config
	for _, m := range ms {
		for _, o := range objs {
			cs = append(cs, config{Model: m, Objective: o})
		}
		if sample {
			cs = append(cs, config{Model: m, Objective: sampleObjective})
		}
		if mc {
			cs = append(cs, config{Model: m, Objective: mcObjective})
		}
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("nothing to measure: -objective none with -sample=false and -mc=false")
	}
	return cs, nil
}

func arch(model string) (models.Arch, graph.Encoding, error) {
	switch model {
	case "dense":
		return models.MNISTDense(), graph.Binary, nil
	case "cnn":
		return models.MNISTCNN(), graph.Spin, nil
	}
	return nil, 0, fmt.Errorf("unknown model %q (want dense, cnn or all)", model)
}

// memory estimates the bytes a child measuring c holds: its graph for a
// batch (with gradients for a training step, which also holds the
// parameters' gradients and Adam's two moments).
func memory(c config) (int64, error) {
	a, enc, err := arch(c.Model)
	if err != nil {
		return 0, err
	}
	p, err := graph.NewParams(a, models.MNISTInput, 10, enc, tensor.Float32, 1)
	if err != nil {
		return 0, err
	}
	switch c.Objective {
	case sampleObjective:
		return graph.StateBytes(p, c.Batch, graph.GraphValues), nil
	case mcObjective:
		return graph.StateBytes(p, max(1, c.Batch/c.Draws)*c.Draws, graph.GraphValues), nil
	}
	var params int64
	for _, t := range p.Tensors() {
		params += int64(t.Shape().TotalSize())
	}
	return graph.SatAdd(graph.StateBytes(p, c.Batch, graph.GraphValues), graph.SatMul(params, 4, 4)), nil
}

// spawn runs one configuration in a child process and decodes its result.
func spawn(self string, c config, stderr io.Writer) (Result, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return Result{}, err
	}
	cmd := exec.Command(self, "-child", string(spec))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return Result{}, err
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return Result{}, fmt.Errorf("child output %q: %w", out.String(), err)
	}
	return r, nil
}

// runChild measures the configuration spec and prints its Result as JSON.
func runChild(spec string, stdout io.Writer) error {
	var c config
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		return cli.Usagef("-child: %v", err)
	}
	r, err := measure(c)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(r)
}

// measure builds the graph of c and times it.
func measure(c config) (Result, error) {
	a, enc, err := arch(c.Model)
	if err != nil {
		return Result{}, err
	}
	if c.Threads > 0 {
		runtime.GOMAXPROCS(c.Threads)
	}
	conv, err := graph.ParseConvAlgorithm(c.Conv)
	if err != nil {
		return Result{}, err
	}
	graph.SetConvAlgorithm(conv)
	p, err := graph.NewParams(a, models.MNISTInput, 10, enc, tensor.Float32, c.Seed)
	if err != nil {
		return Result{}, err
	}
	var step func() error
	rows := c.Batch
	switch c.Objective {
	case sampleObjective:
		step, err = sampler(p, c)
	case mcObjective:
		step, rows, err = mcForward(p, c)
	default:
		step, err = trainer(p, c)
	}
	if err != nil {
		return Result{}, err
	}
	for range c.Warmup {
		if err := step(); err != nil {
			return Result{}, err
		}
	}
	steps := c.Steps
	if steps == 0 { // about one second per repeat, judged from one step
		t0 := time.Now()
		if err := step(); err != nil {
			return Result{}, err
		}
		steps = max(2, int(math.Ceil(1/time.Since(t0).Seconds())))
	}
	if c.Profile != "" {
		f, err := os.Create(c.Profile)
		if err != nil {
			return Result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return Result{}, err
		}
		defer pprof.StopCPUProfile()
	}
	var rates, ms, cpu []float64
	for range c.Repeats {
		t0, c0 := time.Now(), cputime.Process()
		for range steps {
			if err := step(); err != nil {
				return Result{}, err
			}
		}
		sec := time.Since(t0).Seconds()
		rates = append(rates, float64(steps*rows)/sec)
		ms = append(ms, 1000*sec/float64(steps))
		cpu = append(cpu, (cputime.Process()-c0).Seconds()*1000/float64(steps))
	}
	peak, err := peakRSS()
	if err != nil {
		return Result{}, err
	}
	return Result{
		Model: c.Model, Objective: c.Objective, Batch: rows, Draws: c.Draws,
		ImgPerS: median(rates), MsPerStep: median(ms), CPUMsPerStep: median(cpu), Repeats: rates,
		PeakRSSMB: peak, BLAS: graph.BLAS, Procs: runtime.GOMAXPROCS(0), Conv: conv.String(),
	}, nil
}

// trainer returns one training step of c's objective: train.Step, the
// step the training loop takes, on batches of synthetic images.
func trainer(p *graph.Params, c config) (func() error, error) {
	obj, err := graph.ParseObjective(c.Objective)
	if err != nil {
		return nil, err
	}
	step, err := train.NewStep(p, graph.Config{Objective: obj, Batch: c.Batch}, train.DefaultLR)
	if err != nil {
		return nil, err
	}
	set := data.Synthetic(max(c.Batch, 1024), p.Classes, p.Input.H, int64(c.Seed))
	it := data.NewIterator(set, c.Batch, c.Seed, true)
	rng := rand.New(rand.NewPCG(c.Seed, 2))
	epoch := 0
	return func() error {
		images, labels, ok := it.Next()
		if !ok {
			epoch++
			it.Reset(epoch)
			if images, labels, ok = it.Next(); !ok {
				return fmt.Errorf("empty synthetic set")
			}
		}
		r, err := step.Run(images, labels, rng)
		if err != nil {
			return err
		}
		if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
			return fmt.Errorf("loss is %v", r.Loss)
		}
		return nil
	}, nil
}

// sampler returns one batch of class-conditional samples in the paper's
// "layer" mode: layer d−1 drawn, mean field below it.
func sampler(p *graph.Params, c config) (func() error, error) {
	d := p.Depth()
	var draw []int
	if d >= 2 {
		draw = []int{d - 1}
	}
	gen, err := graph.NewGenerator(p, d, draw, c.Batch)
	if err != nil {
		return nil, err
	}
	classes := make([]uint8, c.Batch)
	for i := range classes {
		classes[i] = uint8(i % p.Classes)
	}
	if err := gen.SetClasses(classes); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(c.Seed, 3))
	return func() error {
		gen.DrawNoise(rng)
		return gen.Run()
	}, nil
}

// mcForward returns one run of the Monte-Carlo forward chain as cmd/approx
// runs it, and its rows: max(1, batch/draws) synthetic images, each
// repeated draws times, set as the input, fresh noise for every drawn
// layer, one run of the graph.
func mcForward(p *graph.Params, c config) (func() error, int, error) {
	per := max(1, c.Batch/c.Draws)
	f, err := graph.NewForward(p, per*c.Draws, graph.MonteCarlo)
	if err != nil {
		return nil, 0, err
	}
	set := data.Synthetic(per, p.Classes, p.Input.H, int64(c.Seed))
	it := data.NewIterator(set, per, c.Seed, false)
	images, _, ok := it.Next()
	if !ok {
		return nil, 0, fmt.Errorf("empty synthetic set")
	}
	size := p.Input.Size()
	rows := make([]float32, 0, per*c.Draws*size)
	for i := range per {
		for range c.Draws {
			rows = append(rows, images[i*size:(i+1)*size]...)
		}
	}
	rng := rand.New(rand.NewPCG(c.Seed, 4))
	return func() error {
		if err := f.SetImages(rows); err != nil {
			return err
		}
		f.DrawNoise(rng)
		return f.Run()
	}, per * c.Draws, nil
}

// peakRSS reads this process's peak resident set size (VmHWM) in MiB.
func peakRSS() (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, nil // not Linux: no peak to report (0)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, sc.Err()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
