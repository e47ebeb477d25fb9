// Package sweep runs a set of training runs declared as a models.Sweep:
// it expands the sweep into points (one run each, in a folder of its own
// named by the point's values), checks every point's settings before any
// run starts, runs the points as child processes on this machine or as a
// Slurm array job, tells which points are done, running, failed or
// pending from their folders, and writes one table of the results.
//
// A sweep folder holds the plan (sweep.json: the sweep, the flags it was
// given and every point's settings and folder), one run folder per point
// (NAME/, as train.Run writes it), each point's log (NAME.log) and the
// results (results.md, results.csv, results.json, frontier.png). The
// folders are the state: a point is done when its folder holds a
// summary.json of its settings, and a point with a checkpoint and no
// summary is resumed where it stopped.
package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"dcim/models"
	"dcim/train"
	"dcim/train/checkpoint"
)

// Names of the files in a sweep folder besides the points' folders.
const (
	PlanName = "sweep.json"
)

// planVersion is the version of sweep.json this package writes and reads.
const planVersion = 1

// maxPlanBytes bounds the size of a sweep.json read back.
const maxPlanBytes = 64 << 20

// Command is the value of Settings.Command of every point.
const Command = "sweep"

// Plan is a sweep expanded into its points: what sweep.json holds, so
// that one point can be run by its index with nothing else.
type Plan struct {
	Version int               `json:"version"`
	Name    string            `json:"name"`
	Doc     string            `json:"doc,omitempty"`
	Base    string            `json:"base"`
	Set     map[string]string `json:"set,omitempty"`
	Axes    []Axis            `json:"axes"`
	// Flags are the training flags given to the sweep command, applied
	// to every point after Set.
	Flags []Value `json:"flags,omitempty"`
	// Command is the command line that runs the sweep again (and writes
	// its table); shown in results.md.
	Command string  `json:"command,omitempty"`
	Points  []Point `json:"points"`
}

// Axis is a setting the sweep varies (models.Axis, as sweep.json holds it).
type Axis struct {
	Setting string   `json:"setting"`
	Values  []string `json:"values"`
	Zip     bool     `json:"zip,omitempty"`
}

// Value is one setting by name.
type Value struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Point is one run of a sweep.
type Point struct {
	Index int `json:"index"`
	// Name is the point's values that name it, "setting=value" joined by
	// commas in axis order ("reverse-weight=2,seed=3"); Dir, its folder
	// in the sweep folder, is Name through train.PathName.
	Name string `json:"name"`
	Dir  string `json:"dir"`
	// Values are the point's value of each axis, in axis order.
	Values []string `json:"values"`
	// Settings are the run's checked settings; Out is empty (the run
	// folder is Dir in the sweep folder, wherever that is).
	Settings train.Settings `json:"settings"`
}

// Folder is the point's run folder in the sweep folder dir.
func (p *Point) Folder(dir string) string { return filepath.Join(dir, p.Dir) }

// Log is the point's log in the sweep folder dir: what its run printed.
func (p *Point) Log(dir string) string { return filepath.Join(dir, p.Dir+".log") }

// New expands the sweep s into its points for the sweep folder dir: the
// product of its axes (an axis zipped to the one before it varies with
// it), the last axis varying fastest. Each point's settings are the base
// experiment's, then s.Set, then the flags given, then the point's
// values, through train.NewSettings, and are checked (Settings.Check)
// here, before any run starts: a bad value is an error naming the sweep,
// the point and the setting. A flag of a setting that is also an axis
// changes the base only (the points take the axis's values). A relative
// -data folder is made absolute, for runs that start elsewhere.
func New(s models.Sweep, flags []train.Override, dir string) (*Plan, error) {
	if err := s.Check(); err != nil {
		return nil, &train.SettingError{Err: err}
	}
	p := &Plan{Version: planVersion, Name: s.Name, Doc: s.Doc, Base: s.Base, Set: s.Set}
	for _, a := range s.Axes {
		if _, ok := train.LookupSetting(a.Setting); !ok && a.Setting != "experiment" {
			return nil, usagef("sweep %q, axis %s: unknown setting (settings: experiment, %s)", s.Name, a.Setting, strings.Join(train.SettingNames(), ", "))
		}
		p.Axes = append(p.Axes, Axis{Setting: a.Setting, Values: slices.Clone(a.Values), Zip: a.Zip})
	}
	var common []train.Override // Set, then the flags
	names := make([]string, 0, len(s.Set))
	for name := range s.Set {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return settingRank(a) - settingRank(b) })
	for _, name := range names {
		o, err := train.ParseOverride(name + "=" + s.Set[name])
		if err != nil {
			return nil, usagef("sweep %q, Set: %v", s.Name, err)
		}
		common = append(common, absData(o))
	}
	for _, f := range flags {
		f = absData(f)
		common = append(common, f)
		p.Flags = append(p.Flags, Value{f.Name, f.Value})
	}
	base, err := train.NewSettings(Command, s.Base, common...)
	if err != nil {
		return nil, fmt.Errorf("sweep %q, base %s: %w", s.Name, s.Base, err)
	}
	seen := map[string]int{} // folder names, in lower case
	runs := map[string]int{} // runs, by runKey
	for i, idx := range expand(p.Axes) {
		pt := Point{Index: i, Values: make([]string, len(idx))}
		over := slices.Clone(common)
		for a, j := range idx {
			pt.Values[a] = p.Axes[a].Values[j]
			over = append(over, absData(train.Override{Name: p.Axes[a].Setting, Value: pt.Values[a]}))
		}
		pt.Name = p.pointName(pt.Values, base)
		pt.Dir = train.PathName(pt.Name)
		where := fmt.Sprintf("sweep %q, point %d (%s)", s.Name, i, pt.Name)
		if j, dup := seen[strings.ToLower(pt.Dir)]; dup {
			return nil, usagef("%s: folder %s is also point %d's (%s); give the points values that tell them apart", where, pt.Dir, j, p.Points[j].Name)
		}
		seen[strings.ToLower(pt.Dir)] = i
		if len(pt.Dir)+len(".log") > 255 {
			return nil, usagef("%s: the folder name is %d bytes long, more than a file system takes", where, len(pt.Dir))
		}
		st, err := train.NewSettings(Command, s.Base, over...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		st.Out = pt.Folder(dir)
		cfg, err := st.Check(true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		pt.Settings = cfg.Settings
		pt.Settings.Out = ""
		key := runKey(pt.Settings)
		if j, dup := runs[key]; dup {
			return nil, usagef("%s is the same run as point %d (%s)", where, j, p.Points[j].Name)
		}
		runs[key] = i
		p.Points = append(p.Points, pt)
	}
	return p, nil
}

// runKey is the values of the settings that name a run, of checked
// settings (whose objective and architecture are written one way).
func runKey(s train.Settings) string {
	var b strings.Builder
	for _, st := range train.Table() {
		if st.Named {
			b.WriteString(st.Get(s))
			b.WriteByte(0)
		}
	}
	return b.String()
}

// expand lists the points of the axes as one value index per axis: the
// product of the groups (an axis and the axes zipped to it), the last
// group varying fastest.
func expand(axes []Axis) [][]int {
	var groups [][]int // axis indices
	for i, a := range axes {
		if a.Zip && len(groups) > 0 {
			groups[len(groups)-1] = append(groups[len(groups)-1], i)
		} else {
			groups = append(groups, []int{i})
		}
	}
	points := [][]int{make([]int, len(axes))}
	for _, g := range groups {
		var next [][]int
		for _, pt := range points {
			for j := range axes[g[0]].Values {
				q := slices.Clone(pt)
				for _, a := range g {
					q[a] = j
				}
				next = append(next, q)
			}
		}
		points = next
	}
	return points
}

// pointName names a point by its values, "setting=value" joined by commas
// in axis order. In a group of zipped axes, values equal to the base's
// are left out, so that a sweep of one change at a time is named by its
// changes; a group whose values all equal the base's is named by its
// first axis.
func (p *Plan) pointName(values []string, base train.Settings) string {
	var parts []string
	for i := 0; i < len(p.Axes); {
		end := i + 1 // the group: axis i and the axes zipped to it
		for end < len(p.Axes) && p.Axes[end].Zip {
			end++
		}
		var group []string
		for j := i; j < end; j++ {
			if end-i == 1 || !sameAsBase(p.Axes[j].Setting, values[j], base) {
				group = append(group, p.Axes[j].Setting+"="+values[j])
			}
		}
		if len(group) == 0 {
			group = []string{p.Axes[i].Setting + "=" + values[i]}
		}
		parts = append(parts, group...)
		i = end
	}
	return strings.Join(parts, ",")
}

// sameAsBase reports whether giving setting the value v leaves the base
// settings as they are (one objective or architecture spelt two ways is
// one value).
func sameAsBase(setting, v string, base train.Settings) bool {
	if setting == "experiment" {
		return v == base.Experiment
	}
	st, _ := train.LookupSetting(setting)
	b := base
	if st.Set(&b, v) != nil {
		return false
	}
	if st.Named {
		return train.SameRun(b, base)
	}
	return st.Get(b) == st.Get(base)
}

// settingRank orders settings as train.Table does, "experiment" first.
func settingRank(name string) int {
	return slices.Index(append([]string{"experiment"}, train.SettingNames()...), name)
}

// absData makes a relative -data folder absolute.
func absData(o train.Override) train.Override {
	if o.Name == "data" && o.Value != "" && !filepath.IsAbs(o.Value) {
		if abs, err := filepath.Abs(o.Value); err == nil {
			o.Value = abs
		}
	}
	return o
}

// Given lists the plan's flags as overrides.
func (p *Plan) Given() []train.Override {
	out := make([]train.Override, len(p.Flags))
	for i, f := range p.Flags {
		out[i] = train.Override{Name: f.Name, Value: f.Value}
	}
	return out
}

// Sweep is the sweep the plan was made from.
func (p *Plan) Sweep() models.Sweep {
	s := models.Sweep{Name: p.Name, Doc: p.Doc, Base: p.Base, Set: p.Set}
	for _, a := range p.Axes {
		s.Axes = append(s.Axes, models.Axis{Setting: a.Setting, Values: slices.Clone(a.Values), Zip: a.Zip})
	}
	return s
}

// AxisIndex is the index of the axis of setting, or -1.
func (p *Plan) AxisIndex(setting string) int {
	return slices.IndexFunc(p.Axes, func(a Axis) bool { return a.Setting == setting })
}

// Describe is the axes in one line: "reverse-weight (1 2 5) × seed (1 2 3), 9 points".
func (p *Plan) Describe() string { return describe(p.Axes) }

// Describe is the axes of s in one line, as [Plan.Describe] writes them.
func Describe(s models.Sweep) string {
	axes := make([]Axis, len(s.Axes))
	for i, a := range s.Axes {
		axes[i] = Axis{Setting: a.Setting, Values: a.Values, Zip: a.Zip}
	}
	return describe(axes)
}

func describe(axes []Axis) string {
	var b strings.Builder
	for i, a := range axes {
		switch {
		case a.Zip:
			b.WriteString(" with ")
		case i > 0:
			b.WriteString(" × ")
		}
		sep := " "
		if strings.Contains(strings.Join(a.Values, ""), ",") {
			sep = "; "
		}
		fmt.Fprintf(&b, "%s (%s)", a.Setting, strings.Join(a.Values, sep))
	}
	fmt.Fprintf(&b, ", %d points", len(expand(axes)))
	return b.String()
}

// Write writes the plan to dir/sweep.json (atomically), creating dir.
func (p *Plan) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sweep folder: %w", err)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, PlanName), append(b, '\n'), 0o644)
}

// ReadPlan reads dir/sweep.json and checks that it is a plan this
// package can run: its version, and points whose folders lie in dir.
func ReadPlan(dir string) (*Plan, error) {
	path := filepath.Join(dir, PlanName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usagef("%s holds no %s (not a sweep folder?)", dir, PlanName)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxPlanBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB; not a plan", path, maxPlanBytes>>20)
	}
	var p Plan
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.Version != planVersion {
		return nil, fmt.Errorf("%s: version %d, this build reads version %d", path, p.Version, planVersion)
	}
	for i, pt := range p.Points {
		switch {
		case pt.Index != i:
			return nil, fmt.Errorf("%s: point %d has index %d", path, i, pt.Index)
		case pt.Dir == "" || pt.Dir == "." || pt.Dir == ".." || strings.ContainsAny(pt.Dir, `/\`) || pt.Dir != train.PathName(pt.Dir):
			return nil, fmt.Errorf("%s: point %d: folder %q is not a name in the sweep folder", path, i, pt.Dir)
		case len(pt.Values) != len(p.Axes):
			return nil, fmt.Errorf("%s: point %d has %d values for %d axes", path, i, len(pt.Values), len(p.Axes))
		}
	}
	return &p, nil
}

// Point returns the point of index i.
func (p *Plan) Point(i int) (*Point, error) {
	if i < 0 || i >= len(p.Points) {
		return nil, usagef("-point %d: sweep %s has points 0…%d", i, p.Name, len(p.Points)-1)
	}
	return &p.Points[i], nil
}

// SamePoints reports how q differs from p as a plan of runs: the first
// point whose name, folder or run (train.SameRun) differs, or a
// different number of points; "" when they are the same.
func (p *Plan) SamePoints(q *Plan) string {
	if len(p.Points) != len(q.Points) {
		return fmt.Sprintf("%d points, not %d", len(q.Points), len(p.Points))
	}
	for i := range p.Points {
		a, b := &p.Points[i], &q.Points[i]
		if a.Name != b.Name || a.Dir != b.Dir {
			return fmt.Sprintf("point %d is %s, not %s", i, b.Name, a.Name)
		}
		if d := train.RunDiff(b.Settings, a.Settings); len(d) > 0 {
			return fmt.Sprintf("point %d (%s) has %s", i, a.Name, strings.Join(d, ", "))
		}
	}
	return ""
}

// ParseVary reads an axis given on the command line, "setting=v1,v2,…".
// Values are separated by commas, or by semicolons when the list holds a
// semicolon or a parenthesis: an architecture's commas are its own
// ("arch=(50),(10);(20),(10)" is two values, "arch=(50),(10)" one), and
// so are a step schedule's ("lr-schedule=step:5,8;cosine"; a trailing
// semicolon makes a list of one such value, "lr-schedule=step:5,8;").
// Empty values are an error.
func ParseVary(arg string) (models.Axis, error) {
	name, list, ok := strings.Cut(arg, "=")
	if !ok || name == "" {
		return models.Axis{}, fmt.Errorf("%q: want setting=value,value,…", arg)
	}
	if _, ok := train.LookupSetting(name); !ok && name != "experiment" {
		return models.Axis{}, fmt.Errorf("%q: unknown setting %q (settings: experiment, %s)", arg, name, strings.Join(train.SettingNames(), ", "))
	}
	sep := ","
	if strings.ContainsAny(list, ";(") {
		sep = ";"
		list = strings.TrimSuffix(list, ";")
	}
	a := models.Axis{Setting: name}
	for v := range strings.SplitSeq(list, sep) {
		v = strings.TrimSpace(v)
		if v == "" {
			return models.Axis{}, fmt.Errorf("%q: an empty value", arg)
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// AdHoc is a sweep given on the command line: base with the axes, named
// name, or "BASE-by-SETTING-SETTING…" when name is empty.
func AdHoc(name, base string, axes []models.Axis) models.Sweep {
	if name == "" {
		name = base + "-by"
		for _, a := range axes {
			name += "-" + a.Setting
		}
	}
	return models.Sweep{Name: name, Doc: "given on the command line", Base: base, Axes: axes}
}

// ShellQuote quotes s for a shell where it needs quoting.
func ShellQuote(s string) string { return shellQuote(s) }

// usageError is the command line's fault (exit status 2).
type usageError struct{ error }

func (usageError) Usage() bool     { return true }
func (e usageError) Unwrap() error { return e.error }
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
