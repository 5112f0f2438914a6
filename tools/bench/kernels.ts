// `npm run bench -- kernels [--slow] [--only spmm,topK]`: the custom kernels of @sgfd/tensor against the stock tfjs path,
// both measured in this run (best of a few repetitions after a warm-up, milliseconds: on a shared
// machine the minimum is the stable estimate of a kernel's own cost).
// --slow also runs the stock cpu segment sum on a 20k-row table (O(segments x rows), minutes).
import {
  cacheTranspose,
  createRng,
  initBackend,
  registerCustomKernels,
  releaseTranspose,
  restoreStockGradients,
  restoreStockKernel,
  setSparseKernelsEnabled,
  sparseArrayKernels,
  sparseFromCoo,
  spmm,
  tf,
  topK,
  type BackendName,
} from '@sgfd/tensor';

interface Row {
  bench: string;
  backend: string;
  /** The stock tfjs path (or the ops path the fused op replaces), or why it cannot run. */
  baselineMs: number | string;
  customMs: number;
}

const KERNELS = ['UnsortedSegmentSum', 'GatherV2', 'Transpose', 'BatchMatMul', 'Identity', 'Cast', 'Sum'];

/** Best wall time of `fn` (which must read its result back, so lazy work is counted). */
function measure(fn: () => void, reps: number, warmup = true): number {
  if (warmup) fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Runs `fn` with the stock kernels (but `keep`) and gradients of the active backend, then puts the custom ones back. */
function withStockKernels<T>(fn: () => T, keep: string[] = []): T {
  const backend = tf.getBackend();
  for (const name of KERNELS) if (!keep.includes(name)) restoreStockKernel(name, backend);
  restoreStockGradients();
  try {
    return fn();
  } finally {
    registerCustomKernels(backend);
  }
}

/** Stock time, or why there is none (wasm has no UnsortedSegmentSum at all). */
function measureStock(fn: () => void, reps: number, warmup = true): number | string {
  try {
    return withStockKernels(() => measure(fn, reps, warmup));
  } catch (error) {
    const message = (error as Error).message;
    return /not registered/.test(message) ? 'throws: no such kernel' : `throws: ${message.slice(0, 50)}`;
  }
}

async function use(backend: BackendName): Promise<void> {
  await initBackend({ prefer: backend, env: {}, log: () => undefined });
}

/** Switches to native TensorFlow; false (and a row saying so) when it is not available here. */
async function useNative(rows: Row[], what: string): Promise<boolean> {
  await use('tensorflow');
  if (tf.getBackend() === 'tensorflow') return true;
  rows.push({
    bench: `${what}: native TensorFlow not available`,
    backend: 'tensorflow',
    baselineMs: 'not run',
    customMs: NaN,
  });
  return false;
}

function randomNormal(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Gradient of a gather of `indices` rows from a [rows, dim] table: a segment sum into `rows` segments. */
function gatherGradient(
  rows: number,
  dim: number,
  nIndices: number,
  seed: number,
): { step: () => void; dispose: () => void } {
  const rng = createRng(seed);
  const table = randomNormal([rows, dim], seed);
  const indices = tf.tensor1d(
    Int32Array.from({ length: nIndices }, () => rng.int(rows)),
    'int32',
  );
  const weights = randomNormal([nIndices, dim], seed + 1);
  const grad = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, indices), weights)));
  return {
    step: () => tf.tidy(() => void grad(table).dataSync()),
    dispose: () => tf.dispose([table, indices, weights]),
  };
}

async function gatherBenches(rows: Row[], slow: boolean): Promise<void> {
  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    if (backend !== 'tensorflow') await use(backend);
    else if (!(await useNative(rows, 'gathers'))) continue;
    const small = gatherGradient(500, 64, 2048, 1);
    // The stock cpu kernel loops over segments (~10 s here): one timed run, no warm-up.
    const stockSmall = backend === 'cpu' ? measureStock(small.step, 1, false) : measureStock(small.step, 3);
    rows.push({
      bench: 'gather-gradient 2048 rows -> 500 x 64 (stock kernels)',
      backend,
      baselineMs: stockSmall,
      customMs: measure(small.step, 5),
    });
    small.dispose();

    const embedding = gatherGradient(20_000, 64, 2048, 2);
    // Only the stock cpu kernel is O(segments x rows): it runs with --slow, once.
    const stockEmbedding =
      backend !== 'cpu'
        ? measureStock(embedding.step, 3)
        : slow
          ? measureStock(embedding.step, 1, false)
          : 'not run (O(segments x rows); --slow)';
    rows.push({
      bench: 'gather-gradient 2048 rows of 20k x 64 (stock kernels)',
      backend,
      baselineMs: stockEmbedding,
      customMs: measure(embedding.step, 5),
    });
    embedding.dispose();

    const features = randomNormal([7_000, 4096], 3);
    const rng = createRng(4);
    const picks = tf.tensor1d(
      Int32Array.from({ length: 2048 }, () => rng.int(7_000)),
      'int32',
    );
    const gather = () => tf.tidy(() => void tf.gather(features, picks).dataSync());
    rows.push({
      bench: 'gather 2048 rows of 7k x 4096 (stock kernel)',
      backend,
      baselineMs: measureStock(gather, 3),
      customMs: measure(gather, 5),
    });
    tf.dispose([features, picks]);

    // The sampled rows of a graph op: many indices into a narrow table.
    const nodes = randomNormal([7_280, 64], 5);
    const edges = tf.tensor1d(
      Int32Array.from({ length: 170_000 }, () => rng.int(7_280)),
      'int32',
    );
    const edgeGather = () => tf.tidy(() => void tf.gather(nodes, edges).dataSync());
    rows.push({
      bench: 'gather 170k rows of 7,280 x 64 (stock kernel)',
      backend,
      baselineMs: measureStock(edgeGather, 3),
      customMs: measure(edgeGather, 5),
    });
    tf.dispose([nodes, edges]);
  }
}

async function matMulBenches(rows: Row[]): Promise<void> {
  await use('wasm');
  const x = randomNormal([2048, 4096], 5) as tf.Tensor2D;
  const dy = randomNormal([2048, 64], 6) as tf.Tensor2D;
  const w = randomNormal([4096, 64], 7) as tf.Tensor2D;
  // The right operand is made fresh in every call, as in a training step (XNNPACK caches the packing of
  // one it has seen before); the scale is counted on both sides.
  const weightGrad = () => tf.tidy(() => void tf.matMul(x, tf.mul(dy, 1.0001), true, false).dataSync());
  const inputGrad = () => tf.tidy(() => void tf.matMul(dy, tf.mul(w, 1.0001), false, true).dataSync());
  const plain = () => tf.tidy(() => void tf.matMul(x, tf.mul(w, 1.0001)).dataSync());
  rows.push({
    bench: 'matMul x^T dy, 4096x2048 . 2048x64 (stock kernel)',
    backend: 'wasm',
    baselineMs: measureStock(weightGrad, 3),
    customMs: measure(weightGrad, 5),
  });
  rows.push({
    bench: 'matMul dy W^T, 2048x64 . 64x4096 (stock kernel)',
    backend: 'wasm',
    baselineMs: measureStock(inputGrad, 3),
    customMs: measure(inputGrad, 5),
  });
  rows.push({
    bench: 'matMul x W, no transpose: same kernel (noise check)',
    backend: 'wasm',
    baselineMs: measureStock(plain, 3),
    customMs: measure(plain, 5),
  });
  tf.dispose([x, dy, w]);
  if (await useNative(rows, 'matMul')) nativeStepBenches(rows);
}

/**
 * The native engine's overrides on what a step of office does: the weight gradient F^T dY of the 2406 x
 * 4096 image features (BatchMatMul with a transposed left operand), a bias-like Sum's gradient (tfjs fills
 * a ones tensor in JavaScript; the override broadcasts) and a float32 -> float32 Cast (tfjs's Div and
 * Maximum gradients). Changing operands are made fresh in every call, counted on both sides.
 */
function nativeStepBenches(rows: Row[]): void {
  const f = randomNormal([2406, 4096], 8) as tf.Tensor2D;
  const dy = randomNormal([2406, 64], 9) as tf.Tensor2D;
  const rowsOf = randomNormal([2048, 128], 10);
  const scores = randomNormal([2048], 11);
  const weightGrad = () => tf.tidy(() => void tf.matMul(f, tf.mul(dy, 1.0001), true, false).dataSync());
  const sumGrad = () =>
    tf.tidy(
      () =>
        void tf
          .grad((x: tf.Tensor) => tf.sum(tf.mul(tf.sum(x, 1), 1.0001)))(rowsOf)
          .dataSync(),
    );
  const casts = () =>
    tf.tidy(() => {
      let x = tf.mul(scores, 1.0001);
      for (let i = 0; i < 100; i++) x = tf.cast(x, 'float32');
      void x.dataSync();
    });
  const cases: Array<[string, () => void]> = [
    ['matMul F^T dy, 2406x4096 features . 2406x64 (stock BatchMatMul, transposeA; custom: (dy^T F)^T)', weightGrad],
    [
      'gradient of a row Sum of 2048 x 128 (stock: dy times a ones tensor made in JavaScript; custom: BroadcastTo)',
      sumGrad,
    ],
    ['100 float32 -> float32 Casts of 2048 values (stock: a TensorFlow Cast each; custom: shared data)', casts],
  ];
  for (const [bench, fn] of cases)
    rows.push({ bench, backend: 'tensorflow', baselineMs: measureStock(fn, 7), customMs: measure(fn, 7) });
  tf.dispose([f, dy, rowsOf, scores]);
}

/**
 * What a training step of office does with its constant feature matrix and its biases: inputs that change
 * every step are made fresh in every call (an elementwise scale, counted on both sides), because XNNPACK
 * caches the packing of a right operand it has seen before.
 */
async function stepBenches(rows: Row[]): Promise<void> {
  await use('wasm');
  const features = randomNormal([2406, 4096], 8) as tf.Tensor2D;
  const dy = randomNormal([2406, 64], 9) as tf.Tensor2D;
  const activations = randomNormal([10240, 320], 10) as tf.Tensor2D;
  const weightGrad = () => tf.tidy(() => void tf.matMul(features, tf.mul(dy, 1.0001), true, false).dataSync());
  const transposedEveryCall = measure(weightGrad, 5);
  cacheTranspose(features);
  rows.push({
    bench: 'F^T dy, F a constant 2406x4096 (baseline: F transposed in every call, custom: cached transpose)',
    backend: 'wasm',
    baselineMs: transposedEveryCall,
    customMs: measure(weightGrad, 5),
  });
  releaseTranspose(features);
  const biasGrad = () => tf.tidy(() => void tf.sum(tf.mul(activations, 1.0001), 0).dataSync());
  rows.push({
    bench: 'bias gradient: Sum over the rows of a fresh 10240x320 (stock kernel)',
    backend: 'wasm',
    baselineMs: measureStock(biasGrad, 5),
    customMs: measure(biasGrad, 5),
  });
  const saved = () =>
    tf.tidy(() => {
      tf.clone(features);
    });
  rows.push({
    bench: 'a tensor saved for backward, 2406x4096 (stock Identity copies it)',
    backend: 'wasm',
    baselineMs: measureStock(saved, 5),
    customMs: measure(saved, 5),
  });
  tf.dispose([features, dy, activations]);
}

/** Runs `fn` with the sparse ops on their JavaScript loops instead of the WebAssembly SIMD kernels. */
function withJsLoops<T>(fn: () => T): T {
  setSparseKernelsEnabled(false);
  try {
    return fn();
  } finally {
    setSparseKernelsEnabled(true);
  }
}

/**
 * LightGCN-like propagation: bipartite graph, symmetric normalisation, both edge directions (the fixed-graph
 * product of BM3, FREEDOM and LATTICE). On wasm and cpu the fused op is the WebAssembly SIMD CSR kernel
 * (baseline: the JavaScript CSR loop it replaced, and the gather chain); on tensorflow, TensorFlow's
 * SparseTensorDenseMatMul.
 */
async function spmmBench(rows: Row[]): Promise<void> {
  await use('wasm');
  await spmmOn('wasm', rows, true);
  await use('cpu');
  // The stock cpu gather chain is not timed here: its segment sum is the custom one either way.
  await spmmOn('cpu', rows, false);
  if (await useNative(rows, 'spmm')) await spmmOn('tensorflow', rows, true);
}

async function spmmOn(backend: string, rows: Row[], opsBaselines: boolean): Promise<void> {
  const nUsers = 20_000;
  const nItems = 7_000;
  const nInteractions = 160_000;
  const dim = 64;
  const n = nUsers + nItems;
  const rng = createRng(8);
  const src = new Int32Array(2 * nInteractions);
  const dst = new Int32Array(2 * nInteractions);
  for (let k = 0; k < nInteractions; k++) {
    const u = rng.int(nUsers);
    const i = nUsers + rng.int(nItems);
    src[2 * k] = u;
    dst[2 * k] = i;
    src[2 * k + 1] = i;
    dst[2 * k + 1] = u;
  }
  const degree = new Float32Array(n);
  for (const s of src) degree[s]++;
  const weights = Float32Array.from(src, (s, k) => 1 / Math.sqrt(degree[s] * degree[dst[k]]));
  const adjacency = sparseFromCoo(src, dst, weights, n, n);

  const embedding = tf.variable(randomNormal([n, dim], 9) as tf.Tensor2D);
  const fused = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(spmm(adjacency, embedding))), [embedding]);
      grads[embedding.name].dataSync();
    });
  const label = `spmm fwd+bwd, ${adjacency.nnz} edges x ${dim}`;
  if (backend !== 'tensorflow') {
    rows.push({
      bench: `${label} (JavaScript CSR loop)`,
      backend,
      baselineMs: withJsLoops(() => measure(fused, 7)),
      customMs: measure(fused, 7),
    });
    // The sampled dense-dense product of the learned-weight ops (GRCN's attention, LATTICE's item graph).
    const x = embedding.dataSync() as Float32Array;
    const dots = () => void sparseArrayKernels().sddmm(adjacency.rows, adjacency.indices, x, x, dim);
    rows.push({
      bench: `sddmm, ${adjacency.nnz} edges x ${dim} (JavaScript loop)`,
      backend,
      baselineMs: withJsLoops(() => measure(dots, 7)),
      customMs: measure(dots, 7),
    });
  }
  if (opsBaselines) {
    // The same product from tfjs ops: gather the neighbours, weight them, sum them per row.
    const edgeRows = tf.tensor1d(adjacency.rows, 'int32');
    const edgeCols = tf.tensor1d(adjacency.indices, 'int32');
    const edgeWeights = tf.tensor2d(adjacency.requireValues('bench'), [adjacency.nnz, 1]);
    const ops = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () =>
            tf.sum(tf.square(tf.unsortedSegmentSum(tf.mul(tf.gather(embedding, edgeCols), edgeWeights), edgeRows, n))),
          [embedding],
        );
        grads[embedding.name].dataSync();
      });
    // Stock kernels where wasm has them; it has no UnsortedSegmentSum, so that one stays custom.
    const stock = withStockKernels(() => measure(ops, 2), ['UnsortedSegmentSum']);
    rows.push({
      bench: `${label} (gather+mul+segment-sum ops, stock gather)`,
      backend,
      baselineMs: stock,
      customMs: measure(fused, 5),
    });
    rows.push({
      bench: `${label} (same ops, custom kernels)`,
      backend,
      baselineMs: measure(ops, 2),
      customMs: measure(fused, 5),
    });
    tf.dispose([edgeRows, edgeCols, edgeWeights]);
  }
  embedding.dispose();
}

async function topKBench(rows: Row[]): Promise<void> {
  await use('wasm');
  const nUsers = 4874;
  const nItems = 2406;
  const k = 50;
  const scores = randomNormal([nUsers, nItems], 10);
  const ours = () => void topK(scores.dataSync() as Float32Array, nUsers, nItems, k);
  const stock = () => tf.tidy(() => void tf.topk(scores, k).indices.dataSync());
  rows.push({
    bench: `topK ${nUsers} x ${nItems}, k = ${k}, incl. read-back (tf.topk)`,
    backend: 'wasm',
    baselineMs: measure(stock, 3),
    customMs: measure(ours, 5),
  });
  scores.dispose();
}

function format(rows: Row[]): string {
  const cells = rows.map((r) => {
    const baseline = typeof r.baselineMs === 'number' ? r.baselineMs.toFixed(1) : r.baselineMs;
    const speedup = typeof r.baselineMs === 'number' ? `${(r.baselineMs / r.customMs).toFixed(1)}x` : '-';
    return [r.bench, r.backend, baseline, r.customMs.toFixed(1), speedup];
  });
  const header = ['benchmark (baseline)', 'backend', 'baseline ms', 'custom ms', 'speedup'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export async function run(args: string[]): Promise<void> {
  const slow = args.includes('--slow');
  const rows: Row[] = [];
  const sections: Array<[string, (rows: Row[]) => Promise<void>]> = [
    ['gather', (r) => gatherBenches(r, slow)],
    ['matMul', matMulBenches],
    ['step', stepBenches],
    ['spmm', spmmBench],
    ['topK', topKBench],
  ];
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : undefined;
  for (const [name, bench] of sections) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`[bench kernels] ${name}...\n`);
    await bench(rows);
  }
  console.log(format(rows));
}
