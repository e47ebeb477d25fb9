package approx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"

	"dcim/train/checkpoint"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// JSON returns the report as indented JSON (NaN standard errors, where
// there were too few draws to have one, as null).
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("approx: report as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// MarshalJSON writes a NaN standard error as null.
func (f Figure) MarshalJSON() ([]byte, error) {
	se := "null"
	if !math.IsNaN(f.SE) {
		se = fmt.Sprint(f.SE)
	}
	return fmt.Appendf(nil, `{"value":%v,"se":%s}`, f.Value, se), nil
}

// fig formats a Monte-Carlo figure with its standard error in brackets.
func fig(f Figure) string {
	if math.IsNaN(f.SE) {
		return fmt.Sprintf("%.4f", f.Value)
	}
	return fmt.Sprintf("%.4f (%.2g)", f.Value, f.SE)
}

// WriteTable prints the report as plain-text tables.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "model %s, %s units; %d test images, %d draws, seed %d; Monte-Carlo standard errors in brackets\n", r.Arch, r.Encoding, r.Images, r.Draws, r.Seed)
	r.layerTable(w, "forward chain, |MC − method| per hidden layer (MC s.e.: mean standard error of a unit's MC marginal)", r.Forward)
	fmt.Fprintf(w, "\nclass layer p(x^d | x^0)\n%-11s %-18s %-18s %-18s %-18s\n", "method", "KL(MC ‖ method)", "accuracy", "NLL", "ECE")
	c := r.Class
	fmt.Fprintf(w, "%-11s %-18s %-18s %-18s %-18s\n", "montecarlo", "", fig(c.MC.Accuracy), fig(c.MC.NLL), fig(c.MC.ECE))
	for _, m := range r.Methods {
		f := c.Methods[m]
		fmt.Fprintf(w, "%-11s %-18s %-18s %-18s %-18s\n", m, fig(c.KL[m]), fig(f.Accuracy), fig(f.NLL), fig(f.ECE))
	}
	fmt.Fprintln(w)
	r.layerTable(w, "reverse chain from each class, |MC − method| per layer (0: the image's pixel marginals)", r.Reverse)
	fmt.Fprintf(w, "\nimage layer: per-pixel BCE of each test image under its class's image marginal\n%-11s %s\n", "montecarlo", fig(r.Image.MC))
	for _, m := range r.Methods {
		fmt.Fprintf(w, "%-11s %.4f\n", m, r.Image.Methods[m])
	}
	r.likelihoodTable(w)
}

// likelihoodTable prints the importance-sampled log-likelihood, if any.
func (r *Report) likelihoodTable(w io.Writer) {
	ll := r.Likelihood
	if ll == nil {
		return
	}
	fmt.Fprintf(w, "\nreverse model's log-likelihood of %d binarised test images (%s), nats per image,\nimportance-sampled with the forward chain as proposal; Monte-Carlo s.e. in brackets, ± s.e. over the images\n", ll.Images, ll.Binarise)
	fmt.Fprintf(w, "%-8s %-28s %-28s %s\n", "K", "log q(x | label)", "log q(x), uniform class prior", "per pixel")
	for _, e := range ll.Estimates {
		fmt.Fprintf(w, "%-8d %-28s %-28s %.4f\n", e.Draws, fmt.Sprintf("%s ± %.2f", fig(e.Conditional), e.ImagesSE), fmt.Sprintf("%s ± %.2f", fig(e.Unconditional), e.UncondImagesSE), e.ConditionalPixel)
	}
}

func (r *Report) layerTable(w io.Writer, title string, layers []Layer) {
	fmt.Fprintf(w, "\n%s\n%-6s %-6s %-8s", title, "layer", "units", "MC s.e.")
	for _, m := range r.Methods {
		fmt.Fprintf(w, " %-19s %-19s %-8s", m+" mean", m+" max", "rms*")
	}
	fmt.Fprintln(w)
	defer fmt.Fprintln(w, "rms*: root mean square of MC − method with the MC noise taken out")
	for _, l := range layers {
		fmt.Fprintf(w, "%-6d %-6d %-8.4f", l.Layer, l.Units, l.MCSE)
		for _, m := range r.Methods {
			e := l.Errors[m]
			fmt.Fprintf(w, " %-19s %-19s %-8.4f", fig(e.Mean), fig(e.Max), e.RMS)
		}
		fmt.Fprintln(w)
	}
}

// PNG draws the mean |MC − method| per layer, forward chain on the left
// and reverse chain on the right, one line per method.
func (r *Report) PNG() ([]byte, error) {
	fwd := plot.New()
	fwd.Title.Text = "forward chain: mean |MC − method| per hidden layer"
	fwd.X.Label.Text = "layer k"
	fwd.Y.Label.Text = "mean |MC − method|"
	rev := plot.New()
	rev.Title.Text = "reverse chain from each class (0: image)"
	rev.X.Label.Text = "layer k"
	rev.Y.Label.Text = "mean |MC − method|"
	for i, m := range r.Methods {
		for _, side := range []struct {
			p      *plot.Plot
			layers []Layer
		}{{fwd, r.Forward}, {rev, r.Reverse}} {
			var xys plotter.XYs
			for _, l := range side.layers {
				xys = append(xys, plotter.XY{X: float64(l.Layer), Y: l.Errors[m].Mean.Value})
			}
			if len(xys) == 0 {
				continue
			}
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("approx: plot: %w", err)
			}
			line.Color, points.Color = plotutil.Color(i), plotutil.Color(i)
			line.Width = vg.Points(1.5)
			points.Shape = plotutil.Shape(i)
			side.p.Add(line, points)
			side.p.Legend.Add(m, line, points)
		}
	}
	for _, side := range []struct {
		p      *plot.Plot
		layers []Layer
	}{{fwd, r.Forward}, {rev, r.Reverse}} {
		var xys plotter.XYs
		var ticks []plot.Tick
		for _, l := range side.layers {
			xys = append(xys, plotter.XY{X: float64(l.Layer), Y: l.MCSE})
			ticks = append(ticks, plot.Tick{Value: float64(l.Layer), Label: fmt.Sprint(l.Layer)})
		}
		side.p.X.Tick.Marker = plot.ConstantTicks(ticks)
		if len(xys) == 0 || math.IsNaN(xys[0].Y) {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("approx: plot: %w", err)
		}
		line.Color = color.Gray{Y: 128}
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		side.p.Add(line)
		side.p.Legend.Add("MC s.e. (noise floor)", line)
	}
	fwd.Legend.Top, rev.Legend.Top = true, true
	const width, height = 30 * vg.Centimeter, 11 * vg.Centimeter
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{fwd, rev}}, tiles, dc)
	fwd.Draw(canvases[0][0])
	rev.Draw(canvases[0][1])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("approx: plot: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteFiles writes approx.json and approx.png into dir.
func (r *Report) WriteFiles(dir string) error {
	js, err := r.JSON()
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(dir+"/approx.json", js, 0o644); err != nil {
		return err
	}
	png, err := r.PNG()
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(dir+"/approx.png", png, 0o644)
}
