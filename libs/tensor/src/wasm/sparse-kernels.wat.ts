// WebAssembly text of the sparse graph kernels, compiled at load by wabt (sparse-kernels.ts). It is text in a
// .ts module, not a .wat file beside it, so that bundlers carry it without a loader. All addresses are byte
// offsets into the module's own memory; rows are `dim` floats, row-major, any dim (SIMD over 16 and then 4
// columns at a time, the last dim % 4 columns scalar).
export const SPARSE_KERNELS_WAT = `
(module
  (memory (export "memory") 1)

  ;; spmm: out[r] = sum over q in [indptr[r], indptr[r + 1]) of vals[q] * x[cols[q]], for r in [0, nRows).
  ;; Each pass over a row's entries fills a strip of output columns held in v128 accumulators: 16 columns
  ;; (four accumulators) while they fit, then 4, then one at a time. An empty row writes zeros.
  (func (export "spmm")
    (param $indptr i32) (param $cols i32) (param $vals i32) (param $x i32) (param $out i32)
    (param $nRows i32) (param $dim i32)
    (local $r i32) (local $q i32) (local $qStart i32) (local $qEnd i32) (local $j i32) (local $xs i32) (local $o i32)
    (local $rowBytes i32) (local $end16 i32) (local $end4 i32)
    (local $v v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $w f32) (local $s f32)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $end16 (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (local.set $o (local.get $out))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $nRows)))
        ;; the row's entries are [qStart, qEnd)
        (local.set $qStart (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $qEnd (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $j (i32.const 0))
        ;; 16 columns a pass
        (block $strips16_done
          (loop $strips16
            (br_if $strips16_done (i32.ge_u (local.get $j) (local.get $end16)))
            (local.set $a0 (v128.const f32x4 0 0 0 0))
            (local.set $a1 (v128.const f32x4 0 0 0 0))
            (local.set $a2 (v128.const f32x4 0 0 0 0))
            (local.set $a3 (v128.const f32x4 0 0 0 0))
            (local.set $q (local.get $qStart))
            (block $entries_done
              (loop $entries
                (br_if $entries_done (i32.ge_u (local.get $q) (local.get $qEnd)))
                ;; xs = x + cols[q] * rowBytes + j; v = vals[q] in every lane
                (local.set $xs (i32.add (i32.add (local.get $x)
                  (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $q) (i32.const 2))))
                    (local.get $rowBytes)))
                  (local.get $j)))
                (local.set $v (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $q) (i32.const 2))))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load (local.get $xs)))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (v128.load offset=16 (local.get $xs)))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (v128.load offset=32 (local.get $xs)))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (v128.load offset=48 (local.get $xs)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $entries)))
            (v128.store (i32.add (local.get $o) (local.get $j)) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $o) (local.get $j)) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $o) (local.get $j)) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $o) (local.get $j)) (local.get $a3))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $strips16)))
        ;; 4 columns a pass
        (block $strips4_done
          (loop $strips4
            (br_if $strips4_done (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $a0 (v128.const f32x4 0 0 0 0))
            (local.set $q (local.get $qStart))
            (block $entries_done
              (loop $entries
                (br_if $entries_done (i32.ge_u (local.get $q) (local.get $qEnd)))
                (local.set $xs (i32.add (i32.add (local.get $x)
                  (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $q) (i32.const 2))))
                    (local.get $rowBytes)))
                  (local.get $j)))
                (local.set $v (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $q) (i32.const 2))))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load (local.get $xs)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $entries)))
            (v128.store (i32.add (local.get $o) (local.get $j)) (local.get $a0))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $strips4)))
        ;; the last dim % 4 columns, one at a time
        (block $columns_done
          (loop $columns
            (br_if $columns_done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $s (f32.const 0))
            (local.set $q (local.get $qStart))
            (block $entries_done
              (loop $entries
                (br_if $entries_done (i32.ge_u (local.get $q) (local.get $qEnd)))
                (local.set $w (f32.load (i32.add (local.get $vals) (i32.shl (local.get $q) (i32.const 2)))))
                (local.set $s (f32.add (local.get $s) (f32.mul (local.get $w)
                  (f32.load (i32.add (i32.add (local.get $x)
                    (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $q) (i32.const 2))))
                      (local.get $rowBytes)))
                    (local.get $j))))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $entries)))
            (f32.store (i32.add (local.get $o) (local.get $j)) (local.get $s))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $columns)))
        (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; sddmm: out[p] = <a[rows[p]], b[cols[p]]> for p in [0, nnz): four lanes at a time over the first
  ;; dim & ~3 columns, the rest scalar.
  (func (export "sddmm")
    (param $rows i32) (param $cols i32) (param $a i32) (param $b i32) (param $out i32)
    (param $nnz i32) (param $dim i32)
    (local $p i32) (local $j i32) (local $ao i32) (local $bo i32) (local $rowBytes i32) (local $end4 i32)
    (local $acc v128) (local $s f32)
    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $end4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (block $entries_done
      (loop $entries
        (br_if $entries_done (i32.ge_u (local.get $p) (local.get $nnz)))
        (local.set $ao (i32.add (local.get $a)
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $bo (i32.add (local.get $b)
          (i32.mul (i32.load (i32.add (local.get $cols) (i32.shl (local.get $p) (i32.const 2)))) (local.get $rowBytes))))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $lanes_done
          (loop $lanes
            (br_if $lanes_done (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul
                (v128.load (i32.add (local.get $ao) (local.get $j)))
                (v128.load (i32.add (local.get $bo) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $lanes)))
        (local.set $s
          (f32.add
            (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
              (f32x4.extract_lane 2 (local.get $acc)))
            (f32x4.extract_lane 3 (local.get $acc))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $s (f32.add (local.get $s)
              (f32.mul
                (f32.load (i32.add (local.get $ao) (local.get $j)))
                (f32.load (i32.add (local.get $bo) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $tail)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 2))) (local.get $s))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $entries))))
)
`;
