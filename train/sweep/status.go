package sweep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Statuses tells where every point of the sweep in folder dir stands:
// its folder and log (Inspect), then Slurm's queue for the jobs
// submitted from dir (squeue: queued tasks are pending, running ones
// running; sacct, where accounting is on, says how a failed task ended)
// or, for a point started on this machine, whether its process is alive.
func Statuses(ctx context.Context, dir string, plan *Plan) ([]Status, error) {
	queue, queued, err := Queue(ctx, dir)
	if err != nil {
		return nil, err
	}
	var acct map[int]Task
	jobs, err := ReadJobs(dir)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	out := make([]Status, len(plan.Points))
	for i := range plan.Points {
		st, err := Inspect(dir, &plan.Points[i])
		if err != nil {
			return nil, err
		}
		if st.State != Done {
			if t, ok := queue[i]; ok {
				st.Queued = true
				if t.State == "RUNNING" || t.State == "COMPLETING" {
					st.State, st.Detail = Running, fmt.Sprintf("job %s on %s", t.Job, t.Where)
				} else {
					st.State, st.Detail = Pending, fmt.Sprintf("job %s %s %s", t.Job, strings.ToLower(t.State), t.Where)
				}
			} else if st.Exit < 0 && st.pid > 0 && st.host == host && !queued && alive(st.pid) {
				st.State, st.Detail = Running, fmt.Sprintf("pid %d", st.pid)
			} else if st.State == Pending || st.State == Failed {
				// Slurm's own output of the point's last task: a task
				// that died before or after the point's log says why here.
				if tail := slurmTail(dir, jobs, i); tail != "" {
					st.State, st.Detail = Failed, strings.TrimSpace(st.Detail+"\n"+tail)
				}
			}
			if st.State == Failed && queued {
				if acct == nil {
					acct = Accounting(ctx, dir)
				}
				if t, ok := acct[i]; ok {
					st.Detail = fmt.Sprintf("job %s %s\n%s", t.Job, t.State, st.Detail)
				}
			}
		}
		out[i] = st
	}
	return out, nil
}

// slurmTail is the last lines of Slurm's output file of the last task
// that ran point i, or "" when there is none or it is empty.
func slurmTail(dir string, jobs []Job, i int) string {
	for j := len(jobs) - 1; j >= 0; j-- {
		if !slices.Contains(jobs[j].Points, i) {
			continue
		}
		lg, err := readLog(filepath.Join(dir, SlurmOutDir, fmt.Sprintf("%s_%d.out", jobs[j].ID, i)))
		if err != nil || lg.tail == "" {
			return ""
		}
		return "slurm: " + strings.ReplaceAll(lg.tail, "\n", "\nslurm: ")
	}
	return ""
}
