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

// kern8x32, kern12x32 and kern14x32 multiply a packed mr×k block of A
// (a[p·mr+i]) by a packed k×32 panel of B (b[p·32+j]) with AVX-512 FMAs and
// write the first rows rows of the product, in the columns whose bit is set
// in mask, into C at c (rows ldc apart): added to C when add is set,
// over it otherwise.
//
//go:noescape
func kern8x32(k int, a, b, c *float32, ldc, rows, mask int, add bool)

//go:noescape
func kern12x32(k int, a, b, c *float32, ldc, rows, mask int, add bool)

//go:noescape
func kern14x32(k int, a, b, c *float32, ldc, rows, mask int, add bool)

// kern8x16 is kern8x32 on a packed k×16 panel of B (b[p·16+j]).
//
//go:noescape
func kern8x16(k int, a, b, c *float32, ldc, rows, mask int, add bool)

// A kernel is a micro-kernel with its tile: tile writes the mb×nb corner
// (mb ≤ mr, nb ≤ nr) of the product of a packed mr×kb block of A and a
// packed kb×nr panel of B into C at c, added to it when add is set. If
// narrow is set, it does the same for a last panel of at most 16 columns,
// packed 16 wide.
type kernel struct {
	name         string
	mr, nr       int
	tile, narrow tileFunc
}

type tileFunc func(kb int, blk, panel *float32, c []float32, ldc, mb, nb int, add bool)

// panel returns the width and the tile function of the panel of B that
// holds nb of the columns.
func (kn *kernel) panel(nb int) (int, tileFunc) {
	if nb <= 16 && kn.narrow != nil {
		return 16, kn.narrow
	}
	return kn.nr, kn.tile
}

// avx2 is the 6×16 AVX2/FMA kernel. It always adds, so edge tiles and
// overwrites go through a 6×16 scratch tile.
var avx2 = &kernel{name: "AVX2 6×16", mr: 6, nr: 16, tile: func(kb int, blk, panel *float32, c []float32, ldc, mb, nb int, add bool) {
	if mb == 6 && nb == 16 {
		if !add {
			for i := range 6 {
				clear(c[i*ldc : i*ldc+16])
			}
		}
		kern6x16(kb, blk, panel, &c[0], ldc)
		return
	}
	var tile [6 * 16]float32
	kern6x16(kb, blk, panel, &tile[0], 16)
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

// avx512 returns the mr×32 AVX-512 kernel k, with kern8x16 for narrow
// panels: they write edge tiles themselves, masking the columns past nb and
// stopping after mb rows.
func avx512(name string, mr int, k func(int, *float32, *float32, *float32, int, int, int, bool)) *kernel {
	tile := func(k func(int, *float32, *float32, *float32, int, int, int, bool)) tileFunc {
		return func(kb int, blk, panel *float32, c []float32, ldc, mb, nb int, add bool) {
			_ = c[(mb-1)*ldc+nb-1]
			k(kb, blk, panel, &c[0], ldc, mb, 1<<nb-1, add)
		}
	}
	kn := &kernel{name: name, mr: mr, nr: 32, tile: tile(k)}
	if mr == 8 {
		kn.narrow = tile(kern8x16)
	}
	return kn
}

var (
	avx512x8  = avx512("AVX-512 8×32", 8, kern8x32)
	avx512x12 = avx512("AVX-512 12×32", 12, kern12x32)
	avx512x14 = avx512("AVX-512 14×32", 14, kern14x32)
)

// kern is the kernel Sgemm runs: AVX-512 where the CPU has it, unless the
// environment sets DCIM_SGEMM=avx2, the AVX2 one otherwise.
var kern = pickKernel()

func pickKernel() *kernel {
	if cpu.X86.HasAVX512F && os.Getenv("DCIM_SGEMM") != "avx2" {
		return avx512x8
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
// core: B is packed in panels of nr columns and A in blocks of mr rows, 256
// deep at a time, and the mr×nr micro-kernel (Kernel) multiplies them.
// Callers check OK.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(kern, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(kn *kernel, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		beta = scaleC(m, n, beta, c, ldc)
		return
	}
	if beta != 0 { // beta = 0: the first block overwrites C
		scaleC(m, n, beta, c, ldc)
	}
	mr, nr := kn.mr, kn.nr
	mp, np := (m+mr-1)/mr, (n+nr-1)/nr
	kb0 := min(kc, k)
	need := mp*mr*kb0 + np*nr*kb0
	bufp := getPack(need)
	defer putPack(bufp)
	buf := (*bufp)[:need]
	ap, bp := buf[:mp*mr*kb0], buf[mp*mr*kb0:]
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		add := p0 > 0 || beta != 0
		packA(tA, a, lda, m, p0, kb, alpha, ap, mr)
		packB(kn, tB, b, ldb, n, p0, kb, bp)
		for jp := range np {
			j0 := jp * nr
			nb := min(nr, n-j0)
			_, tile := kn.panel(nb)
			panel := &bp[jp*kb*nr]
			for ip := range mp {
				i0 := ip * mr
				tile(kb, &ap[ip*kb*mr], panel, c[i0*ldc+j0:], ldc, min(mr, m-i0), nb, add)
			}
		}
	}
}

// scaleC multiplies C's m×n corner by beta (clearing it for beta = 0) and
// returns beta.
func scaleC(m, n int, beta float32, c []float32, ldc int) float32 {
	if beta == 1 {
		return beta
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
	return beta
}

// packA writes alpha·op(A)[0:m, p0:p0+kb] as blocks of mr rows, each block
// p-major (ap[blk·kb·mr + p·mr + i]), padding the last block with zeros.
func packA(tA bool, a []float32, lda, m, p0, kb int, alpha float32, ap []float32, mr int) {
	for i0 := 0; i0 < m; i0 += mr {
		blk := ap[(i0/mr)*kb*mr : (i0/mr+1)*kb*mr]
		mb := min(mr, m-i0)
		if mb < mr {
			clear(blk)
		}
		switch {
		case !tA:
			transpose(blk, mr, a[i0*lda+p0:], lda, mb, kb)
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
// with zeros.
func packB(kn *kernel, tB bool, b []float32, ldb, n, p0, kb int, bp []float32) {
	for j0 := 0; j0 < n; j0 += kn.nr {
		nb := min(kn.nr, n-j0)
		w, _ := kn.panel(nb)
		panel := bp[(j0/kn.nr)*kb*kn.nr:][:kb*w]
		if nb < w {
			clear(panel)
		}
		switch {
		case tB: // op(B)[p, j] = b[j·ldb + p]
			transpose(panel, w, b[j0*ldb+p0:], ldb, nb, kb)
		case nb == w:
			CopyRows(panel, b[p0*ldb+j0:(p0+kb-1)*ldb+j0+w], kb, w, ldb)
		default:
			for p := range kb {
				copy(panel[p*w:p*w+nb], b[(p0+p)*ldb+j0:])
			}
		}
	}
}

// transpose writes dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols:
// 8×8 blocks through Transpose8, the edges four rows at a time.
func transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	r8, c8 := rows&^7, cols&^7
	for r := 0; r < r8; r += 8 {
		for c := 0; c < c8; c += 8 {
			_, _ = src[(r+7)*lds+c+7], dst[(c+7)*ldd+r+7] // Transpose8 does not check
			Transpose8(dst[c*ldd+r:], ldd, src[r*lds+c:], lds)
		}
	}
	gather(dst, ldd, src, lds, 0, r8, c8, cols)
	gather(dst, ldd, src, lds, r8, rows, 0, cols)
}

// gather is transpose on rows [r0, r1) and columns [c0, c1), element by
// element.
func gather(dst []float32, ldd int, src []float32, lds, r0, r1, c0, c1 int) {
	if c0 >= c1 {
		return
	}
	r := r0
	for ; r+4 <= r1; r += 4 {
		s0, s1 := src[r*lds:r*lds+c1], src[(r+1)*lds:(r+1)*lds+c1]
		s2, s3 := src[(r+2)*lds:(r+2)*lds+c1], src[(r+3)*lds:(r+3)*lds+c1]
		for c := c0; c < c1; c++ {
			d := dst[c*ldd+r : c*ldd+r+4 : c*ldd+r+4]
			d[0], d[1], d[2], d[3] = s0[c], s1[c], s2[c], s3[c]
		}
	}
	for ; r < r1; r++ {
		for c, v := range src[r*lds+c0 : r*lds+c1] {
			dst[(c0+c)*ldd+r] = v
		}
	}
}
