package train

import "fmt"

// RunDiff lists the settings that make a and b different runs: those of
// Table marked Named whose values differ, as "seed 3, not 1" (a's value
// first). Objectives and architectures are compared as their String
// methods write them, and the settings that files written by older
// builds leave empty are taken at their defaults, so that a summary.json
// of such a build still matches the settings it was trained with.
func RunDiff(a, b Settings) []string {
	a.normalize()
	b.normalize()
	var diff []string
	for _, st := range table {
		if av, bv := st.canonical(a), st.canonical(b); st.Named && av != bv {
			diff = append(diff, fmt.Sprintf("%s %q, not %q", st.Name, av, bv))
		}
	}
	return diff
}

// SameRun reports whether a and b train the same run: no setting that
// changes what is trained differs (see [RunDiff]). Where the run folder,
// the data folder, the evaluation points or the command differ, the run
// is still the same.
func SameRun(a, b Settings) bool { return len(RunDiff(a, b)) == 0 }
