package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
		{"marked interrupted", func() error { return Interrupted(errors.New("interrupted at iteration 7; checkpoint saved")) }, ExitInterrupted, "cmd: interrupted at iteration 7; checkpoint saved\n"},
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

// TestSignalContext: before begin, the first signal ends the process with
// status 130; after it, the first signal cancels the context.
func TestSignalContext(t *testing.T) {
	for _, begun := range []bool{false, true} {
		t.Run(fmt.Sprintf("begun=%v", begun), func(t *testing.T) {
			exited := make(chan int, 1)
			exit = func(code int) { exited <- code }
			defer func() { exit = os.Exit }()
			var stderr syncBuffer
			ctx, begin, stop := SignalContext("cmd", &stderr, "saving a checkpoint")
			defer stop()
			if begun {
				begin()
			}
			self, _ := os.FindProcess(os.Getpid())
			if err := self.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case code := <-exited:
				if begun || code != ExitInterrupted || !strings.Contains(stderr.String(), "cmd: terminated: interrupted before any work began") {
					t.Errorf("exit %d with %q (begun %v)", code, stderr.String(), begun)
				}
			case <-ctx.Done():
				if !begun || !strings.Contains(stderr.String(), "cmd: terminated: saving a checkpoint (send it again to quit at once)") {
					t.Errorf("context cancelled with %q (begun %v)", stderr.String(), begun)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the signal did nothing")
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"2GiB", 2 << 30, ""},
		{"512MiB", 512 << 20, ""},
		{"1.5GiB", 3 << 29, ""},
		{"1.5GB", 1_500_000_000, ""},
		{"64K", 64 << 10, ""},
		{"1000000", 1_000_000, ""},
		{"100B", 100, ""},
		{" 3 MiB ", 3 << 20, ""},
		{"0", 0, `"0": want a size of 1 byte to 4EiB`},
		{"-1GiB", 0, "want a size of 1 byte"},
		{"NaN", 0, `"NaN": want a size such as 2GiB`},
		{"InfGiB", 0, "want a size such as"},
		{"1e30", 0, "want a size of 1 byte to 4EiB"},
		{"2 gigs", 0, "want a size such as"},
		{"GiB", 0, "want a size such as"},
	} {
		got, err := ParseBytes(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	for n, want := range map[int64]string{100: "100B", 2 << 30: "2GiB", 512 << 20: "512MiB", 1536 << 20: "1.5GiB", 3_300_000_000: "3.07GiB", 1020 << 20: "1020MiB", 25 << 19: "12.5MiB", 1 << 62: "4EiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMaxMemory: the flag reads sizes, and CheckMemory refuses an estimate
// above it with a usage error naming the flags to lower.
func TestMaxMemory(t *testing.T) {
	c := New("cmd", "", "")
	limit := c.MaxMemory()
	if *limit != DefaultMaxMemory {
		t.Fatalf("default %d, want %d", *limit, DefaultMaxMemory)
	}
	if err := c.Parse([]string{"-max-memory", "512MiB"}, io.Discard, false); err != nil || *limit != 512<<20 {
		t.Fatalf("-max-memory 512MiB: %d, %v", *limit, err)
	}
	if err := c.Parse([]string{"-max-memory", "lots"}, io.Discard, false); err == nil || !IsUsage(err) {
		t.Errorf("-max-memory lots: %v, want a usage error", err)
	}
	if err := CheckMemory(256<<20, 512<<20, "x", "-n"); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	for _, tc := range []struct {
		need  int64
		lower []string
		want  string
	}{
		{3 << 29, []string{"-draws", "-n"}, "-draws 5 needs about 3GiB of memory, more than -max-memory 512MiB: lower -draws or -n, or raise -max-memory"},
		{math.MaxInt64, []string{"-a", "-b", "-c"}, "-draws 5 needs more than 4EiB of memory, more than -max-memory 512MiB: lower -a, -b or -c, or raise -max-memory"},
		{1 << 29, nil, "needs about 1GiB of memory, more than -max-memory 512MiB: raise -max-memory"},
		{256<<20 + 1, nil, "needs about 512MiB of memory, more than -max-memory 512MiB: raise -max-memory"},
	} {
		err := CheckMemory(tc.need, 512<<20, "-draws 5", tc.lower...)
		if err == nil || !IsUsage(err) || err.Error() != tc.want && !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("CheckMemory(%d): %v, want a usage error %q", tc.need, err, tc.want)
		}
	}
}
