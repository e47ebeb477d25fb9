package models

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Arch
		str  string // canonical form; "" means in
	}{
		{"paper dense", "(512),(512),(10)", paperDense, ""},
		{"paper cnn", "(3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10)", paperCNN, ""},
		{"class layer only", "(10)", Arch{{Kind: Dense, Units: 10}}, ""},
		{"one conv", "(5,1,8),(10)", Arch{{Kind: Conv, K: 5, S: 1, C: 8}, {Kind: Dense, Units: 10}}, ""},
		{"whitespace", " ( 3 , 1 , 32 ) ,\n\t(2,2,32) , ( 10 ) ",
			Arch{{Kind: Conv, K: 3, S: 1, C: 32}, {Kind: Conv, K: 2, S: 2, C: 32}, {Kind: Dense, Units: 10}},
			"(3,1,32),(2,2,32),(10)"},
		{"leading zero", "(010)", Arch{{Kind: Dense, Units: 10}}, "(10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Errorf("String() = %q, want %q", got.String(), str)
			}
			again, err := Parse(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Parse(String()) = %v, %v; want %v", again, err, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `arch "": empty architecture`},
		{"blank", "  \n", "empty architecture"},
		{"bad number", "(3,1,x)", `arch "(3,1,x)": bad number "x" at position 6`},
		{"plus sign", "(+3)", `bad number "+3" at position 2`},
		{"float", "(2.5)", `bad number "2.5" at position 2`},
		{"no parentheses", "3,1,32", `expected "(" at position 1, found "3"`},
		{"no parentheses second", "(3,1,32),10", `expected "(" at position 10, found "1"`},
		{"missing close", "(3,1,32", `missing ")" for "(" at position 1`},
		{"missing close before open", "(3(10)", `missing ")" for "(" at position 1`},
		{"two numbers", "(3,1),(10)", `tuple "(3,1)" at position 1 has 2 numbers`},
		{"four numbers", "(10),(1,2,3,4)", `tuple "(1,2,3,4)" at position 6 has 4 numbers`},
		{"zero", "(3,1,32),(0)", `number "0" at position 11 is not positive`},
		{"negative", "(3,-1,32),(10)", `number "-1" at position 4 is not positive`},
		{"trailing comma", "(50),(10),", "trailing comma at position 10"},
		{"trailing comma space", "(50),(10) , ", "trailing comma at position 11"},
		{"garbage between", "(3,1,32)x(10)", `unexpected "x" at position 9 after layer 1 (3,1,32), want ","`},
		{"missing comma", "(50) (10)", `unexpected "(" at position 6 after layer 1 (50)`},
		{"empty tuple", "()", `missing number at position 2, found ")"`},
		{"empty field", "(3,,32)", `missing number at position 4, found ","`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error containing %q", tt.in, a, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("Parse(%q) error %q, want it to contain %q", tt.in, msg, tt.want)
			}
			if !strings.HasPrefix(msg, fmt.Sprintf("arch %q: ", tt.in)) || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line starting with the quoted text", msg)
			}
		})
	}
}

func TestLayerAndShapeString(t *testing.T) {
	tests := []struct{ got, want string }{
		{Layer{Kind: Dense, Units: 512}.String(), "(512)"},
		{Layer{Kind: Conv, K: 3, S: 1, C: 32}.String(), "(3,1,32)"},
		{Shape{32, 26, 26}.String(), "32×26×26"},
		{Shape{512, 1, 1}.String(), "512"},
		{MNISTInput.String(), "1×28×28"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if n := (Shape{64, 4, 4}).Size(); n != 1024 {
		t.Errorf("Size() = %d, want 1024", n)
	}
}

func TestShapesAndParams(t *testing.T) {
	tests := []struct {
		name   string
		arch   Arch
		shapes []Shape
		params []int
	}{
		{"paper cnn", paperCNN,
			[]Shape{{1, 28, 28}, {32, 26, 26}, {32, 24, 24}, {32, 12, 12}, {64, 10, 10}, {64, 8, 8}, {64, 4, 4}, {50, 1, 1}, {10, 1, 1}},
			[]int{
				32*1*9 + 32,
				32*32*9 + 32,
				32*32*4 + 32,
				64*32*9 + 64,
				64*64*9 + 64,
				64*64*4 + 64,
				50*64*4*4 + 50, // flattens 64×4×4 = 1024
				10*50 + 10,
			}},
		{"paper dense", paperDense,
			[]Shape{{1, 28, 28}, {512, 1, 1}, {512, 1, 1}, {10, 1, 1}},
			[]int{512*784 + 512, 512*512 + 512, 10*512 + 10}},
		{"stride 3", mustParse(t, "(4,3,2),(10)"),
			[]Shape{{1, 28, 28}, {2, 9, 9}, {10, 1, 1}},
			[]int{2*16 + 2, 10*162 + 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shapes, err := tt.arch.Shapes(MNISTInput, MNISTClasses)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(shapes, tt.shapes) {
				t.Errorf("Shapes = %v, want %v", shapes, tt.shapes)
			}
			params, err := tt.arch.Params(MNISTInput, MNISTClasses)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(params, tt.params) {
				t.Errorf("Params = %v, want %v", params, tt.params)
			}
		})
	}
}

func TestShapesErrors(t *testing.T) {
	tests := []struct {
		name    string
		arch    Arch
		in      Shape
		classes int
		want    string
	}{
		{"empty", Arch{}, MNISTInput, 10, "empty architecture"},
		{"nil", nil, MNISTInput, 10, "empty architecture"},
		{"bad input", paperDense, Shape{0, 28, 28}, 10, "input shape 0×28×28"},
		{"bad classes", paperDense, MNISTInput, 0, "0 classes"},
		{"zero units", Arch{{Kind: Dense, Units: 0}, {Kind: Dense, Units: 10}}, MNISTInput, 10, "layer 1 (0): units must be positive"},
		{"negative stride", Arch{{Kind: Conv, K: 3, S: -1, C: 8}, {Kind: Dense, Units: 10}}, MNISTInput, 10, "layer 1 (3,-1,8): kernel size, stride and kernels must be positive"},
		{"unknown kind", Arch{{Kind: 7}, {Kind: Dense, Units: 10}}, MNISTInput, 10, "layer 1 (?kind 7): unknown kind 7"},
		{"conv after dense", mustParse(t, "(3,1,8),(50),(3,1,16),(10)"), MNISTInput, 10, "layer 3 (3,1,16): convolution after dense layer 2"},
		{"kernel too large", mustParse(t, "(4,4,8),(7,1,8),(2,1,8),(10)"), MNISTInput, 10,
			"layer 3 (2,1,8): kernel 2 larger than input 1×1"},
		{"kernel too large on input", mustParse(t, "(29,1,8),(10)"), MNISTInput, 10, "layer 1 (29,1,8): kernel 29 larger than input 28×28"},
		{"stride does not tile", mustParse(t, "(4,1,32),(2,2,32),(10)"), MNISTInput, 10,
			"layer 2 (2,2,32): stride 2 does not tile input 25×25: (25-2) is not a multiple of 2"},
		{"stride does not tile width", mustParse(t, "(2,2,4),(10)"), Shape{1, 28, 27}, 10,
			"layer 1 (2,2,4): stride 2 does not tile input 28×27: (27-2) is not a multiple of 2"},
		{"top too wide", mustParse(t, "(50),(12)"), MNISTInput, 10, "top layer (12) has 12 units, want 10 classes"},
		{"top is conv", mustParse(t, "(3,1,10)"), MNISTInput, 10, "top layer (3,1,10) is a convolution"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for fn, call := range map[string]func() error{
				"Shapes":  func() error { _, err := tt.arch.Shapes(tt.in, tt.classes); return err },
				"Params":  func() error { _, err := tt.arch.Params(tt.in, tt.classes); return err },
				"Summary": func() error { _, err := tt.arch.Summary(tt.in, tt.classes); return err },
			} {
				err := call()
				if err == nil {
					t.Fatalf("%s: no error, want %q", fn, tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: error %q, want it to contain %q", fn, err, tt.want)
				}
			}
		})
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name  string
		arch  Arch
		lines []string // fields of lines the summary must contain
		total string
	}{
		{"paper cnn", paperCNN, []string{
			"0 input 1×28×28 -",
			"1 (3,1,32) 32×26×26 320",
			"2 (3,1,32) 32×24×24 9248",
			"3 (2,2,32) 32×12×12 4128",
			"4 (3,1,64) 64×10×10 18496",
			"5 (3,1,64) 64×8×8 36928",
			"6 (2,2,64) 64×4×4 16448",
			"7 (50) 50 51250",
			"8 (10) 10 510",
			"a^0 1×28×28 784",
		}, "total 138112"},
		{"paper dense", paperDense, []string{
			"1 (512) 512 401920",
			"2 (512) 512 262656",
			"3 (10) 10 5130",
			"a^0 1×28×28 784",
		}, "total 670490"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.arch.Summary(MNISTInput, MNISTClasses)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
				got = append(got, strings.Join(strings.Fields(l), " "))
			}
			for _, want := range append(tt.lines, tt.total) {
				found := false
				for _, g := range got {
					found = found || g == want
				}
				if !found {
					t.Errorf("summary lacks line %q:\n%s", want, s)
				}
			}
			if last := got[len(got)-1]; last != tt.total {
				t.Errorf("last line %q, want %q", last, tt.total)
			}
			if len(got) != len(tt.arch)+4 {
				t.Errorf("summary has %d lines, want header, input, %d layers, a^0, total", len(got), len(tt.arch))
			}
		})
	}
}

func mustParse(t *testing.T, s string) Arch {
	t.Helper()
	a, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Frozen copies of the paper's networks (§3.1 and §3.2). The tests that pin
// the paper's numbers use these, so that MNISTDense and MNISTCNN — the
// entries users are invited to edit — are free to change.
var (
	paperDense = MustParse("(512),(512),(10)")
	paperCNN   = MustParse("(3,1,32),(3,1,32),(2,2,32),(3,1,64),(3,1,64),(2,2,64),(50),(10)")
)

// TestParseLimits: an architecture of more than MaxLayers layers or
// MaxArchBytes bytes is refused before it is parsed, with a short message.
func TestParseLimits(t *testing.T) {
	layers := func(n int) string { return strings.TrimSuffix(strings.Repeat("(2),", n), ",") }
	tests := []struct {
		name, in, want string // want "" accepts
	}{
		{"64 layers", layers(MaxLayers), ""},
		{"65 layers", layers(MaxLayers + 1), "65 layers, more than the 64 accepted"},
		{"30000 layers", layers(30000), "30000 layers, more than the 64 accepted"},
		{"1 MiB of spaces", strings.Repeat(" ", 1<<20), "1048576 bytes, more than the 4096 accepted"},
		{"65 unclosed", strings.Repeat("(", 65), "65 layers"},
		{"long multibyte", strings.Repeat("é", 3000), "6000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse(tt.in)
			if tt.want == "" {
				if err != nil || len(a) != MaxLayers {
					t.Fatalf("Parse = %d layers, %v; want %d", len(a), err, MaxLayers)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error %v, want one containing %q", err, tt.want)
			}
			if len(err.Error()) > 160 || strings.Contains(err.Error(), "\n") {
				t.Errorf("error of %d bytes, want one short line: %q", len(err.Error()), err)
			}
		})
	}
}
