package train

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
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

// drawLimit bounds the values PlotRuns draws: an accuracy lies in [0,1],
// a per-pixel BCE of a real run within a few nats and an iteration count
// far below 10^12, while values near ±1e308 make the axis span overflow
// to +Inf, on which gonum/plot's tick code never returns.
const drawLimit = 1e12

// PlotRuns draws the curves of the paper's Figure 1 into a PNG at path
// (written atomically): left, training (dashed) and validation (solid)
// accuracy; right, the reverse model's per-pixel BCE, training dashed and
// validation solid, of the runs with a generative objective (of all runs
// when none has one). The x axis is the iteration; each run has its colour.
// Points that cannot be drawn (NaN, ±Inf, or beyond ±1e12) are left out;
// PlotRunsWarn says which.
func PlotRuns(path string, runs []Curves) error {
	return PlotRunsWarn(path, runs, io.Discard)
}

// PlotRunsWarn is PlotRuns that writes to warn one line for each curve
// with finite points it left out because they lie beyond ±1e12 (which
// would make the plot unbounded), naming the run, the curve and the count.
func PlotRunsWarn(path string, runs []Curves, warn io.Writer) error {
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
		warnf := func(quantity string) func(curve string, n int) {
			return func(curve string, n int) {
				fmt.Fprintf(warn, "plot %s: run %s: %d %s %s points beyond ±%g left out\n", path, r.Label, n, curve, quantity, drawLimit)
			}
		}
		col := plotutil.Color(i)
		label := r.Label
		if len(runs) == 1 && r.Objective != "" {
			label = r.Objective
		}
		if err := addPair(acc, r.Rows, col, label, warnf("accuracy"),
			func(w Row) float64 { return w.TrainAccuracy },
			func(w Row) float64 { return w.ValAccuracy }); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		if r.Objective == "discriminative" && anyGenerative {
			continue
		}
		if err := addPair(rev, r.Rows, col, label, warnf("reverse BCE"),
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
	return writePNG(path, img)
}

// writePNG encodes a drawn canvas as a PNG written atomically to path.
func writePNG(path string, img *vgimg.Canvas) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return checkpoint.WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// addPair adds a dashed training and a solid validation line of one run,
// of the points that can be drawn; it reports to dropped the number of
// finite points beyond ±drawLimit it left out of each line.
func addPair(p *plot.Plot, rows []Row, col color.Color, label string, dropped func(curve string, n int), train, val func(Row) float64) error {
	for _, c := range []struct {
		curve  string
		y      func(Row) float64
		dashed bool
	}{{"training", train, true}, {"validation", val, false}} {
		var xys plotter.XYs
		beyond := 0
		for _, r := range rows {
			x, y := float64(r.Iteration), c.y(r)
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			if math.Abs(x) > drawLimit || math.Abs(y) > drawLimit {
				beyond++
				continue
			}
			xys = append(xys, plotter.XY{X: x, Y: y})
		}
		if beyond > 0 {
			dropped(c.curve, beyond)
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
