package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"dcim/train/checkpoint"
)

// Files of the Slurm backend in a sweep folder.
const (
	// ScriptName is the sbatch script of the last submission.
	ScriptName = "sweep.sbatch"
	// JobsName records the submitted jobs: their ids and points.
	JobsName = "slurm.json"
	// BinaryName is the copy of the sweep program the tasks run.
	BinaryName = "bin/sweep"
	// SlurmOutDir holds Slurm's own output of each task (what happens
	// before the point's log is open, or after it is closed: a time
	// limit, an out-of-memory kill).
	SlurmOutDir = "slurm"
)

// Slurm submits the unfinished points of a sweep as one Slurm array job
// whose task i runs "BINARY -run DIR -point i". Slurm schedules; the
// sweep folder, which must be on a file system the nodes share, holds the
// state. The binary is a copy of the running program in the sweep folder
// (BinaryName): a binary made by go run lives in a temporary folder
// that is gone when it exits and is on no other node, and a copy keeps
// the queued tasks on the code the sweep was submitted with while the
// source changes.
type Slurm struct {
	CPUsPerTask int    // --cpus-per-task, the tasks' GOMAXPROCS
	Mem         string // --mem, e.g. 4G ("": the partition's default)
	Time        string // --time, e.g. 12:00:00 ("": the partition's default)
	Partition   string // --partition ("": the default partition)
	// Extra are more #SBATCH options, one per line ("--account=abc").
	Extra []string
	// MaxRunning caps the tasks running at once (--array …%N; 0: no cap).
	MaxRunning int
	// Executable is the program to copy (empty: this program).
	Executable string
}

var (
	memRE  = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
	timeRE = regexp.MustCompile(`^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$`)
	wordRE = regexp.MustCompile(`^[A-Za-z0-9_.,:=@+-]+$`)
)

// Check validates the options as the sweep command's flags.
func (s Slurm) Check() error {
	switch {
	case s.CPUsPerTask < 1:
		return usagef("-cpus-per-task %d: want at least 1", s.CPUsPerTask)
	case s.Mem != "" && !memRE.MatchString(s.Mem):
		return usagef("-mem %q: want a size as sbatch takes it, e.g. 4G or 500M", s.Mem)
	case s.Time != "" && !timeRE.MatchString(s.Time):
		return usagef("-time %q: want a time as sbatch takes it: minutes, HH:MM:SS or D-HH:MM:SS", s.Time)
	case s.Partition != "" && !wordRE.MatchString(s.Partition):
		return usagef("-partition %q: want a partition name", s.Partition)
	case s.MaxRunning < 0:
		return usagef("-max-running %d: want 0 (no cap) or more", s.MaxRunning)
	}
	for _, e := range s.Extra {
		if e = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(e), "#SBATCH")); !strings.HasPrefix(e, "-") || strings.ContainsAny(e, "\n\r") {
			return usagef("-sbatch %q: want one sbatch option, e.g. --account=abc", e)
		}
	}
	return nil
}

// Script is the sbatch script that runs the points of indices of the
// sweep in folder dir (an absolute path).
func (s Slurm) Script(dir string, plan *Plan, indices []int) string {
	var b strings.Builder
	array := ranges(indices)
	if s.MaxRunning > 0 {
		array += "%" + strconv.Itoa(s.MaxRunning)
	}
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# Sweep %s: %d of its %d points, one per array task; each task trains\n", plan.Name, len(indices), len(plan.Points))
	fmt.Fprintf(&b, "# the point of its index in %s.\n", filepath.Join(dir, PlanName))
	fmt.Fprintf(&b, "# Where they stand: %s -status %s\n", shellQuote(filepath.Join(dir, BinaryName)), shellQuote(dir))
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", sbatchQuote("sweep-"+plan.Name))
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", s.CPUsPerTask)
	if s.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", s.Mem)
	}
	if s.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", s.Time)
	}
	if s.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", s.Partition)
	}
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", sbatchQuote(filepath.Join(dir, SlurmOutDir, "%A_%a.out")))
	fmt.Fprintf(&b, "#SBATCH --open-mode=append\n")
	for _, e := range s.Extra {
		fmt.Fprintf(&b, "#SBATCH %s\n", strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(e), "#SBATCH")))
	}
	fmt.Fprintf(&b, "export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-1}\"\n")
	fmt.Fprintf(&b, "exec %s -run %s -point \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(filepath.Join(dir, BinaryName)), shellQuote(dir))
	return b.String()
}

// ranges writes sorted indices as Slurm's --array takes them: "0-3,5,7-9".
func ranges(indices []int) string {
	idx := slices.Clone(indices)
	slices.Sort(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	if s != "" && wordRE.MatchString(strings.ReplaceAll(s, "/", "")) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sbatchQuote quotes an #SBATCH option's value that holds spaces.
func sbatchQuote(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + s + `"`
	}
	return s
}

// Job is one submitted array job.
type Job struct {
	ID        string    `json:"id"`
	Points    []int     `json:"points"`
	Submitted time.Time `json:"submitted"`
}

// Submit copies the program into the sweep folder dir (an absolute
// path), writes the script for the points of indices there and submits
// it with sbatch; the job is recorded in dir/slurm.json. It returns the
// job id.
func (s Slurm) Submit(ctx context.Context, dir string, plan *Plan, indices []int) (string, error) {
	if _, err := exec.LookPath("sbatch"); err != nil {
		return "", fmt.Errorf("-backend slurm: %w (is this a Slurm login node?)", err)
	}
	if err := s.copyBinary(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, SlurmOutDir), 0o755); err != nil {
		return "", err
	}
	script := filepath.Join(dir, ScriptName)
	if err := checkpoint.WriteFileAtomic(script, []byte(s.Script(dir, plan, indices)), 0o644); err != nil {
		return "", err
	}
	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, "sbatch", "--parsable", script)
	c.Dir, c.Stdout, c.Stderr = dir, &out, &errOut
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("sbatch %s: %v: %s", script, err, strings.TrimSpace(errOut.String()))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out.String()), ";") // "ID" or "ID;cluster"
	if _, err := strconv.Atoi(id); err != nil {
		return "", fmt.Errorf("sbatch %s printed %q, not a job id", script, out.String())
	}
	jobs, err := ReadJobs(dir)
	if err != nil {
		return id, err
	}
	jobs = append(jobs, Job{ID: id, Points: slices.Clone(indices), Submitted: time.Now().UTC()})
	b, _ := json.MarshalIndent(jobs, "", "  ")
	return id, checkpoint.WriteFileAtomic(filepath.Join(dir, JobsName), append(b, '\n'), 0o644)
}

// copyBinary puts a copy of the program at dir/BinaryName, replacing an
// older copy by a rename so that tasks running it are not disturbed.
func (s Slurm) copyBinary(dir string) error {
	exe := s.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding this program to copy for the tasks: %w", err)
		}
	}
	dst := filepath.Join(dir, BinaryName)
	a, errA := os.Stat(exe)
	if b, errB := os.Stat(dst); errA == nil && errB == nil && os.SameFile(a, b) {
		return nil // run from the copy
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	src, err := os.Open(exe)
	if err != nil {
		return fmt.Errorf("copying the program for the tasks: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".sweep.tmp*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("copying the program to %s: %w", dst, err)
	}
	return nil
}

// ReadJobs reads the jobs recorded in dir/slurm.json (none if absent).
func ReadJobs(dir string) ([]Job, error) {
	path := filepath.Join(dir, JobsName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var jobs []Job
	if err := json.Unmarshal(b, &jobs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return jobs, nil
}

// Task is a point's array task as Slurm sees it.
type Task struct {
	Job   string // "ID_INDEX"
	State string // squeue's (PENDING, RUNNING, …) or sacct's (FAILED, TIMEOUT, …)
	Where string // the node list of a running task, the reason of a pending one
}

// Queue asks squeue which points of the jobs recorded in dir are queued
// or running, by point index. Without squeue, or without jobs, it
// returns none; ok tells whether squeue answered.
func Queue(ctx context.Context, dir string) (tasks map[int]Task, ok bool, err error) {
	jobs, err := ReadJobs(dir)
	if err != nil || len(jobs) == 0 {
		return nil, false, err
	}
	if _, err := exec.LookPath("squeue"); err != nil {
		return nil, false, nil
	}
	args := []string{"-h", "-r", "-o", "%F|%K|%T|%R"}
	if u, err := user.Current(); err == nil {
		args = append(args, "-u", u.Username)
	}
	out, err := exec.CommandContext(ctx, "squeue", args...).Output()
	if err != nil {
		return nil, false, fmt.Errorf("squeue: %w", err)
	}
	return parseQueue(out, jobs), true, nil
}

// parseQueue reads squeue's "ARRAYJOB|TASK|STATE|WHERE" lines, keeping the
// tasks of jobs; the newest job's entry wins for a point.
func parseQueue(out []byte, jobs []Job) map[int]Task {
	ours := map[string]bool{}
	for _, j := range jobs {
		ours[j.ID] = true
	}
	tasks := map[int]Task{}
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 4 || !ours[f[0]] {
			continue
		}
		i, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		tasks[i] = Task{Job: f[0] + "_" + f[1], State: f[2], Where: f[3]}
	}
	return tasks
}

// Accounting asks sacct how the recorded jobs' tasks ended, by point
// index (the last job's record wins); none where sacct is missing or
// accounting is off.
func Accounting(ctx context.Context, dir string) map[int]Task {
	jobs, err := ReadJobs(dir)
	if err != nil || len(jobs) == 0 {
		return nil
	}
	if _, err := exec.LookPath("sacct"); err != nil {
		return nil
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	out, err := exec.CommandContext(ctx, "sacct", "-n", "-P", "-X", "-j", strings.Join(ids, ","), "-o", "JobID,State,ExitCode").Output()
	if err != nil {
		return nil
	}
	tasks := map[int]Task{}
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 {
			continue
		}
		job, idx, ok := strings.Cut(f[0], "_")
		if !ok || !slices.Contains(ids, job) {
			continue
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		tasks[i] = Task{Job: f[0], State: f[1] + " (exit " + f[2] + ")"}
	}
	return tasks
}
