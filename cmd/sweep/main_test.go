package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dcim/cmd/internal/clitest"
	"dcim/models"
)

// mainEnv makes the test binary run the command instead of the tests, so
// that the points' child processes and Slurm tasks (which run this same
// binary) know the test-only experiments and sweeps registered below.
const mainEnv = "DCIM_SWEEP_TEST_MAIN"

// refDir is the sweep folder of the reference run (see reference): the
// sweep zz-test-seeds trains two points of a few seconds each, and every
// test of a way to run it compares its figures with those of one plain
// local run.
var refDir string

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if refDir != "" {
		os.RemoveAll(refDir)
	}
	os.Exit(code)
}

// Test-only experiment and sweeps, named so that no user picks them.
func init() {
	models.Register(models.Experiment{Name: "zz-test-dense", Doc: "a tiny dense net with eq. (21)",
		Arch: models.MustParse("(16),(10)"), Encoding: models.Binary, Objective: models.Generative()})
	models.Register(models.Sweep{Name: "zz-test-seeds", Doc: "two seeds of a tiny dense net", Base: "zz-test-dense",
		Set:  map[string]string{"epochs": "2", "limit": "4096", "eval-every": "16"},
		Axes: []models.Axis{models.Vary("seed", 1, 2)}})
	models.Register(models.Sweep{Name: "zz-test-typo", Doc: "a value that is not a number", Base: "zz-test-dense",
		Axes: []models.Axis{models.Vary("reverse-weight", 1, "2,5")}})
}

// sweepCmd is the command run as a user runs it, from this test binary.
func sweepCmd(args ...string) *exec.Cmd {
	c := exec.Command(os.Args[0], args...)
	c.Env = append(os.Environ(), mainEnv+"=1", "DCIM_SWEEP_POLL=300ms")
	return c
}

// runCmd runs the command to its end within limit and returns its exit
// status and output.
func runCmd(t *testing.T, limit time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	c := sweepCmd(args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return clitest.ExitCode(err), out.String(), errOut.String()
	case <-time.After(limit):
		c.Process.Kill()
		<-done
		t.Fatalf("sweep %s: still running after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), limit, out.String(), errOut.String())
	}
	return
}

// TestCommandLine: -h lists the sweeps with their axes, and every mistake
// on the command line is one line and exit 2, before any run.
func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	bin := clitest.Build(t, "sweep")
	clitest.Check(t, bin, []clitest.Case{
		{Name: "help", Args: []string{"-h"}, Code: 0, Msg: "Sweeps (-sweep;"},
		{Name: "help flags", Args: []string{"-h"}, Code: 0, Msg: "-reverse-weight"},
		{Name: "no sweep", Args: nil, Code: 2, Msg: "no sweep: give -sweep NAME"},
		{Name: "unknown sweep", Args: []string{"-sweep", "zz-nope"}, Code: 2, Msg: `-sweep: unknown sweep "zz-nope"`},
		{Name: "both", Args: []string{"-sweep", "x", "-base", "dense-generative"}, Code: 2, Msg: "give one or the other"},
		{Name: "base without axes", Args: []string{"-base", "dense-generative"}, Code: 2, Msg: "-base dense-generative: give the axes with -vary"},
		{Name: "bad vary", Args: []string{"-base", "dense-generative", "-vary", "sed=1"}, Code: 2, Msg: `-vary "sed=1": unknown setting "sed"`},
		{Name: "bad value", Args: []string{"-base", "dense-generative", "-vary", "reverse-weight=1,x", "-out", dir}, Code: 2,
			Msg: `sweep "dense-generative-by-reverse-weight", point 1 (reverse-weight=x): -reverse-weight "x": invalid syntax`},
		{Name: "bad flag value", Args: []string{"-base", "dense-generative", "-vary", "seed=1", "-epochs", "0", "-out", dir}, Code: 2, Msg: "-epochs 0: want at least 1"},
		{Name: "bad backend", Args: []string{"-base", "dense-generative", "-vary", "seed=1", "-backend", "pbs"}, Code: 2, Msg: `-backend "pbs": want local or slurm`},
		{Name: "slurm flag locally", Args: []string{"-base", "dense-generative", "-vary", "seed=1", "-mem", "2G"}, Code: 2, Msg: "-mem is for -backend slurm"},
		{Name: "bad mem", Args: []string{"-base", "dense-generative", "-vary", "seed=1", "-backend", "slurm", "-mem", "lots"}, Code: 2, Msg: `-mem "lots"`},
		{Name: "jobs", Args: []string{"-base", "dense-generative", "-vary", "seed=1", "-jobs", "0"}, Code: 2, Msg: "-jobs 0: want at least 1"},
		{Name: "run without point", Args: []string{"-run", dir}, Code: 2, Msg: "-run needs -point"},
		{Name: "run with flags", Args: []string{"-run", dir, "-point", "0", "-epochs", "3"}, Code: 2, Msg: "-run takes no -epochs"},
		{Name: "point alone", Args: []string{"-point", "0"}, Code: 2, Msg: "-point is for -run"},
		{Name: "status of no sweep", Args: []string{"-status", dir}, Code: 2, Msg: "holds no sweep.json"},
		{Name: "table with flags", Args: []string{"-table", dir, "-seed", "3"}, Code: 2, Msg: "-table takes no -seed"},
	})
	// A typo in a declared sweep fails before any run starts.
	code, _, stderr := runCmd(t, time.Minute, "-sweep", "zz-test-typo", "-out", filepath.Join(dir, "typo"))
	if code != 2 || !strings.Contains(stderr, `sweep "zz-test-typo", point 1 (reverse-weight=2,5): -reverse-weight "2,5": invalid syntax`) {
		t.Errorf("typo: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); !os.IsNotExist(err) {
		t.Errorf("a sweep with a typo left a folder: %v", err)
	}
	code, stdout, _ := runCmd(t, time.Minute, "-h")
	if code != 0 || !strings.Contains(stdout, "zz-test-seeds") || !strings.Contains(stdout, "base zz-test-dense; seed (1 2), 2 points") {
		t.Errorf("-h: exit %d, the test sweeps not listed with their axes:\n%s", code, stdout)
	}
}

// TestDocs: -docs pastes each sweep's results.md from sweeps/NAME into
// its block and keeps the rest of the file; a block whose sweep has no
// results leaves the file as it was and names the sweep.
func TestDocs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sweeps", "zz-a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sweeps", "zz-a", "results.md"), []byte("| a |\n|---|\n| 1 |\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "doc.md")
	for _, c := range []struct {
		name, text, want string
		code             int
		stderr           string
	}{
		{"pasted", "# T\n\n<!-- sweep:zz-a -->\nold\n<!-- /sweep -->\n\nafter\n", "# T\n\n<!-- sweep:zz-a -->\n| a |\n|---|\n| 1 |\n<!-- /sweep -->\n\nafter\n", 0, ""},
		{"missing", "<!-- sweep:zz-b -->\nold\n<!-- /sweep -->\n", "<!-- sweep:zz-b -->\nold\n<!-- /sweep -->\n", 1, "-docs doc.md: sweep zz-b: open "},
		{"no block", "text\n", "text\n", 1, "-docs doc.md: no <!-- sweep:NAME --> … <!-- /sweep --> block"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(doc, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := sweepCmd("-docs", "doc.md")
			cmd.Dir = dir
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			code := clitest.ExitCode(cmd.Run())
			got, _ := os.ReadFile(doc)
			if code != c.code || string(got) != c.want || !strings.Contains(errOut.String(), c.stderr) {
				t.Errorf("exit %d, stderr %q, file\n%s\nwant exit %d, %q, file\n%s", code, errOut.String(), got, c.code, c.stderr, c.want)
			}
		})
	}
}
