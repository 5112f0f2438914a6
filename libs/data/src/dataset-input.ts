import type { DatasetManifest, Modality } from '@sgfd/contracts';
import type { FeatureMatrix } from './types';

/** Interaction rows as parallel columns (the layout of interactions.parquet). */
export interface InteractionColumns {
  users: Int32Array;
  items: Int32Array;
  /** 0 = train, 1 = valid, 2 = test. */
  splits: Int8Array;
  ratings: Float32Array;
  timestamps: BigInt64Array;
}

export type DatasetSource = DatasetManifest['source'];

/**
 * Where the rows of an in-memory table came from, so validation errors can name the user's file and row.
 * The reported row of element k is `k + rowBase` (text files: their line numbers, header on line 1).
 */
export interface RowOrigin {
  file: string;
  rowBase: number;
}

/** A complete dataset in memory, before it becomes a snapshot. */
export interface DatasetInput {
  nUsers: number;
  nItems: number;
  interactions: InteractionColumns;
  /** One category per item, or null when the source has none. */
  categories: Int32Array | null;
  features: Partial<Record<Modality, FeatureMatrix>>;
  source: DatasetSource;
  /** The source's own user and item ids by dense index (kept in users.parquet / items.parquet). */
  ids?: { users: string[]; items: string[] };
  /** The label of each category id, when the source named its categories. */
  categoryLabels?: string[];
  origin?: {
    interactions?: RowOrigin;
    categories?: RowOrigin;
    features?: Partial<Record<Modality, RowOrigin>>;
  };
}

export function inMemoryOrigin(name: string): RowOrigin {
  return { file: `${name} (in memory)`, rowBase: 0 };
}
