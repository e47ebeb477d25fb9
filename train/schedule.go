package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule is a learning-rate schedule (-lr-schedule): the factor by which
// the base learning rate is multiplied for each training step. It is a
// function of the step's position and the run's stored settings only, so a
// resumed run takes the same rates as an uninterrupted one. The zero value
// is the constant schedule.
type Schedule struct {
	kind   scheduleKind
	at     []int   // step: the epoch counts at which the factor applies
	factor float64 // step: the factor applied at each of them
	period float64 // cosine-restarts: the first period, in epochs
	mult   float64 // cosine-restarts: each period's length over the previous one's
	spec   string
}

type scheduleKind int

const (
	constantSchedule scheduleKind = iota
	stepSchedule
	cosineSchedule
	restartsSchedule
)

// DefaultStepFactor is the factor of a step schedule that names none.
const DefaultStepFactor = 0.1

// ScheduleSyntax describes the schedules ParseSchedule reads.
const ScheduleSyntax = "constant; step:E1,E2,…[@f] (multiply by f, default 0.1, once E1, E2, … epochs are completed); " +
	"cosine (cosine decay to 0 over the run, per iteration); cosine-restarts:T[*m] (SGDR: cosine decay restarted every T epochs, each period m times the last, default m 1)"

// ParseSchedule reads a schedule: "" or "constant", "step:E1,E2,…[@f]",
// "cosine" or "cosine-restarts:T[*m]" (see ScheduleSyntax).
func ParseSchedule(spec string) (Schedule, error) {
	s := Schedule{spec: spec}
	name, args, hasArgs := strings.Cut(spec, ":")
	switch {
	case spec == "" || spec == "constant":
		return Schedule{}, nil
	case spec == "cosine":
		s.kind = cosineSchedule
		return s, nil
	case name == "step" && hasArgs:
		s.kind, s.factor = stepSchedule, DefaultStepFactor
		list, factor, hasFactor := strings.Cut(args, "@")
		if hasFactor {
			f, err := positive(factor)
			if err != nil {
				return Schedule{}, fmt.Errorf("%q: factor: %w", spec, err)
			}
			s.factor = f
		}
		for e := range strings.SplitSeq(list, ",") {
			n, err := strconv.Atoi(e)
			if err != nil || n < 1 {
				return Schedule{}, fmt.Errorf("%q: epoch %q: want a whole number of epochs of at least 1", spec, e)
			}
			if len(s.at) > 0 && n <= s.at[len(s.at)-1] {
				return Schedule{}, fmt.Errorf("%q: epochs %d then %d: want them increasing", spec, s.at[len(s.at)-1], n)
			}
			s.at = append(s.at, n)
		}
		return s, nil
	case name == "cosine-restarts" && hasArgs:
		s.kind, s.mult = restartsSchedule, 1
		period, mult, hasMult := strings.Cut(args, "*")
		var err error
		if s.period, err = positive(period); err != nil {
			return Schedule{}, fmt.Errorf("%q: period: %w", spec, err)
		}
		if hasMult {
			if s.mult, err = positive(mult); err != nil || s.mult < 1 {
				return Schedule{}, fmt.Errorf("%q: period multiplier %q: want a number of at least 1", spec, mult)
			}
		}
		return s, nil
	}
	return Schedule{}, fmt.Errorf("unknown schedule %q (want %s)", spec, ScheduleSyntax)
}

// positive reads a positive finite number.
func positive(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q: want a positive number", s)
	}
	return f, nil
}

// String is the schedule as ParseSchedule reads it.
func (s Schedule) String() string {
	if s.kind == constantSchedule {
		return "constant"
	}
	return s.spec
}

// Multiplier is the factor of the base learning rate for the training step
// that follows iteration steps, in a run of epochs epochs of perEpoch
// steps each:
//
//	step:     f^k, k the listed epoch counts E with E·perEpoch ≤ iteration
//	cosine:   ½(1 + cos(π·iteration/(epochs·perEpoch)))
//	restarts: ½(1 + cos(π·(x − start)/T_i)), x = iteration/perEpoch in
//	          epochs, within the period [start, start+T_i), T_i = T·m^i
func (s Schedule) Multiplier(iteration, perEpoch, epochs int) float64 {
	switch s.kind {
	case stepSchedule:
		m := 1.0
		for _, e := range s.at {
			if iteration >= e*perEpoch {
				m *= s.factor
			}
		}
		return m
	case cosineSchedule:
		return halfCosine(float64(iteration) / float64(epochs*perEpoch))
	case restartsSchedule:
		x := float64(iteration) / float64(perEpoch)
		start, length := s.restart(x)
		return halfCosine((x - start) / length)
	}
	return 1
}

// restart returns the start and length, in epochs, of the period holding
// epoch position x ≥ 0: the periods are T, T·m, T·m², … laid end to end.
func (s Schedule) restart(x float64) (start, length float64) {
	T, m := s.period, s.mult
	bounds := func(i float64) (float64, float64) {
		if m == 1 {
			return i * T, T
		}
		return T * (math.Pow(m, i) - 1) / (m - 1), T * math.Pow(m, i)
	}
	var i float64
	if m == 1 {
		i = math.Floor(x / T)
	} else {
		i = math.Floor(math.Log1p(x*(m-1)/T) / math.Log(m))
	}
	// The logarithm may round across a boundary; step back or on.
	for start, length = bounds(i); x < start && i > 0; start, length = bounds(i) {
		i--
	}
	for ; x >= start+length; start, length = bounds(i) {
		i++
	}
	return start, length
}

// halfCosine is ½(1 + cos(π·f)), 1 at f = 0 falling to 0 at f = 1 (and
// held at 0 beyond).
func halfCosine(f float64) float64 {
	if f >= 1 {
		return 0
	}
	return 0.5 * (1 + math.Cos(math.Pi*f))
}
