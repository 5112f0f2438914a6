import { ConfigError } from '@sgfd/contracts';
import { hasTensorFile, readTensorFile, tensorIndexPath, writeTensorFile, type StoredArrays } from '@sgfd/models';
import type { RngState } from '@sgfd/tensor';
import type { EpochRecord } from './progress';

export const CHECKPOINT_BASE = 'checkpoint';

/** Everything needed to continue a run exactly where it was at the end of `epoch`. */
export interface LoopState {
  epoch: number;
  rng: RngState;
  best: { epoch: number; score: number; metrics: Record<string, number> };
  /** Evaluations in a row without improvement. */
  sinceImprovement: number;
  history: EpochRecord[];
  elapsedMs: number;
  adamSteps: Record<string, number>;
}

export interface Checkpoint {
  state: LoopState;
  weights: StoredArrays;
  bestWeights: StoredArrays | null;
  adam: StoredArrays;
}

interface Meta {
  kind: 'sgfd-checkpoint';
  /** Hash of what the run depends on (stage, config, dataset): a checkpoint only resumes its own run. */
  fingerprint: string;
  state: LoopState;
  hasBest: boolean;
}

function group(arrays: StoredArrays, prefix: string): StoredArrays {
  const out: StoredArrays = {};
  for (const [name, a] of Object.entries(arrays)) if (name.startsWith(prefix)) out[name.slice(prefix.length)] = a;
  return out;
}

function withPrefix(arrays: StoredArrays, prefix: string): StoredArrays {
  return Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** Atomic: the binary goes first under a content-hashed name, the JSON index last by rename. */
export async function saveCheckpoint(dir: string, fingerprint: string, checkpoint: Checkpoint): Promise<void> {
  const arrays: StoredArrays = {
    ...withPrefix(checkpoint.weights, 'weights/'),
    ...withPrefix(checkpoint.adam, 'adam/'),
    ...(checkpoint.bestWeights ? withPrefix(checkpoint.bestWeights, 'best/') : {}),
  };
  const meta: Meta = {
    kind: 'sgfd-checkpoint',
    fingerprint,
    state: checkpoint.state,
    hasBest: checkpoint.bestWeights !== null,
  };
  await writeTensorFile(dir, CHECKPOINT_BASE, arrays, meta);
}

/** The checkpoint in `dir`, or null when there is none; a checkpoint of another run is an error. */
export async function loadCheckpoint(dir: string, fingerprint: string): Promise<Checkpoint | null> {
  if (!hasTensorFile(dir, CHECKPOINT_BASE)) return null;
  const { arrays, meta } = await readTensorFile(dir, CHECKPOINT_BASE);
  const m = meta as Meta;
  if (m?.kind !== 'sgfd-checkpoint' || m.fingerprint !== fingerprint) {
    throw new ConfigError(
      'The checkpoint directory holds a checkpoint of a different run (config or dataset changed)',
      {
        file: tensorIndexPath(dir, CHECKPOINT_BASE),
        field: 'fingerprint',
        expected: fingerprint,
        found: String(m?.fingerprint),
      },
    );
  }
  return {
    state: m.state,
    weights: group(arrays, 'weights/'),
    adam: group(arrays, 'adam/'),
    bestWeights: m.hasBest ? group(arrays, 'best/') : null,
  };
}
