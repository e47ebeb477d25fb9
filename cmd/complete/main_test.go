package main

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"dcim/data/datatest"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
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
	fifoModel := filepath.Join(t.TempDir(), "fifo")
	if err := os.MkdirAll(fifoModel, 0o755); err != nil {
		t.Fatal(err)
	}
	fifoPNG := filepath.Join(t.TempDir(), "mask.png")
	for _, path := range []string{filepath.Join(fifoModel, checkpoint.JSONName), fifoPNG} {
		datatest.Mkfifo(t, path)
	}
	bombPNG := filepath.Join(t.TempDir(), "bomb.png")
	if err := os.WriteFile(bombPNG, pngBomb(t, 60000, 60000), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no model flag", nil, 2, "-model RUN_DIR is required"},
		{"p is 1", []string{"-model", model, "-p", "1"}, 2, "flag -p: 1: want a finite number in [0, 1)"},
		{"p negative", []string{"-model", model, "-p", "-0.1"}, 2, "flag -p: -0.1: want"},
		{"p NaN", []string{"-model", model, "-p", "NaN"}, 2, "flag -p: NaN: want"},
		{"beta Inf", []string{"-model", model, "-beta", "Inf"}, 2, "flag -beta: +Inf: want a finite number in (0, 1000]"},
		{"beta NaN", []string{"-model", model, "-beta", "NaN"}, 2, "flag -beta: NaN: want"},
		{"beta 0", []string{"-model", model, "-beta", "0"}, 2, "flag -beta: 0: want"},
		{"fit-lr huge", []string{"-model", model, "-fit-lr", "1e30"}, 2, "flag -fit-lr: 1e+30: want a finite number in (0, 1]"},
		{"fit-lr Inf", []string{"-model", model, "-fit-lr", "Inf"}, 2, "flag -fit-lr: +Inf: want"},
		{"fit-whole -Inf", []string{"-model", model, "-fit-whole", "-Inf"}, 2, "flag -fit-whole: -Inf: want a finite number in [-1, 1)"},
		{"force without fit", []string{"-model", model, "-force"}, 2, "-force is for -fit"},
		{"max-memory not a size", []string{"-model", model, "-max-memory", "lots"}, 2, `flag -max-memory: "lots": want a size such as 2GiB`},
		{"mixture draws over the memory budget", []string{"-model", model, "-method", "mixture", "-draws", "4096", "-n", "20", "-mask", "bottom", "-max-memory", "64MiB"}, 2,
			"20 images with 1 mask(s), 1 method(s), -draws 4096, -show 10 and -scale 2, for a model of 810 state units per image, needs about"},
		{"model.json a named pipe", []string{"-model", fifoModel}, 1, "model.json: a named pipe, not a regular file"},
		{"png mask a named pipe", []string{"-model", model, "-mask", "png:" + fifoPNG}, 2, "mask open " + fifoPNG + ": a named pipe, not a regular file"},
		{"png mask of 60000×60000 pixels", []string{"-model", model, "-mask", "png:" + bombPNG}, 2, "is 60000×60000 pixels, want 28×28"},
		{"size 0", []string{"-model", model, "-size", "0"}, 2, "-size 0"},
		{"steps", []string{"-model", model, "-steps", "-1"}, 2, "-steps -1"},
		{"draws", []string{"-model", model, "-draws", "0"}, 2, "-draws 0"},
		{"inference", []string{"-model", model, "-inference", "exact"}, 2, `-inference: unknown inference "exact"`},
		{"n", []string{"-model", model, "-n", "-5"}, 2, "-n -5"},
		{"method", []string{"-model", model, "-method", "guess"}, 2, `unknown method "guess"`},
		{"argument", []string{"-model", model, "extra"}, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"-model", model, "-masks", "bottom"}, 2, "flag provided but not defined: -masks"},
		{"picture too large", []string{"-model", model, "-show", "100", "-scale", "32"}, 2, "Mpixel complete.png; the limit is 64 Mpixels"},
		{"fit-whole", []string{"-model", model, "-fit-whole", "1"}, 2, "flag -fit-whole: 1: want"},
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

// pngBomb returns a PNG of w×h one-bit grey pixels, all black: its
// compressed rows take a few hundred bytes per thousand rows, while
// decoding it would take w×h bytes.
func pngBomb(t *testing.T, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	row := make([]byte, 1+(w+7)/8) // filter byte 0, then the bits
	for range h {
		zw.Write(row)
	}
	zw.Close()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		b.WriteString(kind)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale
	chunk("IHDR", ihdr)
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// TestFitOutput: -fit writes the fine-tuned model into a new folder, a
// non-empty one only with -force, never the -model folder, and leaves the
// model it starts from as it was.
func TestFitOutput(t *testing.T) {
	model := saveModel(t, "(16),(10)", "generative")
	before := map[string][]byte{}
	for _, name := range []string{checkpoint.NPZName, checkpoint.JSONName} {
		b, err := os.ReadFile(filepath.Join(model, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = b
	}
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fitted")
	fit := []string{"-fit", "1", "-n", "20", "-mask", "bottom", "-method", "mean", "-show", "0"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no -out", []string{"-model", model}, 2, "-fit writes the fine-tuned model into a new folder: give it with -out"},
		{"-out is -model", []string{"-model", model, "-out", model}, 2, "is the -model folder"},
		{"-out is -model, forced", []string{"-model", model, "-out", model + "/", "-force"}, 2, "is the -model folder"},
		{"-out not empty", []string{"-model", model, "-out", full}, 2, "-out " + full + " is not empty (holds notes.txt): give a new folder, or -force"},
		{"new folder", []string{"-model", model, "-out", fresh}, 0, ""},
		{"-out not empty, forced", []string{"-model", model, "-out", full, "-force"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCommand(append(tt.args, fit...)...)
			if code != tt.code {
				t.Fatalf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if tt.code != 0 {
				if lines := strings.Split(strings.TrimSpace(stderr), "\n"); !strings.Contains(lines[len(lines)-1], tt.want) {
					t.Errorf("stderr %q, want a last line containing %q", stderr, tt.want)
				}
			}
		})
	}
	for name, b := range before {
		if got, err := os.ReadFile(filepath.Join(model, name)); err != nil || !bytes.Equal(got, b) {
			t.Errorf("-model's %s changed (%v)", name, err)
		}
	}
	for _, dir := range []string{fresh, full} {
		meta, err := checkpoint.ReadMeta(dir)
		if err != nil || meta.Extra["fit_masked"] == nil {
			t.Errorf("%s: fitted model.json %+v, %v", dir, meta.Extra, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(full, "notes.txt")); err != nil || string(b) != "mine" {
		t.Errorf("-force removed or changed another file of -out: %q, %v", b, err)
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
