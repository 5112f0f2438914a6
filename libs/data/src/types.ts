import type { DatasetManifest, Modality } from '@sgfd/contracts';
import type { CsrStructure } from '@sgfd/tensor';

/** Interactions of one split as parallel arrays. */
export interface InteractionPairs {
  users: Int32Array;
  items: Int32Array;
}

export interface FeatureMatrix {
  rows: number;
  dim: number;
  /** Row-major rows x dim. */
  data: Float32Array;
}

/** A snapshot loaded into typed arrays, ready for training. */
export interface LoadedDataset {
  manifest: DatasetManifest;
  /** The snapshot directory it was loaded from (absent for datasets built in memory). */
  dir?: string;
  nUsers: number;
  nItems: number;
  /** Null when the source carries no categories (SGFD cannot run). */
  nCategories: number | null;
  categories: Int32Array | null;
  features: Partial<Record<Modality, FeatureMatrix>>;
  splits: { train: InteractionPairs; valid: InteractionPairs; test: InteractionPairs };
  /** Training interactions per user (sorted item ids), for masking and negative sampling. */
  /** The items of user u are indices[indptr[u] .. indptr[u + 1]). */
  trainCsr: CsrStructure;
}
