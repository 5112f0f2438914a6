import type { Modality } from '@sgfd/contracts';
import type { CatalogueItems } from '@sgfd/data';

/** What an item gives an encoder: its input and the hash of its content, or why it has none. */
export type PreparedItem<I> = { hash: string; input: I } | { problem: string; path: string };

/**
 * One modality's encoder with its settings. `identity` names the model (by its file's pinned or computed
 * sha256) and every setting that changes the output; it keys the feature cache and is known without
 * loading the model, so an extraction whose items are all in the cache never loads it.
 */
export interface ModalityEncoder<I = unknown> {
  modality: Modality;
  identity: Record<string, unknown>;
  prepare(items: CatalogueItems, index: number): Promise<PreparedItem<I>>;
  /** Loads the model on the first call (later calls return the same): only when an item must be encoded. */
  load(): Promise<LoadedEncoder<I>>;
  /** True once `load` has been called. */
  readonly loaded: boolean;
  /** Releases the model if it was loaded. */
  dispose(): Promise<void>;
}

/** A loaded model: its output width and the encoding of a batch. */
export interface LoadedEncoder<I = unknown> {
  dim: number;
  /** Row-major features of `inputs`; rows listed in `failed` (e.g. an undecodable image) are not used. */
  encode(inputs: I[]): Promise<EncodedBatch>;
}

export interface EncodedBatch {
  features: Float32Array;
  failed: { index: number; problem: string }[];
}

/** `load` and `dispose` around a loader that runs at most once (a failed load is tried again). */
export function lazyModel<I>(
  open: () => Promise<LoadedEncoder<I> & { release(): Promise<void> }>,
): Pick<ModalityEncoder<I>, 'load' | 'loaded' | 'dispose'> {
  let model: Promise<LoadedEncoder<I> & { release(): Promise<void> }> | null = null;
  return {
    load() {
      model ??= open().catch((err: unknown) => {
        model = null;
        throw err;
      });
      return model;
    },
    get loaded() {
      return model !== null;
    },
    async dispose() {
      const opened = model;
      model = null;
      if (opened) await (await opened.catch(() => null))?.release();
    },
  };
}
