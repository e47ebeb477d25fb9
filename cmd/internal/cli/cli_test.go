package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"dcim/models"
)

// TestMainExitCodes: each kind of outcome has its exit status and one
// line on stderr naming the command.
func TestMainExitCodes(t *testing.T) {
	tests := []struct {
		name string
		body func() error
		code int
		msg  string
	}{
		{"ok", func() error { return nil }, ExitOK, ""},
		{"failure", func() error { return errors.New("model.npz: array W1 holds NaN") }, ExitError, "cmd: model.npz: array W1 holds NaN\n"},
		{"usage", func() error { return Usagef("-n %d: want at least 1", 0) }, ExitUsage, "cmd: -n 0: want at least 1 (see cmd -h)\n"},
		{"wrapped usage", func() error { return fmt.Errorf("parsing: %w", &UsageError{errors.New("bad")}) }, ExitUsage, "(see cmd -h)"},
		{"interrupted", func() error { return fmt.Errorf("%w at step 3", ErrInterrupted) }, ExitInterrupted, "cmd: interrupted at step 3\n"},
		{"panic", func() error { panic("index out of range") }, ExitPanic, "cmd: internal error: index out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			c := New("cmd", "[flags]", "")
			if code := c.Main(&stderr, tc.body); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.HasPrefix(stderr.String(), tc.msg) && !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.msg)
			}
			if tc.code != ExitPanic && strings.Count(stderr.String(), "\n") > 1 {
				t.Errorf("stderr is more than one line: %q", stderr.String())
			}
		})
	}
}

// TestParseHelp: -h prints the usage on stdout; positional arguments are
// refused unless asked for.
func TestParseHelp(t *testing.T) {
	c := New("cmd", "-model DIR [flags]", "Does a thing.")
	c.Flags.Int("n", 1, "how many")
	var out bytes.Buffer
	if err := c.Parse([]string{"-h"}, &out, false); err == nil || !strings.Contains(out.String(), "Usage: cmd -model DIR [flags]\n\nDoes a thing.\n\nFlags:\n  -n int") {
		t.Errorf("-h: %v, %q", err, out.String())
	}
	c = New("cmd", "", "")
	if err := c.Parse([]string{"extra"}, &out, false); err == nil || !IsUsage(err) {
		t.Errorf("positional argument: %v, want a usage error", err)
	}
}

// TestFloat: a float flag refuses NaN, infinities and values out of its
// range as usage errors naming the flag, and takes the rest.
func TestFloat(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want float64
		err  string
	}{
		{"0.5", 0.5, ""},
		{"1e-30", 1e-30, ""},
		{"NaN", 0, `invalid value "NaN" for flag -beta: NaN: want a finite number > 0`},
		{"Inf", 0, "+Inf: want a finite number > 0"},
		{"-Inf", 0, "-Inf: want"},
		{"0", 0, "0: want a finite number > 0"},
		{"x", 0, `"x": want a finite number > 0`},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			c := New("cmd", "", "")
			var beta float64
			c.Float(&beta, "beta", 1, models.Positive, "the exponent")
			err := c.Parse([]string{"-beta", tc.arg}, io.Discard, false)
			if tc.err == "" {
				if err != nil || beta != tc.want {
					t.Errorf("-beta %s: %v, %v", tc.arg, beta, err)
				}
				return
			}
			if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("-beta %s: error %v, want a usage error containing %q", tc.arg, err, tc.err)
			}
		})
	}
}
