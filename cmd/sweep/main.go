// Command sweep trains a set of runs declared as a models.Sweep (or given
// on the command line), each in a folder of its own, on this machine or
// as a Slurm array job, and writes one table of their results.
//
//	go run ./cmd/sweep -sweep NAME [training flags] [-out DIR] [-jobs N] [-samples] [-dcim]
//	go run ./cmd/sweep -base EXPERIMENT -vary SETTING=V1,V2 [-vary …] [-zip …] [training flags]
//	go run ./cmd/sweep -sweep NAME -backend slurm [-cpus-per-task 2 -mem 4G -time 12:00:00 …] [-dry-run] [-wait]
//	go run ./cmd/sweep -status DIR
//	go run ./cmd/sweep -table DIR [-samples] [-dcim]
//	go run ./cmd/sweep -docs FILE.md     # paste each sweep's results.md into its block
//	sweep -run DIR -point I     (what each child process and Slurm task runs)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"dcim/cmd/internal/cli"
	"dcim/cmd/internal/traincmd"
	"dcim/data"
	"dcim/models"
	"dcim/train"
	"dcim/train/checkpoint"
	"dcim/train/sweep"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// axisFlag is -vary or -zip: each adds an axis to one list, in the
// order given.
type axisFlag struct {
	name string
	list *[]axisArg
}

// axisArg is one -vary or -zip.
type axisArg struct{ flag, arg string }

func (a axisFlag) String() string {
	if a.list == nil {
		return ""
	}
	var s []string
	for _, x := range *a.list {
		if x.flag == a.name {
			s = append(s, x.arg)
		}
	}
	return strings.Join(s, " ")
}

func (a axisFlag) Set(v string) error { *a.list = append(*a.list, axisArg{a.name, v}); return nil }

// multi is a flag that may be given several times.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// options are the sweep command's own flags.
type options struct {
	sweep, base, name string
	axes              []axisArg
	out               string
	jobs, threads     int
	backend           string
	slurm             sweep.Slurm
	sbatch            multi
	dryRun, wait      bool
	poll              time.Duration
	samples, dcim     bool
	dataDir           string // the training flag -data, where -dcim reads the test set
	runDir            string
	point             int
	status, table     string
	docs              multi
}

// pollEvery is how often -wait looks at the queue and the folders.
const pollEvery = 5 * time.Second

func run(args []string, stdout, stderr io.Writer) int {
	c := cli.New("sweep", "-sweep NAME | -base EXPERIMENT -vary SETTING=V1,V2… [training flags] [flags] | -status DIR | -table DIR | -docs FILE | -run DIR -point I",
		"Trains every point of a sweep, a set of runs declared in the models package (listed below)\n"+
			"or given with -base and -vary, each in its own folder of the sweep folder (-out, default\n"+
			"sweeps/NAME) named by the point's values, e.g. reverse-weight=2,seed=3. Every point's\n"+
			"settings are checked before any run starts. A point already done is skipped, one with a\n"+
			"checkpoint resumed: the same command continues a sweep. Ctrl-C (SIGINT) or SIGTERM stops\n"+
			"every run with its checkpoint saved. The training flags apply to every point (over the\n"+
			"sweep's base experiment and its fixed settings; a varied setting is the axis's). At the\n"+
			"end it writes results.md, results.csv, results.json and frontier.png in the sweep folder.\n"+
			"With -backend slurm it submits the unfinished points as one sbatch array job instead.\n\n"+
			"The training flags (-epochs, -limit, -data, …) default to the sweep's base experiment and\n"+
			"fixed settings.\n\n"+
			"-vary SETTING=V1,V2 separates values by commas, or by semicolons when the list holds a ';'\n"+
			"or a '(': -vary 'arch=(50),(10);(20),(10)' is two architectures, -vary 'arch=(50),(10)' one.")
	var o options
	fs := c.Flags
	fs.StringVar(&o.sweep, "sweep", "", "the `name` of a sweep declared in the models package (listed below)")
	fs.StringVar(&o.base, "base", "", "an ad-hoc sweep over this `experiment`, with the axes of -vary")
	fs.Var(axisFlag{"vary", &o.axes}, "vary", "with -base: an axis, `SETTING=V1,V2,…` (repeatable; the axes multiply)")
	fs.Var(axisFlag{"zip", &o.axes}, "zip", "with -base: an axis zipped to the one before it, `SETTING=V1,V2,…`: they vary together, value for value")
	fs.StringVar(&o.name, "name", "", "with -base: the sweep's name (default BASE-by-SETTING-…)")
	fs.StringVar(&o.out, "out", "", "the sweep `folder` (default sweeps/NAME)")
	fs.IntVar(&o.jobs, "jobs", sweep.DefaultJobs, "local backend: points trained at once, each a child process")
	fs.IntVar(&o.threads, "threads", 0, "local backend: GOMAXPROCS of each point (0: the cores shared out among -jobs)")
	fs.StringVar(&o.backend, "backend", "local", "where the points run: local (child processes of this command) or slurm (an sbatch array job)")
	fs.IntVar(&o.slurm.CPUsPerTask, "cpus-per-task", 2, "slurm: CPUs of each task (--cpus-per-task), its GOMAXPROCS")
	fs.StringVar(&o.slurm.Mem, "mem", "4G", "slurm: memory of each task (--mem; empty: the partition's default)")
	fs.StringVar(&o.slurm.Time, "time", "", "slurm: time limit of each task (--time, e.g. 12:00:00; empty: the partition's default)")
	fs.StringVar(&o.slurm.Partition, "partition", "", "slurm: the partition (--partition; empty: the default one)")
	fs.IntVar(&o.slurm.MaxRunning, "max-running", 0, "slurm: tasks running at once (--array …%N; 0: no cap)")
	fs.Var(&o.sbatch, "sbatch", "slurm: one more `option` for the script's #SBATCH lines, e.g. --account=abc (repeatable)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "slurm: print the sbatch script instead of submitting it")
	fs.BoolVar(&o.wait, "wait", false, "slurm: wait for the submitted points to end, then write the results")
	fs.BoolVar(&o.samples, "samples", false, "with the results: draw each run's samples in every mode (10 per class, seed 1, as sample does) and show how many the forward model assigns to their class and their per-pixel std")
	fs.BoolVar(&o.dcim, "dcim", false, "with the results: measure each run's network itself as approx does (the first 1,000 test images, 100 draws, seed 1): mean-field and Monte-Carlo test accuracy and NLL, KL(MC ‖ mean field), and the log-likelihood log q(x | class) of the first 100 binarised test images, 100 importance samples")
	fs.StringVar(&o.status, "status", "", "show where each point of the sweep in this `folder` stands: done, running, failed (with its log's last lines), interrupted or pending")
	fs.StringVar(&o.table, "table", "", "write the results of the sweep in this `folder` (results.md, .csv, .json, frontier.png)")
	fs.Var(&o.docs, "docs", "paste into this Markdown `file` each sweep's results.md (from sweeps/NAME) between its markers <!-- sweep:NAME --> and <!-- /sweep --> (repeatable)")
	fs.StringVar(&o.runDir, "run", "", "train one point of the sweep in this `folder` (with -point); what child processes and Slurm tasks run")
	fs.IntVar(&o.point, "point", -1, "with -run: the point's `index` in the folder's sweep.json")
	// The training flags show no defaults: the sweep's base experiment
	// and fixed settings give them.
	s := train.Settings{Command: sweep.Command}
	var table []train.Setting
	for _, st := range train.Table() {
		if st.Name != "out" {
			st.Define(fs, &s)
			table = append(table, st)
		}
	}
	c.After = listSweeps
	return c.Main(stderr, func() error {
		if err := c.Parse(args, stdout, false); err != nil {
			return err
		}
		o.poll = pollEvery
		o.dataDir = s.Data
		if v := os.Getenv("DCIM_SWEEP_POLL"); v != "" { // tests
			if d, err := time.ParseDuration(v); err == nil {
				o.poll = d
			}
		}
		var given []train.Override
		for _, st := range table {
			if c.Set(st.Name) {
				given = append(given, train.Override{Name: st.Name, Value: st.Get(s)})
			}
		}
		switch {
		case o.runDir != "":
			if err := only(c, "run", "point"); err != nil {
				return err
			}
			if !c.Set("point") {
				return cli.Usagef("-run needs -point")
			}
			return runPoint(o, stderr)
		case c.Set("point"):
			return cli.Usagef("-point is for -run")
		case o.status != "":
			if err := only(c, "status"); err != nil {
				return err
			}
			return status(o.status, stdout)
		case len(o.docs) > 0:
			if err := only(c, "docs"); err != nil {
				return err
			}
			return pasteDocs(o.docs, stdout)
		case o.table != "":
			if err := only(c, "table", "samples", "dcim", "data"); err != nil {
				return err
			}
			if c.Set("data") && !o.dcim {
				return cli.Usagef("-table takes -data only with -dcim")
			}
			return writeTable(context.Background(), o.table, nil, o, stdout, stderr)
		}
		return runSweep(c, o, given, stdout, stderr)
	})
}

// pasteDocs replaces the sweep blocks of each file with the results of
// the sweeps in their default folders, writing each file whole or not at
// all.
func pasteDocs(files []string, stdout io.Writer) error {
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("-docs: %w", err)
		}
		out, names, err := sweep.Paste(doc, func(name string) ([]byte, error) {
			return os.ReadFile(filepath.Join("sweeps", train.PathName(name), sweep.ResultsMD))
		})
		if err != nil {
			return fmt.Errorf("-docs %s: %w", f, err)
		}
		if len(names) == 0 {
			return fmt.Errorf("-docs %s: no <!-- sweep:NAME --> … <!-- /sweep --> block", f)
		}
		if err := checkpoint.WriteFileAtomic(f, out, 0o644); err != nil {
			return fmt.Errorf("-docs: %w", err)
		}
		fmt.Fprintf(stdout, "%s: pasted %s\n", f, strings.Join(names, ", "))
	}
	return nil
}

// only refuses the flags given but those named.
func only(c *cli.Command, names ...string) error {
	var extra []string
	c.Flags.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n {
				return
			}
		}
		extra = append(extra, "-"+f.Name)
	})
	if len(extra) > 0 {
		return cli.Usagef("-%s takes no %s", names[0], strings.Join(extra, ", "))
	}
	return nil
}

// runPoint trains one point: a child process or a Slurm task.
func runPoint(o options, stderr io.Writer) error {
	traincmd.CollectSooner()
	// A point's log ends with its exit status, so even a signal while it
	// loads goes through ctx: the run stops at once and says so.
	ctx, begin, stop := cli.SignalContext("sweep", stderr, "finishing the current step and saving a checkpoint")
	defer stop()
	begin()
	err := sweep.RunPoint(ctx, o.runDir, o.point)
	if err != nil && errors.Is(err, train.ErrInterrupted) {
		return cli.Interrupted(err)
	}
	return err
}

// sweepOf is the sweep the flags name: a registered one, or -base with
// -vary and -zip.
func sweepOf(o options) (models.Sweep, error) {
	switch {
	case o.sweep != "" && (o.base != "" || len(o.axes) > 0 || o.name != ""):
		return models.Sweep{}, cli.Usagef("-sweep names a declared sweep; -base, -vary, -zip and -name make one on the command line: give one or the other")
	case o.sweep != "":
		s, err := models.LookupSweep(o.sweep)
		if err != nil {
			return s, cli.Usagef("-sweep: %v", err)
		}
		return s, nil
	case o.base == "":
		return models.Sweep{}, cli.Usagef("no sweep: give -sweep NAME, or -base EXPERIMENT with -vary (or -status, -table or -run DIR)")
	case len(o.axes) == 0:
		return models.Sweep{}, cli.Usagef("-base %s: give the axes with -vary SETTING=V1,V2,…", o.base)
	}
	var axes []models.Axis
	for _, a := range o.axes {
		ax, err := sweep.ParseVary(a.arg)
		if err != nil {
			return models.Sweep{}, cli.Usagef("-%s %v", a.flag, err)
		}
		ax.Zip = a.flag == "zip"
		axes = append(axes, ax)
	}
	return sweep.AdHoc(o.name, o.base, axes), nil
}

// runSweep plans the sweep and runs it with the chosen backend.
func runSweep(c *cli.Command, o options, given []train.Override, stdout, stderr io.Writer) error {
	for _, name := range []string{"cpus-per-task", "mem", "time", "partition", "max-running", "sbatch", "dry-run", "wait"} {
		if c.Set(name) && o.backend != "slurm" {
			return cli.Usagef("-%s is for -backend slurm", name)
		}
	}
	for _, name := range []string{"jobs", "threads"} {
		if c.Set(name) && o.backend != "local" {
			return cli.Usagef("-%s is for -backend local", name)
		}
	}
	switch {
	case o.backend != "local" && o.backend != "slurm":
		return cli.Usagef("-backend %q: want local or slurm", o.backend)
	case o.jobs < 1:
		return cli.Usagef("-jobs %d: want at least 1", o.jobs)
	case o.threads < 0:
		return cli.Usagef("-threads %d: want 0 (the cores shared out) or more", o.threads)
	case c.Set("out") && o.out == "":
		return cli.Usagef("-out is empty")
	}
	o.slurm.Extra = o.sbatch
	if o.backend == "slurm" {
		if err := o.slurm.Check(); err != nil {
			return err
		}
	}
	sw, err := sweepOf(o)
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = filepath.Join("sweeps", train.PathName(sw.Name))
	}
	dir, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	plan, err := sweep.New(sw, given, dir)
	if err != nil {
		return err
	}
	plan.Command = commandLine(o, sw, given, out)
	for _, g := range given {
		if plan.AxisIndex(g.Name) >= 0 {
			fmt.Fprintf(stderr, "sweep: warning: -%s is an axis of sweep %s: it sets the base the zipped axes are named against; the points take the axis's values\n", g.Name, sw.Name)
		}
	}
	if old, err := sweep.ReadPlan(dir); err == nil {
		if d := old.SamePoints(plan); d != "" {
			return fmt.Errorf("%s holds sweep %s of other points (%s); give another -out, or remove %s to replace the plan (the runs whose settings match are kept)", dir, old.Name, d, filepath.Join(dir, sweep.PlanName))
		}
	} else if _, serr := os.Stat(filepath.Join(dir, sweep.PlanName)); serr == nil {
		return err
	}
	ctx, begin, stop := cli.SignalContext("sweep", stderr, "stopping every run with a checkpoint saved")
	defer stop()
	begin()
	if o.backend == "slurm" {
		return runSlurm(ctx, o, dir, plan, stdout, stderr)
	}
	if err := plan.Write(dir); err != nil {
		return err
	}
	local := sweep.Local{Jobs: o.jobs, Threads: o.threads, Progress: stdout}
	_, runErr := local.Run(ctx, dir, plan)
	if terr := writeTable(ctx, dir, plan, o, io.Discard, stderr); terr != nil && runErr == nil {
		runErr = terr
	} else if terr == nil {
		fmt.Fprintf(stdout, "results: %s\n", filepath.Join(dir, sweep.ResultsMD))
	}
	if errors.Is(runErr, sweep.ErrInterrupted) {
		return cli.Interrupted(runErr)
	}
	return runErr
}

// runSlurm submits the points that are neither done nor queued as one
// array job (or prints its script), and with -wait waits for them.
func runSlurm(ctx context.Context, o options, dir string, plan *sweep.Plan, stdout, stderr io.Writer) error {
	var statuses []sweep.Status
	if _, err := os.Stat(filepath.Join(dir, sweep.PlanName)); err == nil {
		var serr error
		if statuses, serr = sweep.Statuses(ctx, dir, plan); serr != nil {
			return serr
		}
	}
	var todo []int
	for i := range plan.Points {
		if statuses == nil || statuses[i].State != sweep.Done && statuses[i].State != sweep.Running && !statuses[i].Queued {
			todo = append(todo, i)
		}
	}
	switch {
	case o.dryRun && len(todo) > 0:
		fmt.Fprint(stdout, o.slurm.Script(dir, plan, todo))
		return nil
	case !o.dryRun:
		if err := plan.Write(dir); err != nil {
			return err
		}
	}
	if len(todo) == 0 {
		fmt.Fprintf(stdout, "sweep %s: every point is done or queued; nothing to submit (sweep -status %s)\n", plan.Name, dir)
		if o.dryRun {
			return nil
		}
	} else {
		id, err := o.slurm.Submit(ctx, dir, plan, todo)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sweep %s: submitted job %s, %d of %d points (script %s); where they stand: sweep -status %s\n",
			plan.Name, id, len(todo), len(plan.Points), filepath.Join(dir, sweep.ScriptName), dir)
	}
	if !o.wait {
		return nil
	}
	for {
		st, err := sweep.Statuses(ctx, dir, plan)
		if err != nil {
			return err
		}
		busy := 0
		for _, s := range st {
			if s.State == sweep.Running || s.Queued {
				busy++
			}
		}
		if busy == 0 {
			if err := writeTable(ctx, dir, plan, o, io.Discard, stderr); err != nil {
				return err
			}
			printStatus(stdout, plan, st)
			if n := count(st, sweep.Done); n < len(st) {
				return fmt.Errorf("%d of %d points are not done; see sweep -status %s", len(st)-n, len(st), dir)
			}
			fmt.Fprintf(stdout, "results: %s\n", filepath.Join(dir, sweep.ResultsMD))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: stopped waiting; the jobs go on (sweep -status %s)", cli.ErrInterrupted, dir)
		case <-time.After(o.poll):
		}
	}
}

func count(st []sweep.Status, s sweep.State) int {
	n := 0
	for _, x := range st {
		if x.State == s {
			n++
		}
	}
	return n
}

// status prints where every point of the sweep in dir stands.
func status(dir string, stdout io.Writer) error {
	plan, err := sweep.ReadPlan(dir)
	if err != nil {
		return err
	}
	st, err := sweep.Statuses(context.Background(), dir, plan)
	if err != nil {
		return err
	}
	printStatus(stdout, plan, st)
	return nil
}

// printStatus writes a line per point, with the detail of those not done
// indented below it, and the counts.
func printStatus(w io.Writer, plan *sweep.Plan, st []sweep.Status) {
	wIndex, wState, wName := len(strconv.Itoa(len(st)-1)), 0, 0
	for i, s := range st {
		wState, wName = max(wState, len(s.State.String())), max(wName, len(plan.Points[i].Name))
	}
	for i, s := range st {
		figures := ""
		if s.Summary != nil {
			figures = fmt.Sprintf("accuracy %.4f, BCE eq. 21 %.4f, eq. 22 %.4f", s.Summary.ValAccuracy, float64(s.Summary.ValReverseBCE21), float64(s.Summary.ValReverseBCE22))
		} else if s.Resumable {
			figures = "checkpoint saved"
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%*d  %-*s  %-*s  %s", wIndex, i, wState, s.State, wName, plan.Points[i].Name, figures), " "))
		if s.Detail != "" && s.State != sweep.Done {
			for line := range strings.SplitSeq(s.Detail, "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "sweep %s: %d done, %d running, %d failed, %d interrupted, %d pending of %d points\n", plan.Name,
		count(st, sweep.Done), count(st, sweep.Running), count(st, sweep.Failed), count(st, sweep.Interrupted), count(st, sweep.Pending), len(st))
}

// writeTable writes the results of the sweep in dir (plan: its plan, or
// nil to read it) with the measurements o asks for (-samples; -dcim on
// the test set of -data), and prints results.md to stdout; once ctx ends (a
// signal), the remaining rows go without the -samples and -dcim
// measurements.
func writeTable(ctx context.Context, dir string, plan *sweep.Plan, o options, stdout, stderr io.Writer) error {
	if plan == nil {
		var err error
		if plan, err = sweep.ReadPlan(dir); err != nil {
			return err
		}
	}
	extras := sweep.Extras{Samples: o.samples, DCIM: o.dcim}
	if o.dcim {
		m, err := data.Load(data.Options{Dir: o.dataDir, Log: stderr})
		if err != nil {
			return err
		}
		extras.Test = m.Test
	}
	// The points' states as -status tells them (a point running here or
	// on Slurm is running, not failed), even after a signal.
	st, err := sweep.Statuses(context.WithoutCancel(ctx), dir, plan)
	if err != nil {
		return err
	}
	r, err := sweep.Collect(ctx, dir, plan, st, extras)
	if err != nil {
		return err
	}
	if err := r.Write(dir, stderr); err != nil {
		return err
	}
	r.Markdown(stdout)
	return nil
}

// commandLine is the command that runs the sweep again: its definition,
// the training flags given and the folder.
// sameFolder reports whether two paths name one folder, links resolved.
func sameFolder(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		if ab, err := filepath.Abs(b); err == nil && aa == ab {
			return true
		}
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

func commandLine(o options, sw models.Sweep, given []train.Override, out string) string {
	parts := []string{"go run ./cmd/sweep"}
	if o.sweep != "" {
		parts = append(parts, "-sweep", sweep.ShellQuote(o.sweep))
	} else {
		parts = append(parts, "-base", sweep.ShellQuote(sw.Base))
		for _, a := range sw.Axes {
			flag := "-vary"
			if a.Zip {
				flag = "-zip"
			}
			list := strings.Join(a.Values, ",")
			if strings.ContainsAny(strings.Join(a.Values, ""), ",;(") {
				list = strings.Join(a.Values, ";")
				if !strings.ContainsAny(list, ";(") {
					list += ";" // one value with commas
				}
			}
			parts = append(parts, flag, sweep.ShellQuote(a.Setting+"="+list))
		}
		if o.name != "" {
			parts = append(parts, "-name", sweep.ShellQuote(o.name))
		}
	}
	for _, g := range given {
		parts = append(parts, "-"+g.Name, sweep.ShellQuote(g.Value))
	}
	if o.out != "" && !sameFolder(o.out, filepath.Join("sweeps", train.PathName(sw.Name))) {
		parts = append(parts, "-out", sweep.ShellQuote(out))
	}
	if o.samples {
		parts = append(parts, "-samples")
	}
	if o.dcim {
		parts = append(parts, "-dcim")
	}
	return strings.Join(parts, " ")
}

// listSweeps prints the registered sweeps for -h.
func listSweeps(w io.Writer) {
	fmt.Fprintln(w, "Sweeps (-sweep; declare your own in a new file of models/ with models.Register(models.Sweep{…})):")
	for _, s := range models.Sweeps() {
		fmt.Fprintf(w, "  %-24s %s\n", s.Name, s.Doc)
		fmt.Fprintf(w, "  %-24s base %s; %s\n", "", s.Base, sweep.Describe(s))
	}
	fmt.Fprintln(w, "\nThe experiments a sweep starts from are listed by train-cnn -h.")
}
