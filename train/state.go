package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"dcim/data"
	"dcim/graph"
	"dcim/train/checkpoint"
)

const stateVersion = 1

// state is the loop's position, stored as JSON in resume.npz beside the
// parameters and Adam's moments.
type state struct {
	Version int      `json:"version"`
	Flags   Settings `json:"flags"`
	RunID   string   `json:"run_id,omitempty"` // the run's identifier, also in model.json
	// Epoch is the epoch in progress (0-based); Step the batches of it
	// done. At an epoch end Epoch is the number completed and Step is 0.
	Epoch     int `json:"epoch"`
	Step      int `json:"step"`
	Iteration int `json:"iteration"` // steps taken, Adam's t
	LastEval  int `json:"last_eval"` // iteration of the last evaluation point
	// Seconds is the wall time of the run, TrainSeconds the time in
	// training steps, over all sessions.
	Seconds      float64 `json:"seconds"`
	TrainSeconds float64 `json:"train_seconds"`
	RNG          []byte  `json:"rng"`   // the eq. (22) noise generator (PCG)
	Since        running `json:"since"` // training metrics since the last evaluation point
	// Model is the model.json of the parameters (architecture, encoding,
	// input shape, classes), so that resume.npz alone is enough to resume
	// the run: a kill before model.json is first written leaves a run that
	// resumes. Files written before it have none; their model.json is read.
	Model *checkpoint.Meta `json:"model,omitempty"`
}

// running accumulates training metrics between evaluation points.
type running struct {
	Steps   int       `json:"steps"`
	Loss    float64   `json:"loss"`
	CE      float64   `json:"ce"`
	BCE     float64   `json:"bce,omitempty"` // unused; read from resume files written before Terms
	Terms   []float64 `json:"terms"`         // sums of each term of the objective
	Correct float64   `json:"correct"`
	Images  float64   `json:"images"`
}

// add records one step's figures.
func (r *running) add(s StepResult, n int) {
	r.Steps++
	r.Loss += s.Loss
	r.CE += s.CE
	if r.Terms == nil {
		r.Terms = make([]float64, len(s.Terms))
	}
	for i, v := range s.Terms {
		r.Terms[i] += v
	}
	r.Correct += float64(s.Correct)
	r.Images += float64(n)
}

// mean is the mean over steps of a sum kept by add.
func (r running) mean(sum float64) float64 { return sum / float64(r.Steps) }

// savedState is resume.npz read back.
type savedState struct {
	State  state
	Arrays map[string][]float32
}

// stateKey is the uint8 array of resume.npz holding the state as JSON.
const stateKey = "state_json"

// writeResume writes resume.npz atomically: each parameter under its name,
// Adam's moments as m_<name> and v_<name>, and the state as JSON bytes.
// One file, so parameters, moments and position always agree.
func writeResume(dir string, p *graph.Params, adam *Adam, st state) error {
	st.Model = &checkpoint.Meta{
		Arch:     p.Arch.String(),
		Encoding: p.Encoding.String(),
		Input:    [3]int{p.Input.C, p.Input.H, p.Input.W},
		Classes:  p.Classes,
	}
	js, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	var arrays []checkpoint.NamedArray
	names := p.Names()
	for i, t := range p.Tensors() {
		shape := []int(t.Shape().Clone())
		arrays = append(arrays,
			checkpoint.NamedArray{Name: names[i], Shape: shape, Data: t.Data().([]float32)},
			checkpoint.NamedArray{Name: "m_" + names[i], Shape: shape, Data: adam.M[i]},
			checkpoint.NamedArray{Name: "v_" + names[i], Shape: shape, Data: adam.V[i]})
	}
	arrays = append(arrays, checkpoint.NamedArray{Name: stateKey, Shape: []int{len(js)}, Data: js})
	b, err := checkpoint.EncodeNPZ(arrays)
	if err != nil {
		return fmt.Errorf("resume state: %w", err)
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, ResumeName), b, 0o644)
}

// maxStateJSON bounds the state array of resume.npz.
const maxStateJSON = 1 << 20

// readResume reads dir/resume.npz: first the state, then the parameters
// and moments, each with the shape that the state's model implies (or
// dir/model.json, for a file written before the state held the model),
// through the checked reader of the checkpoint package; other arrays are
// not read.
func readResume(dir string) (*savedState, error) {
	path := filepath.Join(dir, ResumeName)
	if _, err := os.Stat(path); err != nil {
		return nil, &SettingError{fmt.Errorf("%s holds no run to resume: %w", dir, err)}
	}
	js, err := checkpoint.ReadArrays(path, []checkpoint.Want{{Name: stateKey, Dtypes: []string{checkpoint.DtypeUint8}, Max: maxStateJSON}})
	if err != nil {
		return nil, err
	}
	s := &savedState{Arrays: map[string][]float32{}}
	if err := json.Unmarshal(js[stateKey].Data.([]uint8), &s.State); err != nil {
		return nil, fmt.Errorf("%s: state: %w", path, err)
	}
	s.State.Flags.normalize()
	if s.State.Version != stateVersion {
		return nil, fmt.Errorf("%s: state version %d, want %d", path, s.State.Version, stateVersion)
	}
	var params []checkpoint.Want
	if m := s.State.Model; m != nil {
		if m.Arch == "" {
			return nil, fmt.Errorf("%s: state: model without an architecture", path)
		}
		if params, err = m.ParamWants(); err != nil {
			return nil, fmt.Errorf("%s: state: model: %v", path, err)
		}
	} else {
		meta, err := checkpoint.ReadMeta(dir)
		if err != nil {
			return nil, err
		}
		if params, err = meta.ParamWants(); err != nil {
			return nil, fmt.Errorf("%s: %v", filepath.Join(dir, checkpoint.JSONName), err)
		}
	}
	var wants []checkpoint.Want
	for _, w := range params {
		w.Dtypes = []string{checkpoint.DtypeFloat32}
		for _, prefix := range []string{"", "m_", "v_"} {
			wants = append(wants, w)
			wants[len(wants)-1].Name = prefix + w.Name
		}
	}
	arrays, err := checkpoint.ReadArrays(path, wants)
	if err != nil {
		return nil, err
	}
	for name, a := range arrays {
		s.Arrays[name] = a.Data.([]float32)
	}
	return s, nil
}

// writeJSON writes v as indented JSON to path atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return checkpoint.WriteFileAtomic(path, append(b, '\n'), 0o644)
}

// maxSummaryBytes bounds the summary.json read.
const maxSummaryBytes = 1 << 20

// readSummary reads dir/summary.json.
func readSummary(dir string) (*Summary, error) {
	b, err := data.ReadFile(filepath.Join(dir, SummaryName), maxSummaryBytes)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SummaryName), err)
	}
	return &s, nil
}
