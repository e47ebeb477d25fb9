//go:build unix

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"dcim/cmd/internal/clitest"
	"dcim/data"
	"dcim/graph"
	"dcim/train"
	"dcim/train/approx"
	"dcim/train/checkpoint"
	"dcim/train/sampling"
	"dcim/train/sweep"
)

// points are the folders of zz-test-seeds's points.
var points = []string{"seed=1", "seed=2"}

// reference runs zz-test-seeds locally once for all the tests and returns
// its sweep folder, after checking what the run printed and wrote.
func reference(t *testing.T) string {
	t.Helper()
	if refDir != "" {
		return refDir
	}
	dir, err := os.MkdirTemp("", "sweep-reference-")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, 3*time.Minute, "-sweep", "zz-test-seeds", "-jobs", "1", "-threads", "1", "-out", dir)
	if code != 0 {
		os.RemoveAll(dir)
		t.Fatalf("reference sweep: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"sweep zz-test-seeds: seed (1 2), 2 points; 0 done, 2 to run, 1 at once with 1 threads each", "done 1/2 seed=1: accuracy 0.", "done 2/2 seed=2: accuracy 0.", ", reverse BCE eq. 21 0.", "results: " + filepath.Join(dir, "results.md")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("reference sweep: stdout lacks %q:\n%s", want, stdout)
		}
	}
	refDir = dir
	return dir
}

// summary reads a point's summary.json as JSON, without the figures of
// time (and the run's id and folder), which differ between two runs of
// one point.
func summary(t *testing.T, folder string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(folder, train.SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"seconds", "seconds_per_epoch", "images_per_second", "run_id"} {
		delete(m, k)
	}
	delete(m["flags"].(map[string]any), "out")
	return m
}

// sameRuns checks that the points of two sweep folders have the same
// figures to the last digit, the same parameters, and the same results
// table but for the times.
func sameRuns(t *testing.T, got, want string) {
	t.Helper()
	for _, p := range points {
		a, b := summary(t, filepath.Join(got, p)), summary(t, filepath.Join(want, p))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("point %s: summary.json\n%v\nwant\n%v", p, a, b)
		}
		pa, err := checkpoint.ReadNPZArrays(filepath.Join(got, p, checkpoint.NPZName))
		if err != nil {
			t.Fatal(err)
		}
		pb, err := checkpoint.ReadNPZArrays(filepath.Join(want, p, checkpoint.NPZName))
		if err != nil {
			t.Fatal(err)
		}
		if len(pa) == 0 || !reflect.DeepEqual(pa, pb) {
			t.Errorf("point %s: model.npz differs from the reference's", p)
		}
	}
	if a, b := csvTable(t, got), csvTable(t, want); !reflect.DeepEqual(a, b) {
		t.Errorf("results.csv\n%v\nwant\n%v", a, b)
	}
}

// csvTable reads results.csv without its columns of time.
func csvTable(t *testing.T, dir string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	drop := []int{slices.Index(rows[0], "seconds"), slices.Index(rows[0], "images_per_second")}
	if drop[0] < 0 || drop[1] < 0 {
		t.Fatalf("results.csv has no seconds or images_per_second: %v", rows[0])
	}
	for i, r := range rows {
		rows[i] = append(r[:drop[0]:drop[0]], r[drop[1]+1:]...)
	}
	return rows
}

// statusOf runs -status on dir and returns its output.
func statusOf(t *testing.T, dir string) string {
	t.Helper()
	code, stdout, stderr := runCmd(t, time.Minute, "-status", dir)
	if code != 0 {
		t.Fatalf("-status: exit %d: %s", code, stderr)
	}
	return stdout
}

// waitFor polls cond until it holds, or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s after %v", what, limit)
		}
	}
}

// epochsDone is the epochs a run folder's checkpoint has completed (-1:
// no checkpoint yet).
func epochsDone(folder string) int {
	meta, err := checkpoint.ReadMeta(folder)
	if err != nil {
		return -1
	}
	n, _ := meta.Extra["epochs_completed"].(float64)
	return int(n)
}

// TestLocalSweep: a sweep writes a folder per point, its results and a
// status; run again, it skips the points done.
func TestLocalSweep(t *testing.T) {
	ref := reference(t)
	for _, p := range points {
		if s := summary(t, filepath.Join(ref, p)); s["flags"].(map[string]any)["seed"] != float64(p[len(p)-1]-'0') {
			t.Errorf("point %s trained %v", p, s["flags"])
		}
		log, _ := os.ReadFile(filepath.Join(ref, p+".log"))
		if !strings.Contains(string(log), "sweep: point") || !strings.HasSuffix(string(log), ": exit 0\n") {
			t.Errorf("%s.log:\n%s", p, log)
		}
	}
	md, _ := os.ReadFile(filepath.Join(ref, "results.md"))
	for _, want := range []string{"Sweep `zz-test-seeds`: `go run ./cmd/sweep -sweep zz-test-seeds -out " + ref + "`", "| seed | accuracy | BCE eq. 21 | BCE eq. 22 | ce (val) | label (val) | time | img/s |", "| n | accuracy |", "| 2 | 0."} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(ref, "frontier.png")); err != nil {
		t.Error(err)
	}
	if st := statusOf(t, ref); !strings.Contains(st, "0  done  seed=1  accuracy 0.") || !strings.Contains(st, "sweep zz-test-seeds: 2 done, 0 running, 0 failed, 0 interrupted, 0 pending of 2 points") {
		t.Errorf("-status:\n%s", st)
	}

	// Run again: nothing to train, the runs left as they were.
	before, _ := os.ReadFile(filepath.Join(ref, points[0], train.SummaryName))
	code, stdout, stderr := runCmd(t, time.Minute, "-sweep", "zz-test-seeds", "-threads", "1", "-out", ref)
	if code != 0 || !strings.Contains(stdout, "2 done, 0 to run") {
		t.Errorf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(ref, points[0], train.SummaryName)); !bytes.Equal(before, after) {
		t.Errorf("rerun trained a point done")
	}
	// Another plan in the same folder is refused.
	code, _, stderr = runCmd(t, time.Minute, "-sweep", "zz-test-seeds", "-lr", "0.01", "-out", ref)
	if code != 1 || !strings.Contains(stderr, `holds sweep zz-test-seeds of other points (point 0 (seed=1) has lr "0.01", not "0.001")`) {
		t.Errorf("another plan: exit %d, %q", code, stderr)
	}
	// -table writes the same table again.
	table0 := csvTable(t, ref)
	code, stdout, _ = runCmd(t, time.Minute, "-table", ref)
	if code != 0 || !strings.Contains(stdout, "| seed | accuracy |") || !reflect.DeepEqual(csvTable(t, ref), table0) {
		t.Errorf("-table: exit %d\n%s", code, stdout)
	}
	// -samples adds the verdicts of the sample command on each run.
	code, stdout, stderr = runCmd(t, time.Minute, "-table", ref, "-samples")
	if code != 0 || !strings.Contains(stdout, "| samples chain | samples layer | samples mean |") {
		t.Fatalf("-table -samples: exit %d\n%s%s", code, stdout, stderr)
	}
	var res sweep.Results
	if b, err := os.ReadFile(filepath.Join(ref, "results.json")); err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("results.json: %v", err)
	}
	for i, p := range points {
		params, _, err := checkpoint.Load(filepath.Join(ref, p))
		if err != nil {
			t.Fatal(err)
		}
		for j, m := range sampling.Modes {
			tab, err := sampling.GenerateWith(params, m, 10, 1, graph.MeanField)
			if err != nil {
				t.Fatal(err)
			}
			v, got := tab.Verdict(), res.Rows[i].Samples[j]
			if got.Mode != string(m) || got.N != 100 || got.Correct != v.Correct || got.PixelStd != v.PixelStd {
				t.Errorf("point %s, mode %s: %+v, want %d/100 as sample -seed 1 -per-class 10 gives, std %v", p, m, got, v.Correct, v.PixelStd)
			}
		}
	}
	// -dcim adds approx's figures of each run's network itself.
	code, stdout, stderr = runCmd(t, 2*time.Minute, "-table", ref, "-dcim")
	if code != 0 || !strings.Contains(stdout, "| MF test acc. | MC test acc. | MF NLL | MC NLL | KL(MC‖MF) | log q(x\\|y) |") {
		t.Fatalf("-table -dcim: exit %d\n%s%s", code, stdout, stderr)
	}
	res = sweep.Results{}
	if b, err := os.ReadFile(filepath.Join(ref, "results.json")); err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("results.json: %v", err)
	}
	m, err := data.Load(data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range points {
		params, _, err := checkpoint.Load(filepath.Join(ref, p))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := approx.Run(params, m.Test.Batch(nil, 0, 1000), m.Test.Labels[:1000], approx.Options{Draws: 100, Seed: 1,
			Methods: []graph.Inference{graph.MeanField}, LikelihoodDraws: []int{100}, LikelihoodImages: 100})
		if err != nil {
			t.Fatal(err)
		}
		mf := rep.Class.Methods["meanfield"]
		want := sweep.DCIM{Images: 1000, Draws: 100, MFAccuracy: mf.Accuracy.Value, MFNLL: mf.NLL.Value,
			MCAccuracy: rep.Class.MC.Accuracy.Value, MCNLL: rep.Class.MC.NLL.Value, KL: rep.Class.KL["meanfield"].Value,
			LogLikelihood: rep.Likelihood.Estimates[0].Conditional.Value, LLDraws: 100, LLImages: 100}
		if got := res.Rows[i].DCIM; got == nil || *got != want {
			t.Errorf("point %s: DCIM %+v, want approx -n 1000 -draws 100 -ll-draws 100 -ll-n 100 -seed 1's %+v", p, got, want)
		}
	}
	if code, _, _ := runCmd(t, time.Minute, "-table", ref); code != 0 || !reflect.DeepEqual(csvTable(t, ref), table0) {
		t.Errorf("-table after -samples and -dcim: exit %d", code)
	}
	if code, _, stderr := runCmd(t, time.Minute, "-table", ref, "-data", "x"); code != 2 || !strings.Contains(stderr, "-table takes -data only with -dcim") {
		t.Errorf("-table -data without -dcim: exit %d, %q", code, stderr)
	}
}

// TestKillResume: a point whose process is killed (kill -9) is reported
// failed while the others go on; the next run resumes it from its
// checkpoint to the figures of an uninterrupted run.
func TestKillResume(t *testing.T) {
	ref := reference(t)
	dir := t.TempDir()
	c := sweepCmd("-sweep", "zz-test-seeds", "-threads", "1", "-jobs", "1", "-out", dir)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, points[0])
	waitFor(t, time.Minute, "first epoch of point seed=1", func() bool { return epochsDone(first) >= 1 })
	lock, err := os.ReadFile(filepath.Join(first, train.LockName))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(lock)))
	if err != nil {
		t.Fatalf("%s: %q", train.LockName, lock)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = c.Wait()
	if code := clitest.ExitCode(err); code != 1 || !strings.Contains(out.String(), "failed seed=1") || !strings.Contains(out.String(), "done 1/2 seed=2") ||
		!strings.Contains(errOut.String(), "1 of 2 points failed (seed=1)") {
		t.Fatalf("sweep with a killed point: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if _, err := os.Stat(filepath.Join(first, train.SummaryName)); err == nil {
		t.Fatal("the killed point finished; kill it sooner")
	}
	if st := statusOf(t, dir); !strings.Contains(st, "0  failed  seed=1  checkpoint saved") || !strings.Contains(st, "1  done") {
		t.Errorf("-status:\n%s", st)
	}
	code, stdout, stderr := runCmd(t, 3*time.Minute, "-sweep", "zz-test-seeds", "-jobs", "1", "-threads", "1", "-out", dir)
	if code != 0 || !strings.Contains(stdout, "1 done, 1 to run") || !strings.Contains(stdout, "done 2/2 seed=1") {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "seed=1.log")); !strings.Contains(string(log), "resuming at epoch 2") {
		t.Errorf("the rerun did not resume the killed point:\n%s", log)
	}
	sameRuns(t, dir, ref)
}

// TestInterrupt: SIGINT to the sweep stops every child with its
// checkpoint saved and exits 130; the same command then continues.
func TestInterrupt(t *testing.T) {
	ref := reference(t)
	dir := t.TempDir()
	c := sweepCmd("-sweep", "zz-test-seeds", "-threads", "1", "-jobs", "2", "-out", dir)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "checkpoints of both points", func() bool {
		return epochsDone(filepath.Join(dir, points[0])) >= 0 && epochsDone(filepath.Join(dir, points[1])) >= 0
	})
	if st := statusOf(t, dir); !strings.Contains(st, "2 running") {
		t.Errorf("-status of a sweep in progress:\n%s", st)
	}
	// A table written meanwhile shows the points running, not failed.
	if code, _, stderr := runCmd(t, time.Minute, "-table", dir); code != 0 {
		t.Errorf("-table of a sweep in progress: exit %d\n%s", code, stderr)
	} else if md, _ := os.ReadFile(filepath.Join(dir, "results.md")); strings.Count(string(md), "| (running) |") != 2 {
		t.Errorf("results.md of a sweep in progress:\n%s", md)
	}
	if err := c.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := c.Wait()
	if code := clitest.ExitCode(err); code != 130 || !strings.Contains(errOut.String(), "sweep: interrupted: 0 of 2 points done; 2 interrupted with a checkpoint saved") || strings.Contains(errOut.String(), "interrupted: interrupted") {
		t.Fatalf("interrupted sweep: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, p := range points {
		if _, err := os.Stat(filepath.Join(dir, p, train.ResumeName)); err != nil {
			t.Errorf("point %s: %v", p, err)
		}
		if log, _ := os.ReadFile(filepath.Join(dir, p+".log")); !strings.Contains(string(log), ": exit 130: ") {
			t.Errorf("%s.log does not end interrupted:\n%s", p, log)
		}
	}
	if st := statusOf(t, dir); !strings.Contains(st, "2 interrupted") {
		t.Errorf("-status:\n%s", st)
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "results.md")); strings.Count(string(md), "| (interrupted) |") != 2 {
		t.Errorf("results.md of the interrupted sweep:\n%s", md)
	}
	code, stdout, stderr := runCmd(t, 3*time.Minute, "-sweep", "zz-test-seeds", "-jobs", "1", "-threads", "1", "-out", dir)
	if code != 0 || !strings.Contains(stdout, "0 done, 2 to run") {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	sameRuns(t, dir, ref)
}

// TestFailingPoint: a point that fails at run time is reported, with its
// log, and the others run.
func TestFailingPoint(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCmd(t, 3*time.Minute, "-base", "zz-test-dense", "-vary", "limit=70000,256", "-epochs", "1", "-eval-every", "0", "-threads", "1", "-out", dir)
	if code != 1 || !strings.Contains(stderr, "1 of 2 points failed (limit=70000)") || !strings.Contains(stdout, "done 1/2 limit=256") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	st := statusOf(t, dir)
	if !strings.Contains(st, "0  failed  limit=70000") || !strings.Contains(st, "-limit 70000") || !strings.Contains(st, "1 done, 0 running, 1 failed") {
		t.Errorf("-status:\n%s", st)
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "results.md")); !strings.Contains(string(md), "| 70000 | (failed) |") {
		t.Errorf("results.md:\n%s", md)
	}
}
