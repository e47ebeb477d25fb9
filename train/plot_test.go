package train

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlotHugeValues plots metrics.csv files whose values span ±1e308,
// on which gonum/plot's tick code never returned: the points beyond
// ±1e12 are left out with a warning and the plot is written.
func TestPlotHugeValues(t *testing.T) {
	header := strings.Join(metricsHeader, ",") + "\n"
	tests := []struct {
		name  string
		rows  string
		warns []string
	}{
		{"span ±1e308", "" +
			"100,1,1,0.5,0.9,0.3,0.2,0.91,0.3,0.2,0.2,0.3\n" +
			"200,2,2,0.5,1e308,0.3,-1e308,-1e308,0.3,1e308,0.2,0.3\n" +
			"300,3,3,0.5,0.95,0.3,0.1,0.96,0.3,0.1,0.1,0.3\n",
			[]string{
				"run hostile: 1 training accuracy points beyond ±1e+12 left out",
				"run hostile: 1 validation accuracy points beyond ±1e+12 left out",
				"run hostile: 1 training reverse BCE points beyond ±1e+12 left out",
				"run hostile: 1 validation reverse BCE points beyond ±1e+12 left out",
			}},
		{"iteration 1e308", "" +
			"100,1,1,0.5,0.9,0.3,0.2,0.91,0.3,0.2,0.2,0.3\n" +
			"1e308,2,2,0.5,0.9,0.3,0.2,0.91,0.3,0.2,0.2,0.3\n",
			[]string{"run hostile: 1 validation accuracy points beyond ±1e+12 left out"}},
		{"nothing drawable", "" +
			"100,1,1,0.5,1e308,0.3,-1e308,-1e308,0.3,1e308,0.2,0.3\n",
			[]string{"run hostile: 1 validation reverse BCE points beyond ±1e+12 left out"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "hostile")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, MetricsName), []byte(header+tc.rows), 0o644); err != nil {
				t.Fatal(err)
			}
			run, err := LoadRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			run.Objective = "generative"
			out := filepath.Join(dir, "curves.png")
			var warn bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- PlotRunsWarn(out, []Curves{run}, &warn) }()
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a watchdog, not a speed test: it hung before
				t.Fatal("PlotRunsWarn has not returned after a minute")
			}
			if err != nil {
				t.Fatal(err)
			}
			decodePNG(t, out)
			for _, w := range tc.warns {
				if !strings.Contains(warn.String(), w) {
					t.Errorf("warnings\n%s\nlack %q", warn.String(), w)
				}
			}
		})
	}
}

// decodePNG reads the PNG at path, failing the test if it does not decode.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
