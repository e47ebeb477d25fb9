package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/graph"
	"dcim/models"
	"dcim/train/checkpoint"

	"gorgonia.org/tensor"
)

// saveModel writes a small random model of the given architecture into a
// fresh folder and returns it.
func saveModel(t *testing.T, arch string, objective string) string {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewParams(a, models.MNISTInput, 10, graph.Binary, tensor.Float32, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := checkpoint.Save(dir, p, checkpoint.Meta{Objective: objective}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runCommand runs the command and returns its exit status, stdout and stderr.
func runCommand(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBadInput(t *testing.T) {
	model := saveModel(t, "(16),(10)", "generative")
	shallow := saveModel(t, "(10)", "generative")
	corrupt := filepath.Join(t.TempDir(), "corrupt")
	if err := os.MkdirAll(corrupt, 0o755); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(model, checkpoint.JSONName))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{checkpoint.JSONName: js, checkpoint.NPZName: []byte("not a zip archive")} {
		if err := os.WriteFile(filepath.Join(corrupt, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	narrow := filepath.Join(t.TempDir(), "narrow.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(narrow, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no model flag", nil, 2, "-model RUN_DIR is required"},
		{"p is 1", []string{"-model", model, "-p", "1"}, 2, "-p 1: want a fraction in [0,1)"},
		{"p negative", []string{"-model", model, "-p", "-0.1"}, 2, "-p -0.1"},
		{"size 0", []string{"-model", model, "-size", "0"}, 2, "-size 0"},
		{"steps", []string{"-model", model, "-steps", "-1"}, 2, "-steps -1"},
		{"draws", []string{"-model", model, "-draws", "0"}, 2, "-draws 0"},
		{"inference", []string{"-model", model, "-inference", "exact"}, 2, `-inference: unknown inference "exact"`},
		{"n", []string{"-model", model, "-n", "-5"}, 2, "-n -5"},
		{"method", []string{"-model", model, "-method", "guess"}, 2, `unknown method "guess"`},
		{"argument", []string{"-model", model, "extra"}, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"-model", model, "-masks", "bottom"}, 2, "flag provided but not defined: -masks"},
		{"picture too large", []string{"-model", model, "-show", "100", "-scale", "32"}, 2, "Mpixel complete.png; the limit is 64 Mpixels"},
		{"fit-whole", []string{"-model", model, "-fit-whole", "1"}, 2, "-fit-whole 1"},
		{"missing model", []string{"-model", filepath.Join(t.TempDir(), "none")}, 1, "no such folder"},
		{"corrupt model", []string{"-model", corrupt}, 1, "model.npz"},
		{"size too large", []string{"-model", model, "-mask", "centre", "-size", "29"}, 2, "centre mask of size 29 is larger than the 28×28 image"},
		{"png of wrong size", []string{"-model", model, "-mask", "png:" + narrow}, 2, "is 2×3 pixels, want 28×28"},
		{"unknown mask", []string{"-model", model, "-mask", "middle"}, 2, `unknown mask "middle"`},
		{"too many images", []string{"-model", model, "-n", "10001"}, 1, "-n 10001"},
		{"mixture without hidden layer", []string{"-model", shallow, "-method", "mixture", "-n", "5"}, 1, "no hidden layer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := runCommand(append(tt.args, "-out", out)...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one line containing %q", stderr, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output folder written (%v)", err)
			}
		})
	}
}

// TestDeterministic runs every mask and method twice with the same seed:
// the table and both files must be identical, byte for byte.
func TestDeterministic(t *testing.T) {
	model := saveModel(t, "(16),(10)", "generative-sampled")
	var outs [2]string
	var files [2][2][]byte
	for k := range 2 {
		dir := filepath.Join(t.TempDir(), "out")
		code, stdout, stderr := runCommand("-model", model, "-n", "40", "-draws", "4", "-steps", "2", "-out", dir)
		if code != 0 {
			t.Fatalf("exit status %d: %s", code, stderr)
		}
		outs[k] = strings.ReplaceAll(stdout, dir, "OUT")
		for f, name := range []string{"complete.png", "complete.npz"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			files[k][f] = b
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("tables differ:\n%s\n%s", outs[0], outs[1])
	}
	for f, name := range []string{"complete.png", "complete.npz"} {
		if !bytes.Equal(files[0][f], files[1][f]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	for _, want := range []string{"random0.90", "centre14", "mixture", "iterate", "BCE of the completed pixels"} {
		if !strings.Contains(outs[0], want) {
			t.Errorf("table lacks %q:\n%s", want, outs[0])
		}
	}
}

func TestJSON(t *testing.T) {
	model := saveModel(t, "(16),(10)", "generative")
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCommand("-model", model, "-n", "20", "-mask", "bottom,centre", "-method", "zero,generative", "-json", "-show", "0", "-out", dir)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	var res struct {
		N     int `json:"n"`
		Cells [][]struct {
			Mask     string  `json:"mask"`
			Method   string  `json:"method"`
			Accuracy float64 `json:"accuracy"`
			Missing  int64   `json:"missing_pixels"`
		} `json:"cells"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if res.N != 20 || len(res.Cells) != 2 || len(res.Cells[1]) != 2 {
		t.Fatalf("JSON has %d images and cells %v, want 20 and 2×2", res.N, res.Cells)
	}
	if c := res.Cells[1][1]; c.Mask != "centre14" || c.Method != "generative" || c.Missing != 20*196 {
		t.Errorf("cell [1][1] = %+v, want centre14 generative with %d missing pixels", c, 20*196)
	}
	if _, err := os.Stat(filepath.Join(dir, "complete.png")); !os.IsNotExist(err) {
		t.Errorf("-show 0 wrote complete.png (%v)", err)
	}
	z, err := zip.OpenReader(filepath.Join(dir, "complete.npz"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	have := map[string]bool{}
	for _, f := range z.File {
		have[f.Name] = true
	}
	for _, name := range []string{"labels", "clean_pred", "bottom_observed", "centre14_generative_pred", "centre14_generative_prob"} {
		if !have[name+".npy"] {
			t.Errorf("complete.npz lacks %s.npy (has %v)", name, have)
		}
	}
}

func TestHelp(t *testing.T) {
	code, stdout, stderr := runCommand("-h")
	if code != 0 || stderr != "" {
		t.Errorf("-h: exit status %d, stderr %q; want 0 and nothing", code, stderr)
	}
	for _, want := range []string{"Usage: complete -model RUN_DIR", "-mask kind", "-method method", "-draws S"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("-h output lacks %q:\n%s", want, stdout)
		}
	}
}
