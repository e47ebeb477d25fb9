package main

import (
	"bytes"
	"dcim/data/datatest"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/graph"
	"dcim/models"
	"dcim/train/approx"
	"dcim/train/checkpoint"

	"gorgonia.org/tensor"
)

// saveModel writes a small random checkpoint of arch into a new folder.
func saveModel(t *testing.T, arch string) string {
	t.Helper()
	a, err := models.Parse(arch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.NewParams(a, models.MNISTInput, 10, graph.Binary, tensor.Float32, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := checkpoint.Save(dir, p, checkpoint.Meta{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCommand runs the command on real MNIST test images with a small
// saved checkpoint.
func TestCommand(t *testing.T) {
	dir := saveModel(t, "(8),(6),(10)")
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-model", dir, "-n", "30", "-draws", "10", "-out", out, "-json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep approx.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("-json output: %v", err)
	}
	// Layer 1 is exact; the Monte-Carlo and the mean-field graphs, of
	// different batch sizes, round float32 a little differently.
	if rep.Images != 30 || len(rep.Forward) != 2 || len(rep.Reverse) != 3 || rep.Forward[0].Errors["meanfield"].Max.Value > 1e-6 {
		t.Errorf("report: %d images, %d forward and %d reverse layers, layer 1 error %+v; want 30, 2, 3 and below 1e-6",
			rep.Images, len(rep.Forward), len(rep.Reverse), rep.Forward[0].Errors["meanfield"])
	}
	for _, f := range []string{"approx.json", "approx.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}

// TestErrors: bad flags and models end in one line and exit 2 or 1; no
// -draws, however large, panics or allocates by its value.
func TestErrors(t *testing.T) {
	dir := saveModel(t, "(8),(6),(10)")
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, checkpoint.JSONName), []byte(`{"arch":"(5),(x)","encoding":"binary","input":[1,28,28]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := t.TempDir()
	datatest.Mkfifo(t, filepath.Join(fifo, checkpoint.JSONName))
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"draws 0", []string{"-model", dir, "-draws", "0"}, 2, "-draws 0: want 1…1000000"},
		{"draws 10^12", []string{"-model", dir, "-n", "5", "-draws", "1000000000000"}, 2, "-draws 1000000000000: want 1…1000000"},
		{"draws beyond int", []string{"-model", dir, "-draws", "1e30"}, 2, `invalid value "1e30" for flag -draws`},
		{"n beyond the test set", []string{"-model", dir, "-n", "10001"}, 2, "-n 10001"},
		{"unparsable layers", []string{"-model", bad}, 2, "layers"},
		{"no model", []string{"-draws", "5"}, 2, "-model"},
		{"inference", []string{"-model", dir, "-inference", "exact"}, 2, "-inference"},
		{"memory budget", []string{"-model", dir, "-n", "10", "-max-memory", "1MiB"}, 2, "-n 10 with -draws 200, for a model of 808 state units per image, needs about"},
		{"model.json a named pipe", []string{"-model", fifo}, 1, "model.json: a named pipe, not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(c.args, io.Discard, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1] // after the data package's line naming the MNIST files
			if code != c.code || !strings.HasPrefix(last, "approx: ") || !strings.Contains(last, c.want) || strings.Count(stderr.String(), "approx: ") != 1 {
				t.Errorf("%v: exit %d, stderr %q; want %d and one error line containing %q", c.args, code, stderr.String(), c.code, c.want)
			}
		})
	}
}
