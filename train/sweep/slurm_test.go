package sweep

import (
	"strings"
	"testing"

	"dcim/models"
)

// TestScript: the sbatch script's options and the task's command line.
func TestScript(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, models.Vary("seed", 1, 2, 3, 4, 5, 6))
	s := Slurm{CPUsPerTask: 4, Mem: "8G", Time: "1-12:00:00", Partition: "gpu", Extra: []string{"--account=abc", "#SBATCH --qos=low"}, MaxRunning: 2}
	got := s.Script(dir, p, []int{5, 0, 1, 2, 4})
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --job-name=sweep-zz-test\n",
		"#SBATCH --array=0-2,4-5%2\n",
		"#SBATCH --cpus-per-task=4\n",
		"#SBATCH --mem=8G\n",
		"#SBATCH --time=1-12:00:00\n",
		"#SBATCH --partition=gpu\n",
		"#SBATCH --output=" + dir + "/slurm/%A_%a.out\n",
		"#SBATCH --account=abc\n",
		"#SBATCH --qos=low\n",
		"export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-1}\"\n",
		"exec " + dir + "/bin/sweep -run " + dir + " -point \"$SLURM_ARRAY_TASK_ID\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(Slurm{CPUsPerTask: 1}.Script(dir, p, []int{3}), "--mem") {
		t.Errorf("an empty -mem wrote a --mem line")
	}
	odd := "/tmp/a b/it's"
	if got := (Slurm{CPUsPerTask: 1}).Script(odd, p, []int{3}); !strings.Contains(got, `exec '/tmp/a b/it'\''s/bin/sweep' -run '/tmp/a b/it'\''s' -point`) ||
		!strings.Contains(got, `#SBATCH --output="/tmp/a b/it's/slurm/%A_%a.out"`) {
		t.Errorf("a folder with a space and a quote:\n%s", got)
	}
}

// TestSlurmCheck: the options are checked as the command's flags.
func TestSlurmCheck(t *testing.T) {
	ok := Slurm{CPUsPerTask: 1, Mem: "500M", Time: "90"}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Slurm)
		want string
	}{
		{func(s *Slurm) { s.CPUsPerTask = 0 }, "-cpus-per-task 0"},
		{func(s *Slurm) { s.Mem = "4 GB" }, `-mem "4 GB"`},
		{func(s *Slurm) { s.Time = "tomorrow" }, `-time "tomorrow"`},
		{func(s *Slurm) { s.Partition = "a b" }, `-partition "a b"`},
		{func(s *Slurm) { s.Extra = []string{"account=abc"} }, `-sbatch "account=abc"`},
		{func(s *Slurm) { s.MaxRunning = -1 }, "-max-running -1"},
	} {
		s := ok
		tc.edit(&s)
		if err := s.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// TestParseQueue: squeue's lines of the recorded jobs, by point.
func TestParseQueue(t *testing.T) {
	out := "12|0|RUNNING|node1\n12|3|PENDING|(Resources)\n99|1|RUNNING|node2\n13|N/A|RUNNING|node3\n14|1|PENDING|(Priority)\n"
	got := parseQueue([]byte(out), []Job{{ID: "12"}, {ID: "14"}})
	if len(got) != 3 || got[0].State != "RUNNING" || got[0].Where != "node1" || got[3].Job != "12_3" || got[1].Job != "14_1" {
		t.Errorf("tasks %+v", got)
	}
}
