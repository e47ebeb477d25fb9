package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTableCommand: the command that rewrites a table names a folder
// inside the working folder relatively, as a reader at the module's root
// types it, and any other folder as given.
func TestTableCommand(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(filepath.Dir(wd), "elsewhere")
	for _, c := range []struct {
		name, dir string
		extras    Extras
		want      string
	}{
		{"relative", "sweeps/lambda", Extras{}, "go run ./cmd/sweep -table sweeps/lambda"},
		{"inside", filepath.Join(wd, "sweeps", "lambda"), Extras{Samples: true}, "go run ./cmd/sweep -table sweeps/lambda -samples"},
		{"outside", outside, Extras{DCIM: true}, "go run ./cmd/sweep -table " + outside + " -dcim"},
		{"both", "s", Extras{Samples: true, DCIM: true}, "go run ./cmd/sweep -table s -samples -dcim"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := TableCommand(c.dir, c.extras); got != c.want {
				t.Errorf("TableCommand(%q) = %q, want %q", c.dir, got, c.want)
			}
		})
	}
}

// TestPaste: each marked block takes its sweep's results, whatever it
// held; text outside the blocks is kept byte for byte; a sweep without
// results is an error naming it.
func TestPaste(t *testing.T) {
	results := map[string]string{"a": "table A\n", "b-c": "| x |\n|---|\n"}
	read := func(name string) ([]byte, error) {
		if r, ok := results[name]; ok {
			return []byte(r), nil
		}
		return nil, os.ErrNotExist
	}
	for _, c := range []struct {
		name, doc, want, err string
		names                []string
	}{
		{"none", "text\n", "text\n", "", nil},
		{"empty block", "x\n<!-- sweep:a -->\n<!-- /sweep -->\ny", "x\n<!-- sweep:a -->\ntable A\n<!-- /sweep -->\ny", "", []string{"a"}},
		{"old table", "<!-- sweep:a -->\nold\nold\n<!-- /sweep -->", "<!-- sweep:a -->\ntable A\n<!-- /sweep -->", "", []string{"a"}},
		{"two", "<!-- sweep:b-c -->\n<!-- /sweep -->\n\n<!-- sweep:a -->\n<!-- /sweep -->\n", "<!-- sweep:b-c -->\n| x |\n|---|\n<!-- /sweep -->\n\n<!-- sweep:a -->\ntable A\n<!-- /sweep -->\n", "", []string{"b-c", "a"}},
		{"missing", "<!-- sweep:zz -->\n<!-- /sweep -->", "", "sweep zz: file does not exist", []string{"zz"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, names, err := Paste([]byte(c.doc), read)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || string(got) != c.want || !slices.Equal(names, c.names) {
				t.Errorf("Paste = %q, %q, %v; want %q, %q", got, names, err, c.want, c.names)
			}
		})
	}
}
