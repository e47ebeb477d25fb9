package sweep

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// modulePath is this project's module, which a checkout must hold for
// Build to name its commit.
const modulePath = "dcim"

// Build is the commit of the program's source, 12 hex digits with
// "+dirty" when tracked files differed from it: the revision the binary
// carries (go build stamps it), else — go run and go test stamp none —
// that of the checkout of this module in the working directory, read
// with git; "unknown" when neither tells.
func Build() string {
	if rev, dirty, ok := stamped(); ok {
		return short(rev, dirty)
	}
	if rev, dirty, ok := checkout(); ok {
		return short(rev, dirty)
	}
	return "unknown"
}

// stamped reads the revision from the binary's build information.
func stamped() (rev string, dirty, ok bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false, false
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return rev, dirty, rev != ""
}

// checkout reads the revision of the git checkout around the working
// directory, if it is this module's.
func checkout() (rev string, dirty, ok bool) {
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil || !isModule(filepath.Join(top, "go.mod")) {
		return "", false, false
	}
	if rev, err = git("rev-parse", "HEAD"); err != nil || rev == "" {
		return "", false, false
	}
	status, err := git("status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", false, false
	}
	return rev, status != "", true
}

// git runs git with args in the working directory and returns its
// output, trimmed.
func git(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	return string(bytes.TrimSpace(out)), err
}

// isModule reports whether the go.mod file at path declares modulePath.
func isModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == modulePath
		}
	}
	return false
}

func short(rev string, dirty bool) string {
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}
