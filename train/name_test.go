package train

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dcim/data"
	"dcim/train/checkpoint"
)

// A run that overrides its experiment's settings is named by them: in the
// banner, summary.json, model.json and the default run folder.
func TestRunNamedByOverrides(t *testing.T) {
	t.Chdir(t.TempDir()) // the default folder is under ./runs
	s, err := NewSettings("train-dense", "dense-generative",
		Override{"epochs", "1"}, Override{"batch", "16"}, Override{"arch", "(24), (10)"}, Override{"reverse-weight", "2"}, Override{"eval-every", "0"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "dense-generative+epochs=1,batch=16,reverse-weight=2,arch=(24),(10)"
	if s.Name != want {
		t.Fatalf("name %q, want %q", s.Name, want)
	}
	var log bytes.Buffer
	sum, err := Run(context.Background(), Options{Settings: s, Log: &log, Plain: true,
		Train: data.Synthetic(64, 10, 28, 1), Test: data.Synthetic(32, 10, 28, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "training "+want+": (24),(10)") {
		t.Errorf("banner does not name the run: %q", log.String())
	}
	dirs, _ := filepath.Glob(filepath.Join("runs", PathName(want)+"-*"))
	if len(dirs) != 1 {
		t.Fatalf("run folders %v, want one runs/%s-<time>", dirs, PathName(want))
	}
	if sum.Name != want {
		t.Errorf("summary name %q", sum.Name)
	}
	var onDisk Summary
	b, err := os.ReadFile(filepath.Join(dirs[0], SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Name != want || onDisk.Flags.Name != want {
		t.Errorf("summary.json: name %q, flags.name %q (%v)", onDisk.Name, onDisk.Flags.Name, err)
	}
	meta, err := checkpoint.ReadMeta(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	if meta.Name != want || meta.Settings["reverse-weight"] != "2" || meta.Settings["arch"] != "(24),(10)" || meta.Settings["seed"] != "1" {
		t.Errorf("model.json: name %q, settings %v", meta.Name, meta.Settings)
	}
	if _, ok := meta.Settings["out"]; ok {
		t.Errorf("model.json settings hold the run folder: %v", meta.Settings)
	}
	terms, err := meta.TrainedTerms()
	if err != nil || terms.String() != "generative" || meta.Terms[1].Scale != 2 {
		t.Errorf("model.json terms %v (%v), %+v", terms, err, meta.Terms)
	}
}

// Settings are declared once: every setting has a field, a doc and a
// value that survives Get and Set, and the experiment settings are the
// fields of models.Experiment.
func TestTable(t *testing.T) {
	s := denseDefaults()
	seen := map[string]bool{}
	for _, st := range Table() {
		if seen[st.Name] || st.Doc == "" {
			t.Errorf("setting %q: twice or without a doc", st.Name)
		}
		seen[st.Name] = true
		v := st.Get(s)
		var back Settings
		if err := st.Set(&back, v); err != nil || st.Get(back) != v {
			t.Errorf("setting %s: %q read back as %q (%v)", st.Name, v, st.Get(back), err)
		}
		if st.Experiment != (st.fromExperiment != nil) {
			t.Errorf("setting %s: Experiment %v but fromExperiment %v", st.Name, st.Experiment, st.fromExperiment != nil)
		}
	}
	if err := (Setting{Name: "epochs", field: func(s *Settings) any { return &s.Epochs }}).Set(&s, "ten"); err == nil || !strings.Contains(err.Error(), `-epochs "ten": invalid syntax`) {
		t.Errorf("a bad integer: %v", err)
	}
	for _, bad := range []string{"nope=1", "=1", "epochs"} {
		if _, err := ParseOverride(bad); err == nil {
			t.Errorf("ParseOverride(%q) took it", bad)
		}
	}
	if o, err := ParseOverride("arch=(3,1,8),(10)"); err != nil || o.Value != "(3,1,8),(10)" {
		t.Errorf("ParseOverride of an arch: %v, %v", o, err)
	}
}
