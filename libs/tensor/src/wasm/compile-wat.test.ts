import { describe, expect, it } from 'vitest';
import { compileWat, ensureMemory, instantiate, WASM_PAGE_BYTES, type WasmMemory } from './compile-wat';

describe('compileWat', () => {
  it('compiles WebAssembly text with SIMD to a module that runs', async () => {
    const module = await compileWat(
      'lanes.wat',
      `(module (func (export "sum") (param $a f32) (result f32)
         (local $v v128)
         (local.set $v (f32x4.splat (local.get $a)))
         (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))`,
    );
    expect((instantiate(module).sum as (a: number) => number)(1.5)).toBe(3);
  });

  it('rejects text that does not parse or validate, naming the file', async () => {
    await expect(compileWat('broken.wat', '(module (func (export "f") (result i32) (f32.const 1)))')).rejects.toThrow(
      /broken\.wat|type mismatch/,
    );
    await expect(compileWat('typo.wat', '(module (func (i32.nonsense)))')).rejects.toThrow(/typo\.wat/);
  });

  it('grows a memory to hold the bytes asked for, and refuses more than 4 GiB', async () => {
    const memory = instantiate(await compileWat('memory.wat', '(module (memory (export "memory") 1))'))
      .memory as WasmMemory;
    ensureMemory(memory, 3 * WASM_PAGE_BYTES + 1, 'test');
    expect(memory.buffer.byteLength).toBe(4 * WASM_PAGE_BYTES);
    ensureMemory(memory, 10, 'test');
    expect(memory.buffer.byteLength).toBe(4 * WASM_PAGE_BYTES);
    expect(() => ensureMemory(memory, 2 ** 32, 'big kernel')).toThrow(/big kernel: .* 4 GiB/);
  });
});
