// Package checkpoint saves and loads a DCIM's parameters in the format of
// DESIGN.md §5: a run folder holds model.npz (NumPy arrays W1…Wd, b1…bd,
// a0 in PyTorch layout, float32) and model.json (architecture in the
// paper's notation, encoding, input shape, classes and free metadata), so
// that anyone with NumPy can load a model without this code.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

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
	Arch      string         `json:"arch"`
	Encoding  string         `json:"encoding"`
	Input     [3]int         `json:"input"`
	Classes   int            `json:"classes"`
	Objective string         `json:"objective,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
}

// Save writes model.npz and model.json of p into dir (created if needed),
// each atomically, the arrays first. The architecture, encoding, input
// shape and classes of meta are taken from p; Objective and Extra are kept.
func Save(dir string, p *graph.Params, meta Meta) error {
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

// ReadMeta reads and checks dir/model.json.
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
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return meta, fmt.Errorf("%s: no such file", path)
		}
		return meta, fmt.Errorf("%s: %w", path, err)
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

// Load reads dir/model.json and dir/model.npz and returns float32
// parameters for the architecture model.json names, filled from the
// arrays. Every parameter's array must exist with the expected shape.
func Load(dir string) (*graph.Params, Meta, error) {
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, meta, err
	}
	jsonPath := filepath.Join(dir, JSONName)
	arch, err := models.Parse(meta.Arch)
	if err != nil {
		return nil, meta, fmt.Errorf("%s: arch %q: %v", jsonPath, meta.Arch, err)
	}
	enc, err := graph.ParseEncoding(meta.Encoding)
	if err != nil {
		return nil, meta, fmt.Errorf("%s: %v", jsonPath, err)
	}
	in := models.Shape{C: meta.Input[0], H: meta.Input[1], W: meta.Input[2]}
	if in.C < 1 || in.H < 1 || in.W < 1 {
		return nil, meta, fmt.Errorf("%s: input %v, want three positive sizes such as [1,28,28]", jsonPath, meta.Input)
	}
	p, err := graph.NewParams(arch, in, meta.Classes, enc, tensor.Float32, 0)
	if err != nil {
		return nil, meta, fmt.Errorf("%s: arch %q on input %v: %v", jsonPath, meta.Arch, meta.Input, err)
	}
	npzPath := filepath.Join(dir, NPZName)
	arrays, err := ReadNPZ(npzPath)
	if err != nil {
		return nil, meta, err
	}
	want := p.ExpectedShapes()
	for i, name := range p.Names() {
		a, ok := arrays[name]
		if !ok {
			return nil, meta, fmt.Errorf("%s: array %s missing", npzPath, name)
		}
		if !slices.Equal(a.Shape, []int(want[i])) {
			return nil, meta, fmt.Errorf("%s: array %s has shape %v, want %v", npzPath, name, a.Shape, []int(want[i]))
		}
		copy(p.Tensors()[i].Data().([]float32), a.Data)
	}
	return p, meta, nil
}
