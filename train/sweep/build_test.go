package sweep

import (
	"os/exec"
	"strings"
	"testing"
)

// A test binary carries no VCS stamp, so Build names the checkout the
// tests run in: git's HEAD, 12 digits, "+dirty" exactly when tracked
// files differ from it.
func TestBuildNamesTheCheckout(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout here: %v", err)
	}
	status, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(head))[:12]
	if len(strings.TrimSpace(string(status))) > 0 {
		want += "+dirty"
	}
	if got := Build(); got != want {
		t.Errorf("Build() = %q, want %q", got, want)
	}
}

func TestIsModule(t *testing.T) {
	if !isModule("../../go.mod") {
		t.Error("the repository's go.mod is not read as module dcim")
	}
	if isModule("build.go") || isModule("no-such-file") {
		t.Error("a file without a module line read as module dcim")
	}
}
