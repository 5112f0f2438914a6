import type { ScoringBundle } from './scoring-bundle';

/** A model in service: its bundle, where it came from, and the item norms for similar-item queries. */
export interface ServedModel {
  bundle: ScoringBundle;
  /** The bundle's folder. */
  source: string;
  /** When this process started serving it. */
  since: string;
  /** |item vector| for every item (cosine similarity of items). */
  itemNorms: Float32Array;
}

export function servedModel(bundle: ScoringBundle, source: string): ServedModel {
  const { rows, cols, data } = bundle.representations.items;
  const itemNorms = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += data[i * cols + k] * data[i * cols + k];
    itemNorms[i] = Math.sqrt(s);
  }
  return { bundle, source, since: new Date().toISOString(), itemNorms };
}

/**
 * What the server asks for the model at the start of every request; a source that follows a champion
 * swaps it only once the next model is fully loaded, so a request never sees a half-loaded model, and a
 * request in flight keeps the model it started with.
 */
export interface ModelSource {
  current(): ServedModel;
  close(): Promise<void>;
}

export function fixedModelSource(model: ServedModel): ModelSource {
  return { current: () => model, close: async () => undefined };
}

/** Cosine similarity of `item` to every item, into `out`; the item itself gets -Infinity. */
export function similarityScores(model: ServedModel, item: number, out: Float32Array): void {
  const { cols, data } = model.bundle.representations.items;
  const norms = model.itemNorms;
  const base = item * cols;
  for (let j = 0; j < norms.length; j++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += data[base + k] * data[j * cols + k];
    out[j] = s / Math.max(norms[item] * norms[j], 1e-12);
  }
  out[item] = -Infinity;
}
