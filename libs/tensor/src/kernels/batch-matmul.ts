import type { KernelArgs, KernelFunc } from './registry';
import { swapLastTwoAxes } from './transpose';

/**
 * wasm BatchMatMul with a transposed operand leaves XNNPACK for a slow generic loop (2048x4096 by
 * 2048x64 with transposeA: 1.8 s against 35 ms without it), so flagged operands are transposed
 * explicitly first and the product is computed plainly.
 * Measured and rejected: computing C^T = op(B)^T op(A)^T to transpose only small operands; XNNPACK
 * repacks its right operand on every call, so moving the big matrix there costs what it saves.
 */
export function makeWasmBatchMatMul(stock: KernelFunc | undefined): KernelFunc {
  if (!stock) throw new Error('wasm BatchMatMul kernel missing');
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return stock(args);
    const a = transposeA ? swapLastTwoAxes(backend, inputs['a']) : inputs['a'];
    const b = transposeB ? swapLastTwoAxes(backend, inputs['b']) : inputs['b'];
    try {
      return stock({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (transposeA) backend.disposeData(a.dataId);
      if (transposeB) backend.disposeData(b.dataId);
    }
  };
}
