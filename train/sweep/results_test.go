package sweep

import (
	"os"
	"path/filepath"
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
