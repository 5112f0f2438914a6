/**
 * A ridge-regression linear probe: one-vs-rest least squares on one-hot targets with an L2 penalty, solved in
 * closed form (Cholesky of X'X + lambda I), then argmax. Returns the accuracy on the held-out rows.
 */
export function ridgeProbeAccuracy(
  features: Float32Array,
  dim: number,
  labels: Int32Array,
  nClasses: number,
  isTrain: (row: number) => boolean,
  lambda = 1,
): number {
  const n = labels.length;
  const d = dim + 1; // a bias column
  const xtx = new Float64Array(d * d);
  const xty = new Float64Array(d * nClasses);
  const row = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    if (!isTrain(r)) continue;
    for (let j = 0; j < dim; j++) row[j] = features[r * dim + j]!;
    row[dim] = 1;
    for (let a = 0; a < d; a++) {
      const va = row[a]!;
      if (va === 0) continue;
      for (let b = 0; b < d; b++) xtx[a * d + b] += va * row[b]!;
      xty[a * nClasses + labels[r]!] += va;
    }
  }
  for (let a = 0; a < dim; a++) xtx[a * d + a] += lambda;
  const w = choleskySolve(xtx, xty, d, nClasses);
  let correct = 0;
  let total = 0;
  for (let r = 0; r < n; r++) {
    if (isTrain(r)) continue;
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < nClasses; c++) {
      let s = w[dim * nClasses + c]!;
      for (let j = 0; j < dim; j++) s += features[r * dim + j]! * w[j * nClasses + c]!;
      if (s > bestScore) [best, bestScore] = [c, s];
    }
    total++;
    if (best === labels[r]) correct++;
  }
  return correct / total;
}

/** Solves A X = B for symmetric positive definite A (d x d), B (d x m), in place of nothing. */
function choleskySolve(a: Float64Array, b: Float64Array, d: number, m: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      l[i * d + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / l[j * d + j]!;
    }
  }
  const y = new Float64Array(d * m);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < d; i++) {
      let s = b[i * m + c]!;
      for (let k = 0; k < i; k++) s -= l[i * d + k]! * y[k * m + c]!;
      y[i * m + c] = s / l[i * d + i]!;
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = y[i * m + c]!;
      for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * y[k * m + c]!;
      y[i * m + c] = s / l[i * d + i]!;
    }
  }
  return y;
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
