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
 * The ridge regression from the centred features of `fit` rows x to their one-hot categories y, scored on
 * `query` rows, with everything that does not depend on the ridge strength computed once: in dual form
 * (fewer rows than dimensions) the Gram matrix xc xc^T and the query's kernel qc xc^T, else xc^T xc, xc^T yc.
 * Each strength then costs one solve (the Gram products were about 90 % of the probe).
 */
class RidgeSystem {
  /** (gram + lambda I) solution = rhs; scores = readout solution + yMean. */
  private readonly gram: tf.Tensor2D;
  private readonly rhs: tf.Tensor2D;
  private readonly readout: tf.Tensor2D;
  private readonly yMean: tf.Tensor2D;
  /** The ridge unit: the mean squared feature norm per dimension of the centred fit rows. */
  private readonly unit: number;

  constructor(x: tf.Tensor2D, y: tf.Tensor2D, query: tf.Tensor2D) {
    const [n, d] = x.shape;
    let unit = 0;
    [this.gram, this.rhs, this.readout, this.yMean] = tf.tidy(() => {
      const mean = tf.mean(x, 0, true);
      const xc = tf.sub(x, mean) as tf.Tensor2D;
      const qc = tf.sub(query, mean) as tf.Tensor2D;
      const yMean = tf.mean(y, 0, true) as tf.Tensor2D;
      const yc = tf.sub(y, yMean) as tf.Tensor2D;
      unit = tf.sum(tf.square(xc)).dataSync()[0]! / d;
      return n <= d
        ? [tf.matMul(xc, xc, false, true), yc, tf.matMul(qc, xc, false, true), yMean]
        : [tf.matMul(xc, xc, true, false), tf.matMul(xc, yc, true, false), qc, yMean];
    });
    this.unit = unit;
  }

  /** The arg-max category of every query row for ridge strength `ridge` (in units of `unit`). */
  predict(ridge: number): tf.Tensor1D {
    return tf.tidy(() => {
      const regularised = tf.add(this.gram, tf.mul(tf.eye(this.gram.shape[0]), ridge * this.unit)) as tf.Tensor2D;
      const scores = tf.matMul(this.readout, solveSpd(regularised, this.rhs));
      return tf.argMax(tf.add(scores, this.yMean), 1) as tf.Tensor1D;
    });
  }

  dispose(): void {
    tf.dispose([this.gram, this.rhs, this.readout, this.yMean]);
  }
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
  const systemFor = (fitItems: Int32Array, queryItems: Int32Array) => {
    const inputs = tf.tidy(() => [rowsOf(fitItems), oneHot(fitItems), rowsOf(queryItems)] as const);
    try {
      return new RidgeSystem(...inputs);
    } finally {
      tf.dispose([...inputs]);
    }
  };
  // The abort signal may stop the probe between solves (afterSolve): nothing it made outlives it.
  try {
    const choose = systemFor(fit, inner);
    try {
      for (const ridge of RIDGE_GRID) {
        const predicted = choose.predict(ridge);
        const accuracy = accuracyOf(predicted, labels, inner);
        predicted.dispose();
        if (accuracy > best.accuracy) best = { ridge, accuracy };
        await afterSolve();
      }
    } finally {
      choose.dispose();
    }
    const final = systemFor(trainItems, holdoutItems);
    try {
      const predicted = final.predict(best.ridge);
      const accuracy = accuracyOf(predicted, labels, holdoutItems);
      predicted.dispose();
      return { accuracy, ridge: best.ridge };
    } finally {
      final.dispose();
    }
  } finally {
    all.dispose();
  }
}
