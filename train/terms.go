package train

import "dcim/models"

// termSpellings returns, for each term of the resolved objective of a
// network of depth d, the term as the objective wrote it ("0.5*draw:-1");
// the d terms that layer:* expands into (draw:1, layer:1 … layer:d−1) are
// written resolved, one each ("0.5*layer:3").
func termSpellings(written, resolved models.Objective, d int) []string {
	out := make([]string, 0, len(resolved))
	for _, t := range written {
		if t.Kind == models.ReverseLayer && t.Layer == models.EveryLayer {
			for range d {
				out = append(out, resolved[len(out)].String())
			}
			continue
		}
		out = append(out, t.String())
	}
	return out
}
