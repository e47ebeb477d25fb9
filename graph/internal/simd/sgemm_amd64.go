//go:build amd64 && !purego

package simd

import (
	"os"
	"sync"

	"golang.org/x/sys/cpu"
)

// kc is the depth of one packed block of A and B.
const kc = 256

// kern6x16 adds the product of a packed 6×k block of A (a[p·6+i]) and a
// packed k×16 panel of B (b[p·16+j]) into the 6×16 tile of C at c, whose
// rows are ldc elements apart.
//
//go:noescape
func kern6x16(k int, a, b, c *float32, ldc int)

// kern8x32 and kern8x16 are the AVX-512 micro-kernels: they compute
// C[i, j] (+)= Σ_p a[i·ars + p·acs]·b[p·bcs + j] for i < rows ≤ 8 and the
// j < 32 (16) whose bit is set in mask, C's rows ldc apart, added to C when
// add is set and written over it otherwise. The strides let them read A
// and B in place as well as packed.
//
//go:noescape
func kern8x32(k int, a *float32, ars, acs int, b *float32, bcs int, c *float32, ldc, rows, mask int, add bool)

//go:noescape
func kern8x16(k int, a *float32, ars, acs int, b *float32, bcs int, c *float32, ldc, rows, mask int, add bool)

// A kernel is a micro-kernel with its tile: tile writes the mb×nb corner
// (mb ≤ mr, nb ≤ nr) of the product of an mr×kb block of A (a[i·ars +
// p·acs]) and a kb×nr panel of B (b[p·bcs + j]) into C at c, added to it
// when add is set. If narrow is set, it does the same for a last panel of
// at most 16 columns, packed 16 wide. If inPlace is set, tile takes any
// strides, so that full blocks of A (for alpha = 1) and full panels of B
// (not transposed) need no packing; otherwise A comes packed (ars = 1,
// acs = mr) and B too (bcs = nr).
type kernel struct {
	name         string
	mr, nr       int
	tile, narrow tileFunc
	inPlace      bool
}

type tileFunc func(kb int, a *float32, ars, acs int, b *float32, bcs int, c []float32, ldc, mb, nb int, add bool)

// panel returns the width and the tile function of the panel of B that
// holds nb of the columns.
func (kn *kernel) panel(nb int) (int, tileFunc) {
	if nb <= 16 && kn.narrow != nil {
		return 16, kn.narrow
	}
	return kn.nr, kn.tile
}

// avx2 is the 6×16 AVX2/FMA kernel on packed A and B. It always adds, so
// edge tiles and overwrites go through a 6×16 scratch tile.
var avx2 = &kernel{name: "AVX2 6×16", mr: 6, nr: 16, tile: func(kb int, a *float32, _, _ int, b *float32, _ int, c []float32, ldc, mb, nb int, add bool) {
	if mb == 6 && nb == 16 {
		if !add {
			for i := range 6 {
				clear(c[i*ldc : i*ldc+16])
			}
		}
		kern6x16(kb, a, b, &c[0], ldc)
		return
	}
	var tile [6 * 16]float32
	kern6x16(kb, a, b, &tile[0], 16)
	for i := range mb {
		row := c[i*ldc : i*ldc+nb]
		src := tile[i*16 : i*16+nb]
		if !add {
			copy(row, src)
			continue
		}
		for j, v := range src {
			row[j] += v
		}
	}
}}

// avx512 is the 8×32 AVX-512 kernel, with the 8×16 one for narrow panels:
// they write edge tiles themselves, masking the columns past nb and
// stopping after mb rows.
var avx512 = &kernel{name: "AVX-512 8×32", mr: 8, nr: 32, tile: avx512Tile(kern8x32), narrow: avx512Tile(kern8x16), inPlace: true}

func avx512Tile(k func(int, *float32, int, int, *float32, int, *float32, int, int, int, bool)) tileFunc {
	return func(kb int, a *float32, ars, acs int, b *float32, bcs int, c []float32, ldc, mb, nb int, add bool) {
		_ = c[(mb-1)*ldc+nb-1]
		k(kb, a, ars, acs, b, bcs, &c[0], ldc, mb, 1<<nb-1, add)
	}
}

// kern is the kernel Sgemm runs: AVX-512 where the CPU has it, unless the
// environment sets DCIM_SGEMM=avx2, the AVX2 one otherwise.
var kern = pickKernel()

func pickKernel() *kernel {
	if cpu.X86.HasAVX512F && os.Getenv("DCIM_SGEMM") != "avx2" {
		return avx512
	}
	return avx2
}

// Kernel names the micro-kernel Sgemm runs.
func Kernel() string { return kern.name }

// packs holds the packing buffers of concurrent Sgemm calls. Unlike a
// sync.Pool it keeps them across garbage collections, so that steady-state
// calls allocate nothing.
var packs struct {
	sync.Mutex
	free []*[]float32
}

// getPack returns a packing buffer of at least n values.
func getPack(n int) *[]float32 {
	packs.Lock()
	var b *[]float32
	if k := len(packs.free); k > 0 {
		b, packs.free = packs.free[k-1], packs.free[:k-1]
	}
	packs.Unlock()
	if b == nil {
		b = new([]float32)
	}
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return b
}

func putPack(b *[]float32) {
	packs.Lock()
	packs.free = append(packs.free, b)
	packs.Unlock()
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices (op transposes when tA or tB is set), like BLAS's SGEMM, on one
// core: the mr×nr micro-kernel (Kernel) multiplies blocks of mr rows of A
// by panels of nr columns of B, 256 deep at a time, packed unless the
// kernel reads them in place. Callers check OK.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(kern, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm is Sgemm with the micro-kernel kn.
func sgemm(kn *kernel, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if beta != 0 { // beta = 0: the first block overwrites C
		scaleC(m, n, beta, c, ldc)
	}
	mr, nr := kn.mr, kn.nr
	mp, np := (m+mr-1)/mr, (n+nr-1)/nr
	// Blocks of A and panels of B that the kernel reads in place are not
	// packed; their slots in the buffer stay unused.
	inA, inB := kn.inPlace && alpha == 1, kn.inPlace && !tB
	kb0 := min(kc, k)
	need := mp*mr*kb0 + np*nr*kb0
	bufp := getPack(need)
	defer putPack(bufp)
	buf := (*bufp)[:need]
	ap, bp := buf[:mp*mr*kb0], buf[mp*mr*kb0:]
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		add := p0 > 0 || beta != 0
		packA(tA, a, lda, m, p0, kb, alpha, ap, mr, inA)
		packB(kn, tB, b, ldb, n, p0, kb, bp, inB)
		for jp := range np {
			j0 := jp * nr
			nb := min(nr, n-j0)
			w, tile := kn.panel(nb)
			pb, bcs := &bp[jp*kb*nr], w
			if inB && nb == w {
				_ = b[(p0+kb-1)*ldb+j0+w-1]
				pb, bcs = &b[p0*ldb+j0], ldb
			}
			for ip := range mp {
				i0 := ip * mr
				mb := min(mr, m-i0)
				pa, ars, acs := &ap[ip*kb*mr], 1, mr
				switch {
				case !inA || mb < mr:
				case tA:
					_ = a[(p0+kb-1)*lda+i0+mr-1]
					pa, ars, acs = &a[p0*lda+i0], 1, lda
				default:
					_ = a[(i0+mr-1)*lda+p0+kb-1]
					pa, ars, acs = &a[i0*lda+p0], lda, 1
				}
				tile(kb, pa, ars, acs, pb, bcs, c[i0*ldc+j0:], ldc, mb, nb, add)
			}
		}
	}
}

// scaleC multiplies C's m×n corner by beta (clearing it for beta = 0).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packA writes alpha·op(A)[0:m, p0:p0+kb] as blocks of mr rows, each block
// p-major (ap[blk·kb·mr + p·mr + i]), padding the last block with zeros;
// with inPlace, only a last block of fewer than mr rows.
func packA(tA bool, a []float32, lda, m, p0, kb int, alpha float32, ap []float32, mr int, inPlace bool) {
	for i0 := 0; i0 < m; i0 += mr {
		blk := ap[(i0/mr)*kb*mr : (i0/mr+1)*kb*mr]
		mb := min(mr, m-i0)
		if inPlace && mb == mr {
			continue
		}
		if mb < mr {
			clear(blk)
		}
		switch {
		case !tA:
			Transpose(blk, mr, a[i0*lda+p0:], lda, mb, kb)
		case mb == mr: // op(A)[r, p] = a[p·lda + r]: mr neighbours per p
			CopyRows(blk, a[p0*lda+i0:(p0+kb-1)*lda+i0+mr], kb, mr, lda)
		default:
			for p := range kb {
				copy(blk[p*mr:p*mr+mb], a[(p0+p)*lda+i0:(p0+p)*lda+i0+mb])
			}
		}
		if alpha != 1 {
			for i := range blk {
				blk[i] *= alpha
			}
		}
	}
}

// packB writes op(B)[p0:p0+kb, 0:n] as panels of kn.nr columns (the
// last one as narrow as kn.panel allows), each panel p-major
// (bp[panel·kb·nr + p·w + j] for a panel w wide), padding the last panel
// with zeros; with inPlace, only the panels narrower than w (the last).
func packB(kn *kernel, tB bool, b []float32, ldb, n, p0, kb int, bp []float32, inPlace bool) {
	for j0 := 0; j0 < n; j0 += kn.nr {
		nb := min(kn.nr, n-j0)
		w, _ := kn.panel(nb)
		if inPlace && nb == w {
			continue
		}
		panel := bp[(j0/kn.nr)*kb*kn.nr:][:kb*w]
		if nb < w {
			clear(panel)
		}
		switch {
		case tB: // op(B)[p, j] = b[j·ldb + p]
			Transpose(panel, w, b[j0*ldb+p0:], ldb, nb, kb)
		case nb == w:
			CopyRows(panel, b[p0*ldb+j0:(p0+kb-1)*ldb+j0+w], kb, w, ldb)
		default:
			for p := range kb {
				copy(panel[p*w:p*w+nb], b[(p0+p)*ldb+j0:])
			}
		}
	}
}
