import type { FeatureMatrix } from '@sgfd/data';
import { solveSpd, tf } from '@sgfd/tensor';

/** Ridge strengths tried, as multiples of the mean squared feature norm per dimension of the training rows. */
export const RIDGE_GRID = [1e-3, 1e-2, 1e-1, 1, 10, 100] as const;
/** Share of the training items that picks the ridge strength (the rest fit it). */
const INNER_VALID = 0.2;

export interface RidgeProbeResult {
  /** Category accuracy on the held-out items of the probe fitted on all training items. */
  accuracy: number;
  /** The ridge multiplier chosen on an inner split of the training items (never on the held-out items). */
  ridge: number;
}

/**
 * The ridge regression from the centred features to one-hot categories, fitted on `fit` and scored on
 * `query` by arg-max. Dual form (an n x n system) when there are fewer rows than dimensions, else primal.
 */
function fitAndPredict(x: tf.Tensor2D, y: tf.Tensor2D, query: tf.Tensor2D, ridge: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, d] = x.shape;
    const mean = tf.mean(x, 0, true);
    const xc = tf.sub(x, mean) as tf.Tensor2D;
    const qc = tf.sub(query, mean) as tf.Tensor2D;
    const yMean = tf.mean(y, 0, true);
    const yc = tf.sub(y, yMean) as tf.Tensor2D;
    const lambda = ridge * (tf.sum(tf.square(xc)).dataSync()[0]! / d);
    let scores: tf.Tensor2D;
    if (n <= d) {
      const k = tf.add(tf.matMul(xc, xc, false, true), tf.mul(tf.eye(n), lambda)) as tf.Tensor2D;
      const alpha = solveSpd(k, yc);
      scores = tf.matMul(tf.matMul(qc, xc, false, true), alpha);
    } else {
      const g = tf.add(tf.matMul(xc, xc, true, false), tf.mul(tf.eye(d), lambda)) as tf.Tensor2D;
      const w = solveSpd(g, tf.matMul(xc, yc, true, false));
      scores = tf.matMul(qc, w);
    }
    return tf.argMax(tf.add(scores, yMean), 1) as tf.Tensor1D;
  });
}

function accuracyOf(predicted: tf.Tensor1D, labels: Int32Array, items: Int32Array): number {
  const p = predicted.dataSync();
  let hits = 0;
  for (let i = 0; i < items.length; i++) if (p[i] === labels[items[i]!]) hits++;
  return hits / items.length;
}

/**
 * A closed-form linear probe of one modality: what a linear map of these features can know of the
 * categories, so the bound of a teacher whose towers are linear. Fitted on `trainItems` (in the given
 * order; its last fifth chooses the ridge strength), scored on `holdoutItems`.
 */
export async function ridgeProbe(
  features: FeatureMatrix,
  labels: Int32Array,
  nCategories: number,
  trainItems: Int32Array,
  holdoutItems: Int32Array,
  /** Awaited after every solve, so a caller can heartbeat, yield and stop between them. */
  afterSolve: () => Promise<void> = async () => undefined,
): Promise<RidgeProbeResult> {
  const all = tf.tensor2d(features.data, [features.rows, features.dim]);
  const rowsOf = (items: Int32Array) => tf.gather(all, tf.tensor1d(items, 'int32')) as tf.Tensor2D;
  const oneHot = (items: Int32Array) =>
    tf
      .oneHot(
        tf.tensor1d(
          Array.from(items, (i) => labels[i]!),
          'int32',
        ),
        nCategories,
      )
      .toFloat() as tf.Tensor2D;
  const nInner = Math.max(1, Math.round(INNER_VALID * trainItems.length));
  const fit = trainItems.slice(0, trainItems.length - nInner);
  const inner = trainItems.slice(trainItems.length - nInner);
  let best = { ridge: RIDGE_GRID[0] as number, accuracy: -1 };
  for (const ridge of RIDGE_GRID) {
    const predicted = tf.tidy(() => fitAndPredict(rowsOf(fit), oneHot(fit), rowsOf(inner), ridge));
    const accuracy = accuracyOf(predicted, labels, inner);
    predicted.dispose();
    if (accuracy > best.accuracy) best = { ridge, accuracy };
    await afterSolve();
  }
  const predicted = tf.tidy(() =>
    fitAndPredict(rowsOf(trainItems), oneHot(trainItems), rowsOf(holdoutItems), best.ridge),
  );
  const accuracy = accuracyOf(predicted, labels, holdoutItems);
  tf.dispose([predicted, all]);
  return { accuracy, ridge: best.ridge };
}
