package traincmd

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"dcim/cmd/internal/cli"
	"dcim/models"
	"dcim/train"
)

// The tests train frozen copies of the paper's networks, so that editing
// models/paper.go never breaks them.
func init() {
	dense := models.MustParse("(512),(512),(10)")
	cnn := models.MustParse("(3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10)")
	for _, e := range []models.Experiment{
		{Name: "zz-traincmd-dense", Arch: dense, Encoding: models.Binary, Objective: models.Generative()},
		{Name: "zz-traincmd-dense-discriminative", Arch: dense, Encoding: models.Binary, Objective: models.Discriminative()},
		{Name: "zz-traincmd-cnn", Arch: cnn, Encoding: models.Spin, Objective: models.Generative()},
		{Name: "zz-traincmd-cnn-sampled", Arch: cnn, Encoding: models.Spin, Objective: models.GenerativeSampled()},
	} {
		models.Register(e)
	}
}

// TestFlagErrors checks that every bad flag gives a usage error naming it,
// before any work.
func TestFlagErrors(t *testing.T) {
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(nonEmpty, "x")
	tests := []struct {
		name string
		args []string
		want string // substring of the error; "" means no error
	}{
		{"defaults", nil, ""},
		{"all flags", []string{"-objective", "generative-sampled", "-epochs", "3", "-batch", "32", "-lr", "0.01", "-seed", "7", "-reverse-weight", "784", "-encoding", "spin", "-arch", "(3,1,8),(20),(10)", "-limit", "100", "-eval-every", "0"}, ""},
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"positional", []string{"extra"}, `unexpected argument "extra"`},
		{"objective", []string{"-objective", "adversarial"}, `-objective: unknown objective "adversarial"`},
		{"epochs", []string{"-epochs", "0"}, "-epochs 0: want at least 1"},
		{"epochs not a number", []string{"-epochs", "ten"}, `invalid value "ten" for flag -epochs`},
		{"batch", []string{"-batch", "-1"}, "-batch -1: want at least 1"},
		{"lr zero", []string{"-lr", "0"}, "-lr 0: want a finite number > 0"},
		{"lr NaN", []string{"-lr", "NaN"}, "-lr NaN: want a finite number > 0"},
		{"lr Inf", []string{"-lr", "+Inf"}, "-lr +Inf: want a finite number > 0"},
		{"lr schedule step", []string{"-lr-schedule", "step:5,8@0.5"}, ""},
		{"lr schedule cosine restarts", []string{"-lr-schedule", "cosine-restarts:2*2"}, ""},
		{"lr schedule unknown", []string{"-lr-schedule", "linear"}, `-lr-schedule: unknown schedule "linear"`},
		{"lr schedule step epochs", []string{"-lr-schedule", "step:5,3"}, `-lr-schedule: "step:5,3": epochs 5 then 3: want them increasing`},
		{"lr schedule restarts multiplier", []string{"-lr-schedule", "cosine-restarts:2*0.5"}, `-lr-schedule: "cosine-restarts:2*0.5": period multiplier "0.5"`},
		{"resume with a schedule", []string{"-resume", nonEmpty, "-lr-schedule", "cosine"}, "drop -lr-schedule"},
		{"reverse weight", []string{"-reverse-weight", "-1"}, "-reverse-weight -1: want a finite number > 0"},
		{"encoding", []string{"-encoding", "ternary"}, `-encoding: unknown encoding "ternary"`},
		{"arch syntax", []string{"-arch", "(512),(512"}, `-arch: arch "(512),(512"`},
		{"arch empty", []string{"-arch", ""}, "-arch"},
		{"arch classes", []string{"-arch", "(512),(5)"}, "top layer (5) has 5 units, want 10 classes"},
		{"arch conv after dense", []string{"-arch", "(50),(3,1,8),(10)"}, "convolution after dense layer 1"},
		{"arch kernel too big", []string{"-arch", "(30,1,8),(10)"}, "kernel 30 larger than input 28×28"},
		{"arch stride", []string{"-arch", "(3,2,8),(10)"}, "stride 2 does not tile input 28×28"},
		{"sampled without hidden layer", []string{"-objective", "generative-sampled", "-arch", "(10)"}, "has none"},
		{"limit negative", []string{"-limit", "-5"}, "-limit -5"},
		{"limit below batch", []string{"-limit", "10"}, "-limit 10 is smaller than -batch 64"},
		{"eval-every", []string{"-eval-every", "-1"}, "-eval-every -1"},
		{"data missing", []string{"-data", filepath.Join(nonEmpty, "nope")}, "-data: stat"},
		{"data a file", []string{"-data", file}, "not a folder"},
		{"out not empty", []string{"-out", nonEmpty}, "is not empty (holds x); give -force"},
		{"out not empty, forced", []string{"-out", nonEmpty, "-force"}, ""},
		{"out a file", []string{"-out", file}, "-out: " + file + " is not a folder"},
		{"resume with flags", []string{"-resume", nonEmpty, "-seed", "3", "-lr", "1"}, "drop -lr, -seed"},
		{"experiment", []string{"-experiment", "zz-traincmd-cnn-sampled", "-epochs", "2"}, ""},
		{"unknown experiment", []string{"-experiment", "no such experiment"}, `unknown experiment "no such experiment"; known: cnn-binary-centred, cnn-binary-generative, cnn-generative,`},
		{"init", []string{"-init", "he"}, `-init "he": want glorot or centred`},
		{"init centred spin", []string{"-init", "centred", "-encoding", "spin"}, "-init centred is for -encoding binary, not spin"},
		{"init centred", []string{"-init", "centred"}, ""},
		{"arch too many parameters", []string{"-arch", "(9223372036854775807),(10)"}, "more than the limit of 33554432"},
		{"arch too large", []string{"-arch", "(1000000),(10)"}, "more than the limit"},
		{"batch too large", []string{"-arch", "(3,1,32),(10)", "-batch", "100000"}, "at most"},
		{"inference", []string{"-inference", "exact"}, `-inference "exact": want meanfield, moments or montecarlo`},
		{"inference montecarlo without a draw gradient", []string{"-inference", "montecarlo"}, `-inference montecarlo draws every hidden layer: give -draw-gradient straight-through or psa`},
		{"inference montecarlo", []string{"-inference", "montecarlo", "-draw-gradient", "psa", "-draws", "2"}, ""},
		{"inference montecarlo, every layer", []string{"-inference", "montecarlo", "-draw-gradient", "straight-through", "-objective", "ce+label+layer:*"}, ""},
		{"reverse draws as data", []string{"-inference", "montecarlo", "-draw-gradient", "psa", "-objective", "ce+layer:*", "-reverse-draws", "data"}, ""},
		{"reverse draws as data under mean field", []string{"-objective", "generative-sampled", "-reverse-draws", "data"}, "-reverse-draws data is for -inference montecarlo, not meanfield"},
		{"reverse draws as data without a drawing term", []string{"-inference", "montecarlo", "-draw-gradient", "psa", "-reverse-draws", "data"}, "-reverse-draws data has no effect"},
		{"reverse draws", []string{"-reverse-draws", "maybe"}, `-reverse-draws "maybe": want gradient or data`},
		{"psa under mean field", []string{"-objective", "generative-sampled", "-draw-gradient", "psa"}, "-draw-gradient psa is for -inference montecarlo, not meanfield"},
		{"draws under moments", []string{"-inference", "moments", "-objective", "generative-sampled", "-draws", "2"}, "-draws 2: the moment method propagates no draws"},
		{"inference moments", []string{"-inference", "moments"}, ""},
		{"mixed objective", []string{"-objective", "ce+0.5*label+0.5*draw:-1+layer"}, ""},
		{"draws", []string{"-objective", "generative-sampled", "-draws", "4", "-draw-gradient", "straight-through"}, ""},
		{"draws zero", []string{"-draws", "0"}, "-draws 0: want 1…64"},
		{"draws without a drawing term", []string{"-draws", "4"}, "-draws 4 has no effect: -objective generative draws no layer"},
		{"draw gradient without a drawing term", []string{"-draw-gradient", "straight-through"}, "-draw-gradient straight-through has no effect: -objective generative draws no layer"},
		{"λ without a reverse term", []string{"-objective", "discriminative", "-reverse-weight", "2"}, "-reverse-weight 2 has no effect: -objective discriminative has no reverse term"},
		{"λ of 1 without a reverse term", []string{"-objective", "discriminative", "-reverse-weight", "1"}, ""},
		{"seed not a number", []string{"-seed", "-1"}, `invalid value "-1" for flag -seed`},
		{"draws negative", []string{"-draws", "-2"}, "-draws -2: want 1…64"},
		{"draws too many", []string{"-draws", "65"}, "-draws 65: want 1…64"},
		{"draws with moments", []string{"-draws", "2", "-inference", "moments"}, "-draws 2: the moment method propagates no draws"},
		{"draws too large a batch", []string{"-arch", "(3,1,32),(10)", "-batch", "4096", "-draws", "64"}, "-batch 4096 with -draws 64"},
		{"draw gradient", []string{"-draw-gradient", "st"}, `-draw-gradient: draw gradient "st": want none, straight-through or psa`},
		{"objective term", []string{"-objective", "ce+0.5*lable"}, `term 2: unknown term "lable"`},
		{"objective layer", []string{"-objective", "ce+draw:7", "-arch", "(50),(10)"}, "layer 7 of a network of depth 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(cli.New("train-dense", "", ""), "zz-traincmd-dense", tc.args, io.Discard)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !cli.IsUsage(err) {
				t.Errorf("error %v is not a usage error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestExperimentAndFlags: -experiment takes the experiment's fields, and
// flags given beside it override them.
func TestExperimentAndFlags(t *testing.T) {
	tests := []struct {
		name, def string
		args      []string
		obj, enc  string
		epochs    int
		schedule  string
		run       string // the run's name
	}{
		{"dense default", "zz-traincmd-dense", nil, "generative", "binary", 10, "constant", "zz-traincmd-dense"},
		{"cnn default", "zz-traincmd-cnn", nil, "generative", "spin", 10, "constant", "zz-traincmd-cnn"},
		{"experiment", "zz-traincmd-dense", []string{"-experiment", "zz-traincmd-cnn-sampled"}, "generative-sampled", "spin", 10, "constant", "zz-traincmd-cnn-sampled"},
		{"flag before", "zz-traincmd-dense", []string{"-epochs", "3", "-experiment", "zz-traincmd-cnn-sampled"}, "generative-sampled", "spin", 3, "constant", "zz-traincmd-cnn-sampled+epochs=3"},
		{"flag after", "zz-traincmd-dense", []string{"-experiment", "zz-traincmd-dense-discriminative", "-encoding", "spin"}, "discriminative", "spin", 10, "constant", "zz-traincmd-dense-discriminative+encoding=spin"},
		{"schedule before", "zz-traincmd-dense", []string{"-lr-schedule", "cosine", "-experiment", "zz-traincmd-cnn-sampled"}, "generative-sampled", "spin", 10, "cosine", "zz-traincmd-cnn-sampled+lr-schedule=cosine"},
		{"the experiment's own value", "zz-traincmd-cnn", []string{"-objective", "ce+label", "-epochs", "10"}, "generative", "spin", 10, "constant", "zz-traincmd-cnn"},
		{"overrides in table order", "zz-traincmd-cnn", []string{"-seed", "3", "-reverse-weight", "2", "-arch", "(3,1,8), (20),(10)"}, "generative", "spin", 10, "constant", "zz-traincmd-cnn+seed=3,reverse-weight=2,arch=(3,1,8),(20),(10)"},
		{"a run setting is not in the name", "zz-traincmd-cnn", []string{"-eval-every", "7"}, "generative", "spin", 10, "constant", "zz-traincmd-cnn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := parse(cli.New("train-x", "", ""), tc.def, tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			s := opts.Settings
			if s.Objective != tc.obj || s.Encoding != tc.enc || s.Epochs != tc.epochs || s.LR != train.DefaultLR || s.Batch != 64 || s.LRSchedule != tc.schedule {
				t.Errorf("settings %+v", s)
			}
			if s.Name != tc.run {
				t.Errorf("run name %q, want %q", s.Name, tc.run)
			}
			if !strings.HasPrefix(s.Out, filepath.Join("runs", train.PathName(tc.run)+"-")) {
				t.Errorf("default -out %q, want runs/%s-<time>", s.Out, train.PathName(tc.run))
			}
		})
	}
}

// TestHelp: -h lists every flag and every experiment.
func TestHelp(t *testing.T) {
	var help strings.Builder
	if _, err := parse(cli.New("train-cnn", "[flags]", ""), "cnn-generative", []string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: error %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-experiment", "-objective", "-epochs", "-batch", "-lr", "-lr-schedule", "-seed", "-reverse-weight", "-encoding", "-arch", "-data", "-limit", "-eval-every", "-out", "-resume", "-force", `(default "spin")`,
		"dense-discriminative", "dense-generative", "cnn-generative", "cnn-generative-sampled"} {
		if !strings.Contains(help.String(), name) {
			t.Errorf("-h does not mention %s", name)
		}
	}
}

// TestEveryExperimentChecks: every registered experiment, the paper's and
// the ablations (and a new file's), is a valid set of training settings —
// its schedule, draw gradient, initialisation and sizes included — so that
// a slip in a declaration fails here rather than when a run starts.
func TestEveryExperimentChecks(t *testing.T) {
	for _, e := range models.Experiments() {
		t.Run(e.Name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			if _, err := parse(cli.New("train-x", "", ""), e.Name, []string{"-out", out}, io.Discard); err != nil {
				t.Errorf("experiment %s: %v", e.Name, err)
			}
		})
	}
}

// TestCollectSooner checks the collector's target a training command
// sets: trainingGOGC, unless the GOGC environment variable chooses one.
func TestCollectSooner(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		name, env string
		want      int
	}{
		{"unset", "", trainingGOGC},
		{"GOGC given", "150", 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GOGC", c.env)
			debug.SetGCPercent(100)
			CollectSooner()
			if got := debug.SetGCPercent(100); got != c.want {
				t.Errorf("GC percent %d, want %d", got, c.want)
			}
		})
	}
}
