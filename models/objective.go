package models

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// TermKind is one kind of objective term. Every term is a negative
// log-likelihood per unit (a mean over the batch and the units it scores),
// so that terms of different layers are on one scale. What each kind is —
// its spelling, whether λ scales it, which forward layers it draws — is
// declared once, in [termKinds]; graph builds each kind's value.
type TermKind int

const (
	// CE is the forward chain's cross-entropy −log p(label | x⁰), eq. (15):
	// the discriminative term.
	CE TermKind = iota
	// ReverseLabel is the per-pixel binary cross-entropy of the image under
	// the reverse chain run from the one-hot label, −log q(x⁰ | x^d) / |x⁰|:
	// the reverse term of eq. (21).
	ReverseLabel
	// ReverseDraw is the per-pixel binary cross-entropy of the image under
	// the reverse chain run from a Bernoulli draw of forward layer k (mean
	// field), −log q(x⁰ | x^k) / |x⁰|: the reverse term of eq. (22) for
	// k = d−1, and its generalisation to any 1 ≤ k < d.
	ReverseDraw
	// ReverseLayer is the per-unit binary cross-entropy of one reverse layer,
	// −log q(x^k | x^{k+1}) / |x^k|, with x^k drawn from the forward chain
	// and x^{k+1} the one-hot label (k = d−1) or also drawn from the forward
	// chain (k < d−1). It trains the reverse conditionals that eq. (22)
	// leaves untouched (for k = d−1, the top reverse layer q(x^{d−1} | class)).
	ReverseLayer
	// MeanFieldCE is the forward cross-entropy under approximation (2),
	// −log p̂(label | x⁰) of the mean-field chain (eq. 14–15), whatever the
	// run's inference: under the sampled forward chain it trains the
	// mean-field classifier of the same weights beside the DCIM itself;
	// under mean field it is ce.
	MeanFieldCE
	// Sleep is the sleep phase of wake-sleep: the mean-field forward
	// chain's cross-entropy −log p̂(label | x̃) on a dream x̃, an image the
	// reverse chain draws given the label with every hidden layer drawn
	// (chain-mode sampling), read as data. It fits the forward model to
	// the reverse model's samples, as the layer terms fit each reverse
	// conditional to the forward chain's.
	Sleep
)

// kindInfo is what a term kind is, apart from how a graph computes it.
type kindInfo struct {
	name string // the spelling in objective expressions
	doc  string // one line for -h and the docs
	// reverse terms score the reverse model q; only they are multiplied by
	// the run's λ (-reverse-weight).
	reverse bool
	// layered kinds take a hidden layer k (written name:k); draws lists the
	// forward layers a term of the kind draws, for its resolved k in a
	// network of depth d (nil: none).
	layered bool
	draws   func(k, d int) []int
}

// termKinds declares every term kind. A new kind is one entry here and
// its builder in graph (graph's termBuilders).
var termKinds = [...]kindInfo{
	CE: {name: "ce", doc: "the forward cross-entropy −log p(label | image), eq. (15)"},
	ReverseLabel: {name: "label", reverse: true,
		doc: "per-pixel BCE of the reverse chain run from the one-hot label, eq. (21)"},
	ReverseDraw: {name: "draw", reverse: true, layered: true,
		doc:   "per-pixel BCE of the reverse chain run from a Bernoulli draw of forward layer k (eq. 22 is k = d−1, the default)",
		draws: func(k, d int) []int { return []int{k} }},
	ReverseLayer: {name: "layer", reverse: true, layered: true,
		doc: "per-unit BCE of one reverse layer, −log q(x^k | x^{k+1}), x^k drawn from the forward chain and x^{k+1} the label (k = d−1, the default) or also drawn",
		draws: func(k, d int) []int {
			if k+1 < d {
				return []int{k, k + 1}
			}
			return []int{k}
		}},
	MeanFieldCE: {name: "ce-mf", doc: "the forward cross-entropy of the mean-field chain, approximation (2), whatever -inference (under montecarlo: beside ce)"},
	Sleep:       {name: "sleep", doc: "wake-sleep's sleep phase: the mean-field cross-entropy of a dream, an image the reverse chain draws given the label with every hidden layer drawn, read as data"},
}

// TermKinds lists every kind, in the order of their constants.
func TermKinds() []TermKind {
	ks := make([]TermKind, len(termKinds))
	for i := range ks {
		ks[i] = TermKind(i)
	}
	return ks
}

func (k TermKind) info() (kindInfo, bool) {
	if k < 0 || int(k) >= len(termKinds) {
		return kindInfo{}, false
	}
	return termKinds[k], true
}

// String returns the expression spelling of the kind: ce, label, draw,
// layer, ce-mf.
func (k TermKind) String() string {
	if i, ok := k.info(); ok {
		return i.name
	}
	return fmt.Sprintf("term(%d)", int(k))
}

// Doc describes the kind in one line.
func (k TermKind) Doc() string {
	i, _ := k.info()
	return i.doc
}

// Reverse reports whether the kind scores the reverse model; only reverse
// terms are multiplied by λ.
func (k TermKind) Reverse() bool {
	i, _ := k.info()
	return i.reverse
}

// Layered reports whether the kind takes a hidden layer (name:k).
func (k TermKind) Layered() bool {
	i, _ := k.info()
	return i.layered
}

// kindNamed returns the kind spelled name.
func kindNamed(name string) (TermKind, bool) {
	for i, k := range termKinds {
		if k.name == name {
			return TermKind(i), true
		}
	}
	return 0, false
}

// ParseTermKind reads a kind's spelling: ce, label, draw, layer or ce-mf.
func ParseTermKind(name string) (TermKind, error) {
	if k, ok := kindNamed(name); ok {
		return k, nil
	}
	return 0, fmt.Errorf("unknown term %q (want %s)", name, kindNames())
}

// kindNames lists the spellings, for messages: "ce, label, draw or layer".
func kindNames() string {
	var b strings.Builder
	for i, k := range termKinds {
		switch {
		case i == len(termKinds)-1 && i > 0:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(k.name)
	}
	return b.String()
}

// Term is one weighted term of an objective.
type Term struct {
	Kind TermKind
	// Layer is k for the layered kinds (draw, layer): a positive k is
	// layer k itself; zero or a negative −j counts down from the top,
	// d−1−j, so that 0 is d−1 (eq. 22) whatever the depth. The other kinds
	// ignore it.
	Layer int
	// Weight multiplies the term in the loss; reverse terms are further
	// multiplied by the run's λ (-reverse-weight).
	Weight float64
}

// EveryLayer is the Layer of a layer term written layer:*: the reverse
// terms of every layer of the reverse chain, −log q(x^k | x^{k+1}) for
// k = d−1 … 0, each with x^k and x^{k+1} drawn from the forward chain
// (the wake phase of wake-sleep, with the DCIM's forward chain as the
// recognition model). [Objective.Resolve] expands it into layer:k for
// k = 1 … d−1 and, for the image layer k = 0, draw:1 — the image scored
// under the reverse chain from a draw of layer 1, which is q(x⁰ | x¹)
// itself. Chain-mode sampling draws exactly these conditionals in turn.
const EveryLayer = math.MinInt32

// Key names the term in metrics.csv and summary.json: "ce", "label",
// "draw5", "layer6" (with the layer resolved), or "draw-1" while the layer
// is still relative to the top ("layer*" for layer:*).
func (t Term) Key() string {
	if t.Kind.Layered() {
		if t.Layer == EveryLayer {
			return t.Kind.String() + "*"
		}
		return t.Kind.String() + strconv.Itoa(t.Layer)
	}
	return t.Kind.String()
}

// String returns the term in expression form, e.g. "0.5*draw:-1" or
// "layer:*".
func (t Term) String() string {
	s := t.Kind.String()
	switch {
	case t.Kind.Layered() && t.Layer == EveryLayer:
		s += ":*"
	case t.Kind.Layered() && t.Layer != 0:
		s += ":" + strconv.Itoa(t.Layer)
	}
	if t.Weight != 1 {
		s = strconv.FormatFloat(t.Weight, 'g', -1, 64) + "*" + s
	}
	return s
}

// Objective is what training maximises, written as the loss it minimises:
// a weighted sum of terms, each a negative log-likelihood. The paper's
// three objectives are [Discriminative], [Generative] (eq. 21) and
// [GenerativeSampled] (eq. 22).
type Objective []Term

// Discriminative is −log p(label | x⁰) alone (the paper's §2.2).
func Discriminative() Objective { return Objective{{Kind: CE, Weight: 1}} }

// Generative is eq. (21): the cross-entropy plus the reverse chain's
// per-pixel BCE run from the one-hot label.
func Generative() Objective {
	return Objective{{Kind: CE, Weight: 1}, {Kind: ReverseLabel, Weight: 1}}
}

// GenerativeSampled is eq. (22): the cross-entropy plus the reverse chain's
// per-pixel BCE run from a Bernoulli draw of forward layer d−1.
func GenerativeSampled() Objective {
	return Objective{{Kind: CE, Weight: 1}, {Kind: ReverseDraw, Weight: 1}}
}

// namedObjectives are the objectives with a name of their own.
var namedObjectives = []struct {
	name string
	obj  func() Objective
}{
	{"discriminative", Discriminative},
	{"generative", Generative},
	{"generative-sampled", GenerativeSampled},
}

// String returns the objective's name if it has one (discriminative,
// generative, generative-sampled), else its expression, e.g.
// "ce+0.5*label+0.5*draw:-1". ParseObjective reads both.
func (o Objective) String() string {
	for _, n := range namedObjectives {
		if slices.Equal(o, n.obj()) {
			return n.name
		}
	}
	parts := make([]string, len(o))
	for i, t := range o {
		parts[i] = t.String()
	}
	return strings.Join(parts, "+")
}

// Draws lists the forward layers a resolved term draws (see
// [Objective.Resolve]) in a network of depth d, lowest first; nil for a
// term that draws none.
func (t Term) Draws(d int) []int {
	if i, ok := t.Kind.info(); ok && i.draws != nil {
		return i.draws(t.Layer, d)
	}
	return nil
}

// Draws lists the forward layers the terms of a resolved objective draw
// (see [Objective.Resolve]) in a network of depth d, lowest first, each
// once; none for an objective that draws nothing.
func (o Objective) Draws(d int) []int {
	var ks []int
	for _, t := range o {
		ks = append(ks, t.Draws(d)...)
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// Has reports whether the objective has a term of kind k.
func (o Objective) Has(k TermKind) bool {
	return slices.ContainsFunc(o, func(t Term) bool { return t.Kind == k })
}

// ParseObjective reads a named objective (discriminative, generative,
// generative-sampled) or an expression: terms joined by "+", each
// [weight*]name[:k] with name ce, label, draw or layer, e.g.
// "ce + 0.5*label + 0.5*draw:-1". k is as in [Term.Layer]; draw and layer
// without k mean layer d−1; layer:* is the reverse term of every layer
// (see [EveryLayer]).
func ParseObjective(s string) (Objective, error) {
	for _, n := range namedObjectives {
		if s == n.name {
			return n.obj(), nil
		}
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty objective: want discriminative, generative, generative-sampled or terms such as ce+label")
	}
	if _, ok := kindNamed(strings.TrimSpace(s)); !ok && !strings.ContainsAny(s, "+*:") {
		return nil, fmt.Errorf("unknown objective %q (want discriminative, generative, generative-sampled, or terms such as ce+0.5*label+0.5*draw)", s)
	}
	var o Objective
	for i, part := range strings.Split(s, "+") {
		t, err := parseTerm(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("objective %q, term %d: %w", s, i+1, err)
		}
		o = append(o, t)
	}
	return o, nil
}

func parseTerm(s string) (Term, error) {
	t := Term{Weight: 1}
	every := false // name:*, every layer
	if i := strings.LastIndex(s, ":"); i >= 0 && strings.TrimSpace(s[i+1:]) == "*" {
		every, s = true, strings.TrimSpace(s[:i])
	}
	if w, rest, ok := strings.Cut(s, "*"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil {
			return t, fmt.Errorf("bad weight %q", w)
		}
		t.Weight, s = v, strings.TrimSpace(rest)
	}
	name, layer, hasLayer := strings.Cut(s, ":")
	kind, err := ParseTermKind(strings.TrimSpace(name))
	if err != nil {
		return t, err
	}
	t.Kind = kind
	if every {
		switch {
		case hasLayer:
			return t, fmt.Errorf("bad layer %q", layer+":*")
		case !t.Kind.Layered():
			return t, fmt.Errorf("term %s takes no layer", t.Kind)
		case t.Kind != ReverseLayer:
			return t, fmt.Errorf("term %s:*: only layer takes * (every layer)", t.Kind)
		}
		t.Layer = EveryLayer
		return t, nil
	}
	if hasLayer {
		if !t.Kind.Layered() {
			return t, fmt.Errorf("term %s takes no layer", t.Kind)
		}
		k, err := strconv.Atoi(strings.TrimSpace(layer))
		if err != nil {
			return t, fmt.Errorf("bad layer %q", layer)
		}
		t.Layer = k
	}
	return t, nil
}

// Resolve checks the objective for a network of depth d and returns it
// with every layer made absolute (1 ≤ k < d) and layer:* expanded into the
// terms it stands for (see [EveryLayer]), in its place and with its
// weight. Weights must be finite and not negative, and no term may appear
// twice.
func (o Objective) Resolve(d int) (Objective, error) {
	if len(o) == 0 {
		return nil, errors.New("objective has no terms")
	}
	var expanded Objective
	for _, t := range o {
		if t.Kind != ReverseLayer || t.Layer != EveryLayer {
			expanded = append(expanded, t)
			continue
		}
		if d < 2 {
			return nil, fmt.Errorf("term %v draws the hidden layers; the network has none", t)
		}
		expanded = append(expanded, Term{Kind: ReverseDraw, Layer: 1, Weight: t.Weight})
		for k := 1; k < d; k++ {
			expanded = append(expanded, Term{Kind: ReverseLayer, Layer: k, Weight: t.Weight})
		}
	}
	o = expanded
	out := make(Objective, len(o))
	seen := map[string]bool{}
	for i, t := range o {
		if math.IsNaN(t.Weight) || math.IsInf(t.Weight, 0) || t.Weight < 0 {
			return nil, fmt.Errorf("term %v: weight %g, want a finite number ≥ 0", t, t.Weight)
		}
		switch info, ok := t.Kind.info(); {
		case !ok:
			return nil, fmt.Errorf("term %d: unknown kind %d", i+1, int(t.Kind))
		case !info.layered:
			t.Layer = 0
		default:
			if d < 2 {
				return nil, fmt.Errorf("term %v draws a hidden layer; the network has none", t)
			}
			k := t.Layer
			if k <= 0 {
				k = d - 1 + k
			}
			if k < 1 || k >= d {
				return nil, fmt.Errorf("term %v: layer %d of a network of depth %d, want a hidden layer 1…%d", t, k, d, d-1)
			}
			t.Layer = k
		}
		if seen[t.Key()] {
			return nil, fmt.Errorf("term %v appears twice", t)
		}
		seen[t.Key()] = true
		out[i] = t
	}
	return out, nil
}
