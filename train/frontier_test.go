package train

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlotFrontier: points that cannot be drawn are left out with a
// warning each, the others are drawn; with none left it is an error.
func TestPlotFrontier(t *testing.T) {
	pts := []FrontierPoint{
		{Run: "a", Loss: 0.17, Accuracy: 0.99},
		{Run: "b", Loss: 0.15, Accuracy: 0.98},
		{Run: "huge", Loss: 1e308, Accuracy: 0.99},
		{Run: "nan", Loss: 0.1, Accuracy: math.NaN()},
	}
	MarkFrontier(pts)
	if !pts[0].Frontier || !pts[1].Frontier || pts[2].Frontier {
		t.Errorf("frontier %+v, want a and b", pts)
	}
	out := filepath.Join(t.TempDir(), "frontier.png")
	var warn bytes.Buffer
	if err := PlotFrontier(out, pts, "val_reverse_bce_22", FrontierTargets{Loss: 0.14, Accuracy: 0.99}, &warn); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(warn.String(), "cannot be drawn; left out\n"); got != 2 || !strings.Contains(warn.String(), "run huge: loss 1e+308") {
		t.Errorf("warnings %q, want one for huge and one for nan", warn.String())
	}
	if b := decodePNG(t, out).Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("%s is %v", out, b.Size())
	}
	if err := PlotFrontier(out, pts[2:], "x", FrontierTargets{}, &warn); err == nil || !strings.Contains(err.Error(), "no point to draw") {
		t.Errorf("nothing drawable: error %v", err)
	}
}
