package train

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"dcim/data"
	"dcim/train/checkpoint"
)

// Row is one evaluation point of metrics.csv. Training figures are means
// over the steps since the previous point; validation figures are over the
// whole validation set. A figure a run does not have (the training reverse
// BCE of a discriminative run) is NaN, an empty cell in the file.
type Row struct {
	Iteration       int     // training steps taken
	Epoch           float64 // epochs completed, fractional
	Seconds         float64 // wall time since the run started
	TrainLoss       float64 // the objective's loss, CE + λ·BCE
	TrainAccuracy   float64
	TrainCE         float64
	TrainReverseBCE float64 // per-pixel reverse BCE of the run's objective
	ValAccuracy     float64
	ValCE           float64
	ValReverseBCE   float64 // of the run's objective; eq. (21)'s for discriminative runs
	ValReverseBCE21 float64 // reverse from the one-hot label, eq. (21)
	ValReverseBCE22 float64 // reverse from a draw of layer d−1, eq. (22)
	// LR is the learning rate of the last step before the point (column
	// lr; NaN for files written before it was logged).
	LR float64
	// Terms holds each objective term's training and validation value by
	// its key (ce, label, draw7, layer6 …): the columns train_term_KEY and
	// val_term_KEY.
	Terms map[string][2]float64
}

// metricsHeader is the first line of metrics.csv.
var metricsHeader = []string{
	"iteration", "epoch", "seconds",
	"train_loss", "train_accuracy", "train_ce", "train_reverse_bce",
	"val_accuracy", "val_ce", "val_reverse_bce", "val_reverse_bce_21", "val_reverse_bce_22",
}

func (r Row) fields() []float64 {
	return []float64{float64(r.Iteration), r.Epoch, r.Seconds,
		r.TrainLoss, r.TrainAccuracy, r.TrainCE, r.TrainReverseBCE,
		r.ValAccuracy, r.ValCE, r.ValReverseBCE, r.ValReverseBCE21, r.ValReverseBCE22}
}

func (r *Row) setFields(v []float64) {
	r.Iteration, r.Epoch, r.Seconds = int(v[0]), v[1], v[2]
	r.TrainLoss, r.TrainAccuracy, r.TrainCE, r.TrainReverseBCE = v[3], v[4], v[5], v[6]
	r.ValAccuracy, r.ValCE, r.ValReverseBCE, r.ValReverseBCE21, r.ValReverseBCE22 = v[7], v[8], v[9], v[10], v[11]
}

// lrColumn follows metricsHeader; files written before it lack it.
const lrColumn = "lr"

// header is the first line of a metrics.csv with the given term keys.
func header(keys []string) []string {
	h := append(slices.Clone(metricsHeader), lrColumn)
	for _, k := range keys {
		h = append(h, "train_term_"+k, "val_term_"+k)
	}
	return h
}

func (r Row) record(keys []string) []string {
	out := make([]string, 0, len(metricsHeader)+1+2*len(keys))
	format := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, v := range r.fields() {
		out = append(out, format(v))
	}
	out = append(out, format(r.LR))
	for _, k := range keys {
		v, ok := r.Terms[k]
		if !ok {
			v = [2]float64{math.NaN(), math.NaN()}
		}
		out = append(out, format(v[0]), format(v[1]))
	}
	return out
}

// String is the row as one progress line.
func (r Row) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iter %d (epoch %.2f): train acc %.4f CE %.4f", r.Iteration, r.Epoch, r.TrainAccuracy, r.TrainCE)
	if !math.IsNaN(r.TrainReverseBCE) {
		fmt.Fprintf(&b, " BCE %.4f", r.TrainReverseBCE)
	}
	fmt.Fprintf(&b, " | val acc %.4f CE %.4f BCE21 %.4f BCE22 %.4f", r.ValAccuracy, r.ValCE, r.ValReverseBCE21, r.ValReverseBCE22)
	if !math.IsNaN(r.LR) {
		fmt.Fprintf(&b, " | lr %.3g", r.LR)
	}
	return b.String()
}

// maxMetricsBytes bounds the metrics.csv read: a row takes about 300
// bytes, so it holds about 200,000 evaluation points.
const maxMetricsBytes = 64 << 20

// ReadMetrics reads a metrics.csv, a regular file of at most 64 MiB.
func ReadMetrics(path string) ([]Row, error) {
	b, err := data.ReadFile(path, maxMetricsBytes)
	if err != nil {
		return nil, err
	}
	rows, _, err := parseMetrics(path, b)
	return rows, err
}

// parseMetrics reads the rows of a metrics.csv and the keys of its term
// columns. The lr column is optional (files written before it have none;
// their rows' LR is NaN).
func parseMetrics(path string, b []byte) ([]Row, []string, error) {
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || len(recs[0]) < len(metricsHeader) || !slices.Equal(recs[0][:len(metricsHeader)], metricsHeader) {
		return nil, nil, fmt.Errorf("%s: not a metrics file (header %q)", path, strings.Join(metricsHeader, ","))
	}
	var keys []string
	extra := recs[0][len(metricsHeader):]
	hasLR := len(extra) > 0 && extra[0] == lrColumn
	terms := len(metricsHeader) // the first term column
	if hasLR {
		extra = extra[1:]
		terms++
	}
	for i := 0; i+1 < len(extra); i += 2 {
		k, ok := strings.CutPrefix(extra[i], "train_term_")
		if !ok || extra[i+1] != "val_term_"+k {
			return nil, nil, fmt.Errorf("%s: column %q: want train_term_KEY followed by val_term_KEY", path, extra[i])
		}
		keys = append(keys, k)
	}
	if len(extra)%2 != 0 {
		return nil, nil, fmt.Errorf("%s: column %q has no val_term_ partner", path, extra[len(extra)-1])
	}
	names := recs[0]
	rows := make([]Row, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		v := make([]float64, len(rec))
		for j, s := range rec {
			if s == "" {
				v[j] = math.NaN()
				continue
			}
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: column %s: %w", path, i+2, names[j], err)
			}
		}
		var r Row
		r.setFields(v)
		r.LR = math.NaN()
		if hasLR {
			r.LR = v[len(metricsHeader)]
		}
		r.Terms = map[string][2]float64{}
		for j, k := range keys {
			r.Terms[k] = [2]float64{v[terms+2*j], v[terms+2*j+1]}
		}
		rows = append(rows, r)
	}
	return rows, keys, nil
}

// completeRows returns the part of a metrics file up to its last complete
// row: a row cut short (a full disk, a kill in the middle of an append)
// has no final newline or too few fields.
func completeRows(b []byte) (kept []byte, torn bool) {
	end := bytes.LastIndexByte(b, '\n') + 1
	torn = end < len(b)
	b = b[:end]
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) < 2 {
		return b, torn
	}
	want := bytes.Count(lines[0], []byte(","))
	for len(lines) > 1 && bytes.Count(lines[len(lines)-2], []byte(",")) != want { // the last is empty
		lines = append(lines[:len(lines)-2], lines[len(lines)-1])
		torn = true
	}
	return bytes.Join(lines, nil), torn
}

// metricsFile is metrics.csv open for appending, with the rows so far.
type metricsFile struct {
	f    *os.File
	keys []string
	rows []Row
}

// openMetrics opens path for appending rows with the given term columns.
// Rows past iteration (written after the checkpoint a resumed run starts
// from) are dropped, and so is a row left half-written.
func openMetrics(path string, iteration int, keys []string, log io.Writer) (*metricsFile, error) {
	m := &metricsFile{keys: keys}
	b, err := data.ReadFile(path, maxMetricsBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		b, torn := completeRows(b)
		if torn {
			fmt.Fprintf(log, "%s: dropped a row left incomplete by an interrupted write\n", path)
		}
		rows, _, err := parseMetrics(path, b)
		if err != nil {
			return nil, err
		}
		keep := 0
		for keep < len(rows) && rows[keep].Iteration <= iteration {
			keep++
		}
		m.rows = rows[:keep]
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header(keys))
	for _, r := range m.rows {
		w.Write(r.record(keys))
	}
	w.Flush()
	if err := checkpoint.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if m.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return nil, err
	}
	return m, nil
}

// Write appends a row in one write; if the write fails, the file is cut
// back to its former length so that no half row is left behind.
func (m *metricsFile) Write(r Row) error {
	if m.f == nil { // a run in memory
		m.rows = append(m.rows, r)
		return nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(r.record(m.keys))
	w.Flush()
	st, err := m.f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", m.f.Name(), err)
	}
	if _, err := m.f.Write(buf.Bytes()); err != nil {
		m.f.Truncate(st.Size())
		return fmt.Errorf("%s: %w", m.f.Name(), err)
	}
	m.rows = append(m.rows, r)
	return nil
}

// Rows returns the rows so far.
func (m *metricsFile) Rows() []Row { return m.rows }

// Close closes the file.
func (m *metricsFile) Close() error {
	if m.f == nil {
		return nil
	}
	return m.f.Close()
}

// Number is a float64 that JSON writes as null when it is NaN or infinite
// (and reads null back as NaN).
type Number float64

// MarshalJSON writes the number, or null.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or null.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Number(f)
	return err
}
