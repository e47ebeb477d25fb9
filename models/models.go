package models

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind says whether a [Layer] is dense or convolutional.
type Kind int

const (
	// Dense is a fully connected layer, written (units).
	Dense Kind = iota
	// Conv is a convolution with valid padding, written (kernel,stride,kernels).
	Conv
)

// Layer is one layer in the paper's notation.
type Layer struct {
	Kind  Kind
	Units int // Dense: number of units
	// Conv: kernel size K (K×K), stride S and number of kernels C (output channels).
	K, S, C int
}

// String returns the layer in the paper's notation: "(512)" for a dense
// layer, "(3,1,32)" for a convolution.
func (l Layer) String() string {
	switch l.Kind {
	case Dense:
		return fmt.Sprintf("(%d)", l.Units)
	case Conv:
		return fmt.Sprintf("(%d,%d,%d)", l.K, l.S, l.C)
	}
	return fmt.Sprintf("(?kind %d)", int(l.Kind))
}

// Shape is a layer state's shape without the batch: C,H,W for conv/image
// states; for dense states C=Units, H=W=1.
type Shape struct{ C, H, W int }

// Size returns the number of units in a state of this shape, C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String returns "32×26×26", or just "512" for a dense state (H=W=1).
func (s Shape) String() string {
	if s.H == 1 && s.W == 1 {
		return strconv.Itoa(s.C)
	}
	return fmt.Sprintf("%d×%d×%d", s.C, s.H, s.W)
}

// spatial returns "H×W", used in error messages about kernels and strides.
func (s Shape) spatial() string { return fmt.Sprintf("%d×%d", s.H, s.W) }

// Arch is a network, input to output; the last layer is the class layer.
type Arch []Layer

// String returns the architecture in the paper's notation, e.g.
// "(3,1,32),(2,2,32),(50),(10)"; Parse(a.String()) == a.
func (a Arch) String() string {
	parts := make([]string, len(a))
	for i, l := range a {
		parts[i] = l.String()
	}
	return strings.Join(parts, ",")
}

// Parse reads an architecture in the paper's notation, e.g.
// "(3,1,32),(2,2,32),(50),(10)": comma-separated tuples, one number for a
// dense layer, three (kernel, stride, kernels) for a convolution. Whitespace
// around tokens is tolerated. Every number must be a positive integer.
// Errors quote the text and name the offending token and its position
// (1-based, in characters). Parse checks only the notation; [Arch.Shapes]
// checks that the layers fit together.
//
// A text of more than MaxArchBytes bytes, or of more than MaxLayers layers
// (counted by their opening parentheses), is refused before it is parsed,
// so that no work or memory grows with a hostile depth.
func Parse(s string) (Arch, error) {
	if n := strings.Count(s, "("); n > MaxLayers {
		return nil, fmt.Errorf("arch %s: %d layers, more than the %d accepted", quoteShort(s), n, MaxLayers)
	}
	if len(s) > MaxArchBytes {
		return nil, fmt.Errorf("arch %s: %d bytes, more than the %d accepted", quoteShort(s), len(s), MaxArchBytes)
	}
	p := parser{src: s, r: []rune(s)}
	a, err := p.arch()
	if err != nil {
		return nil, fmt.Errorf("arch %q: %w", s, err)
	}
	return a, nil
}

// Limits on the text of an architecture, checked by [Parse] before it
// parses: the paper's networks have 3 and 4 layers.
const (
	MaxLayers    = 64
	MaxArchBytes = 4096
)

// quoteShort quotes s, cut to its first 40 characters.
func quoteShort(s string) string {
	if len(s) <= 40 {
		return strconv.Quote(s)
	}
	r := []rune(s[:min(len(s), 160)]) // 160 bytes hold at least 40 runes
	if len(r) <= 40 && len(s) <= 160 {
		return strconv.Quote(s)
	}
	return strconv.Quote(string(r[:min(len(r), 40)])) + "…"
}

type parser struct {
	src string
	r   []rune
	i   int // index into r
}

func (p *parser) skipSpace() {
	for p.i < len(p.r) && unicode.IsSpace(p.r[p.i]) {
		p.i++
	}
}

// pos is the 1-based position of rune index i.
func pos(i int) int { return i + 1 }

// found describes what sits at the cursor, for error messages.
func (p *parser) found() string {
	if p.i >= len(p.r) {
		return "end of input"
	}
	return strconv.Quote(string(p.r[p.i]))
}

func (p *parser) arch() (Arch, error) {
	p.skipSpace()
	if p.i >= len(p.r) {
		return nil, errors.New("empty architecture")
	}
	var a Arch
	for {
		l, err := p.layer()
		if err != nil {
			return nil, err
		}
		a = append(a, l)
		p.skipSpace()
		if p.i >= len(p.r) {
			return a, nil
		}
		if p.r[p.i] != ',' {
			return nil, fmt.Errorf("unexpected %s at position %d after layer %d %v, want \",\"", p.found(), pos(p.i), len(a), l)
		}
		comma := p.i
		p.i++
		p.skipSpace()
		if p.i >= len(p.r) {
			return nil, fmt.Errorf("trailing comma at position %d", pos(comma))
		}
	}
}

func (p *parser) layer() (Layer, error) {
	if p.r[p.i] != '(' {
		return Layer{}, fmt.Errorf("expected \"(\" at position %d, found %s", pos(p.i), p.found())
	}
	open := p.i
	p.i++
	var nums []int
	for {
		n, err := p.number()
		if err != nil {
			return Layer{}, err
		}
		nums = append(nums, n)
		if p.i >= len(p.r) {
			return Layer{}, fmt.Errorf("missing \")\" for \"(\" at position %d", pos(open))
		}
		c := p.r[p.i]
		p.i++
		if c == ')' {
			break
		}
		// number() stops only at ',', ')', '(' or the end.
		if c == '(' {
			return Layer{}, fmt.Errorf("missing \")\" for \"(\" at position %d", pos(open))
		}
	}
	tuple := string(p.r[open:p.i])
	switch len(nums) {
	case 1:
		return Layer{Kind: Dense, Units: nums[0]}, nil
	case 3:
		return Layer{Kind: Conv, K: nums[0], S: nums[1], C: nums[2]}, nil
	}
	return Layer{}, fmt.Errorf("tuple %q at position %d has %d numbers, want 1 (dense) or 3 (kernel,stride,kernels)", tuple, pos(open), len(nums))
}

// number reads one positive integer up to the next ',', ')', '(' or the end.
func (p *parser) number() (int, error) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.r) && !strings.ContainsRune(",()", p.r[p.i]) {
		p.i++
	}
	tok := strings.TrimRightFunc(string(p.r[start:p.i]), unicode.IsSpace)
	if tok == "" {
		return 0, fmt.Errorf("missing number at position %d, found %s", pos(start), p.found())
	}
	n, err := strconv.Atoi(tok)
	if err != nil || tok[0] == '+' {
		return 0, fmt.Errorf("bad number %q at position %d", tok, pos(start))
	}
	if n <= 0 {
		return 0, fmt.Errorf("number %q at position %d is not positive", tok, pos(start))
	}
	return n, nil
}

// Shapes infers the state shape of every layer: out[0] = input, out[k] =
// state of layer k (k=1..len(a)). A convolution maps C×H×W to
// C'×Ho×Wo with Ho = (H-K)/S + 1 (valid padding); a dense layer flattens
// its input in C,H,W order.
//
// It validates: the architecture is non-empty; the input shape, the class
// count and every number are positive; no convolution follows a dense
// layer; no kernel is larger than its input; every stride tiles its input
// ((H-K) % S == 0); and the last layer is dense with exactly classes units.
// Errors name the layer (1-based) and its notation, e.g.
// "layer 2 (2,2,32): stride 2 does not tile input 25×25: (25-2) is not a multiple of 2".
func (a Arch) Shapes(in Shape, classes int) ([]Shape, error) {
	if len(a) == 0 {
		return nil, errors.New("empty architecture: want at least the class layer")
	}
	if in.C <= 0 || in.H <= 0 || in.W <= 0 {
		return nil, fmt.Errorf("input shape %d×%d×%d: dimensions must be positive", in.C, in.H, in.W)
	}
	if classes <= 0 {
		return nil, fmt.Errorf("%d classes: must be positive", classes)
	}
	if satMul(in.C, in.H, in.W) == math.MaxInt {
		return nil, fmt.Errorf("input shape %d×%d×%d: too many units to count in an int", in.C, in.H, in.W)
	}
	out := make([]Shape, len(a)+1)
	out[0] = in
	cur := in
	lastDense := 0 // index of the latest dense layer, 0 if none
	for i, l := range a {
		k := i + 1
		switch l.Kind {
		case Dense:
			if l.Units <= 0 {
				return nil, fmt.Errorf("layer %d %v: units must be positive", k, l)
			}
			cur = Shape{C: l.Units, H: 1, W: 1}
			lastDense = k
		case Conv:
			if l.K <= 0 || l.S <= 0 || l.C <= 0 {
				return nil, fmt.Errorf("layer %d %v: kernel size, stride and kernels must be positive", k, l)
			}
			if lastDense > 0 {
				return nil, fmt.Errorf("layer %d %v: convolution after dense layer %d", k, l, lastDense)
			}
			if l.K > cur.H || l.K > cur.W {
				return nil, fmt.Errorf("layer %d %v: kernel %d larger than input %s", k, l, l.K, cur.spatial())
			}
			for _, d := range []int{cur.H, cur.W} {
				if (d-l.K)%l.S != 0 {
					return nil, fmt.Errorf("layer %d %v: stride %d does not tile input %s: (%d-%d) is not a multiple of %d",
						k, l, l.S, cur.spatial(), d, l.K, l.S)
				}
			}
			cur = Shape{C: l.C, H: (cur.H-l.K)/l.S + 1, W: (cur.W-l.K)/l.S + 1}
			if satMul(cur.C, cur.H, cur.W) == math.MaxInt {
				return nil, fmt.Errorf("layer %d %v: output %d×%d×%d has too many units to count in an int", k, l, cur.C, cur.H, cur.W)
			}
		default:
			return nil, fmt.Errorf("layer %d %v: unknown kind %d", k, l, int(l.Kind))
		}
		out[k] = cur
	}
	top := a[len(a)-1]
	if top.Kind != Dense {
		return nil, fmt.Errorf("top layer %v is a convolution, want dense with %d units (the class layer)", top, classes)
	}
	if top.Units != classes {
		return nil, fmt.Errorf("top layer %v has %d units, want %d classes", top, top.Units, classes)
	}
	return out, nil
}

// Params returns the parameter count of each layer, out[k-1] for layer k
// (weights + biases; conv: C_out*C_in*K*K + C_out; dense: out*in + out,
// where in is the flattened size of the layer's input). It validates as
// [Arch.Shapes] does, and reports an error when a count does not fit an
// int. The reverse model's image bias a^0 (in.Size() parameters) belongs
// to no layer and is not included; [Arch.ParamCount] is the total.
func (a Arch) Params(in Shape, classes int) ([]int, error) {
	shapes, err := a.Shapes(in, classes)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(a))
	for i, l := range a {
		if out[i] = layerParams(l, shapes[i]); out[i] == math.MaxInt {
			return nil, fmt.Errorf("layer %d %v: parameter count does not fit an int", i+1, l)
		}
	}
	return out, nil
}

// Summary returns a printable table: layer index, notation, output shape,
// parameters, plus the reverse-only image bias a^0 (in.Size() params) and a
// total line. It validates as [Arch.Shapes] does.
func (a Arch) Summary(in Shape, classes int) (string, error) {
	shapes, err := a.Shapes(in, classes)
	if err != nil {
		return "", err
	}
	params, err := a.Params(in, classes)
	if err != nil {
		return "", err
	}
	rows := [][4]string{{"layer", "notation", "output", "params"}}
	rows = append(rows, [4]string{"0", "input", in.String(), "-"})
	total := 0
	for i, l := range a {
		rows = append(rows, [4]string{strconv.Itoa(i + 1), l.String(), shapes[i+1].String(), strconv.Itoa(params[i])})
		total = satAdd(total, params[i])
	}
	rows = append(rows, [4]string{"", "a^0", in.String(), strconv.Itoa(in.Size())})
	total = satAdd(total, in.Size())
	rows = append(rows, [4]string{"total", "", "", count(total)})

	var w [4]int
	for _, r := range rows {
		for j, c := range r {
			w[j] = max(w[j], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %*s\n", w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3])
	}
	return b.String(), nil
}
