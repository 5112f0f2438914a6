import { ConfigError, MODALITIES, type DotRepresentations, type Matrix, type Modality } from '@sgfd/contracts';
import { bprRowsFused, bprSoftplusFused, customOpsAvailable, isNativeBackend, tf } from '@sgfd/tensor';
import type { BackboneData, ProjectedRows } from '../backbone';
import type { DenseOptions } from '../layers';
import type { Projection } from '../projection';
import { bprScoreGap, readAndDispose, sumOfSquares, tidyObject } from '../ops';

/**
 * BPR as MMRec's graph models write it: -mean(log sigmoid(<u, pos> - <u, neg>)), computed as
 * mean(softplus(neg - pos)) (stable, no epsilon; tfjs's own logSigmoid has no working gradient).
 */
export function bprLoss(users: tf.Tensor2D, pos: tf.Tensor2D, neg: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.softplus(bprScoreGap(users, pos, neg))) as tf.Scalar);
}

/** A batch's (user, positive, negative) ids. */
export interface BprIds {
  users: Int32Array;
  items: Int32Array;
  negItems: Int32Array;
}

/**
 * A BPR batch's terms from the user and item tables: per pair the gap <u, neg> - <u, pos> (bprScoreGap of
 * the gathered rows), and the sums of squares of the gathered user, positive and negative rows (the
 * regularisers' inputs). On the native engine one fused op each way (bprRowsFused: forward and backward of
 * LATTICE's terms at office's batch, the gradient tape included, 7.1-8.7 -> 3.6-4.5 ms in alternated runs);
 * elsewhere the gathers and the same ops as before.
 */
export function bprRowTerms(
  users: tf.Tensor2D,
  items: tf.Tensor2D,
  ids: BprIds,
): { gap: tf.Tensor1D; squares: [tf.Scalar, tf.Scalar, tf.Scalar] } {
  return tidyObject(() => {
    if (customOpsAvailable()) {
      const [gap, ...rows] = tf.unstack(bprRowsFused(users, items, ids));
      return { gap: gap as tf.Tensor1D, squares: rows.map((r) => tf.sum(r)) as [tf.Scalar, tf.Scalar, tf.Scalar] };
    }
    const u = tf.gather(users, tf.tensor1d(ids.users, 'int32')) as tf.Tensor2D;
    const pos = tf.gather(items, tf.tensor1d(ids.items, 'int32')) as tf.Tensor2D;
    const neg = tf.gather(items, tf.tensor1d(ids.negItems, 'int32')) as tf.Tensor2D;
    return { gap: bprScoreGap(u, pos, neg), squares: [sumOfSquares(u), sumOfSquares(pos), sumOfSquares(neg)] };
  });
}

/**
 * MMRec's graph models' BPR, mean(softplus(gap)) over a batch taken from the user and item tables, and the
 * sums of squares of the batch's user, positive and negative rows (LATTICE's regulariser; FREEDOM and GRCN
 * read only the loss). On the native engine one fused op each way (bprSoftplusFused), which also does the
 * reduction that bprRowTerms leaves to about twenty small ops; elsewhere bprRowTerms' terms, reduced.
 */
export function bprSoftplusTerms(
  users: tf.Tensor2D,
  items: tf.Tensor2D,
  ids: BprIds,
): { bpr: tf.Scalar; squares: [tf.Scalar, tf.Scalar, tf.Scalar] } {
  return tidyObject(() => {
    if (customOpsAvailable()) {
      const [bpr, ...squares] = tf.unstack(bprSoftplusFused(users, items, ids)) as tf.Scalar[];
      return { bpr, squares: squares as [tf.Scalar, tf.Scalar, tf.Scalar] };
    }
    const { gap, squares } = bprRowTerms(users, items, ids);
    return { bpr: tf.mean(tf.softplus(gap)) as tf.Scalar, squares };
  });
}

/**
 * torch.nn.Linear's default initialisation: kernel with the variance of U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * (drawn normal, as Dense offers), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
export function torchLinearInit(fanIn: number): DenseOptions {
  return { kernelInit: { normalStd: 1 / Math.sqrt(3 * fanIn) }, biasInit: 'torchDefault' };
}

/** The modalities present in the data, in MODALITIES order; at least one. */
export function presentModalities(data: BackboneData, backbone: string): Modality[] {
  const present = MODALITIES.filter((m) => data.featureDims[m] !== undefined);
  if (present.length === 0)
    throw new ConfigError(`${backbone} needs at least one feature modality`, { field: 'backbone' });
  return present;
}

/** A [rows, cols] tensor read back as a Matrix. */
export function matrixOf(x: tf.Tensor2D): Matrix {
  const [rows, cols] = x.shape;
  return { rows, cols, data: x.dataSync() as Float32Array };
}

/** Dot-product representations read back; the tensors are the caller's. */
export function dotRepresentations(users: tf.Tensor2D, items: tf.Tensor2D): DotRepresentations {
  return { form: 'dot', users: matrixOf(users), items: matrixOf(items) };
}

/** One precomputed scorer: users [nUsers, d] against items [nItems, d] by dot product. */
export function dotScorer(
  users: tf.Tensor2D,
  items: tf.Tensor2D,
): { scoreUsers(ids: Int32Array): Float32Array; dispose(): void } {
  const itemsT = tf.transpose(items);
  return {
    scoreUsers: (ids: Int32Array) =>
      readAndDispose(tf.tidy(() => tf.matMul(tf.gather(users, tf.tensor1d(ids, 'int32')) as tf.Tensor2D, itemsT))),
    dispose: () => tf.dispose([users, items, itemsT]),
  };
}

/**
 * Projected rows whose raw feature rows are gathered from `source` only when read: joint SGFD's teacher
 * reads them, the backbone's own loss does not (gathering a 4096-wide feature matrix inside the gradient
 * scope also makes tfjs copy the whole matrix to save it for the backward pass). Non-enumerable, so
 * tf.tidy does not trigger the gather while collecting a loss's tensors; the rows belong to the reading scope.
 */
export function rowsWithLazyRaw(items: tf.Tensor1D, features: tf.Tensor2D, source: tf.Tensor2D): ProjectedRows {
  let raw: tf.Tensor2D | null = null;
  const rows = { items, features } as ProjectedRows;
  Object.defineProperty(rows, 'raw', {
    enumerable: false,
    get: () => {
      if (!raw || raw.isDisposed) raw = tf.gather(source, items) as tf.Tensor2D;
      return raw;
    },
  });
  return rows;
}

/**
 * Share of the catalogue from which a batch's items are projected by projecting every item, on this engine.
 * On wasm from 65 %: a gathered row costs about 1.5x a row of the every-item projection there (office,
 * 4096-d image features: the gather, and a weight gradient that transposes the fresh [rows, 4096] gather
 * each step, where the feature matrix's transpose is cached once). On the native engine never: the gathered
 * rows are cheaper at office's 78 % (a VBPR step's median 39.3 -> 36.1 ms, FREEDOM's 54.9 -> 49.8, BM3's
 * 87.9 -> 85.8, alternated in one process; joint SGFD's epoch about 10 % shorter, its teacher reading the
 * same gathered rows), the gather being one pass and the transposed product fast.
 */
export function everyItemShare(): number {
  return isNativeBackend() ? Infinity : 0.65;
}

/**
 * The slot's output for a batch's distinct `items` of the feature matrix `source`: projected row by row,
 * or, when the batch holds most of the catalogue, by projecting every item and gathering its rows. Same
 * values and gradients either way. Call it inside the caller's tidy scope.
 */
export function projectItemRows(
  slot: Projection,
  source: tf.Tensor2D,
  items: tf.Tensor1D,
  share = everyItemShare(),
): ProjectedRows {
  if (items.shape[0] >= share * source.shape[0])
    return rowsWithLazyRaw(items, tf.gather(slot.apply(source), items) as tf.Tensor2D, source);
  const raw = tf.gather(source, items) as tf.Tensor2D;
  return { items, raw, features: slot.apply(raw) };
}
