package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultMaxMemory is the default of -max-memory: 2 GiB, a share of the
// project's machines (24 GiB, several processes) that every command's
// default flags stay well below.
const DefaultMaxMemory = 2 << 30

// MaxMemory defines the -max-memory flag on the command and returns its
// value in bytes. A command estimates, from its flags and the model's
// shapes, the memory its largest allocations take before it makes them,
// and refuses with [CheckMemory] when the estimate is above this budget.
func (c *Command) MaxMemory() *int64 {
	v := int64(DefaultMaxMemory)
	c.Flags.Var((*bytesFlag)(&v), "max-memory", "refuse flags whose estimated memory is above this `size`, in bytes or with a unit: 512MiB, 2GiB, 1.5GB")
	return &v
}

// bytesFlag is a size flag read by ParseBytes.
type bytesFlag int64

func (b *bytesFlag) String() string { return FormatBytes(int64(*b)) }

func (b *bytesFlag) Set(s string) error {
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = bytesFlag(v)
	return nil
}

// Get returns the size in bytes (flag.Getter).
func (b *bytesFlag) Get() any { return int64(*b) }

// units are the size suffixes ParseBytes reads, longest first.
var units = []struct {
	name string
	size float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseBytes reads a size: a number of bytes, or a number followed by a
// unit, KiB, MiB, GiB, TiB (powers of 1024, also written K, M, G, T) or
// KB, MB, GB, TB (powers of 1000), e.g. "2GiB", "512MiB", "1.5GB". The
// size must be positive and finite and at most 2^62 bytes.
func ParseBytes(s string) (int64, error) {
	num, scale := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if strings.HasSuffix(num, u.name) {
			num, scale = strings.TrimSpace(strings.TrimSuffix(num, u.name)), u.size
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q: want a size such as 2GiB, 512MiB or 1000000", s)
	}
	v *= scale
	if !(v >= 1 && v <= 1<<62) {
		return 0, fmt.Errorf("%q: want a size of 1 byte to 4EiB", s)
	}
	return int64(v), nil
}

// FormatBytes writes a size with the largest binary unit it fills, to
// three significant digits (all the digits of a whole number of units):
// "2GiB", "512MiB", "1.43GiB", "1020MiB", "100B".
func FormatBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"EiB", 1 << 60}, {"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size {
			v := float64(n) / float64(u.size)
			decimals := 0
			if v < 10 {
				decimals = 2
			} else if v < 100 {
				decimals = 1
			}
			s := strconv.FormatFloat(v, 'f', decimals, 64)
			if decimals > 0 {
				s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
			}
			return s + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// HeapGrowth is the factor between the live bytes of a Go program and the
// memory it takes: the collector lets the heap grow to about twice its
// live bytes between collections (GOGC=100).
const HeapGrowth = 2

// CheckMemory returns nil if a command whose largest allocations hold
// live bytes together at their peak (an estimate from its flags and the
// model's shapes, made before they are allocated) fits in limit, the
// -max-memory flag, once the heap's growth is counted (HeapGrowth × live);
// else a usage error that says what needs the memory, how much, and which
// flags to lower:
//
//	-draws 30000 for 1 image needs about 5.2GiB of memory, more than -max-memory 2GiB: lower -draws or -n, or raise -max-memory
//
// Estimates saturate rather than overflow, so a hostile flag value is
// refused like any other too large one.
func CheckMemory(live, limit int64, what string, lower ...string) error {
	need := live
	if need <= math.MaxInt64/HeapGrowth {
		need *= HeapGrowth
	} else {
		need = math.MaxInt64
	}
	if need <= limit {
		return nil
	}
	amount := "about " + FormatBytes(need)
	if need >= math.MaxInt64/2 {
		amount = "more than " + FormatBytes(math.MaxInt64/2)
	}
	flags := ""
	switch len(lower) {
	case 0:
	case 1:
		flags = "lower " + lower[0] + ", or "
	default:
		flags = "lower " + strings.Join(lower[:len(lower)-1], ", ") + " or " + lower[len(lower)-1] + ", or "
	}
	return Usagef("%s needs %s of memory, more than -max-memory %s: %sraise -max-memory", what, amount, FormatBytes(limit), flags)
}
