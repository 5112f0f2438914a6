import { ConfigError } from '@sgfd/contracts';
import {
  assignVariables,
  snapshotVariables,
  type LossTerms,
  type NamedVariables,
  type StoredArrays,
} from '@sgfd/models';
import { tf, type Rng } from '@sgfd/tensor';
import { Adam } from './adam';
import { loadCheckpoint, saveCheckpoint, type LoopState } from './checkpoint';
import {
  yieldToEventLoop,
  type EpochRecord,
  type LossSummary,
  type ProgressListener,
  type TrainingStage,
} from './progress';

export interface CheckpointOptions {
  dir: string;
  /** Save after every `every` epochs. */
  every: number;
  /** Identifies the run; a checkpoint with another fingerprint is refused. */
  fingerprint: string;
}

/** One early-stopped training loop: what to train, on what, and how to judge it. */
export interface LoopSpec<B> {
  stage: TrainingStage;
  /** The trained variables by stable name (optimizer state and checkpoints use these names). */
  weights: NamedVariables;
  /** Drives batch order, negatives and dropout; its state is checkpointed. */
  rng: Rng;
  maxEpochs: number;
  patience: number;
  evalEvery: number;
  learningRate: number;
  /** The validation metric to maximise (early stopping, best weights). */
  metric: string;
  /** Called first in every epoch (e.g. a backbone that re-samples its graph); may draw from `rng`. */
  epochStart?(epoch: number, rng: Rng): void;
  batches(rng: Rng): B[];
  /** Loss of one batch; runs inside the gradient scope, so it must not await. */
  loss(batch: B): LossTerms;
  /**
   * Optional, in place of `loss`: the batch's products rows W of some weights, made before the gradient
   * scope, and the loss that reads them. Those weights then get their gradient as rows^T dLoss/dProduct
   * inside Adam's update (see OuterProductGradient), never as a weight-sized tensor. Undefined for a
   * batch: that batch uses `loss`.
   */
  outerProductLoss?(batch: B): OuterProductLoss | undefined;
  /** Called after every optimiser step (e.g. a backbone that projects its weights back onto a constraint). */
  afterStep?(): void;
  validate(): Record<string, number>;
  checkpoint?: CheckpointOptions;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface LoopResult {
  bestEpoch: number;
  bestScore: number;
  bestMetrics: Record<string, number>;
  epochsRun: number;
  stoppedEarly: boolean;
  history: EpochRecord[];
  /** The epoch a checkpoint resumed from, if any. */
  resumedFrom: number | null;
}

/** A weight's product with a batch's rows, made outside the gradient scope (see LoopSpec.outerProductLoss). */
export interface OuterProductInput {
  /** The weight's name in LoopSpec.weights. */
  name: string;
  rows: tf.Tensor2D;
  product: tf.Tensor2D;
}

export interface OuterProductLoss {
  products: OuterProductInput[];
  /** The loss from the products (runs inside the gradient scope). */
  loss(): LossTerms;
}

/** One optimiser step; returns the batch's total loss and parts as numbers. */
function step<B>(spec: LoopSpec<B>, adam: Adam, batch: B): LossSummary {
  const split = spec.outerProductLoss?.(batch);
  const products = split?.products ?? [];
  const byProduct = new Set(products.map((p) => p.name));
  // Non-trainable variables take no gradient (as tf.variableGrads prunes them).
  const names = Object.keys(spec.weights).filter((n) => spec.weights[n].trainable && !byProduct.has(n));
  const vars = names.map((n) => spec.weights[n]);
  let parts: Record<string, tf.Scalar> = {};
  try {
    const { value, grads } = tf.engine().gradients(
      () => {
        const terms = split ? split.loss() : spec.loss(batch);
        parts = Object.fromEntries(Object.entries(terms.parts).map(([k, v]) => [k, tf.keep(v)]));
        return terms.total;
      },
      [...vars, ...products.map((p) => p.product)],
      undefined,
      true,
    );
    try {
      const named: Record<string, tf.Tensor | undefined> = {};
      names.forEach((n, i) => (named[n] = grads[i] ?? undefined));
      adam.apply(
        named,
        products
          .map((p, i) => ({ name: p.name, rows: p.rows, productGrad: grads[vars.length + i] as tf.Tensor2D }))
          .filter((p) => p.productGrad != null),
      );
      spec.afterStep?.();
      const out: LossSummary = { total: value.dataSync()[0] };
      for (const [k, v] of Object.entries(parts)) out[k] = v.dataSync()[0];
      return out;
    } finally {
      tf.dispose([value, ...grads.filter((g) => g != null)]);
    }
  } finally {
    tf.dispose([...Object.values(parts), ...products.flatMap((p) => [p.rows, p.product])]);
  }
}

/** What the loop carries across epochs (and through a checkpoint): the state and the best weights so far. */
interface LoopProgress {
  state: LoopState;
  bestWeights: StoredArrays | null;
}

function freshProgress(rng: Rng): LoopProgress {
  return {
    state: {
      epoch: 0,
      rng: rng.getState(),
      best: { epoch: 0, score: -Infinity, metrics: {} },
      sinceImprovement: 0,
      history: [],
      elapsedMs: 0,
      adamSteps: {},
    },
    bestWeights: null,
  };
}

/** Restores weights, Adam, RNG and progress from the checkpoint directory; the epoch resumed from, or null. */
async function resumeFromCheckpoint<B>(spec: LoopSpec<B>, adam: Adam, progress: LoopProgress): Promise<number | null> {
  if (!spec.checkpoint) return null;
  const saved = await loadCheckpoint(spec.checkpoint.dir, spec.checkpoint.fingerprint);
  if (!saved) return null;
  progress.state = { ...saved.state, best: { ...saved.state.best, score: saved.state.best.score ?? -Infinity } };
  assignVariables(spec.weights, saved.weights, spec.checkpoint.dir);
  adam.setState({ arrays: saved.adam, steps: progress.state.adamSteps });
  spec.rng.setState(progress.state.rng);
  progress.bestWeights = saved.bestWeights;
  spec.onProgress?.({ type: 'resumed', stage: spec.stage, epoch: progress.state.epoch, dir: spec.checkpoint.dir });
  return progress.state.epoch;
}

/** One epoch of optimiser steps; the mean of each loss part over its batches. */
async function trainEpoch<B>(spec: LoopSpec<B>, adam: Adam, epoch: number): Promise<LossSummary> {
  const { stage, rng, signal, onProgress } = spec;
  spec.epochStart?.(epoch, rng);
  const batches = spec.batches(rng);
  const sums: LossSummary = {};
  for (let b = 0; b < batches.length; b++) {
    signal?.throwIfAborted();
    const losses = step(spec, adam, batches[b]);
    if (!Number.isFinite(losses.total)) {
      throw new ConfigError(
        `Training diverged: the ${stage} loss is ${losses.total} at epoch ${epoch}, batch ${b + 1}`,
        {
          field: stage === 'teacher' ? 'sgfd.teacher.learningRate' : 'training.learningRate',
          expected: 'a smaller learning rate',
        },
      );
    }
    for (const [k, v] of Object.entries(losses)) sums[k] = (sums[k] ?? 0) + v;
    onProgress?.({ type: 'batch', stage, epoch, batch: b + 1, batches: batches.length });
    await yieldToEventLoop();
  }
  signal?.throwIfAborted();
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / batches.length]));
}

/** Validates when due (every `evalEvery` epochs and at the last); a better score keeps the weights. */
function validateIfDue<B>(
  spec: LoopSpec<B>,
  progress: LoopProgress,
  epoch: number,
): { valid: Record<string, number> | null; improved: boolean } {
  if (epoch % spec.evalEvery !== 0 && epoch !== spec.maxEpochs) return { valid: null, improved: false };
  const valid = spec.validate();
  const score = valid[spec.metric];
  const { state } = progress;
  if (!(score > state.best.score)) {
    state.sinceImprovement++;
    return { valid, improved: false };
  }
  state.best = { epoch, score, metrics: valid };
  state.sinceImprovement = 0;
  progress.bestWeights = snapshotVariables(spec.weights);
  return { valid, improved: true };
}

/** Appends the epoch to the history and reports it, with the time left at this pace and if nothing improves. */
function recordEpoch<B>(spec: LoopSpec<B>, state: LoopState, record: EpochRecord, improved: boolean): void {
  const { stage, maxEpochs, patience, evalEvery, metric } = spec;
  const { epoch, loss, valid, seconds } = record;
  state.history.push(record);
  state.elapsedMs += seconds * 1000;
  state.epoch = epoch;
  const perEpoch = state.elapsedMs / state.history.length;
  const leftIfFlat = Math.min(maxEpochs - epoch, (patience - state.sinceImprovement) * evalEvery);
  spec.onProgress?.({
    type: 'epoch',
    stage,
    epoch,
    maxEpochs,
    loss,
    valid,
    metric,
    bestEpoch: state.best.epoch,
    bestScore: state.best.score,
    improved,
    elapsedMs: state.elapsedMs,
    etaMs: perEpoch * (maxEpochs - epoch),
    etaIfNoImprovementMs: perEpoch * Math.max(0, leftIfFlat),
  });
}

/** Saves weights, Adam, RNG and progress every `checkpoint.every` epochs. */
async function checkpointIfDue<B>(spec: LoopSpec<B>, adam: Adam, progress: LoopProgress, epoch: number) {
  const { checkpoint } = spec;
  if (!checkpoint || epoch % checkpoint.every !== 0) return;
  const { state, bestWeights } = progress;
  state.rng = spec.rng.getState();
  const { arrays, steps } = adam.getState();
  state.adamSteps = steps;
  await saveCheckpoint(checkpoint.dir, checkpoint.fingerprint, {
    state,
    weights: snapshotVariables(spec.weights),
    adam: arrays,
    bestWeights,
  });
  spec.onProgress?.({ type: 'checkpoint', stage: spec.stage, epoch, dir: checkpoint.dir });
}

/**
 * Epochs of shuffled batches with Adam, validation every `evalEvery` epochs, early stopping after
 * `patience` evaluations in a row without improvement, and the best validation weights restored at the
 * end. Yields to the event loop after every batch; checks `signal` before every batch. With a checkpoint
 * directory it saves (weights, Adam state, RNG state, epoch, best so far, patience counter, history) every
 * `every` epochs and resumes from what it finds there, so an interrupted run ends exactly as an
 * uninterrupted one.
 */
export async function runLoop<B>(spec: LoopSpec<B>): Promise<LoopResult> {
  const adam = new Adam(spec.weights, { learningRate: spec.learningRate });
  const progress = freshProgress(spec.rng);
  let resumedFrom: number | null = null;
  let stoppedEarly = false;
  try {
    resumedFrom = await resumeFromCheckpoint(spec, adam, progress);
    const finished = progress.state.sinceImprovement >= spec.patience;
    for (let epoch = progress.state.epoch + 1; epoch <= spec.maxEpochs && !finished; epoch++) {
      const started = performance.now();
      const loss = await trainEpoch(spec, adam, epoch);
      const { valid, improved } = validateIfDue(spec, progress, epoch);
      const seconds = (performance.now() - started) / 1000;
      recordEpoch(spec, progress.state, { epoch, loss, valid, seconds }, improved);
      stoppedEarly = progress.state.sinceImprovement >= spec.patience;
      await checkpointIfDue(spec, adam, progress, epoch);
      if (stoppedEarly) break;
    }
    if (finished) stoppedEarly = true;
  } finally {
    adam.dispose();
  }
  const { state, bestWeights } = progress;
  if (bestWeights) assignVariables(spec.weights, bestWeights);
  return {
    bestEpoch: state.best.epoch,
    bestScore: state.best.score,
    bestMetrics: state.best.metrics,
    epochsRun: state.epoch,
    stoppedEarly,
    history: state.history,
    resumedFrom,
  };
}
