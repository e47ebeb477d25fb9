package sweep

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"dcim/data"
	"dcim/graph"
	"dcim/train"
	"dcim/train/approx"
	"dcim/train/checkpoint"
	"dcim/train/sampling"

	"gonum.org/v1/gonum/stat"
)

// Files of the results in a sweep folder.
const (
	ResultsMD   = "results.md"
	ResultsCSV  = "results.csv"
	ResultsJSON = "results.json"
	FrontierPNG = "frontier.png"
)

// The sampling verdicts of a results table are made as the sample command
// makes them by default.
const (
	samplesPerClass = 10
	samplesSeed     = 1
)

// The DCIM measurements of a results table are the approx command's on
// the first dcimImages test images with dcimDraws draws each (seed 1),
// the log-likelihood with dcimLLDraws importance samples on the first
// dcimLLImages of them.
const (
	dcimImages   = 1000
	dcimDraws    = 100
	dcimLLDraws  = 100
	dcimLLImages = 100
)

// Extras are the measurements a results table adds to the runs' own
// figures, each made on a run's saved model.
type Extras struct {
	// Samples draws each run's samples in every mode as the sample
	// command does by default and records the forward model's verdicts.
	Samples bool
	// DCIM measures the network itself, every hidden unit drawn, as the
	// approx command does, on the test set Test (which it needs).
	DCIM bool
	Test *data.Set
}

// Results is a sweep's table: a row per point and, when seed is an axis,
// the other axes' combinations with the mean and standard deviation of
// their figures over the seeds.
type Results struct {
	Sweep   string   `json:"sweep"`
	Command string   `json:"command"` // runs the sweep again and writes this table
	Table   string   `json:"table"`   // writes this table again
	Build   string   `json:"build"`   // the program's commit, or "unknown"
	Axes    []string `json:"axes"`
	Terms   []string `json:"terms"` // the objective terms' keys over all rows
	Rows    []Row    `json:"rows"`
	Groups  []Group  `json:"groups,omitempty"`

	folders []string // of the rows' runs
}

// Row is one point's final figures; the figures of a point not done are
// NaN (null in JSON).
type Row struct {
	Index  int      `json:"index"`
	Name   string   `json:"name"`
	State  string   `json:"state"`
	Values []string `json:"values"` // of each axis
	// ValAccuracy and the reverse BCEs of eq. (21) and eq. (22), over the
	// validation set.
	ValAccuracy     train.Number            `json:"val_accuracy"`
	ValReverseBCE21 train.Number            `json:"val_reverse_bce_21"`
	ValReverseBCE22 train.Number            `json:"val_reverse_bce_22"`
	Terms           map[string]train.Number `json:"terms"` // each term's validation value
	Seconds         train.Number            `json:"seconds"`
	ImagesPerSecond train.Number            `json:"images_per_second"`
	Samples         []Samples               `json:"samples,omitempty"`
	DCIM            *DCIM                   `json:"dcim,omitempty"`
}

// DCIM is the network itself measured on test images: the class layer's
// accuracy and NLL under mean field (approximation (2)) and under Monte
// Carlo (every hidden layer drawn), the KL divergence of the mean-field
// class posterior from the Monte-Carlo one, and the reverse model's
// importance-sampled log-likelihood of the binarised images given their
// class, in nats per image.
type DCIM struct {
	Images        int     `json:"images"`
	Draws         int     `json:"draws"`
	MFAccuracy    float64 `json:"mf_accuracy"`
	MFNLL         float64 `json:"mf_nll"`
	MCAccuracy    float64 `json:"mc_accuracy"`
	MCNLL         float64 `json:"mc_nll"`
	KL            float64 `json:"kl_mc_mf"`
	LogLikelihood float64 `json:"log_likelihood"`
	LLDraws       int     `json:"ll_draws"`
	LLImages      int     `json:"ll_images"`
}

// Samples is the forward model's verdict on the reverse model's samples
// of one mode (the sample command's): how many of them it assigns to the
// class they were drawn for, and their per-pixel spread.
type Samples struct {
	Mode     string  `json:"mode"`
	Correct  int     `json:"correct"`
	N        int     `json:"n"`
	PixelStd float64 `json:"pixel_std"`
}

// Group is the rows that differ in their seed only.
type Group struct {
	Values []string          `json:"values"` // of the axes but seed, in axis order
	N      int               `json:"n"`      // rows done
	Stats  map[string]MeanSD `json:"stats"`  // by column: val_accuracy, val_reverse_bce_21, …, term keys
}

// MeanSD is a mean and a (sample) standard deviation; SD is NaN for one
// value.
type MeanSD struct {
	Mean train.Number `json:"mean"`
	SD   train.Number `json:"sd"`
}

// Collect reads the results of every point of plan in folder dir, and
// makes the measurements of extras on each done point until ctx ends (the
// rows after that have none). statuses, when given, are the points'
// states (else their folders tell).
func Collect(ctx context.Context, dir string, plan *Plan, statuses []Status, extras Extras) (*Results, error) {
	if extras.DCIM && extras.Test == nil {
		return nil, errors.New("sweep: the DCIM measurements need the test set")
	}
	r := &Results{Sweep: plan.Name, Command: plan.Command, Table: TableCommand(dir, extras), Build: Build()}
	for _, a := range plan.Axes {
		r.Axes = append(r.Axes, a.Setting)
	}
	for i := range plan.Points {
		p := &plan.Points[i]
		var st Status
		if statuses != nil {
			st = statuses[i]
		} else {
			var err error
			if st, err = Inspect(dir, p); err != nil {
				return nil, err
			}
		}
		nan := train.Number(math.NaN())
		row := Row{Index: i, Name: p.Name, State: st.State.String(), Values: p.Values,
			ValAccuracy: nan, ValReverseBCE21: nan, ValReverseBCE22: nan, Seconds: nan, ImagesPerSecond: nan, Terms: map[string]train.Number{}}
		if s := st.Summary; s != nil {
			row.ValAccuracy, row.ValReverseBCE21, row.ValReverseBCE22 = train.Number(s.ValAccuracy), s.ValReverseBCE21, s.ValReverseBCE22
			row.Seconds, row.ImagesPerSecond = train.Number(s.Seconds), train.Number(s.ImagesPerSecond)
			for k, t := range s.Terms {
				row.Terms[k] = t.Val
				if !slices.Contains(r.Terms, k) {
					r.Terms = append(r.Terms, k)
				}
			}
			if extras.Samples && ctx.Err() == nil {
				v, err := sample(p.Folder(dir))
				if err != nil {
					return nil, fmt.Errorf("point %s: samples: %w", p.Name, err)
				}
				row.Samples = v
			}
			if extras.DCIM && ctx.Err() == nil {
				v, err := measureDCIM(p.Folder(dir), extras.Test)
				if err != nil {
					return nil, fmt.Errorf("point %s: DCIM: %w", p.Name, err)
				}
				row.DCIM = v
			}
		}
		r.Rows = append(r.Rows, row)
		r.folders = append(r.folders, p.Folder(dir))
	}
	slices.SortFunc(r.Terms, func(a, b string) int { return cmp.Or(cmp.Compare(termRank(a), termRank(b)), cmp.Compare(a, b)) })
	if seed := plan.AxisIndex("seed"); seed >= 0 {
		r.Groups = group(r, seed)
	}
	return r, nil
}

// termRank orders the term keys: ce, label, then the layers' terms.
func termRank(key string) int {
	switch key {
	case "ce":
		return 0
	case "label":
		return 1
	}
	return 2
}

// sample draws a run's samples in every mode as the sample command does
// by default (10 per class, seed 1, mean-field inference) and returns
// the forward model's verdicts.
func sample(folder string) ([]Samples, error) {
	p, _, err := checkpoint.Load(folder)
	if err != nil {
		return nil, err
	}
	var out []Samples
	for _, m := range sampling.Modes {
		t, err := sampling.GenerateWith(p, m, samplesPerClass, samplesSeed, graph.MeanField)
		if err != nil {
			return nil, err
		}
		v := t.Verdict()
		out = append(out, Samples{Mode: string(m), Correct: v.Correct, N: v.N, PixelStd: v.PixelStd})
	}
	return out, nil
}

// measureDCIM measures a run's network itself as the approx command does
// (see the constants dcim*).
func measureDCIM(folder string, test *data.Set) (*DCIM, error) {
	p, _, err := checkpoint.Load(folder)
	if err != nil {
		return nil, err
	}
	if test.C != p.Input.C || test.H != p.Input.H || test.W != p.Input.W || test.N < dcimImages {
		return nil, fmt.Errorf("the test set's %d images of %d×%d×%d do not fit a model of %v", test.N, test.C, test.H, test.W, p.Input)
	}
	images, labels := test.Batch(nil, 0, dcimImages), test.Labels[:dcimImages]
	rep, err := approx.Run(p, images, labels, approx.Options{Draws: dcimDraws, Seed: 1, Methods: []graph.Inference{graph.MeanField},
		LikelihoodDraws: []int{dcimLLDraws}, LikelihoodImages: dcimLLImages})
	if err != nil {
		return nil, err
	}
	mf := graph.MeanField.String()
	d := &DCIM{Images: dcimImages, Draws: dcimDraws, LLDraws: dcimLLDraws, LLImages: dcimLLImages,
		MFAccuracy: rep.Class.Methods[mf].Accuracy.Value, MFNLL: rep.Class.Methods[mf].NLL.Value,
		MCAccuracy: rep.Class.MC.Accuracy.Value, MCNLL: rep.Class.MC.NLL.Value, KL: rep.Class.KL[mf].Value,
		LogLikelihood: math.NaN()}
	if l := rep.Likelihood; l != nil && len(l.Estimates) > 0 {
		d.LogLikelihood = l.Estimates[0].Conditional.Value
	}
	return d, nil
}

// dcimColumns are the DCIM figures of a row by column name, in table
// order, with their headings.
var dcimColumns = []struct{ key, head string }{
	{"mf_accuracy", "MF test acc."}, {"mc_accuracy", "MC test acc."}, {"mf_nll", "MF NLL"}, {"mc_nll", "MC NLL"},
	{"kl_mc_mf", "KL(MC‖MF)"}, {"log_likelihood", "log q(x|y)"},
}

func (d *DCIM) figure(key string) float64 {
	if d == nil {
		return math.NaN()
	}
	switch key {
	case "mf_accuracy":
		return d.MFAccuracy
	case "mc_accuracy":
		return d.MCAccuracy
	case "mf_nll":
		return d.MFNLL
	case "mc_nll":
		return d.MCNLL
	case "kl_mc_mf":
		return d.KL
	case "log_likelihood":
		return d.LogLikelihood
	}
	return math.NaN()
}

// hasDCIM reports whether any row has DCIM figures.
func (r *Results) hasDCIM() bool {
	return slices.ContainsFunc(r.Rows, func(row Row) bool { return row.DCIM != nil })
}

// groupColumns are the columns a group summarises, in table order.
func (r *Results) groupColumns() []string {
	cols := append([]string{"val_accuracy", "val_reverse_bce_21", "val_reverse_bce_22"}, r.Terms...)
	if r.hasDCIM() {
		for _, c := range dcimColumns {
			cols = append(cols, c.key)
		}
	}
	return cols
}

// columns are the figures of a row that groups summarise, by name.
func (r *Results) columns(row Row) map[string]float64 {
	c := map[string]float64{
		"val_accuracy":       float64(row.ValAccuracy),
		"val_reverse_bce_21": float64(row.ValReverseBCE21),
		"val_reverse_bce_22": float64(row.ValReverseBCE22),
	}
	for _, d := range dcimColumns {
		c[d.key] = row.DCIM.figure(d.key)
	}
	for _, k := range r.Terms {
		v, ok := row.Terms[k]
		if !ok {
			v = train.Number(math.NaN())
		}
		c[k] = float64(v)
	}
	return c
}

// group gathers the done rows by their values but the seed's, in the
// order of their first row.
func group(r *Results, seed int) []Group {
	var groups []Group
	var values [][]map[string]float64
	for _, row := range r.Rows {
		key := slices.Delete(slices.Clone(row.Values), seed, seed+1)
		i := slices.IndexFunc(groups, func(g Group) bool { return slices.Equal(g.Values, key) })
		if i < 0 {
			groups = append(groups, Group{Values: key, Stats: map[string]MeanSD{}})
			values = append(values, nil)
			i = len(groups) - 1
		}
		if row.State == Done.String() {
			groups[i].N++
			values[i] = append(values[i], r.columns(row))
		}
	}
	for i := range groups {
		for _, col := range r.groupColumns() {
			var xs []float64
			for _, v := range values[i] {
				if x := v[col]; !math.IsNaN(x) {
					xs = append(xs, x)
				}
			}
			groups[i].Stats[col] = meanSD(xs)
		}
	}
	return groups
}

// meanSD is the mean and the sample standard deviation of xs (NaN where
// there are too few values).
func meanSD(xs []float64) MeanSD {
	switch len(xs) {
	case 0:
		return MeanSD{train.Number(math.NaN()), train.Number(math.NaN())}
	case 1:
		return MeanSD{train.Number(xs[0]), train.Number(math.NaN())}
	}
	m, sd := stat.MeanStdDev(xs, nil)
	return MeanSD{train.Number(m), train.Number(sd)}
}

// TableCommand is the command that writes a sweep folder's table again.
func TableCommand(dir string, extras Extras) string {
	c := "go run ./cmd/sweep -table " + shellQuote(relative(dir))
	if extras.Samples {
		c += " -samples"
	}
	if extras.DCIM {
		c += " -dcim"
	}
	return c
}

// relative is dir relative to the working folder when it lies inside it
// (the command a reader copies runs from the module's root), else dir.
func relative(dir string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(dir) {
		return dir
	}
	if r, err := filepath.Rel(wd, dir); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return r
	}
	return dir
}

// Write writes results.md, results.csv, results.json and frontier.png
// into dir. A frontier with no point to draw is a warning, not an error.
func (r *Results) Write(dir string, warn io.Writer) error {
	var md bytes.Buffer
	r.Markdown(&md)
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, ResultsMD), md.Bytes(), 0o644); err != nil {
		return err
	}
	var c bytes.Buffer
	if err := r.CSV(&c); err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, ResultsCSV), c.Bytes(), 0o644); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, ResultsJSON), append(j, '\n'), 0o644); err != nil {
		return err
	}
	return r.frontier(dir, warn)
}

// frontier draws frontier.png: each done point's validation accuracy
// against its reverse BCE of eq. (22) (eq. (21) when no point has one),
// read from its summary.json as plot -frontier reads it.
func (r *Results) frontier(dir string, warn io.Writer) error {
	key := "val_reverse_bce_22"
	if !slices.ContainsFunc(r.Rows, func(row Row) bool { return finite(float64(row.ValReverseBCE22)) }) {
		key = "val_reverse_bce_21"
	}
	var pts []train.FrontierPoint
	for i, row := range r.Rows {
		if row.State != Done.String() {
			continue
		}
		pt, err := train.ReadFrontierPoint(r.folders[i], key)
		if err != nil {
			fmt.Fprintf(warn, "sweep: %s: warning: %v; left out of %s\n", row.Name, err, FrontierPNG)
			continue
		}
		pt.Run = row.Name
		pts = append(pts, pt)
	}
	if len(pts) == 0 {
		fmt.Fprintf(warn, "sweep: no point done with %s; %s not drawn\n", key, FrontierPNG)
		return nil
	}
	train.MarkFrontier(pts)
	return train.PlotFrontier(filepath.Join(dir, FrontierPNG), pts, key, train.FrontierTargets{}, warn)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Markdown writes the tables as Markdown, to paste into docs: a line with
// the commands that make them and the build, the rows, and the groups
// over seeds.
func (r *Results) Markdown(w io.Writer) {
	fmt.Fprintf(w, "Sweep `%s`: `%s` runs what is missing and writes this table; `%s` writes it again. Build `%s`.\n\n", r.Sweep, r.Command, r.Table, r.Build)
	head := append(slices.Clone(r.Axes), "accuracy", "BCE eq. 21", "BCE eq. 22")
	for _, k := range r.Terms {
		head = append(head, k+" (val)")
	}
	head = append(head, "time", "img/s")
	for _, m := range r.sampleModes() {
		head = append(head, "samples "+m)
	}
	dcim := r.hasDCIM()
	if dcim {
		for _, c := range dcimColumns {
			head = append(head, c.head)
		}
	}
	table(w, head, func(emit func([]string)) {
		for _, row := range r.Rows {
			cells := slices.Clone(row.Values)
			if row.State != Done.String() {
				for i := range len(head) - len(cells) {
					if i == 0 {
						cells = append(cells, "("+row.State+")")
					} else {
						cells = append(cells, "")
					}
				}
				emit(cells)
				continue
			}
			cells = append(cells, f4(row.ValAccuracy), f4(row.ValReverseBCE21), f4(row.ValReverseBCE22))
			for _, k := range r.Terms {
				v, ok := row.Terms[k]
				if !ok {
					v = train.Number(math.NaN())
				}
				cells = append(cells, f4(v))
			}
			cells = append(cells, wall(float64(row.Seconds)), fmt.Sprintf("%.0f", float64(row.ImagesPerSecond)))
			for _, s := range row.Samples {
				cells = append(cells, fmt.Sprintf("%d/%d, std %.3f", s.Correct, s.N, s.PixelStd))
			}
			if dcim {
				for _, c := range dcimColumns {
					cells = append(cells, cell(row.DCIM.figure(c.key), precision(c.key)))
				}
			}
			emit(cells)
		}
	})
	if len(r.Groups) == 0 {
		return
	}
	var others []string
	for _, a := range r.Axes {
		if a != "seed" {
			others = append(others, a)
		}
	}
	fmt.Fprintf(w, "\nMean ± standard deviation over seeds (n: runs done):\n\n")
	head = append(slices.Clone(others), "n", "accuracy", "BCE eq. 21", "BCE eq. 22")
	for _, k := range r.Terms {
		head = append(head, k+" (val)")
	}
	if dcim {
		for _, c := range dcimColumns {
			head = append(head, c.head)
		}
	}
	table(w, head, func(emit func([]string)) {
		for _, g := range r.Groups {
			cells := append(slices.Clone(g.Values), strconv.Itoa(g.N))
			for _, col := range r.groupColumns() {
				cells = append(cells, pm(g.Stats[col], precision(col)))
			}
			emit(cells)
		}
	})
}

// sampleModes are the modes of the rows' sample verdicts.
func (r *Results) sampleModes() []string {
	for _, row := range r.Rows {
		if len(row.Samples) > 0 {
			var ms []string
			for _, s := range row.Samples {
				ms = append(ms, s.Mode)
			}
			return ms
		}
	}
	return nil
}

// table writes a Markdown table with the header head and the rows rows
// emits.
func table(w io.Writer, head []string, rows func(emit func([]string))) {
	line := func(cells []string) {
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	line(slices.Clone(head))
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	rows(line)
}

// precision is the number of decimals a column is written with: the
// log-likelihood, in nats per image, to 1; every other figure to 4.
func precision(col string) int {
	if col == "log_likelihood" {
		return 1
	}
	return 4
}

// cell is a figure with prec decimals, or a dash where there is none.
func cell(v float64, prec int) string {
	if !finite(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// f4 is a figure to 4 decimals.
func f4(v train.Number) string { return cell(float64(v), 4) }

// pm is a mean ± standard deviation with prec decimals (the mean alone
// when there is no deviation).
func pm(m MeanSD, prec int) string {
	if !finite(float64(m.Mean)) || !finite(float64(m.SD)) {
		return cell(float64(m.Mean), prec)
	}
	return cell(float64(m.Mean), prec) + " ± " + cell(float64(m.SD), prec)
}

// CSV writes a row per point, with every figure to full precision
// (empty where a point has none).
func (r *Results) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append([]string{"index", "name", "state"}, r.Axes...)
	head = append(head, "val_accuracy", "val_reverse_bce_21", "val_reverse_bce_22")
	for _, k := range r.Terms {
		head = append(head, "val_"+k)
	}
	head = append(head, "seconds", "images_per_second")
	for _, m := range r.sampleModes() {
		head = append(head, "samples_"+m+"_correct", "samples_"+m+"_n", "samples_"+m+"_pixel_std")
	}
	dcim := r.hasDCIM()
	if dcim {
		for _, c := range dcimColumns {
			head = append(head, "dcim_"+c.key)
		}
	}
	cw.Write(head)
	num := func(v train.Number) string {
		if !finite(float64(v)) {
			return ""
		}
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	}
	for _, row := range r.Rows {
		rec := append([]string{strconv.Itoa(row.Index), row.Name, row.State}, row.Values...)
		rec = append(rec, num(row.ValAccuracy), num(row.ValReverseBCE21), num(row.ValReverseBCE22))
		for _, k := range r.Terms {
			v, ok := row.Terms[k]
			if !ok {
				v = train.Number(math.NaN())
			}
			rec = append(rec, num(v))
		}
		rec = append(rec, num(row.Seconds), num(row.ImagesPerSecond))
		for _, s := range row.Samples {
			rec = append(rec, strconv.Itoa(s.Correct), strconv.Itoa(s.N), strconv.FormatFloat(s.PixelStd, 'g', -1, 64))
		}
		if dcim {
			for _, c := range dcimColumns {
				rec = append(rec, num(train.Number(row.DCIM.figure(c.key))))
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
