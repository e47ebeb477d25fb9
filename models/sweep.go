package models

import (
	"fmt"
	"slices"
	"strings"
)

// Sweep is a set of training runs declared as a plain Go value, like an
// experiment: a base experiment, settings every run takes, and the
// settings it varies (its axes). Axes combine as a product — every value
// of one with every value of the others — unless an axis is zipped to the
// one before it, when the two vary together, value for value. The sweep
// command (cmd/sweep) runs every point in a folder of its own, named by
// the point's values, and writes one table of the results. A new sweep is
// one new file in this package whose init function calls [Register]:
//
//	func init() {
//		Register(Sweep{
//			Name: "lambda",
//			Doc:  "eq. (22) with straight-through draws at λ = 1, 2, 5, three seeds",
//			Base: "cnn-sampled-st",
//			Axes: []Axis{Vary("reverse-weight", 1, 2, 5), Vary("seed", 1, 2, 3)},
//		})
//	}
//
// A setting is any flag the training commands take (train.Table lists
// them: reverse-weight, seed, objective, draw-gradient, lr-schedule,
// epochs, encoding, init, inference, draws, arch …), or "experiment",
// which starts a point from another registered experiment. Values are
// written as the flags take them; they are checked against the settings'
// own validation when the sweep is loaded, before any run starts.
type Sweep struct {
	Name string // the -sweep spelling: letters, digits, '-', '_' and '.'
	Doc  string // one line, shown by sweep -h
	Base string // the experiment every point starts from
	// Set are settings every point takes, by name, e.g. {"epochs": "3"};
	// the flags given to the sweep command come on top.
	Set  map[string]string
	Axes []Axis
}

// Axis is one setting a sweep varies and its values.
type Axis struct {
	Setting string   // a training setting's flag name, or "experiment"
	Values  []string // as the flag takes them
	// Zip varies this axis together with the one before it, value for
	// value (they must have as many values), instead of multiplying.
	Zip bool
}

// Vary is an axis of a setting over values, each written with fmt's %v
// (3, 0.5, "cosine").
func Vary(setting string, values ...any) Axis {
	a := Axis{Setting: setting}
	for _, v := range values {
		a.Values = append(a.Values, fmt.Sprint(v))
	}
	return a
}

// Zip is [Vary] zipped to the axis before it.
func Zip(setting string, values ...any) Axis {
	a := Vary(setting, values...)
	a.Zip = true
	return a
}

var sweeps = map[string]Sweep{}

func registerSweep(s Sweep) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if err := s.Check(); err != nil {
		panic(fmt.Sprintf("models.Register: %v", err))
	}
	if _, dup := sweeps[s.Name]; dup {
		panic(fmt.Sprintf("models.Register: sweep %q registered twice", s.Name))
	}
	sweeps[s.Name] = s.clone()
}

// Check checks the sweep's form: a valid name, a base, axes with values,
// no setting twice, zipped axes as long as the axis before them. The
// values themselves are checked by the training settings when the sweep
// is loaded.
func (s Sweep) Check() error {
	if !validName.MatchString(s.Name) {
		return fmt.Errorf("sweep name %q: want letters, digits, '-', '_' or '.'", s.Name)
	}
	if s.Base == "" {
		return fmt.Errorf("sweep %q has no Base experiment", s.Name)
	}
	if len(s.Axes) == 0 {
		return fmt.Errorf("sweep %q has no Axes", s.Name)
	}
	seen := map[string]bool{}
	for name := range s.Set {
		seen[name] = true
	}
	for i, a := range s.Axes {
		switch {
		case a.Setting == "":
			return fmt.Errorf("sweep %q, axis %d: no setting", s.Name, i+1)
		case seen[a.Setting]:
			return fmt.Errorf("sweep %q: setting %q twice", s.Name, a.Setting)
		case len(a.Values) == 0:
			return fmt.Errorf("sweep %q, axis %s: no values", s.Name, a.Setting)
		case a.Zip && i == 0:
			return fmt.Errorf("sweep %q, axis %s: zipped, but no axis before it", s.Name, a.Setting)
		case a.Zip && len(a.Values) != len(s.Axes[i-1].Values):
			return fmt.Errorf("sweep %q, axis %s: %d values zipped to the %d of axis %s", s.Name, a.Setting, len(a.Values), len(s.Axes[i-1].Values), s.Axes[i-1].Setting)
		}
		seen[a.Setting] = true
		for j, v := range a.Values {
			if slices.Contains(a.Values[:j], v) && !a.Zip && (i+1 == len(s.Axes) || !s.Axes[i+1].Zip) {
				return fmt.Errorf("sweep %q, axis %s: value %q twice", s.Name, a.Setting, v)
			}
		}
	}
	return nil
}

func (s Sweep) clone() Sweep {
	c := s
	c.Set = map[string]string{}
	for k, v := range s.Set {
		c.Set[k] = v
	}
	c.Axes = make([]Axis, len(s.Axes))
	for i, a := range s.Axes {
		c.Axes[i] = Axis{Setting: a.Setting, Values: slices.Clone(a.Values), Zip: a.Zip}
	}
	return c
}

// LookupSweep returns the sweep registered under name.
func LookupSweep(name string) (Sweep, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	s, ok := sweeps[name]
	if !ok {
		ns := make([]string, 0, len(sweeps))
		for n := range sweeps {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		return s, fmt.Errorf("unknown sweep %q; known: %s", name, strings.Join(ns, ", "))
	}
	return s.clone(), nil
}

// Sweeps lists the registered sweeps by name.
func Sweeps() []Sweep {
	registryMu.Lock()
	defer registryMu.Unlock()
	var out []Sweep
	for _, s := range sweeps {
		out = append(out, s.clone())
	}
	slices.SortFunc(out, func(a, b Sweep) int { return strings.Compare(a.Name, b.Name) })
	return out
}
