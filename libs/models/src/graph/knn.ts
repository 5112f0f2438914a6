import {
  customOpsAvailable,
  isNativeBackend,
  sparseFromCoo,
  tf,
  topK,
  topKRows,
  type SparseMatrix,
} from '@sgfd/tensor';
import { l2NormalizeRows, readAndDispose } from '../ops';

/** How neighbours are ranked. Cosine of the rows, as MMRec's `build_sim` (zero rows are similar to nothing). */
export const KNN_SIMILARITIES = ['cosine'] as const;
export type KnnSimilarity = (typeof KNN_SIMILARITIES)[number];

/** The k most similar items of every item (itself included, as in MMRec), best first. */
export interface KnnGraph {
  nItems: number;
  /** Neighbours per item: min(requested k, nItems). */
  k: number;
  /** Row-major [nItems, k] neighbour ids. */
  indices: Int32Array;
  /** Their similarities, same layout. */
  values: Float32Array;
}

export interface KnnOptions {
  similarity?: KnnSimilarity;
  /** Bound on the entries of one block of the similarity matrix (rows x nItems floats); sets the block height. */
  maxBlockEntries?: number;
}

const DEFAULT_BLOCK_ENTRIES = 1 << 22;

/**
 * The k best columns of rows [start, start + rows) of the similarity matrix. On the native engine they are
 * selected in place (the custom op SgfdTopK, else TensorFlow's TopKV2; both break ties to the lower index, as
 * topK), so only [rows, k] is read back instead of [rows, nItems] (LATTICE rebuilds its learned graphs this
 * way every epoch).
 */
function blockTopK(
  normalized: tf.Tensor2D,
  columns: tf.Tensor2D,
  start: number,
  rows: number,
  k: number,
): { indices: Int32Array; values: Float32Array } {
  const block = () => tf.matMul(tf.slice(normalized, [start, 0], [rows, -1]), columns) as tf.Tensor2D;
  if (isNativeBackend()) {
    const top = tf.tidy(() => (customOpsAvailable() ? topKRows(block(), k) : tf.topk(block(), k, true)));
    const values = readAndDispose(top.values);
    const indices = top.indices.dataSync() as Int32Array;
    top.indices.dispose();
    return { indices, values };
  }
  // Read outside tf.tidy: a typed array returned from tidy is walked element by element.
  const sims = readAndDispose(tf.tidy(block));
  return topK(sims, rows, normalized.shape[0], k);
}

/**
 * kNN of the rows of `features` [nItems, dim] by cosine similarity, computed in blocks of rows so that no
 * nItems^2 matrix is ever formed: each block's similarities (on the device) go through a top-k selection
 * and are dropped. Ties go to the lower item id.
 */
export function knnGraph(features: tf.Tensor2D, k: number, options: KnnOptions = {}): KnnGraph {
  const { maxBlockEntries = DEFAULT_BLOCK_ENTRIES } = options;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`knnGraph: k must be a positive integer, got ${k}`);
  const nItems = features.shape[0];
  const kk = Math.min(k, nItems);
  const indices = new Int32Array(nItems * kk);
  const values = new Float32Array(nItems * kk);
  const blockRows = Math.max(1, Math.floor(maxBlockEntries / Math.max(1, nItems)));
  const normalized = l2NormalizeRows(features);
  const columns = tf.transpose(normalized);
  try {
    for (let start = 0; start < nItems; start += blockRows) {
      const rows = Math.min(blockRows, nItems - start);
      const top = blockTopK(normalized, columns, start, rows, kk);
      indices.set(top.indices, start * kk);
      values.set(top.values, start * kk);
    }
  } finally {
    normalized.dispose();
    columns.dispose();
  }
  return { nItems, k: kk, indices, values };
}

/** The same kNN from a row-major Float32Array [rows, dim] (for features not on the device). */
export function knnGraphOf(
  data: Float32Array,
  rows: number,
  dim: number,
  k: number,
  options: KnnOptions = {},
): KnnGraph {
  const features = tf.tensor2d(data, [rows, dim]);
  try {
    return knnGraph(features, k, options);
  } finally {
    features.dispose();
  }
}

/** The graph's entries as coordinates: (item, neighbour) with the similarity, or 1 with `weights: 'ones'`. */
export function knnCoo(
  graph: KnnGraph,
  weights: 'similarity' | 'ones',
): { rows: Int32Array; cols: Int32Array; values: Float32Array } {
  const n = graph.nItems * graph.k;
  const rows = new Int32Array(n);
  for (let i = 0; i < graph.nItems; i++) rows.fill(i, i * graph.k, (i + 1) * graph.k);
  const values = weights === 'ones' ? new Float32Array(n).fill(1) : Float32Array.from(graph.values);
  return { rows, cols: Int32Array.from(graph.indices), values };
}

/**
 * D^-1/2 A D^-1/2 of the kNN adjacency A (weighted by similarity, as LATTICE, or by ones, as FREEDOM),
 * D its row sums; rows whose sum is not positive are zero.
 */
export function normalizedKnnAdjacency(graph: KnnGraph, weights: 'similarity' | 'ones'): SparseMatrix {
  const { rows, cols, values } = knnCoo(graph, weights);
  const sums = new Float64Array(graph.nItems);
  for (let p = 0; p < rows.length; p++) sums[rows[p]] += values[p];
  const scale = Float64Array.from(sums, (s) => (s > 0 ? 1 / Math.sqrt(s) : 0));
  for (let p = 0; p < rows.length; p++) values[p] *= scale[rows[p]] * scale[cols[p]];
  return sparseFromCoo(rows, cols, values, graph.nItems, graph.nItems);
}
