package models

import "fmt"

// Encoding is how a binary unit's two states are written: {0,1} with the
// logistic sigmoid (eq. 6–7) or ±1 with tanh (eq. 8–9).
type Encoding int

const (
	// Binary units take values {0,1}; mean field is the logistic sigmoid.
	Binary Encoding = iota
	// Spin units take values ±1; mean field is tanh, and the image enters as 2x−1.
	Spin
)

// String returns "binary" or "spin", the flag and model.json spelling.
func (e Encoding) String() string {
	if e == Spin {
		return "spin"
	}
	return "binary"
}

// ParseEncoding reads "binary" or "spin".
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "binary":
		return Binary, nil
	case "spin":
		return Spin, nil
	}
	return 0, fmt.Errorf("unknown encoding %q (want binary or spin)", s)
}
