package train

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagErrors checks that every bad flag gives a usage error naming it.
func TestFlagErrors(t *testing.T) {
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(nonEmpty, "x")
	tests := []struct {
		name string
		args []string
		want string // substring of the error; "" means no error
	}{
		{"defaults", nil, ""},
		{"all flags", []string{"-objective", "generative-sampled", "-epochs", "3", "-batch", "32", "-lr", "0.01", "-seed", "7", "-reverse-weight", "784", "-encoding", "spin", "-arch", "(3,1,8),(20),(10)", "-limit", "100", "-eval-every", "0"}, ""},
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"positional", []string{"extra"}, `unexpected argument "extra"`},
		{"objective", []string{"-objective", "adversarial"}, `-objective: unknown objective "adversarial"`},
		{"epochs", []string{"-epochs", "0"}, "-epochs 0: want at least 1"},
		{"epochs not a number", []string{"-epochs", "ten"}, `invalid value "ten" for flag -epochs`},
		{"batch", []string{"-batch", "-1"}, "-batch -1: want at least 1"},
		{"lr zero", []string{"-lr", "0"}, "-lr 0: want a positive finite number"},
		{"lr NaN", []string{"-lr", "NaN"}, "-lr NaN: want a positive finite number"},
		{"lr Inf", []string{"-lr", "+Inf"}, "-lr +Inf: want a positive finite number"},
		{"reverse weight", []string{"-reverse-weight", "-1"}, "-reverse-weight -1: want a positive finite number"},
		{"encoding", []string{"-encoding", "ternary"}, `-encoding: unknown encoding "ternary"`},
		{"arch syntax", []string{"-arch", "(512),(512"}, `-arch: arch "(512),(512"`},
		{"arch empty", []string{"-arch", ""}, "-arch"},
		{"arch classes", []string{"-arch", "(512),(5)"}, "top layer (5) has 5 units, want 10 classes"},
		{"arch conv after dense", []string{"-arch", "(50),(3,1,8),(10)"}, "convolution after dense layer 1"},
		{"arch kernel too big", []string{"-arch", "(30,1,8),(10)"}, "kernel 30 larger than input 28×28"},
		{"arch stride", []string{"-arch", "(3,2,8),(10)"}, "stride 2 does not tile input 28×28"},
		{"sampled without hidden layer", []string{"-objective", "generative-sampled", "-arch", "(10)"}, "has none"},
		{"limit negative", []string{"-limit", "-5"}, "-limit -5"},
		{"limit below batch", []string{"-limit", "10"}, "-limit 10 is smaller than -batch 64"},
		{"eval-every", []string{"-eval-every", "-1"}, "-eval-every -1"},
		{"data missing", []string{"-data", filepath.Join(nonEmpty, "nope")}, "-data: stat"},
		{"data a file", []string{"-data", file}, "not a folder"},
		{"out not empty", []string{"-out", nonEmpty}, "is not empty (holds x); give -resume"},
		{"out not empty, forced", []string{"-out", nonEmpty, "-force"}, ""},
		{"out a file", []string{"-out", file}, "-out: " + file + " is not a folder"},
		{"resume with flags", []string{"-resume", nonEmpty, "-seed", "3", "-lr", "1"}, "drop -lr, -seed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def := DenseDefaults()
			def.Out = filepath.Join(t.TempDir(), "run")
			f, err := ParseFlags(def, tc.args, io.Discard)
			if err == nil && f.Resume == "" {
				_, err = f.Check()
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var u *UsageError
			if !errors.As(err, &u) {
				t.Errorf("error %v is not a *UsageError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestFlagDefaults checks the two commands' defaults and -h.
func TestFlagDefaults(t *testing.T) {
	tests := []struct {
		def       Flags
		enc, arch string
	}{
		{DenseDefaults(), "binary", "(512),(512),(10)"},
		{CNNDefaults(), "spin", "(3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10)"},
	}
	for _, tc := range tests {
		t.Run(tc.def.Command, func(t *testing.T) {
			c, err := tc.def.Check()
			if err != nil {
				t.Fatal(err)
			}
			if c.Encoding.String() != tc.enc || c.Arch.String() != tc.arch || c.Objective.String() != "generative" || c.LR != 1e-3 || c.ReverseWeight != 1 {
				t.Errorf("defaults %+v", c.Flags)
			}
			if !strings.HasPrefix(c.Out, filepath.Join("runs", tc.def.Command+"-generative-")) {
				t.Errorf("default -out %q", c.Out)
			}
			var help strings.Builder
			if _, err := ParseFlags(tc.def, []string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
				t.Errorf("-h: error %v, want flag.ErrHelp", err)
			}
			for _, name := range []string{"-objective", "-epochs", "-batch", "-lr", "-seed", "-reverse-weight", "-encoding", "-arch", "-data", "-limit", "-eval-every", "-out", "-resume", "-force", tc.enc} {
				if !strings.Contains(help.String(), name) {
					t.Errorf("-h does not mention %s", name)
				}
			}
		})
	}
}
