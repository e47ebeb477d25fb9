//go:build unix

package train

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockSymlink: a .lock that is a symbolic link is refused, for a new
// run (-out) and a resumed one (-resume), with an error naming it, and
// the file it points to is left as it was.
func TestLockSymlink(t *testing.T) {
	tests := []struct {
		name string
		opts func(t *testing.T, dir string) Options // a run into dir, with dir existing
	}{
		{"out", func(t *testing.T, dir string) Options {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			return tinyOptions(t, dir)
		}},
		{"resume", func(t *testing.T, dir string) Options {
			opts := interruptedRun(t, dir)
			if err := os.Remove(filepath.Join(dir, LockName)); err != nil {
				t.Fatal(err)
			}
			return Options{Settings: Settings{Command: "train-dense"}, Resume: dir, Train: opts.Train, Test: opts.Test}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "run")
			opts := tc.opts(t, dir)
			victim := filepath.Join(tmp, "precious")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			lock := filepath.Join(dir, LockName)
			if err := os.Symlink(victim, lock); err != nil {
				t.Fatal(err)
			}
			_, err := Run(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), lock+" is a symbolic link") {
				t.Errorf("error %v, want one saying %s is a symbolic link", err, lock)
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "precious\n" {
				t.Errorf("the link's target holds %q (%v), want \"precious\\n\"", b, err)
			}
			if fi, err := os.Lstat(lock); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link %s is gone or replaced (%v)", lock, err)
			}
		})
	}
}
