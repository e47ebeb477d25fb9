package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"dcim/train"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// DefaultJobs is how many points the local backend trains at once unless
// told otherwise; each gets runtime.NumCPU()/jobs threads (GOMAXPROCS).
// On two cores two one-thread runs side by side trained 7% (the paper's
// CNN) and 17% (its dense net) more images per second between them than
// one two-thread run after the other: a run's kernels do not keep two
// cores fully busy (see cmd/sweep/README.md).
const DefaultJobs = 2

// Threads is the GOMAXPROCS of each of jobs points run at once: the
// cores shared out, at least one each.
func Threads(jobs int) int { return max(1, runtime.NumCPU()/max(1, jobs)) }

// Local runs the points of a sweep as child processes on this machine.
type Local struct {
	// Jobs is how many points run at once (0: DefaultJobs); Threads the
	// GOMAXPROCS of each (0: Threads(Jobs)).
	Jobs, Threads int
	// Executable is the program each child runs as "EXE -run DIR -point
	// I" (empty: this program, os.Executable).
	Executable string
	// Env is added to the children's environment.
	Env []string
	// Progress receives a line per finished point and, on a terminal, a
	// bar of the points done; nil discards them.
	Progress io.Writer
	// Plain forces plain lines even on a terminal.
	Plain bool
}

// Outcome is what a run of a sweep did.
type Outcome struct {
	Skipped, Done, Failed, Interrupted []*Point
}

// Run trains every point of plan in the sweep folder dir that is not
// done: at most Jobs child processes at once, each resuming its point's
// checkpoint when it has one. A point that fails is reported and the
// others go on. A cancelled ctx interrupts every child (each saves a
// checkpoint) and starts no more; Run then returns an error wrapping
// ErrInterrupted. Failed points make an error naming them.
func (l Local) Run(ctx context.Context, dir string, plan *Plan) (*Outcome, error) {
	jobs := l.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	threads := l.Threads
	if threads <= 0 {
		threads = Threads(jobs)
	}
	exe := l.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding this program to run the points: %w", err)
		}
	}
	out := &Outcome{}
	var todo []*Point
	for i := range plan.Points {
		p := &plan.Points[i]
		st, err := Inspect(dir, p)
		if err != nil {
			return nil, err
		}
		if st.Finished() {
			out.Skipped = append(out.Skipped, p)
		} else {
			todo = append(todo, p)
		}
	}
	pr := newSweepProgress(l.Progress, l.Plain, plan, len(out.Skipped), len(todo), jobs)
	pr.line(fmt.Sprintf("sweep %s: %s; %d done, %d to run, %d at once with %d threads each → %s",
		plan.Name, plan.Describe(), len(out.Skipped), len(todo), jobs, threads, dir))
	if len(todo) == 0 {
		pr.finish()
		return out, nil
	}

	type result struct {
		p      *Point
		err    error
		stderr string
		took   time.Duration
	}
	var (
		mu      sync.Mutex
		running = map[*exec.Cmd]bool{}
		stopped bool
		results = make(chan result)
		slots   = make(chan struct{}, jobs)
		wg      sync.WaitGroup
		quit    = make(chan struct{})
	)
	defer close(quit)
	go func() { // a cancelled ctx interrupts every child once
		select {
		case <-ctx.Done():
		case <-quit:
			return
		}
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		for c := range running {
			interrupt(c.Process)
		}
	}()
	go func() {
		defer func() { wg.Wait(); close(results) }()
		for _, p := range todo {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			c := exec.Command(exe, "-run", dir, "-point", strconv.Itoa(p.Index))
			c.Env = append(append(os.Environ(), l.Env...), "GOMAXPROCS="+strconv.Itoa(threads))
			tail := &tailWriter{max: 4 << 10}
			c.Stderr = tail
			detach(c)
			mu.Lock()
			if stopped {
				mu.Unlock()
				return
			}
			start := time.Now()
			err := c.Start()
			if err == nil {
				running[c] = true
				pr.started()
			}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err == nil {
					err = c.Wait()
					mu.Lock()
					delete(running, c)
					mu.Unlock()
				}
				<-slots
				results <- result{p, err, tail.String(), time.Since(start)}
			}()
		}
	}()

	for r := range results {
		st, ierr := Inspect(dir, r.p)
		switch {
		case ierr == nil && st.State == Done:
			out.Done = append(out.Done, r.p)
			pr.finished(r.p, st.Summary, r.took)
		case exitCode(r.err) == exitInterrupted || ctx.Err() != nil && st.Resumable:
			out.Interrupted = append(out.Interrupted, r.p)
			pr.line(fmt.Sprintf("interrupted %s: checkpoint saved", r.p.Name))
		default:
			out.Failed = append(out.Failed, r.p)
			why := lastLine(r.stderr)
			if why == "" && r.err != nil {
				why = r.err.Error()
			}
			if ierr != nil {
				why = ierr.Error()
			}
			pr.failed(r.p, fmt.Sprintf("failed %s: %s (log %s)", r.p.Name, why, r.p.Log(dir)))
		}
	}
	pr.finish()
	if ctx.Err() != nil {
		return out, fmt.Errorf("%w: %d of %d points done; %d interrupted with a checkpoint saved; run the same command again to continue", ErrInterrupted, len(out.Skipped)+len(out.Done), len(plan.Points), len(out.Interrupted))
	}
	if len(out.Failed) > 0 {
		names := make([]string, len(out.Failed))
		for i, p := range out.Failed {
			names[i] = p.Name
		}
		return out, fmt.Errorf("%d of %d points failed (%s); their logs are NAME.log in %s", len(out.Failed), len(plan.Points), strings.Join(names, "; "), dir)
	}
	return out, nil
}

// ErrInterrupted is returned (wrapped) when a sweep was stopped by a
// signal with its points' checkpoints saved.
var ErrInterrupted = errors.New("interrupted")

// exitCode is the exit status of a finished child's error (-1 if it did
// not exit by itself).
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// sweepProgress shows a sweep's progress: a line per finished point and,
// on a terminal, a bar of the points done with an estimate of the time
// left.
type sweepProgress struct {
	mu                  sync.Mutex
	w                   io.Writer
	bar                 *progressbar.ProgressBar
	name                string
	total, done, jobs   int // done: points done
	todo, running       int
	took                []time.Duration // of the points finished in this session
	finishedThisSession int
}

func newSweepProgress(w io.Writer, plain bool, plan *Plan, done, todo, jobs int) *sweepProgress {
	if w == nil {
		w = io.Discard
	}
	p := &sweepProgress{w: w, name: plan.Name, total: len(plan.Points), done: done, todo: todo, jobs: jobs}
	if f, ok := w.(*os.File); ok && !plain && todo > 0 && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(p.total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(p.describe()),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(25),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
		)
		p.bar.Set(done)
	}
	return p
}

// describe is the bar's text: points done of the total, running, ETA.
func (p *sweepProgress) describe() string {
	eta := "ETA —"
	if n := len(p.took); n > 0 {
		var sum time.Duration
		for _, d := range p.took {
			sum += d
		}
		left := p.todo - p.finishedThisSession
		rounds := (left + p.jobs - 1) / p.jobs
		eta = "ETA " + (sum / time.Duration(n) * time.Duration(rounds)).Round(time.Second).String()
	}
	return fmt.Sprintf("sweep %s: %d/%d points done, %d running, %s", p.name, p.done, p.total, p.running, eta)
}

// line prints a line above the bar.
func (p *sweepProgress) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(s)
}

func (p *sweepProgress) printLocked(s string) {
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, s)
	if p.bar != nil {
		p.bar.Describe(p.describe())
		p.bar.RenderBlank()
	}
}

func (p *sweepProgress) started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running++
	if p.bar != nil {
		p.bar.Describe(p.describe())
	}
}

// finished reports a point done: its name, accuracy, reverse BCEs and
// the run's wall time.
func (p *sweepProgress) finished(pt *Point, sum *train.Summary, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	p.done++
	p.finishedThisSession++
	p.took = append(p.took, took)
	line := "done " + pt.Name
	if sum != nil {
		line = fmt.Sprintf("done %d/%d %s: accuracy %.4f, reverse BCE eq. 21 %.4f, eq. 22 %.4f, %s",
			p.done, p.total, pt.Name, sum.ValAccuracy, float64(sum.ValReverseBCE21), float64(sum.ValReverseBCE22), wall(sum.Seconds))
	}
	if p.bar != nil {
		p.bar.Set(p.done)
	}
	p.printLocked(line)
}

func (p *sweepProgress) failed(pt *Point, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	p.finishedThisSession++
	p.printLocked(line)
}

func (p *sweepProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// wall writes a run's wall time in seconds as a duration.
func wall(seconds float64) string {
	return (time.Duration(seconds * float64(time.Second))).Round(time.Second).String()
}
