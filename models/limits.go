package models

import (
	"fmt"
	"math"
)

// Limits on the size of a network, checked by [Arch.CheckSize] before
// anything is allocated: by the commands for -arch and -batch, and by the
// checkpoint loader for the architecture and input shape of a model.json.
//
// They follow from what the commands can really use on the project's
// machines (24 GiB of memory, shared by several processes):
//
//   - MaxParams, 2^25 = 33,554,432 parameters, is 128 MiB as float32.
//     Training holds about six arrays of that size (the parameters, their
//     gradient, Adam's two moments, and model.npz and resume.npz while
//     they are encoded), 768 MiB. Sampling was measured at about four
//     (peak RSS 997 MiB for a model of 66.8 M zero parameters, from a
//     260 KB model.npz, when this limit was 2^26): at 2^25 the parameters
//     of no file, however small, drive the sample command near 1 GiB.
//     What grows with the images a command draws or completes (the
//     input's size and the state units times -per-class, -draws, -n or
//     -scale) is bounded by the commands' -max-memory instead, which they
//     check against an estimate before they allocate. The paper's dense
//     network (512),(512),(10) has 670,490 parameters, its CNN 138,112: the
//     limit leaves a factor of 50.
//   - MaxImageUnits, 2^24 units in the states of one image (the input and
//     every layer), is 64 MiB as float32 per image: an input of 4096×4096
//     pixels still fits.
//   - MaxBatchUnits, 2^28 units for a whole batch (batch × units per
//     image), is 1 GiB per copy as float32; a training step holds the
//     forward and reverse states and their gradients, about four copies,
//     so 4 GiB. The paper's CNN (57,036 units per image) fits batches of
//     up to 4,706 images, the dense network (1,818 units) up to 147,654.
const (
	MaxParams     = 1 << 25
	MaxImageUnits = 1 << 24
	MaxBatchUnits = 1 << 28
)

// CheckSize checks that a network of this architecture on input in, with
// classes classes, can be built and run on batches of batch images within
// the limits above. It validates as [Arch.Shapes] does and never
// overflows, whatever the numbers; the error says which limit is exceeded
// and by what.
func (a Arch) CheckSize(in Shape, classes, batch int) error {
	shapes, err := a.Shapes(in, classes)
	if err != nil {
		return err
	}
	if n := paramCount(a, shapes); n > MaxParams {
		return fmt.Errorf("%s on input %s has %s parameters, more than the limit of %d (%d MiB as float32)",
			a, in, count(n), MaxParams, MaxParams*4>>20)
	}
	units := stateUnits(shapes)
	if units > MaxImageUnits {
		return fmt.Errorf("%s on input %s has %s state units per image, more than the limit of %d (%d MiB as float32)",
			a, in, count(units), MaxImageUnits, MaxImageUnits*4>>20)
	}
	if batch < 1 {
		return fmt.Errorf("batch of %d images: must be positive", batch)
	}
	if total := satMul(batch, units); total > MaxBatchUnits {
		return fmt.Errorf("batch of %d images of %s on input %s holds %s state units, more than the limit of %d (%d MiB as float32): at most %d images",
			batch, a, in, count(total), MaxBatchUnits, MaxBatchUnits*4>>20, MaxBatchUnits/units)
	}
	return nil
}

// ParamCount returns the number of parameters of the network: the weights
// and biases of every layer ([Arch.Params]) plus the image bias a^0 of the
// reverse model (in.Size()). It validates as [Arch.Shapes] does and
// reports an error, not a wrapped number, when the count does not fit an
// int.
func (a Arch) ParamCount(in Shape, classes int) (int, error) {
	shapes, err := a.Shapes(in, classes)
	if err != nil {
		return 0, err
	}
	n := paramCount(a, shapes)
	if n == math.MaxInt {
		return 0, fmt.Errorf("%s on input %s: parameter count does not fit an int", a, in)
	}
	return n, nil
}

// StateUnits returns the number of units in the states of one image: the
// input and every layer's state, each a value of the forward and of the
// reverse chain. It validates as [Arch.Shapes] does.
func (a Arch) StateUnits(in Shape, classes int) (int, error) {
	shapes, err := a.Shapes(in, classes)
	if err != nil {
		return 0, err
	}
	n := stateUnits(shapes)
	if n == math.MaxInt {
		return 0, fmt.Errorf("%s on input %s: state size does not fit an int", a, in)
	}
	return n, nil
}

// layerParams is the parameter count of layer l on input state prev,
// saturated at math.MaxInt.
func layerParams(l Layer, prev Shape) int {
	if l.Kind == Conv {
		return satAdd(satMul(l.C, prev.C, l.K, l.K), l.C)
	}
	return satAdd(satMul(l.Units, prev.C, prev.H, prev.W), l.Units)
}

// paramCount is the parameters of every layer plus a^0, saturated.
func paramCount(a Arch, shapes []Shape) int {
	n := satMul(shapes[0].C, shapes[0].H, shapes[0].W)
	for i, l := range a {
		n = satAdd(n, layerParams(l, shapes[i]))
	}
	return n
}

// stateUnits is the units of every state, the input included, saturated.
func stateUnits(shapes []Shape) int {
	n := 0
	for _, s := range shapes {
		n = satAdd(n, satMul(s.C, s.H, s.W))
	}
	return n
}

// satMul multiplies non-negative numbers, saturating at math.MaxInt.
func satMul(xs ...int) int {
	p := 1
	for _, x := range xs {
		if x < 0 {
			return math.MaxInt
		}
		if x != 0 && p > math.MaxInt/x {
			return math.MaxInt
		}
		p *= x
	}
	return p
}

// satAdd adds non-negative numbers, saturating at math.MaxInt.
func satAdd(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// count prints a saturated count: "more than 9223372036854775806" when it
// saturated.
func count(n int) string {
	if n == math.MaxInt {
		return fmt.Sprintf("more than %d", math.MaxInt-1)
	}
	return fmt.Sprint(n)
}
