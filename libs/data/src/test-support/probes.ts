/**
 * Small, independent baselines used by tests to prove that a dataset carries learnable structure:
 * full-ranking Recall@K of popularity, item-kNN and random scorers, and a ridge (least-squares) linear
 * classifier of categories from features. Plain TypeScript, no tensor library.
 */
import type { CsrStructure } from '@sgfd/tensor';
import type { InteractionPairs } from '../types';
import { buildCsr } from '../csr';
import { Rng } from '../random';

/** Mean over users with test items of |top-K ∩ test| / min(K, |test|), training items masked. */
export function recallAtK(
  score: (user: number, out: Float64Array) => void,
  train: CsrStructure,
  test: InteractionPairs,
  nUsers: number,
  nItems: number,
  k: number,
): number {
  const testCsr = buildCsr(test, nUsers);
  const scores = new Float64Array(nItems);
  let total = 0;
  let users = 0;
  for (let u = 0; u < nUsers; u++) {
    const t0 = testCsr.indptr[u];
    const t1 = testCsr.indptr[u + 1];
    if (t1 === t0) continue;
    score(u, scores);
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) scores[train.indices[p]] = -Infinity;
    const top = topK(scores, k);
    let hits = 0;
    for (let p = t0; p < t1; p++) if (top.has(testCsr.indices[p])) hits++;
    total += hits / Math.min(k, t1 - t0);
    users++;
  }
  return total / users;
}

function topK(scores: Float64Array, k: number): Set<number> {
  const idx = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  return new Set(idx.slice(0, k));
}

export function popularityScorer(train: CsrStructure, nItems: number): (u: number, out: Float64Array) => void {
  const count = new Float64Array(nItems);
  for (const i of train.indices) count[i]++;
  return (_u, out) => out.set(count);
}

export function randomScorer(seed: number): (u: number, out: Float64Array) => void {
  const rng = new Rng(seed);
  return (_u, out) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.float();
  };
}

/** Item-based kNN: cosine similarity of item columns of the training matrix, summed over the user's items. */
export function itemKnnScorer(
  train: CsrStructure,
  nUsers: number,
  nItems: number,
): (u: number, out: Float64Array) => void {
  const sim = new Float64Array(nItems * nItems);
  const degree = new Float64Array(nItems);
  for (let u = 0; u < nUsers; u++) {
    const own = train.indices.subarray(train.indptr[u], train.indptr[u + 1]);
    for (const i of own) {
      degree[i]++;
      for (const j of own) if (i !== j) sim[i * nItems + j]++;
    }
  }
  for (let i = 0; i < nItems; i++) {
    for (let j = 0; j < nItems; j++) {
      const d = Math.sqrt(degree[i] * degree[j]);
      sim[i * nItems + j] = d > 0 ? sim[i * nItems + j] / d : 0;
    }
  }
  return (u, out) => {
    out.fill(0);
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
      const j = train.indices[p];
      for (let i = 0; i < nItems; i++) out[i] += sim[j * nItems + i];
    }
  };
}

/**
 * Accuracy on held-out rows of a ridge regression onto one-hot labels (kernel form, so it is cheap for
 * 4096-d features and a few hundred items). Columns are centred on the training rows.
 */
export function linearProbeAccuracy(
  x: Float32Array,
  dim: number,
  labels: Int32Array,
  nClasses: number,
  isTrain: (row: number) => boolean,
  lambda = 1,
): number {
  const rows = labels.length;
  const trainRows: number[] = [];
  const testRows: number[] = [];
  for (let r = 0; r < rows; r++) (isTrain(r) ? trainRows : testRows).push(r);
  const mean = new Float64Array(dim);
  for (const r of trainRows) for (let d = 0; d < dim; d++) mean[d] += x[r * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= trainRows.length;
  const centred = (r: number): Float64Array => {
    const v = new Float64Array(dim);
    for (let d = 0; d < dim; d++) v[d] = x[r * dim + d] - mean[d];
    return v;
  };
  const tr = trainRows.map(centred);
  const n = tr.length;
  const gram = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += tr[a][d] * tr[b][d];
      gram[a * n + b] = s;
      gram[b * n + a] = s;
    }
  }
  let trace = 0;
  for (let a = 0; a < n; a++) trace += gram[a * n + a];
  const ridge = (lambda * trace) / n;
  for (let a = 0; a < n; a++) gram[a * n + a] += ridge;
  // Targets: one-hot minus class frequency (centred), solved for all classes at once.
  const y = new Float64Array(n * nClasses);
  trainRows.forEach((r, a) => (y[a * nClasses + labels[r]] = 1));
  const alpha = solveSpd(gram, y, n, nClasses);
  let correct = 0;
  for (const r of testRows) {
    const v = centred(r);
    const k = tr.map((t) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += t[d] * v[d];
      return s;
    });
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < nClasses; c++) {
      let s = 0;
      for (let a = 0; a < n; a++) s += k[a] * alpha[a * nClasses + c];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best === labels[r]) correct++;
  }
  return correct / testRows.length;
}

/** Solves A X = B for symmetric positive definite A (n x n) by Cholesky; B is n x m, row-major. */
function solveSpd(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j];
    }
  }
  const x = b.slice();
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * x[k * m + c];
      x[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k * m + c];
      x[i * m + c] = s / l[i * n + i];
    }
  }
  return x;
}

/** Share of the most frequent label among the held-out rows: what guessing one class gets. */
export function majorityAccuracy(labels: Int32Array, nClasses: number, isTest: (row: number) => boolean): number {
  const counts = new Int32Array(nClasses);
  let total = 0;
  labels.forEach((c, r) => {
    if (isTest(r)) {
      counts[c]++;
      total++;
    }
  });
  return Math.max(...counts) / total;
}
