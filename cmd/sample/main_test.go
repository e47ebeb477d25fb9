package main

import (
	"bytes"
	"dcim/cmd/internal/cli"
	"dcim/data/datatest"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dcim/graph"
	"dcim/graph/graphtest"
	"dcim/models"
	"dcim/train/checkpoint"
	"dcim/train/sampling"

	"gorgonia.org/tensor"
)

// saveModel writes an untrained checkpoint of arch into a new folder.
func saveModel(t *testing.T, arch string) string {
	t.Helper()
	p := graphtest.Params(t, arch, graph.Binary, 5)
	dir := t.TempDir()
	if err := checkpoint.Save(dir, p, checkpoint.Meta{Objective: "generative"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// bigInputModel writes a model of 1×1024×1024 images and layers (2),(10):
// a file of a few KB whose samples are a million pixels each.
func bigInputModel(t *testing.T) string {
	t.Helper()
	a, err := models.Parse("(2),(10)")
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewParams(a, models.Shape{C: 1, H: 1024, W: 1024}, 10, graph.Binary, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range p.Tensors() {
		clear(w.Data().([]float32))
	}
	dir := t.TempDir()
	if err := checkpoint.Save(dir, p, checkpoint.Meta{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runSample(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestDeterministicOutputs(t *testing.T) {
	model := saveModel(t, "(40),(30),(10)")
	outs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	seeds := []string{"3", "3", "4"}
	for i, out := range outs {
		if code, _, stderr := runSample("-model", model, "-out", out, "-per-class", "2", "-seed", seeds[i]); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	want := []string{"samples-chain.npz", "samples-chain.png", "samples-layer.npz", "samples-layer.png", "samples-mean.npz", "samples-mean.png", "samples.npz", "samples.png"}
	entries, _ := os.ReadDir(outs[0])
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, want) {
		t.Fatalf("wrote %v, want %v", names, want)
	}
	for _, name := range want {
		a, _ := os.ReadFile(filepath.Join(outs[0], name))
		b, _ := os.ReadFile(filepath.Join(outs[1], name))
		c, _ := os.ReadFile(filepath.Join(outs[2], name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if strings.Contains(name, "chain") && bytes.Equal(a, c) {
			t.Errorf("%s is the same for another seed", name)
		}
	}
	arrays, err := checkpoint.ReadNPZArrays(filepath.Join(outs[0], "samples.npz"))
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{"images": {60, 28, 28}, "labels": {60}, "pred": {60}, "prob": {60}}
	for name, shape := range shapes {
		if !slices.Equal(arrays[name].Shape, shape) {
			t.Errorf("samples.npz %s has shape %v, want %v", name, arrays[name].Shape, shape)
		}
	}
	if arrays["labels"].Dtype() != "<i8" || arrays["images"].Dtype() != "<f4" {
		t.Errorf("labels %s, images %s", arrays["labels"].Dtype(), arrays["images"].Dtype())
	}
}

func TestSingleModeDefaultOut(t *testing.T) {
	model := saveModel(t, "(20),(10)")
	code, stdout, stderr := runSample("-model", model, "-mode", "mean", "-per-class", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"samples.png", "samples.npz"} {
		if _, err := os.Stat(filepath.Join(model, name)); err != nil {
			t.Errorf("%s not written into the run folder: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(model, "samples-mean.png")); err == nil {
		t.Error("a single mode wrote a per-mode file")
	}
	if !strings.Contains(stdout, "mean  class:") || !strings.Contains(stdout, "/10 classified as their class, per-pixel std 0.0000\n") {
		t.Errorf("summary %q", stdout)
	}
}

func TestErrors(t *testing.T) {
	rewriteNPZ := func(t *testing.T, dir string, edit func(map[string]checkpoint.Array)) {
		path := filepath.Join(dir, checkpoint.NPZName)
		arrays, err := checkpoint.ReadNPZ(path)
		if err != nil {
			t.Fatal(err)
		}
		edit(arrays)
		var names []string
		var shapes [][]int
		var data [][]float32
		for n, a := range arrays {
			names, shapes, data = append(names, n), append(shapes, a.Shape), append(data, a.Data)
		}
		if err := checkpoint.WriteNPZ(path, names, shapes, data); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) []string
		code  int
		want  string
	}{
		{"missing folder", func(t *testing.T) []string {
			return []string{"-model", filepath.Join(t.TempDir(), "none")}
		}, 1, "none: no such folder"},
		{"missing array", func(t *testing.T) []string {
			dir := saveModel(t, "(20),(16),(10)")
			rewriteNPZ(t, dir, func(a map[string]checkpoint.Array) { delete(a, "W3") })
			return []string{"-model", dir}
		}, 1, "model.npz: array W3 missing"},
		{"mis-shaped array", func(t *testing.T) []string {
			dir := saveModel(t, "(20),(16),(10)")
			rewriteNPZ(t, dir, func(a map[string]checkpoint.Array) {
				a["W2"] = checkpoint.Array{Shape: []int{16, 21}, Data: make([]float32, 16*21)}
			})
			return []string{"-model", dir}
		}, 1, "model.npz: array W2 has shape [16 21], want [16 20]"},
		{"bad arch", func(t *testing.T) []string {
			dir := saveModel(t, "(20),(10)")
			os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"arch": "(20),(x)", "encoding": "binary", "input": [1,28,28], "classes": 10}`), 0o644)
			return []string{"-model", dir}
		}, 1, `model.json: arch "(20),(x)"`},
		{"no model flag", func(t *testing.T) []string { return nil }, 2, "-model RUN_DIR is required"},
		{"bad mode", func(t *testing.T) []string { return []string{"-model", "x", "-mode", "gibbs"} }, 2, `unknown mode "gibbs"`},
		{"bad per-class", func(t *testing.T) []string { return []string{"-model", "x", "-per-class", "0"} }, 2, "-per-class 0"},
		{"bad scale", func(t *testing.T) []string { return []string{"-model", "x", "-scale", "0"} }, 2, "-scale 0"},
		{"bad inference", func(t *testing.T) []string { return []string{"-model", "x", "-inference", "exact"} }, 2, `-inference: unknown inference "exact"`},
		{"montecarlo inference", func(t *testing.T) []string { return []string{"-model", "x", "-inference", "montecarlo"} }, 2, "want meanfield or moments"},
		{"image too large", func(t *testing.T) []string {
			return []string{"-model", saveModel(t, "(20),(16),(10)"), "-per-class", "1000", "-scale", "32", "-mode", "mean"}
		}, 2, "the limit is 64 Mpixels"},
		{"reconstruction too large", func(t *testing.T) []string {
			return []string{"-model", saveModel(t, "(20),(16),(10)"), "-mode", "mean", "-per-class", "1", "-reconstruct", "10000", "-scale", "32"}
		}, 2, "-reconstruct 10000 with -scale 32"},
		{"bad reconstruct", func(t *testing.T) []string { return []string{"-model", "x", "-reconstruct", "-1"} }, 2, "-reconstruct -1"},
		{"small file, large images: over the memory budget", func(t *testing.T) []string {
			return []string{"-model", bigInputModel(t), "-mode", "chain", "-per-class", "6", "-scale", "1"}
		}, 2, "-per-class 6 with -scale 1, 1 mode(s) and -reconstruct 0, for a model of 1048588 state units per image, needs about 3.28GiB of memory, more than -max-memory 2GiB: lower -per-class, -scale or -reconstruct, or raise -max-memory"},
		{"small file, large images: a lower budget", func(t *testing.T) []string {
			return []string{"-model", bigInputModel(t), "-mode", "mean", "-per-class", "1", "-scale", "1", "-max-memory", "256MiB"}
		}, 2, "more than -max-memory 256MiB"},
		{"model.json a named pipe", func(t *testing.T) []string {
			dir := saveModel(t, "(20),(10)")
			path := filepath.Join(dir, checkpoint.JSONName)
			os.Remove(path)
			datatest.Mkfifo(t, path)
			return []string{"-model", dir}
		}, 1, "model.json: a named pipe, not a regular file"},
		{"model.npz a device", func(t *testing.T) []string {
			dir := saveModel(t, "(20),(10)")
			path := filepath.Join(dir, checkpoint.NPZName)
			os.Remove(path)
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
			return []string{"-model", dir}
		}, 1, "model.npz: a character device, not a regular file"},
		{"missing judge", func(t *testing.T) []string {
			return []string{"-model", saveModel(t, "(20),(10)"), "-mode", "mean", "-judge", filepath.Join(t.TempDir(), "none")}
		}, 1, "-judge: model folder"},
		{"judge of other images", func(t *testing.T) []string {
			return []string{"-model", saveModel(t, "(20),(10)"), "-mode", "mean", "-per-class", "1", "-judge", bigInputModel(t)}
		}, 1, "-judge "},
		{"max-memory not a size", func(t *testing.T) []string { return []string{"-model", "x", "-max-memory", "0"} }, 2, `"0": want a size of 1 byte`},
		{"stray argument", func(t *testing.T) []string { return []string{"-model", "x", "extra"} }, 2, `unexpected argument "extra"`},
		{"unknown flag", func(t *testing.T) []string { return []string{"-modle", "x"} }, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runSample(tc.setup(t)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runSample("-h")
	if code != 0 {
		t.Errorf("-h exits %d", code)
	}
	for _, flag := range []string{"Usage: sample -model RUN_DIR", "-model", "-mode", "-per-class", "-seed", "-scale", "-out", "-reconstruct", "-data"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("-h does not document %s", flag)
		}
	}
}

func TestReconstructFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST")
	}
	model := saveModel(t, "(20),(16),(10)")
	out := t.TempDir()
	code, stdout, stderr := runSample("-model", model, "-out", out, "-mode", "mean", "-per-class", "1", "-reconstruct", "12")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	arrays, err := checkpoint.ReadNPZArrays(filepath.Join(out, "reconstruct.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(arrays["images"].Shape, []int{12, 28, 28}) || !slices.Equal(arrays["originals"].Shape, []int{12, 28, 28}) {
		t.Errorf("reconstruct.npz shapes %v %v", arrays["images"].Shape, arrays["originals"].Shape)
	}
	if !strings.Contains(stdout, "reconstruct: 12 test images") {
		t.Errorf("stdout %q", stdout)
	}
}

// -judge classifies the samples with another run's forward model: a run
// judging its own samples agrees with its own verdict, mode by mode, and
// the verdict is in the text and the JSON.
func TestJudge(t *testing.T) {
	model := saveModel(t, "(40),(30),(10)")
	code, stdout, stderr := runSample("-model", model, "-out", t.TempDir(), "-per-class", "3", "-judge", model, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Modes) != 3 {
		t.Fatalf("%d modes", len(rep.Modes))
	}
	for _, v := range rep.Modes {
		if v.Judge == nil || v.Judge.Model != model || v.Judge.Correct != v.Correct {
			t.Errorf("%s: judge %+v, own verdict %d/%d", v.Mode, v.Judge, v.Correct, v.N)
		}
	}
	code, stdout, stderr = runSample("-model", model, "-out", t.TempDir(), "-per-class", "3", "-mode", "chain", "-judge", model)
	if want := fmt.Sprintf("/30 by %s\n", model); code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, stdout %q lacks %q (%s)", code, stdout, want, stderr)
	}
}

// -judge counts the judge's classifier in the memory estimate: a budget
// that fits the samples alone refuses them with a judge of larger
// states, naming -judge.
func TestJudgeMemory(t *testing.T) {
	model, judge := saveModel(t, "(40),(30),(10)"), saveModel(t, "(3,1,64),(10)")
	p, _, err := checkpoint.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	jp, _, err := checkpoint.Load(judge)
	if err != nil {
		t.Fatal(err)
	}
	need, err := sampling.Memory(p, []sampling.Mode{sampling.Chain}, 3, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	limit := (need + sampling.JudgeBytes(jp, 30)/2) * cli.HeapGrowth
	args := []string{"-model", model, "-out", t.TempDir(), "-mode", "chain", "-per-class", "3", "-max-memory", fmt.Sprint(limit)}
	if code, _, stderr := runSample(args...); code != 0 {
		t.Fatalf("without -judge: exit %d: %s", code, stderr)
	}
	code, _, stderr := runSample(append(args, "-judge", judge)...)
	if code != 2 || !strings.Contains(stderr, "-judge, for a model of") || !strings.Contains(stderr, "more than -max-memory") {
		t.Errorf("with -judge: exit %d, stderr %q", code, stderr)
	}
}
