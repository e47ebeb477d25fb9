package checkpoint

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseNPYDict(t *testing.T) {
	tests := []struct {
		dict  string
		descr string
		shape []int
		err   string
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", DtypeFloat32, []int{3, 4}, ""},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }  \n", DtypeFloat64, []int{5}, ""},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': (), }", DtypeUint8, []int{}, ""},
		// Keys in another order, double quotes, no spaces, Python 2 longs.
		{`{"shape":(2L,3L),"fortran_order":False,"descr":"<i8"}`, DtypeInt64, []int{2, 3}, ""},
		{"{'descr': '<f4', 'fortran_order': False}", "", nil, `no "shape"`},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}", "", nil, `unknown key "extra"`},
		{"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", "", nil, `key "descr" given twice`},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", "", nil, "want a non-negative integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "", nil, "does not fit an int"},
		{"{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", "", nil, `unsupported dtype "<c8"`},
		{"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", "", nil, "want True or False"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x", "", nil, "text after the dict"},
		{"{'descr': '<f4", "", nil, "unterminated string"},
		{"", "", nil, "want a dict"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Repeat("1,", 65) + ")}", "", nil, "more than 64 dimensions"},
	}
	for _, tc := range tests {
		h, err := parseNPYDict(tc.dict)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.dict, err, tc.err)
			}
			continue
		}
		if err != nil || h.descr != tc.descr || !slices.Equal(h.shape, tc.shape) {
			t.Errorf("%q: %q %v, %v; want %q %v", tc.dict, h.descr, h.shape, err, tc.descr, tc.shape)
		}
	}
}

// FuzzReadNPYHeader feeds arbitrary bytes to the header reader: it must
// never panic, never claim more bytes than it was given, and whatever it
// accepts must come back unchanged through the header this package
// writes.
func FuzzReadNPYHeader(f *testing.F) {
	for _, a := range []NamedArray{
		{Shape: []int{3, 4}, Data: make([]float32, 12)},
		{Shape: []int{}, Data: []float64{1}},
		{Shape: []int{2, 0, 5}, Data: []uint8{}},
	} {
		b, err := EncodeNPY(a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(npy(`{"shape":(2L,3L),"fortran_order":True,"descr":"<i8"}`, nil))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'shape': (4611686018427387904,)}"))
	f.Add([]byte("\x93NUMPY\x03\x00\xff\xff\xff\xff"))
	f.Add([]byte("\x93NUMPY\x01\x00\x05\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		h, err := readNPYHeader(r)
		if err != nil {
			return
		}
		if used := len(b) - r.Len(); used != h.len {
			t.Fatalf("header claims %d bytes, read %d", h.len, used)
		}
		if _, ok := dtypes[h.descr]; !ok {
			t.Fatalf("accepted dtype %q", h.descr)
		}
		for _, d := range h.shape {
			if d < 0 {
				t.Fatalf("accepted shape %v", h.shape)
			}
		}
		again, err := readNPYHeader(bytes.NewReader(npy(npyHeaderText(h.descr, h.shape), nil)))
		if err != nil || again.descr != h.descr || !slices.Equal(again.shape, h.shape) {
			t.Fatalf("header %q %v reads back as %q %v, %v", h.descr, h.shape, again.descr, again.shape, err)
		}
	})
}
