import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../backend';
import { createRng } from '../rng';
import { compareValueAndGradient, liveCountsAcross, maxRelativeError, randomTensor, useBackend } from '../testing';
import { tf } from '../tf';
import { setSparseKernelsEnabled, sparseKernels } from '../wasm/sparse-kernels';
import { spmm } from './ops';
import { SparseMatrix, sparseFromCoo } from './sparse-matrix';

/** A random sparse matrix with some empty rows and columns and a few duplicate coordinates. */
function randomSparse(nRows: number, nCols: number, nnz: number, seed: number): SparseMatrix {
  const rng = createRng(seed);
  const rows = Int32Array.from({ length: nnz }, () => rng.int(nRows - 2));
  const cols = Int32Array.from({ length: nnz }, () => rng.int(nCols - 1));
  const values = Float32Array.from({ length: nnz }, () => 2 * rng.float() - 1);
  return sparseFromCoo(rows, cols, values, nRows, nCols);
}

describe('sparseFromCoo', () => {
  it('builds sorted CSR rows, sums duplicates and keeps empty rows', () => {
    const a = sparseFromCoo([2, 0, 2, 0, 2], [1, 3, 0, 3, 1], [1, 2, 3, 4, 5], 4, 4);
    expect(Array.from(a.indptr)).toEqual([0, 1, 1, 3, 3]);
    expect(Array.from(a.indices)).toEqual([3, 0, 1]);
    expect(Array.from(a.values!)).toEqual([6, 3, 6]);
    expect(a.nnz).toBe(3);
    expect(Array.from(a.toDense())).toEqual([0, 0, 0, 6, 0, 0, 0, 0, 3, 6, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps a precomputed transpose whose transpose is the matrix itself', () => {
    const a = randomSparse(9, 6, 30, 1);
    const t = a.transpose();
    expect([t.nRows, t.nCols]).toEqual([6, 9]);
    const dense = a.toDense();
    const denseT = t.toDense();
    for (let i = 0; i < 9; i++) for (let j = 0; j < 6; j++) expect(denseT[j * 9 + i]).toBe(dense[i * 6 + j]);
    expect(t.transpose()).toBe(a);
    for (let r = 0; r < t.nRows; r++) {
      const row = Array.from(t.indices.subarray(t.indptr[r], t.indptr[r + 1]));
      expect(row).toEqual([...row].sort((x, y) => x - y));
    }
  });

  it('rejects coordinates outside the shape and inconsistent CSR arrays', () => {
    expect(() => sparseFromCoo([0, 3], [0, 0], [1, 1], 3, 3)).toThrow(/row 3 at 1 is not in \[0, 3\)/);
    expect(() => sparseFromCoo([0], [-1], [1], 3, 3)).toThrow(/col -1 at 0/);
    expect(() => sparseFromCoo([0], [0, 1], [1], 3, 3)).toThrow(/differ in length/);
    expect(() =>
      SparseMatrix.fromCsr({
        indptr: Int32Array.from([0, 2]),
        indices: Int32Array.from([0]),
        values: Float32Array.from([1]),
        nRows: 1,
        nCols: 2,
      }),
    ).toThrow(/do not describe/);
  });

  it('gives its structure other values, sharing what the structure derived', () => {
    const a = randomSparse(9, 6, 30, 3);
    const pattern = SparseMatrix.fromCsr({ indptr: a.indptr, indices: a.indices, nRows: 9, nCols: 6 });
    const doubled = pattern.withValues(Float32Array.from(a.values!, (v) => 2 * v));
    expect(Array.from(doubled.transpose().toDense())).toEqual(Array.from(a.transpose().toDense(), (v) => 2 * v));
    expect(doubled.transposePermutation).toBe(pattern.transposePermutation);
    expect(doubled.rows).toBe(pattern.rows);
    expect(() => pattern.withValues(new Float32Array(3))).toThrow(/but 3 values/);
  });
});

describe.each<BackendName>(['cpu', 'wasm', 'tensorflow'])('spmm on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('equals the dense product', () => {
    const a = randomSparse(30, 20, 120, 2);
    const x = randomTensor([20, 8], 3) as tf.Tensor2D;
    const sparse = spmm(a, x);
    const dense = tf.tidy(() => tf.matMul(tf.tensor2d(a.toDense(), [30, 20]), x));
    expect(sparse.shape).toEqual([30, 8]);
    expect(maxRelativeError(sparse.dataSync(), dense.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, sparse, dense]);
  });

  // Off the native engine the product is the SIMD kernel; the JavaScript loop it replaced is the reference.
  it.skipIf(backend === 'tensorflow')('runs the SIMD kernel, which the JavaScript CSR loop agrees with', () => {
    expect(sparseKernels()).not.toBeNull();
    const a = randomSparse(40, 25, 200, 5);
    for (const width of [3, 16, 21]) {
      const x = randomTensor([25, width], width) as tf.Tensor2D;
      const simd = spmm(a, x);
      setSparseKernelsEnabled(false);
      try {
        const js = spmm(a, x);
        expect(maxRelativeError(simd.dataSync(), js.dataSync())).toBeLessThan(1e-5);
        js.dispose();
      } finally {
        setSparseKernelsEnabled(true);
      }
      tf.dispose([x, simd]);
    }
  });

  it('has the gradient of the dense product through two propagation layers', () => {
    // LightGCN-like: A is square, applied twice, a nonlinear loss on top.
    const a = randomSparse(25, 25, 90, 4);
    const x = randomTensor([25, 6], 5);
    const r = randomTensor([25, 6], 6);
    const aDense = tf.tensor2d(a.toDense(), [25, 25]);
    const sparseLoss = (e: tf.Tensor) => tf.sum(tf.mul(tf.tanh(spmm(a, spmm(a, e as tf.Tensor2D))), r));
    const denseLoss = (e: tf.Tensor) =>
      tf.sum(tf.mul(tf.tanh(tf.matMul(aDense, tf.matMul(aDense, e as tf.Tensor2D))), r));
    const compared = compareValueAndGradient(sparseLoss, denseLoss, x);
    expect(compared.actual).toBeCloseTo(compared.expected, 4);
    expect(compared.gradientError).toBeLessThan(1e-5);
    tf.dispose([x, r, aDense]);
  });

  it('has a gradient that matches central finite differences', () => {
    const a = randomSparse(12, 10, 40, 7);
    const x0 = randomTensor([10, 3], 8);
    const r = randomTensor([12, 3], 9);
    const loss = (e: tf.Tensor) => tf.sum(tf.mul(tf.square(spmm(a, e as tf.Tensor2D)), r));
    const grad = tf.grad(loss)(x0).dataSync();
    const base = x0.dataSync();
    const eps = 1e-2;
    for (const i of [0, 4, 13, 29]) {
      const at = (delta: number) =>
        tf.tidy(() => {
          const v = Float32Array.from(base);
          v[i] += delta;
          return loss(tf.tensor2d(v, [10, 3])).dataSync()[0];
        });
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(grad[i] - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    }
    tf.dispose([x0, r]);
  });

  it('refuses a pattern without values', () => {
    const a = randomSparse(5, 4, 8, 10);
    const pattern = SparseMatrix.fromCsr({ indptr: a.indptr, indices: a.indices, nRows: 5, nCols: 4 });
    const x = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => spmm(pattern, x)).toThrow(/has no values/);
    x.dispose();
  });

  it('rejects a dense operand of the wrong height', () => {
    const a = randomSparse(5, 4, 8, 10);
    const x = tf.zeros([5, 2]) as tf.Tensor2D;
    expect(() => spmm(a, x)).toThrow(/spmm: expected \[4, d\], got \[5,2\]/);
    x.dispose();
  });

  it('leaves no tensors or buffers behind across repeated forward and backward passes', () => {
    const a = randomSparse(40, 40, 200, 11);
    const e = tf.variable(randomTensor([40, 4], 12) as tf.Tensor2D);
    const step = () =>
      tf
        .tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(spmm(a, spmm(a, e)))));
          return tf.add(value, tf.sum(grads[e.name]));
        })
        .dispose();
    const { before, after } = liveCountsAcross(step);
    expect(after).toEqual(before);
    e.dispose();
  });
});
