// Package cmd_test checks the command lines that the module's READMEs
// show against the commands themselves, so that a renamed or removed flag,
// or a flag value of the wrong type, fails the tests until the docs follow.
package cmd_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseOnly is the environment variable of cmd/internal/cli's test hook:
// a command exits 0 once its command line has parsed.
const parseOnly = "DCIM_PARSE_ONLY=1"

// docLine is a line of a code block in a README, continuation lines
// (ending in a backslash) joined.
type docLine struct {
	file string // relative to the module root
	line int
	text string
}

func (l docLine) String() string { return fmt.Sprintf("%s:%d: %s", l.file, l.line, l.text) }

// goRun is one `go run ./cmd/NAME ARGS` of a doc line.
type goRun struct {
	doc  docLine
	name string   // the command folder's name under cmd/
	env  []string // NAME=VALUE words before `go`
	args []string
}

// TestREADMECommands runs every `go run ./cmd/NAME …` of the code blocks
// of every README.md in the module (DCIM_PARSE_ONLY=1 in the environment,
// so that each stops once its flags have parsed): the command must exist,
// take every flag given, and accept its value.
func TestREADMECommands(t *testing.T) {
	root := moduleRoot(t)
	runs, errs := readmeRuns(t, root)
	for _, err := range errs {
		t.Error(err)
	}
	if len(runs) == 0 {
		t.Fatal("the READMEs show no `go run ./cmd/…` command lines")
	}
	bins := buildCommands(t, root, runs)
	for _, r := range runs {
		bin, ok := bins[r.name]
		if !ok {
			continue // reported by buildCommands
		}
		if err := parseArgs(bin, r); err != nil {
			t.Errorf("%v\n\t%v", r.doc, err)
		}
	}
}

// TestParseOnly checks the check itself: command lines that must parse and
// command lines that must not, through the same steps as the READMEs'.
func TestParseOnly(t *testing.T) {
	tests := []struct {
		text string
		want string // "" to parse, else part of the error
	}{
		{"go run ./cmd/train-cnn -experiment mine -epochs 1 -limit 512 -out runs/mine", ""},
		{`go run -tags openblas ./cmd/train-cnn -arch "(3,1,16),(2,2,16),(50),(10)" -epochs=1`, ""},
		{"go run ./cmd/plot -out fig1.png RUN_DIR OTHER_RUN # two runs", ""},
		{"go run ./cmd/approx -model RUN_DIR -n 1000", ""},
		{"DCIM_SGEMM=avx2 go run ./cmd/bench -model cnn -repeats 9 && echo done", ""},
		{"go run ./cmd/train-cnn -epochs many", `invalid value "many" for flag -epochs`},
		{"go run ./cmd/train-cnn -no-such-flag 1", "flag provided but not defined: -no-such-flag"},
		{"go run ./cmd/train-cnn stray", `unexpected argument "stray"`},
		{"go run ./cmd/approx -model RUN_DIR stray", `unexpected argument "stray"`},
		{"go run ./cmd/sample -model runs/x -mode …", "docs must show complete commands"},
		{"go run ./cmd/plot -out fig1.png ...", "docs must show complete commands"},
		{"go run ./cmd/no-such-command -h", "cmd/no-such-command: no such command folder"},
		{`go run ./cmd/plot 'runs/cnn-*`, "unterminated ' quote"},
	}
	root := moduleRoot(t)
	var runs []goRun
	for i, tc := range tests {
		got, err := commandRuns(root, docLine{"test", i + 1, tc.text})
		if err != nil {
			if tc.want == "" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: error %v, want one containing %q", tc.text, err, tc.want)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%q: %d commands, want 1", tc.text, len(got))
		}
		runs = append(runs, got[0])
	}
	bins := buildCommands(t, root, runs)
	for _, r := range runs {
		want := tests[r.doc.line-1].want
		err := parseArgs(bins[r.name], r)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", r.doc.text, err, want)
		}
	}
}

// TestCodeLines checks which lines of a Markdown text count as code.
func TestCodeLines(t *testing.T) {
	md := "Text `go run ./cmd/a -x` inline.\n" +
		"\n" +
		"    go run ./cmd/b \\\n" +
		"      -y 1\n" +
		"    go run ./cmd/c\n" +
		"paragraph\n" +
		"    continued, not code\n" +
		"```sh\n" +
		"go run ./cmd/d\n" +
		"    ```\n" +
		"```\n" +
		"~~~~\n" +
		"go run ./cmd/e\n" +
		"~~~~\n" +
		"\n" +
		"\tgo run ./cmd/f\n"
	var got []string
	for _, l := range codeLines("R.md", strings.NewReader(md)) {
		got = append(got, fmt.Sprintf("%d %s", l.line, l.text))
	}
	want := []string{"3 go run ./cmd/b -y 1", "5 go run ./cmd/c", "9 go run ./cmd/d", "10     ```", "13 go run ./cmd/e", "16 go run ./cmd/f"}
	if !slices.Equal(got, want) {
		t.Errorf("code lines\n%q\nwant\n%q", got, want)
	}
}

// TestShellWords checks the splitting of a line into commands and words.
func TestShellWords(t *testing.T) {
	tests := []struct {
		line string
		want [][]string
		err  string
	}{
		{`a -x "b c" 'd "e"' f\ g`, [][]string{{"a", "-x", "b c", `d "e"`, "f g"}}, ""},
		{`a "q\"uote\\" 'x'y`, [][]string{{"a", `q"uote\`, "xy"}}, ""},
		{"a b # c d", [][]string{{"a", "b"}}, ""},
		{"a#b c", [][]string{{"a#b", "c"}}, ""},
		{"a && b; c | d || e & f", [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}, {"f"}}, ""},
		{"a '&&' b", [][]string{{"a", "&&", "b"}}, ""},
		{"a -json > out.json 2>&1 < in", [][]string{{"a", "-json"}}, ""},
		{"a 2> err b >>log", [][]string{{"a", "b"}}, ""},
		{`a "b`, nil, `unterminated " quote`},
		{`a \`, nil, "a backslash ends the line"},
	}
	for _, tc := range tests {
		got, err := shellCommands(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%q: %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
}

// moduleRoot is the folder of go.mod above the test's folder.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = up
	}
}

// readmeRuns returns the `go run ./cmd/…` commands of every README.md
// under root (outside hidden folders, testdata and nested modules), and an
// error for each line that does not read as a complete command.
func readmeRuns(t *testing.T, root string) ([]goRun, []error) {
	t.Helper()
	var runs []goRun
	var errs []error
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			if n := d.Name(); strings.HasPrefix(n, ".") || n == "testdata" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "README.md" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		for _, l := range codeLines(filepath.ToSlash(rel), f) {
			rs, err := commandRuns(root, l)
			if err != nil {
				errs = append(errs, fmt.Errorf("%v\n\t%w", l, err))
			}
			runs = append(runs, rs...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs, errs
}

// codeLines returns the lines of the code blocks of a Markdown text:
// fenced blocks (``` or ~~~, up to a closing fence of the same kind at
// least as long) and indented blocks (four spaces or a tab, after a blank
// line or another such line, outside a fence), with the indentation
// removed and a line ending in a backslash joined to the next.
func codeLines(file string, r io.Reader) []docLine {
	var out []docLine
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var fence string // the open fence, "" outside one
	prevBlank, inIndented := true, false
	var cont *docLine // a line continued by a backslash
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		text, isCode := "", false
		trimmed := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(trimmed)
		switch {
		case fence != "":
			if indent < 4 && strings.HasPrefix(trimmed, fence) && strings.Trim(strings.TrimSpace(trimmed), fence[:1]) == "" {
				fence = ""
			} else {
				text, isCode = raw, true
			}
		case indent < 4 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			c := trimmed[:1]
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, c))]
		case strings.HasPrefix(raw, "\t") && (prevBlank || inIndented):
			text, isCode = raw[1:], true
		case indent >= 4 && strings.TrimSpace(raw) != "" && (prevBlank || inIndented):
			text, isCode = raw[4:], true
		}
		blank := strings.TrimSpace(raw) == ""
		inIndented = fence == "" && (isCode || inIndented && blank)
		prevBlank = blank
		if !isCode {
			cont = nil
			continue
		}
		if cont != nil {
			cont.text += " " + strings.TrimSpace(text)
		} else {
			out = append(out, docLine{file, n, strings.TrimRight(text, " ")})
			cont = &out[len(out)-1]
		}
		if strings.HasSuffix(cont.text, `\`) && !strings.HasSuffix(cont.text, `\\`) {
			cont.text = strings.TrimRight(strings.TrimSuffix(cont.text, `\`), " ")
		} else {
			cont = nil
		}
	}
	return out
}

// commandRuns returns the `go run ./cmd/NAME` commands of a code line,
// with an error if a command's folder is missing or an argument stands for
// text left out ("…", "...").
func commandRuns(root string, l docLine) ([]goRun, error) {
	if !strings.Contains(l.text, "go run") {
		return nil, nil // a program's output, Go code, …: not a command line of ours
	}
	cmds, err := shellCommands(strings.TrimPrefix(l.text, "$ "))
	if err != nil {
		return nil, err
	}
	var runs []goRun
	for _, words := range cmds {
		i := 0
		for i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-") {
			i++ // environment assignments
		}
		env := words[:i]
		if len(words) < i+2 || words[i] != "go" || words[i+1] != "run" {
			continue
		}
		rest := words[i+2:]
		for len(rest) > 0 && strings.HasPrefix(rest[0], "-") { // go run's own flags
			if goValueFlags[strings.TrimLeft(rest[0], "-")] && len(rest) > 1 {
				rest = rest[1:]
			}
			rest = rest[1:]
		}
		if len(rest) == 0 || !strings.HasPrefix(rest[0], "./cmd/") {
			continue // not one of this module's commands
		}
		name := strings.TrimSuffix(strings.TrimPrefix(rest[0], "./cmd/"), "/")
		if fi, err := os.Stat(filepath.Join(root, "cmd", name)); err != nil || !fi.IsDir() || strings.Contains(name, "/") {
			return nil, fmt.Errorf("cmd/%s: no such command folder", name)
		}
		for _, a := range rest[1:] {
			if strings.Contains(a, "…") || strings.Contains(a, "...") {
				return nil, fmt.Errorf("argument %q leaves something out: docs must show complete commands", a)
			}
		}
		runs = append(runs, goRun{doc: l, name: name, env: env, args: rest[1:]})
	}
	return runs, nil
}

// goValueFlags are the flags of go run that take a value as the next word.
var goValueFlags = map[string]bool{
	"tags": true, "ldflags": true, "gcflags": true, "asmflags": true, "exec": true,
	"mod": true, "modfile": true, "p": true, "pgo": true, "C": true, "overlay": true,
	"buildmode": true, "compiler": true, "installsuffix": true, "toolexec": true,
	"covermode": true, "coverpkg": true,
}

// shellCommands splits a line as a POSIX shell would into simple commands
// (at unquoted ;, &, &&, | and ||) of words, with quotes ('…', "…" with \"
// \\ \$ \` escapes) and backslashes resolved, redirections (>, 2>&1, <)
// and a # comment dropped. Expansions ($VAR, globs) are left as they are.
func shellCommands(line string) ([][]string, error) {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord, redirect := false, false
	endWord := func() {
		if inWord {
			if !redirect {
				words = append(words, word.String())
			}
			word.Reset()
			inWord, redirect = false, false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds, nil
		case c == ';' || c == '&' || c == '|':
			endCmd()
			if i+1 < len(line) && line[i+1] == c && c != ';' {
				i++
			}
		case c == '>' || c == '<': // a redirection: drop it and its target
			if inWord && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset()
				inWord = false
			}
			endWord()
			for i+1 < len(line) && (line[i+1] == '>' || line[i+1] == '<') {
				i++
			}
			if i+1 < len(line) && line[i+1] == '&' { // >&2: no target word
				for i++; i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '9'; i++ {
				}
				continue
			}
			redirect = true
		case c == '\\':
			if i+1 == len(line) {
				return nil, errors.New("a backslash ends the line")
			}
			i++
			word.WriteByte(line[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			word.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i == len(line) {
					return nil, errors.New(`unterminated " quote`)
				}
				if line[i] == '"' {
					break
				}
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				}
				word.WriteByte(line[i])
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}

// buildCommands builds the commands runs name, each once, into a
// temporary folder (without build tags: a tag changes how a command
// computes, not its flags), and returns their paths by name.
func buildCommands(t *testing.T, root string, runs []goRun) map[string]string {
	t.Helper()
	dir := t.TempDir()
	var pkgs []string
	for _, r := range runs {
		if p := "./cmd/" + r.name; !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	bins := make(map[string]string)
	if len(pkgs) == 0 {
		return bins
	}
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	for _, p := range pkgs {
		name := filepath.Base(p)
		bin := filepath.Join(dir, name)
		if _, err := os.Stat(bin); err != nil {
			if _, err := os.Stat(bin + ".exe"); err != nil {
				t.Errorf("cmd/%s builds no command (not a main package?)", name)
				continue
			}
			bin += ".exe"
		}
		bins[name] = bin
	}
	return bins
}

// parseArgs runs bin with r's arguments and the parse-only hook, in a
// temporary folder (so that a command that ignored the hook would write
// nothing into the tree), and returns an error unless it exits 0 having
// printed nothing (but its help, for -h).
func parseArgs(bin string, r goRun) error {
	dir, err := os.MkdirTemp("", "readme-"+r.name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, r.args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), r.env...), parseOnly)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	help := slices.ContainsFunc(r.args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" })
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s did not stop once its flags had parsed (does it parse them through cmd/internal/cli?)", r.name)
	case err != nil:
		return fmt.Errorf("%s: %v: %s", r.name, err, strings.TrimSpace(stderr.String()))
	case !help && stdout.Len()+stderr.Len() > 0:
		return fmt.Errorf("%s printed output, so it did more than parse its flags:\n%s%s", r.name, stdout.String(), stderr.String())
	}
	return nil
}
