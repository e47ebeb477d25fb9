package train

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"dcim/train/checkpoint"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Curves are one run's metrics, as drawn by PlotRuns.
type Curves struct {
	Label     string // legend name
	Objective string // the run's objective (its reverse loss is drawn unless discriminative)
	Rows      []Row
}

// LoadRun reads the metrics of the run folder dir, labelled with the
// folder's name and its objective.
func LoadRun(dir string) (Curves, error) {
	rows, err := ReadMetrics(filepath.Join(dir, MetricsName))
	if err != nil {
		return Curves{}, err
	}
	c := Curves{Label: filepath.Base(filepath.Clean(dir)), Rows: rows}
	if meta, err := checkpoint.ReadMeta(dir); err == nil {
		c.Objective = meta.Objective
	}
	return c, nil
}

// PlotRuns draws the curves of the paper's Figure 1 into a PNG at path
// (written atomically): left, training (dashed) and validation (solid)
// accuracy; right, the reverse model's per-pixel BCE, training dashed and
// validation solid, of the runs with a generative objective (of all runs
// when none has one). The x axis is the iteration; each run has its colour.
func PlotRuns(path string, runs []Curves) error {
	if len(runs) == 0 {
		return fmt.Errorf("plot %s: no runs", path)
	}
	acc := plot.New()
	acc.Title.Text = "accuracy (dashed: training, solid: validation)"
	acc.X.Label.Text = "iteration"
	acc.Y.Label.Text = "accuracy"
	acc.Legend.Top, acc.Legend.Left = false, false
	acc.Legend.YOffs = vg.Points(40)
	rev := plot.New()
	rev.Title.Text = "reverse loss, per-pixel BCE (dashed: training, solid: validation)"
	rev.X.Label.Text = "iteration"
	rev.Y.Label.Text = "BCE (nats)"
	rev.Legend.Top = true

	anyGenerative := false
	for _, r := range runs {
		if r.Objective != "discriminative" {
			anyGenerative = true
		}
	}
	for i, r := range runs {
		col := plotutil.Color(i)
		label := r.Label
		if len(runs) == 1 && r.Objective != "" {
			label = r.Objective
		}
		if err := addPair(acc, r.Rows, col, label,
			func(w Row) float64 { return w.TrainAccuracy },
			func(w Row) float64 { return w.ValAccuracy }); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		if r.Objective == "discriminative" && anyGenerative {
			continue
		}
		if err := addPair(rev, r.Rows, col, label,
			func(w Row) float64 { return w.TrainReverseBCE },
			func(w Row) float64 { return w.ValReverseBCE }); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
	}

	const width, height = 30 * vg.Centimeter, 11 * vg.Centimeter
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{acc, rev}}
	canvases := plot.Align(plots, tiles, dc)
	acc.Draw(canvases[0][0])
	rev.Draw(canvases[0][1])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return checkpoint.WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// addPair adds a dashed training and a solid validation line of one run.
func addPair(p *plot.Plot, rows []Row, col color.Color, label string, train, val func(Row) float64) error {
	for _, c := range []struct {
		y      func(Row) float64
		dashed bool
	}{{train, true}, {val, false}} {
		var xys plotter.XYs
		for _, r := range rows {
			if y := c.y(r); !math.IsNaN(y) && !math.IsInf(y, 0) {
				xys = append(xys, plotter.XY{X: float64(r.Iteration), Y: y})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = col
		l.Width = vg.Points(1.5)
		if c.dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if !c.dashed {
			p.Legend.Add(label, l)
		}
	}
	return nil
}
