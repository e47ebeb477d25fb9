package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/models"
	"dcim/train"
)

// Test-only experiments, named so that no user picks them.
func init() {
	models.Register(models.Experiment{Name: "zz-test-dense", Doc: "a tiny dense net with eq. (21)",
		Arch: models.MustParse("(16),(10)"), Encoding: models.Binary, Objective: models.Generative(), Epochs: 1})
	models.Register(models.Experiment{Name: "zz-test-sampled", Doc: "a tiny dense net with eq. (22)",
		Arch: models.MustParse("(16),(10)"), Encoding: models.Spin, Objective: models.GenerativeSampled(), Epochs: 1})
}

func names(p *Plan) string {
	var n []string
	for _, pt := range p.Points {
		n = append(n, pt.Name)
	}
	return strings.Join(n, " ")
}

// TestNewPoints: the points of products and zipped axes, their order,
// names and folders, and the settings each applies in order.
func TestNewPoints(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     models.Sweep
		flags []train.Override
		want  string // the points' names
	}{
		{"product, last axis fastest", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{models.Vary("reverse-weight", 1, 2), models.Vary("seed", 1, 2, 3)}},
			nil, "reverse-weight=1,seed=1 reverse-weight=1,seed=2 reverse-weight=1,seed=3 reverse-weight=2,seed=1 reverse-weight=2,seed=2 reverse-weight=2,seed=3"},
		{"zipped: one change at a time named by its change, the base by the group's first value", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{
			models.Vary("epochs", 1, 2, 1), models.Zip("reverse-weight", 1, 1, 5)}},
			nil, "epochs=1 epochs=2 reverse-weight=5"},
		{"zipped against the flags", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{
			models.Vary("epochs", 1, 2), models.Zip("lr", 0.002, 0.003)}},
			[]train.Override{{Name: "lr", Value: "0.002"}}, "epochs=1 epochs=2,lr=0.003"},
		{"a flag of an axis changes the base", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{
			models.Vary("epochs", 3, 2), models.Zip("lr", 0.001, 0.002)}},
			[]train.Override{{Name: "epochs", Value: "3"}}, "epochs=3 epochs=2,lr=0.002"},
		{"zipped against Set", models.Sweep{Base: "zz-test-dense", Set: map[string]string{"experiment": "zz-test-sampled"}, Axes: []models.Axis{
			models.Vary("epochs", 1, 1), models.Zip("encoding", "spin", "binary")}},
			nil, "epochs=1 encoding=binary"},
		{"zipped group times a seed axis", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{
			models.Vary("objective", "generative", "ce"), models.Zip("encoding", "binary", "spin"), models.Vary("seed", 1, 2)}},
			nil, "objective=generative,seed=1 objective=generative,seed=2 objective=ce,encoding=spin,seed=1 objective=ce,encoding=spin,seed=2"},
		{"an objective spelt otherwise is the base's", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{
			models.Vary("objective", "ce+label", "discriminative"), models.Zip("seed", 1, 1)}},
			nil, "objective=ce+label objective=discriminative"},
		{"experiment axis", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{models.Vary("experiment", "zz-test-dense", "zz-test-sampled")}},
			nil, "experiment=zz-test-dense experiment=zz-test-sampled"},
		{"arch values", models.Sweep{Base: "zz-test-dense", Axes: []models.Axis{models.Vary("arch", "(16),(10)", "(3,1,4),(10)")}},
			nil, "arch=(16),(10) arch=(3,1,4),(10)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.Name = "zz-test"
			p, err := New(tc.s, tc.flags, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if got := names(p); got != tc.want {
				t.Errorf("points %q\nwant   %q", got, tc.want)
			}
			for i, pt := range p.Points {
				if pt.Index != i || pt.Dir != train.PathName(pt.Name) || pt.Settings.Out != "" || pt.Settings.Command != Command {
					t.Errorf("point %d: %+v", i, pt)
				}
			}
		})
	}
}

// TestNewSettings: Set, then the flags, then the point's values.
func TestNewSettings(t *testing.T) {
	s := models.Sweep{Name: "zz-test", Base: "zz-test-dense", Set: map[string]string{"lr": "0.002", "epochs": "2"},
		Axes: []models.Axis{models.Vary("seed", 4, 5), models.Vary("experiment", "zz-test-sampled")}}
	data := t.TempDir()
	rel, err := filepath.Rel(mustGetwd(t), data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(s, []train.Override{{Name: "epochs", Value: "3"}, {Name: "data", Value: rel}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := p.Points[1].Settings
	if got.Seed != 5 || got.LR != 0.002 || got.Epochs != 3 || got.Experiment != "zz-test-sampled" || got.Encoding != "spin" || got.Data != data {
		t.Errorf("point 1 settings %+v", got)
	}
	if got.Name != "zz-test-sampled+epochs=3,lr=0.002,seed=5" {
		t.Errorf("run name %q", got.Name)
	}
	if len(p.Flags) != 2 || p.Flags[1].Value != data {
		t.Errorf("flags %+v: want -data made absolute", p.Flags)
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestNewErrors: every point is checked before any run; the error names
// the sweep, the point and the setting.
func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		name  string
		s     models.Sweep
		flags []train.Override
		want  string
	}{
		{"a typo in a value", models.Sweep{Axes: []models.Axis{models.Vary("seed", 1, 2), models.Vary("reverse-weight", 1, "2x")}},
			nil, `sweep "zz-test", point 1 (seed=1,reverse-weight=2x): -reverse-weight "2x": invalid syntax`},
		{"a value out of range", models.Sweep{Axes: []models.Axis{models.Vary("lr", 0.1, -1)}},
			nil, `sweep "zz-test", point 1 (lr=-1): -lr -1: want a finite number > 0`},
		{"a setting with no effect", models.Sweep{Axes: []models.Axis{models.Vary("draws", 1, 2)}},
			nil, `point 1 (draws=2): -draws 2 has no effect`},
		{"an unknown experiment", models.Sweep{Axes: []models.Axis{models.Vary("experiment", "zz-nope")}},
			nil, `point 0 (experiment=zz-nope): -experiment: unknown experiment "zz-nope"`},
		{"an unknown setting", models.Sweep{Axes: []models.Axis{models.Vary("sed", 1)}},
			nil, `axis sed: unknown setting`},
		{"a bad Set", models.Sweep{Set: map[string]string{"epochs": "0"}, Axes: []models.Axis{models.Vary("seed", 1)}},
			nil, `point 0 (seed=1): -epochs 0: want at least 1`},
		{"a bad flag", models.Sweep{Axes: []models.Axis{models.Vary("seed", 1)}},
			[]train.Override{{Name: "batch", Value: "0"}}, `-batch 0: want at least 1`},
		{"zipped values left out, names still apart", models.Sweep{Axes: []models.Axis{models.Vary("epochs", 1, 2), models.Zip("seed", 1, 1), models.Vary("lr", 0.001)}},
			nil, ""},
		{"names that differ in case only", models.Sweep{Axes: []models.Axis{models.Vary("objective", "ce+label", "CE+label")}},
			nil, "folder objective=CE+label is also point 0's (objective=ce+label)"},
		{"zipped values that name two points alike", models.Sweep{Axes: []models.Axis{models.Vary("epochs", 1, 1), models.Zip("lr", 0.001, "1e-3")}},
			nil, `point 1 (epochs=1): folder epochs=1 is also point 0's (epochs=1)`},
		{"one run twice", models.Sweep{Axes: []models.Axis{models.Vary("arch", "(16),(10)", "(16), (10)")}},
			nil, `point 1 (arch=(16), (10)) is the same run as point 0 (arch=(16),(10))`},
		{"a data folder that is a file", models.Sweep{Axes: []models.Axis{models.Vary("seed", 1)}},
			[]train.Override{{Name: "data", Value: file}}, `point 0 (seed=1): -data ` + file + `: not a folder`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.Name, tc.s.Base = "zz-test", "zz-test-dense"
			_, err := New(tc.s, tc.flags, t.TempDir())
			if tc.want == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

// TestNewFolderNames: names go through train.PathName and must be unique.
func TestNewFolderNames(t *testing.T) {
	p, err := New(models.Sweep{Name: "zz-test", Base: "zz-test-dense", Axes: []models.Axis{models.Vary("lr-schedule", "step:1,2@0.5", "cosine")}}, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Points[0].Dir; d != "lr-schedule=step_1,2@0.5" {
		t.Errorf("folder %q", d)
	}
	_, err = New(models.Sweep{Name: "zz-test", Base: "zz-test-dense", Axes: []models.Axis{models.Vary("lr-schedule", "step:1", "step?1")}}, nil, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "folder lr-schedule=step_1 is also point 0's (lr-schedule=step:1)") {
		t.Errorf("two values, one folder: %v", err)
	}
}

// TestParseVary: commas, or semicolons where a value holds commas.
func TestParseVary(t *testing.T) {
	for _, tc := range []struct {
		arg, want, err string
	}{
		{"reverse-weight=1,2,5", "1|2|5", ""},
		{"seed=3", "3", ""},
		{"arch=(50),(10);(20),(10)", "(50),(10)|(20),(10)", ""},
		{"arch=(50),(10)", "(50),(10)", ""},
		{"lr-schedule=step:5,8;cosine", "step:5,8|cosine", ""},
		{"lr-schedule=step:5,8;", "step:5,8", ""},
		{"experiment=a,b", "a|b", ""},
		{"objective=generative, discriminative", "generative|discriminative", ""},
		{"seed", "", "want setting=value"},
		{"=1", "", "want setting=value"},
		{"sed=1", "", `unknown setting "sed"`},
		{"seed=1,,2", "", "an empty value"},
		{"seed=", "", "an empty value"},
	} {
		a, err := ParseVary(tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if got := strings.Join(a.Values, "|"); err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.arg, got, err, tc.want)
		}
	}
}

// TestPlanFile: sweep.json reads back as written, and a plan that is not
// one this package runs is refused with the file named.
func TestPlanFile(t *testing.T) {
	dir := t.TempDir()
	p, err := New(models.Sweep{Name: "zz-test", Base: "zz-test-dense", Axes: []models.Axis{models.Vary("seed", 1, 2)}}, nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	p.Command = "go run ./cmd/sweep -sweep zz-test"
	if err := p.Write(dir); err != nil {
		t.Fatal(err)
	}
	q, err := ReadPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.SamePoints(q); d != "" || q.Command != p.Command || names(q) != names(p) {
		t.Errorf("read back: %s, %+v", d, q)
	}
	r, _ := New(models.Sweep{Name: "zz-test", Base: "zz-test-dense", Axes: []models.Axis{models.Vary("seed", 1, 3)}}, nil, dir)
	if d := p.SamePoints(r); d != "point 1 is seed=3, not seed=2" {
		t.Errorf("SamePoints: %q", d)
	}
	r, _ = New(models.Sweep{Name: "zz-test", Base: "zz-test-dense", Axes: []models.Axis{models.Vary("seed", 1, 2)}}, []train.Override{{Name: "lr", Value: "0.01"}}, dir)
	if d := p.SamePoints(r); !strings.Contains(d, `point 0 (seed=1) has lr "0.01", not "0.001"`) {
		t.Errorf("SamePoints: %q", d)
	}
	if _, err := p.Point(2); err == nil || !strings.Contains(err.Error(), "-point 2: sweep zz-test has points 0…1") {
		t.Errorf("Point(2): %v", err)
	}
	for _, tc := range []struct{ name, edit, want string }{
		{"a folder outside", `"dir": "seed=1"`, `"dir": "../x"`},
		{"a separator", `"dir": "seed=1"`, `"dir": "a/b"`},
		{"a version", `"version": 1`, `"version": 7`},
	} {
		b, _ := os.ReadFile(filepath.Join(dir, PlanName))
		bad := t.TempDir()
		os.WriteFile(filepath.Join(bad, PlanName), []byte(strings.Replace(string(b), tc.edit, tc.want, 1)), 0o644)
		if _, err := ReadPlan(bad); err == nil || !strings.Contains(err.Error(), filepath.Join(bad, PlanName)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := ReadPlan(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no sweep.json") {
		t.Errorf("no plan: %v", err)
	}
	var u interface{ Usage() bool }
	if _, err := ReadPlan(t.TempDir()); !errors.As(err, &u) {
		t.Errorf("no plan: %v is not a usage error", err)
	}
}

// TestDescribe: the axes in one line with the number of points.
func TestDescribe(t *testing.T) {
	s := models.Sweep{Axes: []models.Axis{models.Vary("epochs", 1, 2), models.Zip("lr", 1, 2), models.Vary("seed", 1, 2, 3)}}
	if got := Describe(s); got != "epochs (1 2) with lr (1 2) × seed (1 2 3), 6 points" {
		t.Errorf("Describe: %q", got)
	}
	s = models.Sweep{Axes: []models.Axis{models.Vary("arch", "(50),(10)", "(20),(10)")}}
	if got := Describe(s); got != "arch ((50),(10); (20),(10)), 2 points" {
		t.Errorf("Describe: %q", got)
	}
}

// TestEverySweepPlans: every registered sweep (the models package's, and
// a new file's) expands into points whose settings all check, so that a
// slip in a declaration fails here rather than when the sweep is run.
func TestEverySweepPlans(t *testing.T) {
	for _, s := range models.Sweeps() {
		t.Run(s.Name, func(t *testing.T) {
			if _, err := New(s, nil, t.TempDir()); err != nil {
				t.Error(err)
			}
		})
	}
}
