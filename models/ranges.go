package models

import (
	"fmt"
	"math"
	"strconv"
)

// Range is the interval a numeric setting or flag may take. Every float
// that a command reads from its flags, and every numeric training setting,
// is checked through [Range.Check], so that NaN, ±Inf and values out of
// range are refused in one way everywhere.
type Range struct {
	Min, Max         float64
	MinOpen, MaxOpen bool // the bound itself is excluded
}

// The ranges most settings use.
var (
	// Positive is (0, +∞) among finite numbers.
	Positive = Range{Min: 0, MinOpen: true, Max: math.MaxFloat64}
	// NonNegative is [0, +∞) among finite numbers.
	NonNegative = Range{Min: 0, Max: math.MaxFloat64}
	// Probability is [0, 1].
	Probability = Range{Min: 0, Max: 1}
)

// Check returns nil if v is finite and in the range, else an error that
// says what is wanted, e.g. "NaN: want a finite number in (0, 10]".
func (r Range) Check(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < r.Min || v > r.Max || r.MinOpen && v == r.Min || r.MaxOpen && v == r.Max {
		return fmt.Errorf("%s: want %s", strconv.FormatFloat(v, 'g', -1, 64), r)
	}
	return nil
}

// String writes the range as "a finite number in (0, 10]", "a finite
// number > 0" or "a finite number ≥ 0" when it has no upper bound.
func (r Range) String() string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if r.Max == math.MaxFloat64 && !r.MaxOpen {
		if r.MinOpen {
			return "a finite number > " + num(r.Min)
		}
		return "a finite number ≥ " + num(r.Min)
	}
	lo, hi := "[", "]"
	if r.MinOpen {
		lo = "("
	}
	if r.MaxOpen {
		hi = ")"
	}
	return fmt.Sprintf("a finite number in %s%s, %s%s", lo, num(r.Min), num(r.Max), hi)
}

// ParseFloat reads a float and checks it against r. The error quotes the
// text when it is not a number.
func (r Range) ParseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: want %s", s, r)
	}
	return v, r.Check(v)
}
