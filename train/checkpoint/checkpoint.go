// Package checkpoint saves and loads a DCIM's parameters: a run folder
// holds model.npz (NumPy arrays W1…Wd, b1…bd, a0 in PyTorch layout,
// float32) and model.json (architecture in the paper's notation, encoding,
// input shape, classes and free metadata), so that anyone with NumPy can
// load a model without this code.
//
// Files are read as if hostile: model.json's sizes are checked against the
// limits of [models.Arch.CheckSize] before anything is allocated, and
// [ReadArrays] reads only the arrays a caller names, each checked against
// its expected dtype and shape (and its npy header against the zip
// directory) before its data is allocated or inflated. Writes are atomic
// ([WriteFileAtomic]).
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"dcim/data"
	"dcim/graph"
	"dcim/models"

	"gorgonia.org/tensor"
)

// File names inside a run folder.
const (
	NPZName  = "model.npz"
	JSONName = "model.json"
)

// Meta is model.json.
type Meta struct {
	Arch     string `json:"arch"`
	Encoding string `json:"encoding"`
	Input    [3]int `json:"input"`
	Classes  int    `json:"classes"`
	// Name is the run's name: its experiment and the settings it
	// overrides, e.g. "cnn-generative+reverse-weight=2".
	Name      string `json:"name,omitempty"`
	Objective string `json:"objective,omitempty"`
	// Terms are the objective's terms as the model was trained on them,
	// with their layers resolved; read them with [Meta.TrainedTerms].
	Terms []TermMeta `json:"terms,omitempty"`
	// Settings are the run's training settings, by flag name.
	Settings map[string]string `json:"settings,omitempty"`
	Extra    map[string]any    `json:"extra,omitempty"`
}

// TermMeta is one term of the training objective in model.json.
type TermMeta struct {
	Kind   string  `json:"kind"`            // ce, label, draw, layer
	Layer  int     `json:"layer,omitempty"` // k, for the kinds that take a layer
	Weight float64 `json:"weight"`          // as written in the objective
	Scale  float64 `json:"scale"`           // in the loss: the weight, times λ for a reverse term
}

// TermsMeta returns the resolved terms of an objective for model.json,
// with each term's scale in the loss (λ multiplies the reverse terms').
func TermsMeta(o models.Objective, lambda float64) []TermMeta {
	out := make([]TermMeta, len(o))
	for i, t := range o {
		scale := t.Weight
		if t.Kind.Reverse() {
			scale *= lambda
		}
		out[i] = TermMeta{Kind: t.Kind.String(), Layer: t.Layer, Weight: t.Weight, Scale: scale}
	}
	return out
}

// TrainedTerms returns the terms the model was trained on, with their
// layers resolved, from "terms" (or, for a model.json written before
// it, from "objective"); nil when the file says neither.
func (m Meta) TrainedTerms() (models.Objective, error) {
	arch, err := models.Parse(m.Arch)
	if err != nil {
		return nil, err
	}
	if len(m.Terms) == 0 {
		if m.Objective == "" {
			return nil, nil
		}
		o, err := models.ParseObjective(m.Objective)
		if err != nil {
			return nil, fmt.Errorf("\"objective\": %w", err)
		}
		return o.Resolve(len(arch))
	}
	var o models.Objective
	for i, t := range m.Terms {
		k, err := models.ParseTermKind(t.Kind)
		if err != nil {
			return nil, fmt.Errorf("\"terms\"[%d]: %w", i, err)
		}
		o = append(o, models.Term{Kind: k, Layer: t.Layer, Weight: t.Weight})
	}
	r, err := o.Resolve(len(arch))
	if err != nil {
		return nil, fmt.Errorf("\"terms\": %w", err)
	}
	for i, t := range o {
		if t.Kind.Layered() && t.Layer != r[i].Layer {
			return nil, fmt.Errorf("\"terms\"[%d]: layer %d, want an absolute layer 1…%d", i, t.Layer, len(arch)-1)
		}
	}
	return r, nil
}

// Save writes model.npz and model.json of p into dir (created if needed),
// each atomically, the arrays first. The architecture, encoding, input
// shape and classes of meta are taken from p; Objective and Extra are kept.
// Every parameter must be finite: a NaN or an infinity is an error naming
// the array, and nothing is written.
func Save(dir string, p *graph.Params, meta Meta) error {
	if err := CheckFinite(p); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	meta.Arch = p.Arch.String()
	meta.Encoding = p.Encoding.String()
	meta.Input = [3]int{p.Input.C, p.Input.H, p.Input.W}
	meta.Classes = p.Classes
	names, ts := p.Names(), p.Tensors()
	arrays := make([]NamedArray, len(names))
	for i, t := range ts {
		var data []float32
		switch d := t.Data().(type) {
		case []float32:
			data = d
		case []float64:
			data = convert[float64, float32](d)
		default:
			return fmt.Errorf("save checkpoint: parameter %s has dtype %v", names[i], t.Dtype())
		}
		arrays[i] = NamedArray{Name: names[i], Shape: slices.Clone([]int(t.Shape())), Data: data}
	}
	if err := WriteNPZArrays(filepath.Join(dir, NPZName), arrays); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("save checkpoint: %s: %w", JSONName, err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, JSONName), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// CheckFinite returns an error naming the first parameter array of p that
// holds a NaN or an infinity, and where.
func CheckFinite(p *graph.Params) error {
	names := p.Names()
	for i, t := range p.Tensors() {
		a := NamedArray{Name: names[i], Data: t.Data()}
		if err := checkFinite(a); err != nil {
			return fmt.Errorf("parameter %s %w", names[i], err)
		}
	}
	return nil
}

// MaxJSONBytes bounds the size of a model.json read: one written by this
// module takes well under 4 KiB.
const MaxJSONBytes = 64 << 10

// ReadMeta reads dir/model.json, a regular file of at most MaxJSONBytes
// (a larger one is refused before it is read), and checks that it names
// an architecture; [Meta.ParamWants] checks the rest.
func ReadMeta(dir string) (Meta, error) {
	var meta Meta
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return meta, fmt.Errorf("model folder %s: no such folder", dir)
		}
		return meta, fmt.Errorf("model folder %s: %w", dir, err)
	} else if !st.IsDir() {
		return meta, fmt.Errorf("model folder %s: not a folder", dir)
	}
	path := filepath.Join(dir, JSONName)
	b, err := data.ReadFile(path, MaxJSONBytes)
	if err != nil {
		return meta, fileError(path, err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("%s: bad JSON: %v", path, err)
	}
	if meta.Arch == "" {
		return meta, fmt.Errorf("%s: no \"arch\"", path)
	}
	if meta.Classes == 0 {
		meta.Classes = models.MNISTClasses
	}
	return meta, nil
}

// model returns the architecture, encoding and input shape meta names,
// checked against the size limits of [models.Arch.CheckSize] for one
// image, so that nothing is allocated for a hostile model.json. Errors
// name the field.
func (m Meta) model() (models.Arch, graph.Encoding, models.Shape, error) {
	in := models.Shape{C: m.Input[0], H: m.Input[1], W: m.Input[2]}
	arch, err := models.Parse(m.Arch)
	if err != nil {
		return nil, 0, in, err // Parse's error quotes the arch
	}
	enc, err := graph.ParseEncoding(m.Encoding)
	if err != nil {
		return nil, 0, in, err
	}
	if in.C < 1 || in.H < 1 || in.W < 1 {
		return nil, 0, in, fmt.Errorf("input %v, want three positive sizes such as [1,28,28]", m.Input)
	}
	if err := arch.CheckSize(in, m.Classes, 1); err != nil {
		return nil, 0, in, fmt.Errorf("arch %q, input %v, classes %d: %v", m.Arch, m.Input, m.Classes, err)
	}
	return arch, enc, in, nil
}

// ParamWants returns what model.npz must hold for the model meta
// describes, in checkpoint order: W1, b1, …, Wd, bd and a0, in PyTorch
// layout (dense W^k is out×in, convolution W^k is C_out×C_in×K×K, a0 is
// the image's C×H×W), float32 or float64, finite. It first checks the
// sizes of meta against the limits of [models.Arch.CheckSize]. A reader of
// resume.npz uses the same shapes for the moments.
func (m Meta) ParamWants() ([]Want, error) {
	arch, _, in, err := m.model()
	if err != nil {
		return nil, err
	}
	shapes, err := arch.Shapes(in, m.Classes)
	if err != nil {
		return nil, err
	}
	var out []Want
	for k, l := range arch {
		prev, cur := shapes[k], shapes[k+1]
		w, b := []int{cur.Size(), prev.Size()}, []int{cur.Size()}
		if l.Kind == models.Conv {
			w, b = []int{l.C, prev.C, l.K, l.K}, []int{l.C}
		}
		out = append(out, paramWant(fmt.Sprintf("W%d", k+1), w), paramWant(fmt.Sprintf("b%d", k+1), b))
	}
	return append(out, paramWant("a0", []int{in.C, in.H, in.W})), nil
}

func paramWant(name string, shape []int) Want {
	return Want{Name: name, Shape: shape, Dtypes: []string{DtypeFloat32, DtypeFloat64}, Finite: true}
}

// Load reads dir/model.json and dir/model.npz and returns float32
// parameters for the architecture model.json names, filled from the
// arrays. model.json's sizes are checked against the limits of
// [models.Arch.CheckSize] before anything is allocated; every parameter's
// array must exist with the expected shape and finite values (see
// [Meta.ParamWants]); other arrays of the archive are not read.
func Load(dir string) (*graph.Params, Meta, error) {
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, meta, err
	}
	jsonPath := filepath.Join(dir, JSONName)
	wants, err := meta.ParamWants()
	if err != nil {
		return nil, meta, fmt.Errorf("%s: %v", jsonPath, err)
	}
	arch, enc, in, _ := meta.model()
	p, err := graph.NewParams(arch, in, meta.Classes, enc, tensor.Float32, 0)
	if err != nil {
		return nil, meta, fmt.Errorf("%s: arch %q on input %v: %v", jsonPath, meta.Arch, meta.Input, err)
	}
	names, expect := p.Names(), p.ExpectedShapes()
	for i, t := range p.Tensors() {
		if wants[i].Name != names[i] || !slices.Equal(wants[i].Shape, []int(expect[i])) {
			return nil, meta, fmt.Errorf("internal error: parameter %s %v is %s %v in the file layout", names[i], expect[i], wants[i].Name, wants[i].Shape)
		}
		wants[i].Into = t.Data().([]float32)
	}
	if _, err := ReadArrays(filepath.Join(dir, NPZName), wants); err != nil {
		return nil, meta, err
	}
	return p, meta, nil
}

// fileError is the one-line error of a file that could not be opened or
// read: "PATH: no such file", "PATH: a named pipe, not a regular file".
func fileError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
