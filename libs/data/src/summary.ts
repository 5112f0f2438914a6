import { MODALITIES, type DatasetManifest, type Modality } from '@sgfd/contracts';
import type { LoadedDataset } from './types';

export interface CountStats {
  min: number;
  median: number;
  mean: number;
  max: number;
}

export interface FeatureStats {
  modality: Modality;
  dim: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of exact zeros (sparsity of image-like features). */
  zeroFraction: number;
  meanRowNorm: number;
}

export interface DatasetSummary {
  id: string;
  source: DatasetManifest['source'];
  users: number;
  items: number;
  interactions: number;
  /** interactions / (users x items) */
  density: number;
  splits: { train: number; valid: number; test: number };
  interactionsPerUser: CountStats;
  interactionsPerItem: CountStats;
  /** Items per category (index = category id), or null when the dataset has no categories. */
  categoryHistogram: number[] | null;
  features: FeatureStats[];
}

/** What `sgfd data inspect` shows: sizes, density, split sizes, category histogram, feature statistics. */
export function summarizeDataset(data: LoadedDataset): DatasetSummary {
  const { manifest } = data;
  const perUser = new Int32Array(data.nUsers);
  const perItem = new Int32Array(data.nItems);
  for (const split of [data.splits.train, data.splits.valid, data.splits.test]) {
    for (let k = 0; k < split.users.length; k++) {
      perUser[split.users[k]]++;
      perItem[split.items[k]]++;
    }
  }
  let histogram: number[] | null = null;
  if (data.categories && data.nCategories !== null) {
    histogram = new Array<number>(data.nCategories).fill(0);
    for (const c of data.categories) histogram[c]++;
  }
  return {
    id: manifest.id,
    source: manifest.source,
    users: data.nUsers,
    items: data.nItems,
    interactions: manifest.counts.interactions,
    density: manifest.counts.interactions / (data.nUsers * data.nItems),
    splits: { train: manifest.counts.train, valid: manifest.counts.valid, test: manifest.counts.test },
    interactionsPerUser: countStats(perUser),
    interactionsPerItem: countStats(perItem),
    categoryHistogram: histogram,
    features: MODALITIES.flatMap((m) => {
      const f = data.features[m];
      return f ? [featureStats(m, f.rows, f.dim, f.data)] : [];
    }),
  };
}

function countStats(counts: Int32Array): CountStats {
  const sorted = counts.slice().sort();
  let sum = 0;
  for (const c of counts) sum += c;
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { min: sorted[0], median, mean: sum / n, max: sorted[n - 1] };
}

function featureStats(modality: Modality, rows: number, dim: number, data: Float32Array): FeatureStats {
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  let norms = 0;
  for (let i = 0; i < rows; i++) {
    let rowSq = 0;
    for (let j = i * dim; j < (i + 1) * dim; j++) {
      const v = data[j];
      sum += v;
      rowSq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v === 0) zeros++;
    }
    sumSq += rowSq;
    norms += Math.sqrt(rowSq);
  }
  const n = rows * dim;
  const mean = sum / n;
  return {
    modality,
    dim,
    mean,
    std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    min,
    max,
    zeroFraction: zeros / n,
    meanRowNorm: norms / rows,
  };
}
