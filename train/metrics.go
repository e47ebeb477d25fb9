package train

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

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

func (r Row) record() []string {
	out := make([]string, len(metricsHeader))
	for i, v := range r.fields() {
		if !math.IsNaN(v) {
			out[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
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
	return b.String()
}

// ReadMetrics reads a metrics.csv.
func ReadMetrics(path string) ([]Row, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMetrics(path, b)
}

func parseMetrics(path string, b []byte) ([]Row, error) {
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(metricsHeader, ",") {
		return nil, fmt.Errorf("%s: not a metrics file (header %q)", path, strings.Join(metricsHeader, ","))
	}
	rows := make([]Row, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		v := make([]float64, len(rec))
		for j, s := range rec {
			if s == "" {
				v[j] = math.NaN()
				continue
			}
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, fmt.Errorf("%s:%d: column %s: %w", path, i+2, metricsHeader[j], err)
			}
		}
		var r Row
		r.setFields(v)
		rows = append(rows, r)
	}
	return rows, nil
}

// metricsFile is metrics.csv open for appending, with the rows so far.
type metricsFile struct {
	f    *os.File
	w    *csv.Writer
	rows []Row
}

// openMetrics opens path for appending. Rows past iteration (written after
// the checkpoint a resumed run starts from) are dropped.
func openMetrics(path string, iteration int) (*metricsFile, error) {
	m := &metricsFile{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		rows, err := parseMetrics(path, b)
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
	w.Write(metricsHeader)
	for _, r := range m.rows {
		w.Write(r.record())
	}
	w.Flush()
	if err := checkpoint.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if m.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return nil, err
	}
	m.w = csv.NewWriter(m.f)
	return m, nil
}

// Write appends a row and flushes it to the file.
func (m *metricsFile) Write(r Row) error {
	m.rows = append(m.rows, r)
	m.w.Write(r.record())
	m.w.Flush()
	if err := m.w.Error(); err != nil {
		return fmt.Errorf("%s: %w", m.f.Name(), err)
	}
	return nil
}

// Rows returns the rows so far.
func (m *metricsFile) Rows() []Row { return m.rows }

// Close closes the file.
func (m *metricsFile) Close() error { return m.f.Close() }

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
