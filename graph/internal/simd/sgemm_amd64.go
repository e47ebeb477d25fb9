//go:build amd64 && !purego

package simd

import "sync"

// The micro-kernel's tile and the depth of one packed block.
const (
	mr = 6
	nr = 16
	kc = 256
)

// kern6x16 adds the product of a packed 6×k block of A (a[p·6+i]) and a
// packed k×16 panel of B (b[p·16+j]) into the 6×16 tile of C at c, whose
// rows are ldc elements apart.
//
//go:noescape
func kern6x16(k int, a, b, c *float32, ldc int)

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
// core: B is packed in panels of 16 columns and A in blocks of 6 rows, 256
// deep at a time, and the 6×16 micro-kernel multiplies them with AVX2 FMAs.
// Callers check OK.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if beta != 1 {
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
	if k == 0 || alpha == 0 {
		return
	}
	mp, np := (m+mr-1)/mr, (n+nr-1)/nr
	kb0 := min(kc, k)
	need := mp*mr*kb0 + np*nr*kb0 + mr*nr
	bufp := getPack(need)
	defer putPack(bufp)
	buf := (*bufp)[:need]
	ap, bp, tile := buf[:mp*mr*kb0], buf[mp*mr*kb0:mp*mr*kb0+np*nr*kb0], buf[need-mr*nr:]
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		packA(tA, a, lda, m, p0, kb, alpha, ap)
		packB(tB, b, ldb, n, p0, kb, bp)
		for jp := range np {
			j0 := jp * nr
			nb := min(nr, n-j0)
			panel := &bp[jp*kb*nr]
			for ip := range mp {
				i0 := ip * mr
				mb := min(mr, m-i0)
				blk := &ap[ip*kb*mr]
				if mb == mr && nb == nr {
					kern6x16(kb, blk, panel, &c[i0*ldc+j0], ldc)
					continue
				}
				clear(tile)
				kern6x16(kb, blk, panel, &tile[0], nr)
				for i := range mb {
					row := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+nb]
					for j, v := range tile[i*nr : i*nr+nb] {
						row[j] += v
					}
				}
			}
		}
	}
}

// packA writes alpha·op(A)[0:m, p0:p0+kb] as blocks of 6 rows, each block
// p-major (ap[blk·kb·6 + p·6 + i]), padding the last block with zeros.
func packA(tA bool, a []float32, lda, m, p0, kb int, alpha float32, ap []float32) {
	for i0 := 0; i0 < m; i0 += mr {
		blk := ap[(i0/mr)*kb*mr : (i0/mr+1)*kb*mr]
		mb := min(mr, m-i0)
		if mb < mr {
			clear(blk)
		}
		if tA { // op(A)[r, p] = a[p·lda + r]: six neighbours per p
			for p := range kb {
				dst := blk[p*mr : p*mr+mb]
				src := a[(p0+p)*lda+i0 : (p0+p)*lda+i0+mb]
				for i, v := range src {
					dst[i] = alpha * v
				}
			}
			continue
		}
		if mb == mr { // six rows side by side
			r0 := a[i0*lda+p0 : i0*lda+p0+kb]
			r1 := a[(i0+1)*lda+p0 : (i0+1)*lda+p0+kb]
			r2 := a[(i0+2)*lda+p0 : (i0+2)*lda+p0+kb]
			r3 := a[(i0+3)*lda+p0 : (i0+3)*lda+p0+kb]
			r4 := a[(i0+4)*lda+p0 : (i0+4)*lda+p0+kb]
			r5 := a[(i0+5)*lda+p0 : (i0+5)*lda+p0+kb]
			for p := range r0 {
				d := blk[p*mr : p*mr+mr : p*mr+mr]
				d[0], d[1], d[2] = alpha*r0[p], alpha*r1[p], alpha*r2[p]
				d[3], d[4], d[5] = alpha*r3[p], alpha*r4[p], alpha*r5[p]
			}
			continue
		}
		for i := range mb {
			row := a[(i0+i)*lda+p0 : (i0+i)*lda+p0+kb]
			for p, v := range row {
				blk[p*mr+i] = alpha * v
			}
		}
	}
}

// packB writes op(B)[p0:p0+kb, 0:n] as panels of 16 columns, each panel
// p-major (bp[panel·kb·16 + p·16 + j]), padding the last panel with zeros.
func packB(tB bool, b []float32, ldb, n, p0, kb int, bp []float32) {
	for j0 := 0; j0 < n; j0 += nr {
		panel := bp[(j0/nr)*kb*nr : (j0/nr+1)*kb*nr]
		nb := min(nr, n-j0)
		if nb < nr {
			clear(panel)
		}
		if tB { // op(B)[p, j] = b[j·ldb + p]: a transpose, 16 columns at a time
			var cols [nr][]float32
			for j := range nb {
				cols[j] = b[(j0+j)*ldb+p0 : (j0+j)*ldb+p0+kb]
			}
			for p := range kb {
				d := panel[p*nr : p*nr+nb]
				for j := range d {
					d[j] = cols[j][p]
				}
			}
			continue
		}
		for p := range kb {
			copy(panel[p*nr:p*nr+nb], b[(p0+p)*ldb+j0:])
		}
	}
}
