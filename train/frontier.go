package train

import (
	"cmp"
	"dcim/data"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// FrontierPoint is one run of a frontier view: its validation accuracy
// against a loss, and whether it lies on the Pareto frontier.
type FrontierPoint struct {
	Run      string  `json:"run"`           // the label drawn beside the point
	Dir      string  `json:"dir,omitempty"` // the run folder
	Loss     float64 `json:"loss"`          // x: lower is better
	Accuracy float64 `json:"val_accuracy"`
	Frontier bool    `json:"frontier"`
}

// MarkFrontier sets Frontier on the points that no other point dominates:
// none is at least as accurate with at most the loss, and better in one
// of the two. Equal points are all on the frontier.
func MarkFrontier(pts []FrontierPoint) {
	for i := range pts {
		p := &pts[i]
		p.Frontier = !slices.ContainsFunc(pts, func(q FrontierPoint) bool {
			return q.Accuracy >= p.Accuracy && q.Loss <= p.Loss && (q.Accuracy > p.Accuracy || q.Loss < p.Loss)
		})
	}
}

// FrontierTargets are the optional target lines of a frontier view; a
// zero field draws no line.
type FrontierTargets struct {
	Loss, Accuracy float64
}

// PlotFrontier draws the points (accuracy against loss, each labelled with
// its run), the Pareto frontier of those marked by MarkFrontier as a line
// from the least loss up, and the target lines, into a PNG at path
// (written atomically). xLabel names the loss. Points that cannot be drawn
// (NaN, ±Inf, or beyond ±1e12) are left out with a line to warn each.
func PlotFrontier(path string, pts []FrontierPoint, xLabel string, targets FrontierTargets, warn io.Writer) error {
	var all, front plotter.XYs
	var labels []string
	for _, p := range pts {
		if !drawable(p.Loss) || !drawable(p.Accuracy) {
			fmt.Fprintf(warn, "plot %s: run %s: loss %g, accuracy %g cannot be drawn; left out\n", path, p.Run, p.Loss, p.Accuracy)
			continue
		}
		all = append(all, plotter.XY{X: p.Loss, Y: p.Accuracy})
		labels = append(labels, p.Run)
		if p.Frontier {
			front = append(front, plotter.XY{X: p.Loss, Y: p.Accuracy})
		}
	}
	if len(all) == 0 {
		return fmt.Errorf("plot %s: no point to draw", path)
	}
	pl := plot.New()
	pl.Title.Text = "validation accuracy against " + xLabel + " (line: Pareto frontier)"
	pl.X.Label.Text = xLabel + " (lower is better)"
	pl.Y.Label.Text = "validation accuracy"
	pl.X.Min, pl.X.Max = axisRange(all, func(p plotter.XY) float64 { return p.X }, targets.Loss)
	pl.Y.Min, pl.Y.Max = axisRange(all, func(p plotter.XY) float64 { return p.Y }, targets.Accuracy)

	slices.SortFunc(front, func(a, b plotter.XY) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
	if len(front) > 1 {
		l, err := plotter.NewLine(front)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Width, l.Color = vg.Points(1.5), color.RGBA{R: 200, A: 255}
		pl.Add(l)
	}
	dashed := []vg.Length{vg.Points(5), vg.Points(3)}
	grey := color.Gray{Y: 110}
	target := func(xys plotter.XYs) error {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Dashes, l.Color = dashed, grey
		pl.Add(l)
		return nil
	}
	if targets.Loss != 0 {
		if err := target(plotter.XYs{{X: targets.Loss, Y: pl.Y.Min}, {X: targets.Loss, Y: pl.Y.Max}}); err != nil {
			return err
		}
	}
	if targets.Accuracy != 0 {
		if err := target(plotter.XYs{{X: pl.X.Min, Y: targets.Accuracy}, {X: pl.X.Max, Y: targets.Accuracy}}); err != nil {
			return err
		}
	}
	sc, err := plotter.NewScatter(all)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3)}
	pl.Add(sc)
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: all, Labels: labels})
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	lab.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
	pl.Add(lab)

	img := vgimg.New(24*vg.Centimeter, 16*vg.Centimeter)
	pl.Draw(draw.New(img))
	return writePNG(path, img)
}

// drawable reports whether v can be drawn (see drawLimit).
func drawable(v float64) bool { return !math.IsNaN(v) && math.Abs(v) <= drawLimit }

// axisRange spans the points' coordinates and a non-zero target, with a
// margin of a tenth of the span (or of the value, for a single one) on
// each side for the labels.
func axisRange(xys plotter.XYs, coord func(plotter.XY) float64, target float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range xys {
		lo, hi = min(lo, coord(p)), max(hi, coord(p))
	}
	if target != 0 && drawable(target) {
		lo, hi = min(lo, target), max(hi, target)
	}
	pad := (hi - lo) / 10
	if pad == 0 {
		pad = max(math.Abs(lo)/10, 1e-3)
	}
	return lo - pad, hi + pad
}

// ReadFrontierPoint reads a run folder's summary.json: its validation
// accuracy and the value of key, a dotted path into the file (e.g.
// val_reverse_bce_22, terms.draw7.val). The point is labelled with the
// folder's name.
func ReadFrontierPoint(dir, key string) (FrontierPoint, error) {
	p := FrontierPoint{Run: filepath.Base(filepath.Clean(dir)), Dir: dir}
	path := filepath.Join(dir, SummaryName)
	b, err := data.ReadFile(path, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return p, fmt.Errorf("%s has no %s (an unfinished run?)", dir, SummaryName)
	}
	if err != nil {
		return p, err
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	if p.Accuracy, err = lookup(s, "val_accuracy"); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	if p.Loss, err = lookup(s, key); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// lookup returns the number at a dotted key of a JSON object.
func lookup(obj map[string]any, key string) (float64, error) {
	var v any = obj
	for part := range strings.SplitSeq(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("%s: %q is not an object", key, part)
		}
		if v, ok = m[part]; !ok {
			return 0, fmt.Errorf("no %s", key)
		}
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case nil:
		return math.NaN(), fmt.Errorf("%s is null (the run has no such figure)", key)
	}
	return 0, fmt.Errorf("%s is not a number", key)
}
