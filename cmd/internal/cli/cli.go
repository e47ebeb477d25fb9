// Package cli is what every command of this module shares on the command
// line: one -h layout, one-line error messages prefixed by the command's
// name, and one set of exit statuses:
//
//	0    success (and -h)
//	1    failure: bad input files, a run that diverged, a full disk
//	2    usage: a bad flag, flag value or argument
//	130  interrupted by a signal after saving what was in progress
//
//	3    an internal error (a panic)
//
// The Go runtime exits with status 2 on an unrecovered panic; Main
// recovers a panic of the command's goroutine and exits 3 instead, so that
// a crash is never mistaken for a usage error.
//
// A test hook: with DCIM_PARSE_ONLY=1 in the environment, Parse exits the
// process with status 0, printing nothing, as soon as the command line
// has parsed (every flag is one of the command's, with a value its type
// accepts, and positional arguments only where the command takes them);
// a command line that does not parse fails as it always does. The test of
// the README's commands (cmd/readme_test.go) runs every documented command
// line this way. Without the variable, or with any other value, nothing
// changes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"

	"dcim/models"
)

// Exit statuses.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitPanic       = 3
	ExitInterrupted = 130
)

// ErrInterrupted marks errors that end a command on a signal (exit 130).
var ErrInterrupted = errors.New("interrupted")

// Interrupted marks err as ending the command on a signal (exit 130)
// without adding to its text: for errors that say so themselves.
func Interrupted(err error) error { return interruptedError{err} }

type interruptedError struct{ error }

func (e interruptedError) Is(target error) bool { return target == ErrInterrupted }
func (e interruptedError) Unwrap() error        { return e.error }

// UsageError is a mistake on the command line.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage marks the error as the command line's fault.
func (e *UsageError) Usage() bool { return true }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// IsUsage reports whether err, or an error it wraps, is the command line's
// fault: it has a method Usage() bool that returns true (a *UsageError, or
// a library's own kind such as a bad training setting).
func IsUsage(err error) bool {
	var u interface{ Usage() bool }
	return errors.As(err, &u) && u.Usage()
}

// Command is one program's command-line interface.
type Command struct {
	Name     string // the program's name, the prefix of its messages
	Synopsis string // e.g. "-model RUN_DIR [flags]"
	Doc      string // a paragraph or two, printed by -h before the flags
	// Flags are defined on this set (NewFlagSet makes it); Run parses it.
	Flags *flag.FlagSet
	// After, if set, is printed by -h after the flags.
	After func(w io.Writer)
}

// New returns a command with an empty flag set.
func New(name, synopsis, doc string) *Command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Command{Name: name, Synopsis: synopsis, Doc: doc, Flags: fs}
}

// PrintUsage writes the -h text: usage line, doc, flags.
func (c *Command) PrintUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s\n\n", c.Name, c.Synopsis)
	if c.Doc != "" {
		fmt.Fprintf(w, "%s\n\n", c.Doc)
	}
	fmt.Fprintln(w, "Flags:")
	c.Flags.SetOutput(w)
	c.Flags.PrintDefaults()
	c.Flags.SetOutput(io.Discard)
	if c.After != nil {
		fmt.Fprintln(w)
		c.After(w)
	}
}

// Parse parses args. It returns flag.ErrHelp after printing the usage to
// stdout for -h, and a *UsageError for anything else wrong; positional
// arguments are an error unless positional is true.
func (c *Command) Parse(args []string, stdout io.Writer, positional bool) error {
	if err := c.Flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.PrintUsage(stdout)
			return flag.ErrHelp
		}
		return &UsageError{err}
	}
	if !positional && c.Flags.NArg() > 0 {
		return Usagef("unexpected argument %q (all settings are flags)", c.Flags.Arg(0))
	}
	if os.Getenv(ParseOnlyEnv) == "1" {
		os.Exit(ExitOK)
	}
	return nil
}

// ParseOnlyEnv is the environment variable of the test hook that stops a
// command once its command line has parsed (see the package doc).
const ParseOnlyEnv = "DCIM_PARSE_ONLY"

// Set reports whether the flag name was given on the command line.
func (c *Command) Set(name string) bool {
	found := false
	c.Flags.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// Main runs a command's body and turns its error into one line on stderr
// and an exit status: flag.ErrHelp exits 0, usage errors 2 (with a pointer
// to -h), interrupts 130, other errors 1, and a panic 3.
func (c *Command) Main(stderr io.Writer, body func() error) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n%s", c.Name, r, debug.Stack())
			code = ExitPanic
		}
	}()
	err := body()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case IsUsage(err):
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", c.Name, err, c.Name)
		return ExitUsage
	case errors.Is(err, ErrInterrupted):
		fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
		return ExitInterrupted
	default:
		fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
		return ExitError
	}
}

// SignalContext handles SIGINT, SIGTERM and SIGHUP (a closed terminal)
// for a command whose work can stop cleanly once it has begun. Until begin
// is called (while the command loads its input, say), the first signal
// ends the process at once with exit status 130 and a line on stderr.
// After begin, the first signal cancels ctx, with a line on stderr saying
// what the command does about it (what); a second signal kills the
// process at once. stop releases the signals.
func SignalContext(name string, stderr io.Writer, what string) (ctx context.Context, begin, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var mu sync.Mutex // held while the first signal is handled
	begun := false
	go func() {
		select {
		case s := <-sig:
			mu.Lock()
			defer mu.Unlock()
			if !begun {
				fmt.Fprintf(stderr, "\n%s: %v: interrupted before any work began\n", name, s)
				exit(ExitInterrupted)
				return
			}
			signal.Stop(sig) // a second signal kills at once
			fmt.Fprintf(stderr, "\n%s: %v: %s (send it again to quit at once)\n", name, s, what)
			cancel()
		case <-ctx.Done():
		}
	}()
	begin = func() {
		mu.Lock()
		begun = true
		mu.Unlock()
	}
	return ctx, begin, func() { signal.Stop(sig); cancel() }
}

// exit ends the process; tests replace it.
var exit = os.Exit

// rangedFloat is a float flag whose values are checked against a range
// when the flag is parsed.
type rangedFloat struct {
	p *float64
	r models.Range
}

func (f rangedFloat) String() string {
	if f.p == nil {
		return ""
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f rangedFloat) Set(s string) error {
	v, err := f.r.ParseFloat(s)
	if err != nil {
		return err
	}
	*f.p = v
	return nil
}

// Get returns the flag's value (flag.Getter).
func (f rangedFloat) Get() any { return *f.p }

// Float defines a float flag on the command: the value must be a finite
// number in r, so that NaN, ±Inf and values out of range are usage errors
// (exit 2) naming the flag. Every float flag of this module's commands is
// defined through it.
func (c *Command) Float(p *float64, name string, value float64, r models.Range, usage string) {
	*p = value
	c.Flags.Var(rangedFloat{p, r}, name, usage+" ("+r.String()+")")
}
