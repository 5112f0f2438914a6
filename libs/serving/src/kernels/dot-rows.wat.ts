// WebAssembly text of the dot scorer's kernel, compiled at load by wabt (dot-rows.ts). It is text in a .ts
// module, not a .wat file beside it, so that bundlers carry it without a loader.
export const DOT_ROWS_WAT = `
(module
  (memory (export "memory") 1)
  ;; out[i] = sum_k user[k] * items[i * d + k] for i in [0, n): items row-major f32, four lanes at a time
  ;; over the first d & ~3 columns (two accumulators, so two multiply-add chains overlap), the rest scalar.
  (func (export "dotRows")
    (param $items i32) (param $n i32) (param $d i32) (param $user i32) (param $out i32)
    (local $i i32) (local $k i32) (local $row i32) (local $d4 i32) (local $d8 i32)
    (local $a v128) (local $b v128) (local $s f32)
    (local.set $d4 (i32.and (local.get $d) (i32.const -4)))
    (local.set $d8 (i32.and (local.get $d) (i32.const -8)))
    (local.set $row (local.get $items))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (v128.const f32x4 0 0 0 0))
        (local.set $b (v128.const f32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $eights_done
          (loop $eights
            (br_if $eights_done (i32.ge_u (local.get $k) (local.get $d8)))
            (local.set $a (f32x4.add (local.get $a)
              (f32x4.mul
                (v128.load (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 2))))
                (v128.load (i32.add (local.get $user) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $b (f32x4.add (local.get $b)
              (f32x4.mul
                (v128.load offset=16 (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 2))))
                (v128.load offset=16 (i32.add (local.get $user) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 8)))
            (br $eights)))
        (if (i32.lt_u (local.get $k) (local.get $d4))
          (then
            (local.set $a (f32x4.add (local.get $a)
              (f32x4.mul
                (v128.load (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 2))))
                (v128.load (i32.add (local.get $user) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))))
        (local.set $a (f32x4.add (local.get $a) (local.get $b)))
        (local.set $s
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
            (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $k) (local.get $d)))
            (local.set $s (f32.add (local.get $s)
              (f32.mul
                (f32.load (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 2))))
                (f32.load (i32.add (local.get $user) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $tail)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $d) (i32.const 2))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
`;
