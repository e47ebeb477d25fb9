package sweep

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"dcim/train"
	"dcim/train/checkpoint"
)

// State is where a point stands.
type State int

// The states of a point.
const (
	// Pending: not started (or queued).
	Pending State = iota
	// Running: a process trains it now.
	Running
	// Done: its folder holds a summary.json of its settings.
	Done
	// Interrupted: stopped by a signal with a checkpoint saved; the next
	// run of the sweep resumes it.
	Interrupted
	// Failed: started, and ended without a summary; its log says why. A
	// checkpoint, if any, is resumed by the next run of the sweep.
	Failed
)

var stateNames = [...]string{"pending", "running", "done", "interrupted", "failed"}

func (s State) String() string { return stateNames[s] }

// Status is what a point's folder and log say about it.
type Status struct {
	Point *Point
	State State
	// Summary is the finished run's summary (Done).
	Summary *train.Summary
	// Resumable: the folder holds a checkpoint (resume.npz) to continue.
	Resumable bool
	// Exit is the exit status the point's last process logged, or -1.
	Exit int
	// Queued: Slurm holds a task of the point, pending or running.
	Queued bool
	// Detail says more: the last lines of the log of a failed point, the
	// Slurm job and node of a running one.
	Detail string

	host string // where the last process of the point started, and its pid
	pid  int
}

// ErrOtherRun is returned (wrapped) for a point folder that holds a run
// of other settings: the sweep leaves it as it is.
var ErrOtherRun = errors.New("holds a run of other settings")

// Inspect reads the point's folder and log in the sweep folder dir. A
// folder that holds a run of other settings is an error wrapping
// ErrOtherRun. Whether a process is running the point now is for the
// caller to tell (Running is never returned).
func Inspect(dir string, p *Point) (Status, error) {
	st := Status{Point: p, State: Pending, Exit: -1}
	folder := p.Folder(dir)
	s, err := readSummary(folder)
	switch {
	case err == nil:
		if d := train.RunDiff(s.Flags, p.Settings); len(d) > 0 {
			return st, fmt.Errorf("point %s: folder %s %w (%s); move it away, or give the sweep another -out", p.Name, folder, ErrOtherRun, strings.Join(d, ", "))
		}
		st.State, st.Summary = Done, s
		return st, nil
	case !errors.Is(err, os.ErrNotExist):
		return st, fmt.Errorf("point %s: %w", p.Name, err)
	}
	if _, err := os.Stat(filepath.Join(folder, train.ResumeName)); err == nil {
		st.Resumable = true
		if meta, err := checkpoint.ReadMeta(folder); err == nil && len(meta.Settings) > 0 {
			saved := p.Settings
			for name, v := range meta.Settings {
				if set, ok := train.LookupSetting(name); ok {
					set.Set(&saved, v) // a value that does not parse differs below
				}
			}
			if d := train.RunDiff(saved, p.Settings); len(d) > 0 {
				return st, fmt.Errorf("point %s: folder %s %w (%s); move it away, or give the sweep another -out", p.Name, folder, ErrOtherRun, strings.Join(d, ", "))
			}
		}
	}
	lg, err := readLog(p.Log(dir))
	if err != nil {
		return st, fmt.Errorf("point %s: %w", p.Name, err)
	}
	st.Exit = lg.exit
	switch {
	case lg.exit == exitInterrupted && st.Resumable:
		st.State = Interrupted
	case lg.started:
		st.State, st.Detail = Failed, lg.tail
	}
	st.host, st.pid = lg.host, lg.pid
	return st, nil
}

// Finished reports whether a point needs no more running.
func (s Status) Finished() bool { return s.State == Done }

// readSummary reads a run folder's summary.json.
func readSummary(folder string) (*train.Summary, error) {
	path := filepath.Join(folder, train.SummaryName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s train.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// The lines a point's process writes into its log around the run's own.
const (
	startLine = "sweep: point %d (%s): %s on %s, pid %d, GOMAXPROCS %d, %s\n"
	exitLine  = "sweep: point %d (%s): exit %d%s\n"
)

// exitInterrupted is the exit status of a point stopped by a signal.
const exitInterrupted = 130

var (
	startRE = regexp.MustCompile(`^sweep: point \d+ \(.*\): (started|resumed|done already) on (\S*), pid (\d+),`)
	exitRE  = regexp.MustCompile(`^sweep: point \d+ \(.*\): exit (\d+)`)
)

// tailLines is how many lines of a failed point's log Status shows.
const tailLines = 5

// logInfo is what a point's log says.
type logInfo struct {
	started bool   // a process started the point
	exit    int    // the exit status the last process logged; -1: none (it was killed, or runs)
	host    string // where the last process started
	pid     int    // and its pid
	tail    string // the log's last lines
}

// readLog reads a point's log. A missing log is a point never started.
func readLog(path string) (logInfo, error) {
	lg := logInfo{exit: -1}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return lg, nil
	}
	if err != nil {
		return lg, err
	}
	defer f.Close()
	// Only the end matters: a long run's log is read from its last 64 KiB.
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		f.Seek(st.Size()-64<<10, io.SeekStart)
	}
	var last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := startRE.FindStringSubmatch(line); m != nil {
			lg.started, lg.exit, lg.host = true, -1, m[2]
			lg.pid, _ = strconv.Atoi(m[3])
		} else if m := exitRE.FindStringSubmatch(line); m != nil {
			lg.exit, _ = strconv.Atoi(m[1])
		}
		if strings.TrimSpace(line) != "" {
			last = append(last, line)
			if len(last) > tailLines {
				last = last[1:]
			}
		}
	}
	if err := sc.Err(); err != nil {
		return lg, fmt.Errorf("%s: %w", path, err)
	}
	lg.started = lg.started || len(last) > 0
	lg.tail = strings.Join(last, "\n")
	return lg, nil
}
