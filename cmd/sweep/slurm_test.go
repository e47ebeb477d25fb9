//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireSlurm is the environment variable under which a missing Slurm
// fails TestSlurm instead of skipping it (.ci/run sets it).
const requireSlurm = "DCIM_REQUIRE_SLURM"

// TestSlurm submits zz-test-seeds to a real Slurm (.ci/slurm-up starts a
// one-node cluster) and checks that its points and results equal those
// of the local backend, to the last digit.
func TestSlurm(t *testing.T) {
	if _, err := exec.LookPath("sbatch"); err != nil {
		if os.Getenv(requireSlurm) == "1" {
			t.Fatalf("sbatch is not on PATH, and %s=1 requires Slurm", requireSlurm)
		}
		t.Skip("sbatch not on PATH: the Slurm backend is tested where .ci/slurm-up started Slurm")
	}
	// A login node's sbatch submits to a real cluster: only where a
	// controller answers, or where the caller asks for the test.
	if os.Getenv(requireSlurm) != "1" {
		if out, err := exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput(); err != nil || !strings.Contains(string(out), "idle") {
			first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
			t.Skipf("sbatch is on PATH but no idle Slurm node answers (sinfo: %v, %s); set %s=1 to require the test", err, first, requireSlurm)
		}
	}
	ref := reference(t)
	dir := t.TempDir()
	args := []string{"-sweep", "zz-test-seeds", "-backend", "slurm", "-cpus-per-task", "1", "-mem", "1G", "-time", "10", "-out", dir}

	code, stdout, stderr := runCmd(t, time.Minute, append(args, "-dry-run")...)
	if code != 0 || !strings.Contains(stdout, "#SBATCH --array=0-1\n") || !strings.Contains(stdout, "exec "+filepath.Join(dir, "bin/sweep")+" -run "+dir+` -point "$SLURM_ARRAY_TASK_ID"`) {
		t.Fatalf("-dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "sweep.json")); !os.IsNotExist(err) {
		t.Errorf("-dry-run wrote the plan: %v", err)
	}

	start := time.Now()
	code, stdout, stderr = runCmd(t, 5*time.Minute, append(args, "-wait")...)
	if code != 0 || !strings.Contains(stdout, "sweep zz-test-seeds: submitted job ") || !strings.Contains(stdout, "2 done, 0 running") {
		t.Fatalf("-backend slurm -wait: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("the Slurm sweep took %v", time.Since(start).Round(time.Millisecond))
	sameRuns(t, dir, ref)
	for _, p := range points {
		if log, _ := os.ReadFile(filepath.Join(dir, p+".log")); !strings.Contains(string(log), "GOMAXPROCS 1,") {
			t.Errorf("%s.log: the task did not run with --cpus-per-task threads:\n%s", p, log)
		}
	}
	if st := statusOf(t, dir); !strings.Contains(st, "2 done, 0 running, 0 failed, 0 interrupted, 0 pending") {
		t.Errorf("-status:\n%s", st)
	}
	// Submitted again, nothing is left to run.
	code, stdout, stderr = runCmd(t, time.Minute, args...)
	if code != 0 || !strings.Contains(stdout, "every point is done or queued; nothing to submit") {
		t.Errorf("resubmit: exit %d\n%s%s", code, stdout, stderr)
	}
}
