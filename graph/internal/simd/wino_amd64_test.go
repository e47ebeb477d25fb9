//go:build amd64 && !purego

package simd

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// widths returns the kernel choices this CPU can run: AVX2 (8 lanes) and,
// with AVX-512, the 16-lane kernels.
func widths() []bool {
	if cpu.X86.HasAVX512F {
		return []bool{false, true}
	}
	return []bool{false}
}

// winoOp is a 1-D tile transform, the float32 operations of the kernels in
// their order (so that the kernels must match it bit for bit).
type winoOp func(a [4]float32) [4]float32

var (
	opBt winoOp = func(a [4]float32) [4]float32 { return [4]float32{a[0] - a[2], a[1] + a[2], a[2] - a[1], a[1] - a[3]} }
	opAt winoOp = func(a [4]float32) [4]float32 { return [4]float32{a[0] + a[1] + a[2], a[1] - a[2] - a[3]} }
	opA  winoOp = func(a [4]float32) [4]float32 { return [4]float32{a[0], a[0] + a[1], a[0] - a[1], 0 - a[1]} }
	opB  winoOp = func(a [4]float32) [4]float32 {
		return [4]float32{a[0], a[1] - a[2] + a[3], a[1] + a[2] - a[0], 0 - a[3]}
	}
)

// winoRef is the reference of a tile kernel: op down the columns of each
// ni×ni tile, then along the rows of the result, no×no entries kept.
func winoRef(op winoOp, ni, no int, add bool, dst []float32, dstRow, dstCol int, src []float32, srcRow, srcCol, n, tiles, dstStep, srcStep int) {
	for t := range tiles {
		s, d := src[t*srcStep:], dst[t*dstStep:]
		for k := range n {
			var tt [4][4]float32
			for q := range ni {
				var col [4]float32
				for r := range ni {
					col[r] = s[r*srcRow+q*srcCol+k]
				}
				c := op(col)
				for i := range no {
					tt[i][q] = c[i]
				}
			}
			for i := range no {
				row := op(tt[i])
				for j := range no {
					o := &d[i*dstRow+j*dstCol+k]
					if add {
						*o += row[j]
					} else {
						*o = row[j]
					}
				}
			}
		}
	}
}

// TestWinoKernels checks the four tile kernels, 8-lane and (with
// AVX-512) 16-lane, against the reference bit for bit, on lane counts that
// are odd multiples of 8 and multiples of 16, one and several tiles, the
// layouts of winograd.go (channel-last image to planes and back) and
// padded strides; entries they must not touch must keep their values.
func TestWinoKernels(t *testing.T) {
	if !OK {
		t.Skip("no AVX2/FMA")
	}
	defer SetWide(Wide())
	kernels := []struct {
		name   string
		f      wino16
		op     winoOp
		ni, no int
		add    bool
	}{
		{"WinoBt", WinoBt, opBt, 4, 4, false},
		{"WinoAt", WinoAt, opAt, 4, 2, false},
		{"WinoA", WinoA, opA, 2, 4, false},
		{"WinoBAdd", WinoBAdd, opB, 4, 4, true},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, wide := range widths() {
		SetWide(wide)
		for _, k := range kernels {
			for _, n := range []int{8, 16, 24, 32, 40, 64} {
				for _, tiles := range []int{1, 3, 5} {
					// Image to planes (the input tiles overlap) and
					// planes to image, with padded lanes.
					for li, l := range [][6]int{
						{(2*tiles + 2) * (n + 8), n + 8, 2 * (n + 8), 4 * tiles * (n + 4), tiles * (n + 4), n + 4},
						{4 * tiles * (n + 4), tiles * (n + 4), n + 4, (2*tiles + 2) * (n + 8), n + 8, 2 * (n + 8)},
					} {
						srcRow, srcCol, srcStep, dstRow, dstCol, dstStep := l[0], l[1], l[2], l[3], l[4], l[5]
						t.Run(fmt.Sprintf("wide%t/%s/n%d/tiles%d/layout%d", wide, k.name, n, tiles, li), func(t *testing.T) {
							src := make([]float32, (tiles-1)*srcStep+3*(srcRow+srcCol)+n+5)
							dst := make([]float32, (tiles-1)*dstStep+3*(dstRow+dstCol)+n+5)
							for i := range src {
								src[i] = float32(rng.NormFloat64())
							}
							for i := range dst {
								dst[i] = float32(rng.NormFloat64())
							}
							want := slices.Clone(dst)
							winoRef(k.op, k.ni, k.no, k.add, want, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
							k.f(dst, dstRow, dstCol, src, srcRow, srcCol, n, tiles, dstStep, srcStep)
							for i := range want {
								if dst[i] != want[i] {
									t.Fatalf("dst[%d] = %g, want %g", i, dst[i], want[i])
								}
							}
						})
					}
				}
			}
		}
	}
}

// TestTranspose checks Transpose8, Transpose16 and TransposeStrip (in
// both kernel choices) against the definition, on one block and strips of
// several, with leading dimensions past the strip; entries outside it must
// keep their values.
func TestTranspose(t *testing.T) {
	if !OK {
		t.Skip("no AVX2/FMA")
	}
	defer SetWide(Wide())
	rng := rand.New(rand.NewPCG(5, 6))
	type strip func(dst []float32, ldd int, src []float32, lds, blocks int)
	type kernel struct {
		name string
		f    strip
		bs   int
		wide bool
	}
	kernels := []kernel{{"Transpose8", func(dst []float32, ldd int, src []float32, lds, blocks int) {
		if blocks == 1 {
			Transpose8(dst, ldd, src, lds)
		}
	}, 8, false}}
	for _, wide := range widths() {
		bs := 8
		if wide {
			bs = 16
		}
		kernels = append(kernels, kernel{fmt.Sprintf("TransposeStrip/wide%t", wide), TransposeStrip, bs, wide})
	}
	if cpu.X86.HasAVX512F {
		kernels = append(kernels, kernel{"Transpose16", Transpose16, 16, true})
	}
	for _, k := range kernels {
		for _, blocks := range []int{1, 3} {
			if k.name == "Transpose8" && blocks > 1 {
				continue
			}
			for _, ld := range [][2]int{{0, 0}, {3, 17}, {40, 1}} {
				t.Run(fmt.Sprintf("%s/blocks%d/ld%v", k.name, blocks, ld), func(t *testing.T) {
					SetWide(k.wide)
					if Block() != k.bs && k.name != "Transpose8" && k.name != "Transpose16" {
						t.Fatalf("Block() = %d, want %d", Block(), k.bs)
					}
					rows, cols := k.bs, k.bs*blocks
					ldd, lds := rows+ld[0], cols+ld[1]
					src := make([]float32, rows*lds)
					dst := make([]float32, cols*ldd)
					for i := range src {
						src[i] = float32(rng.NormFloat64())
					}
					for i := range dst {
						dst[i] = float32(rng.NormFloat64())
					}
					want := slices.Clone(dst)
					for i := range rows {
						for j := range cols {
							want[j*ldd+i] = src[i*lds+j]
						}
					}
					k.f(dst, ldd, src, lds, blocks)
					if !slices.Equal(dst, want) {
						t.Fatalf("%d×%d, ldd %d, lds %d: got %v, want %v", rows, cols, ldd, lds, dst, want)
					}
				})
			}
		}
	}
}

// TestWide checks that the tile kernels follow the SGEMM's choice and that
// Transforms and Block name it.
func TestWide(t *testing.T) {
	defer SetWide(Wide())
	if Wide() != (kern == avx512) {
		t.Errorf("Wide() = %t with the %s SGEMM kernel", Wide(), kern.name)
	}
	for _, on := range []bool{false, true} {
		SetWide(on)
		want, bs, name := false, 8, "AVX2 8-lane"
		if on && cpu.X86.HasAVX512F {
			want, bs, name = true, 16, "AVX-512 16-lane"
		}
		if Wide() != want || Block() != bs || Transforms() != name {
			t.Errorf("SetWide(%t): Wide %t, Block %d, Transforms %q; want %t, %d, %q", on, Wide(), Block(), Transforms(), want, bs, name)
		}
	}
}
