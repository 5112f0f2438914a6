import type { Modality } from '@sgfd/contracts';
import type { CatalogueItems } from '@sgfd/data';

/** What an item gives an encoder: its input and the hash of its content, or why it has none. */
export type PreparedItem<I> = { hash: string; input: I } | { problem: string; path: string };

/**
 * One modality's encoder with its settings. `identity` names the model (by its file's sha256) and every
 * setting that changes the output; it keys the feature cache.
 */
export interface ModalityEncoder<I = unknown> {
  modality: Modality;
  identity: Record<string, unknown>;
  dim: number;
  prepare(items: CatalogueItems, index: number): Promise<PreparedItem<I>>;
  /** Row-major features of `inputs`; rows listed in `failed` (e.g. an undecodable image) are not used. */
  encode(inputs: I[]): Promise<EncodedBatch>;
  dispose(): Promise<void>;
}

export interface EncodedBatch {
  features: Float32Array;
  failed: { index: number; problem: string }[];
}
