import { existsSync } from 'node:fs';
import { customOpsPathIn } from './engine-paths';
import { tf } from '../tf';
import { isNativeBackend, runNativeOp, runNativeOpOutputs } from './native-ops';
import { residentArray } from './resident-arrays';

let loaded = false;
let loadError: string | undefined;
let enabled = true;

/**
 * Loads the engine's custom-op library into this process (after the binding, whose TensorFlow it links
 * against): its static initialisers register the ops with TensorFlow, which then runs them by name. A
 * missing library (a user's own SGFD_TENSORFLOW_DIR) or one that fails to load leaves the ops unavailable,
 * and their callers on TensorFlow's stock ops; `customOpsError` says why.
 */
export function loadCustomOps(engineDir: string): void {
  const path = customOpsPathIn(engineDir);
  if (!existsSync(path)) {
    loadError = `no custom-op library at ${path}`;
    return;
  }
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, path);
    loaded = true;
    loadError = undefined;
  } catch (e) {
    loadError = `${path} does not load: ${(e as Error).message}`;
  }
}

/** Whether the native engine's custom ops can run now (loaded, the tensorflow backend active, not disabled). */
export function customOpsAvailable(): boolean {
  return loaded && enabled && isNativeBackend();
}

export function customOpsError(): string | undefined {
  return loadError;
}

/** Switches the custom ops off (tests and benchmarks compare them with the stock-op path in one process). */
export function setCustomOpsEnabled(on: boolean): void {
  enabled = on;
}

export function requireCustomOps(op: string): void {
  if (!customOpsAvailable())
    throw new Error(`${op} is not available: ${loadError ?? 'disabled or not on the tensorflow backend'}`);
}

/** The inputs of MAML's fused scoring (see SgfdMamlScores in ops/custom-ops-source.ts for the formula). */
export interface MamlScoreInputs {
  /** [C, H] and [N, H]: the users' and items' parts of the doubled first attention layer. */
  userPart: tf.Tensor2D;
  itemPart: tf.Tensor2D;
  /** [C] and [N]: the squared norms of the users' and the items' parts of the attention input. */
  userSq: tf.Tensor1D;
  itemSq: tf.Tensor1D;
  /** [H]: twice the first layer's bias. [H, D] and [D]: the second layer. */
  bias2: tf.Tensor1D;
  w2: tf.Tensor2D;
  b2: tf.Tensor1D;
  /** [C, D] and [N, D]: the user and item embeddings. */
  userEmbedding: tf.Tensor2D;
  itemEmbedding: tf.Tensor2D;
  /** The attention's multiplier (MAML's embedding size). */
  scale: number;
}

/** MAML's scores of every (user, item) pair, [C, N], in one pass per tile of pairs (SgfdMamlScores). */
export function mamlScores(x: MamlScoreInputs): tf.Tensor2D {
  requireCustomOps('SgfdMamlScores');
  return runNativeOp('SgfdMamlScores', { scale: { float: x.scale } }, [
    x.userPart,
    x.itemPart,
    x.userSq,
    x.itemSq,
    x.bias2,
    x.w2,
    x.b2,
    x.userEmbedding,
    x.itemEmbedding,
  ]) as tf.Tensor2D;
}

/**
 * s[e] = <a[rows[e]], b[cols[e]]> for int32 index vectors (SgfdSampledDots); not differentiable itself.
 * Index arrays (a pattern's fixed rows and columns) stay resident (resident-arrays.ts).
 */
export function sampledDots(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  rows: tf.Tensor1D | Int32Array,
  cols: tf.Tensor1D | Int32Array,
): tf.Tensor1D {
  requireCustomOps('SgfdSampledDots');
  const index = (v: tf.Tensor1D | Int32Array) => (v instanceof Int32Array ? residentArray(v) : v);
  return runNativeOp('SgfdSampledDots', {}, [a, b, index(rows), index(cols)]) as tf.Tensor1D;
}

/**
 * Softmax over each row's entries of a CSR pattern (`indptr`: R + 1 offsets), differentiable: forward and
 * gradient are one custom op each (SgfdSegmentSoftmax, SgfdSegmentSoftmaxGrad). The offsets stay resident
 * (resident-arrays.ts).
 */
export function segmentSoftmaxByRows(scores: tf.Tensor1D, indptr: Int32Array): tf.Tensor1D {
  requireCustomOps('SgfdSegmentSoftmax');
  const offsets = residentArray(indptr);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor1D;
    const out = runNativeOp('SgfdSegmentSoftmax', {}, [x, offsets]) as tf.Tensor1D;
    (args[1] as tf.GradSaveFunc)([out]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runNativeOp('SgfdSegmentSoftmaxGrad', {}, [saved[0], dy, offsets]),
    };
  });
  return op(scores) as tf.Tensor1D;
}

/**
 * Row-wise cosine similarity as torch.nn.functional.cosine_similarity (each norm clamped at `eps`),
 * differentiable: forward and gradient are one custom op each (SgfdRowCosine, SgfdRowCosineGrad).
 */
export function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D, eps: number): tf.Tensor1D {
  requireCustomOps('SgfdRowCosine');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, y] = args as [tf.Tensor2D, tf.Tensor2D];
    (args[2] as tf.GradSaveFunc)([x, y]);
    return {
      value: runNativeOp('SgfdRowCosine', { eps: { float: eps } }, [x, y]) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runNativeOpOutputs('SgfdRowCosineGrad', { eps: { float: eps } }, [saved[0], saved[1], dy], 2),
    };
  });
  return op(a, b) as tf.Tensor1D;
}

/**
 * Rows divided by max(|row|, eps) as torch.nn.functional.normalize(x, dim=1), differentiable: forward and
 * gradient are one custom op each (SgfdL2NormalizeRows, SgfdL2NormalizeRowsGrad).
 */
export function l2NormalizeRowsFused(x: tf.Tensor2D, eps: number): tf.Tensor2D {
  requireCustomOps('SgfdL2NormalizeRows');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor2D;
    (args[1] as tf.GradSaveFunc)([input]);
    return {
      value: runNativeOp('SgfdL2NormalizeRows', { eps: { float: eps } }, [input]) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runNativeOp('SgfdL2NormalizeRowsGrad', { eps: { float: eps } }, [saved[0], dy]),
    };
  });
  return op(x) as tf.Tensor2D;
}

/**
 * normalize(leakyRelu(x + bias, slope)), rows divided by max(|row|, eps): SGFD's extractor head on a linear
 * layer's product, differentiable to x and bias (null: none). One custom op each way
 * (SgfdBiasLeakyNormalize, SgfdBiasLeakyNormalizeGrad) for an add, a LeakyReLU and the normalisation forward
 * and five ops backward.
 */
export function biasLeakyNormalizeFused(
  x: tf.Tensor2D,
  bias: tf.Tensor | null,
  slope: number,
  eps: number,
): tf.Tensor2D {
  requireCustomOps('SgfdBiasLeakyNormalize');
  const attrs = { slope: { float: slope }, eps: { float: eps } };
  if (!bias) {
    return tf.tidy(() => biasLeakyNormalizeFused(x, tf.zeros([0]), slope, eps));
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, b] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([input, b]);
    return {
      value: runNativeOp('SgfdBiasLeakyNormalize', attrs, [input, b]) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runNativeOpOutputs('SgfdBiasLeakyNormalizeGrad', attrs, [saved[0], saved[1], dy], 2),
    };
  });
  return op(x, bias) as tf.Tensor2D;
}

/**
 * x times the inverted-dropout mask that StatelessRandomUniform(shape(x), [seed, stream]) >= rate gives, in
 * one pass (SgfdStatelessDropout draws the same Philox stream); differentiable, the gradient being the same
 * mask applied to dy.
 */
export function statelessDropoutFused(x: tf.Tensor, seed: number, stream: number, rate: number): tf.Tensor {
  requireCustomOps('SgfdStatelessDropout');
  const attrs = { rate: { float: rate }, keep_scale: { float: Math.fround(1 / (1 - rate)) } };
  const apply = (t: tf.Tensor) =>
    tf.tidy(() => runNativeOp('SgfdStatelessDropout', attrs, [t, tf.tensor1d([seed | 0, stream | 0], 'int32')]));
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: apply(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => apply(dy),
  }));
  return op(x);
}

/**
 * y = A x for A in CSR form with `values` (a tensor, or a fixed array kept resident like the structure):
 * SgfdCsrMatMul, one pass per output row. Not differentiable itself: the sparse ops' custom gradients call it
 * on the transposed structure.
 */
export function csrMatMul(
  indptr: Int32Array,
  indices: Int32Array,
  values: tf.Tensor1D | Float32Array,
  x: tf.Tensor2D,
): tf.Tensor2D {
  requireCustomOps('SgfdCsrMatMul');
  const vals = values instanceof Float32Array ? residentArray(values) : values;
  return runNativeOp('SgfdCsrMatMul', {}, [residentArray(indptr), residentArray(indices), vals, x]) as tf.Tensor2D;
}

/**
 * BPR's score gap <u, neg> - <u, pos> per row, differentiable: forward and gradient are one custom op each
 * (SgfdBprGap, SgfdBprGapGrad).
 */
export function bprGapFused(u: tf.Tensor2D, pos: tf.Tensor2D, neg: tf.Tensor2D): tf.Tensor1D {
  requireCustomOps('SgfdBprGap');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, p, n] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    (args[3] as tf.GradSaveFunc)([a, p, n]);
    return {
      value: runNativeOp('SgfdBprGap', {}, [a, p, n]) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runNativeOpOutputs('SgfdBprGapGrad', {}, [saved[0], saved[1], saved[2], dy], 3),
    };
  });
  return op(u, pos, neg) as tf.Tensor1D;
}

/** A BPR batch's (user, positive, negative) ids. */
export interface BprTableIds {
  users: Int32Array;
  items: Int32Array;
  negItems: Int32Array;
}

/** A BPR op over rows of the user and item tables, differentiable in both (`op` forward, `${op}Grad` back). */
function bprTablesOp(op: 'SgfdBprRows' | 'SgfdBprSoftplus', users: tf.Tensor2D, items: tf.Tensor2D, ids: BprTableIds) {
  requireCustomOps(op);
  const idTensors = [ids.users, ids.items, ids.negItems].map((v) => tf.tensor1d(v, 'int32'));
  try {
    const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [u, i] = args as [tf.Tensor2D, tf.Tensor2D];
      (args[2] as tf.GradSaveFunc)([u, i, ...idTensors]);
      return {
        value: runNativeOp(op, {}, [u, i, ...idTensors]),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runNativeOpOutputs(`${op}Grad`, {}, [...saved, dy], 2),
      };
    });
    return f(users, items);
  } finally {
    tf.dispose(idTensors);
  }
}

/**
 * BPR's per-pair terms over rows of two tables, as a [4, B] tensor: row 0 the gap
 * <users[u], items[neg]> - <users[u], items[pos]>, rows 1-3 |users[u]|^2, |items[pos]|^2, |items[neg]|^2;
 * differentiable in both tables, one custom op each way (SgfdBprRows, SgfdBprRowsGrad) in place of three
 * gathers, the gap, three sums of squares and their gradients.
 */
export function bprRowsFused(users: tf.Tensor2D, items: tf.Tensor2D, ids: BprTableIds): tf.Tensor2D {
  return bprTablesOp('SgfdBprRows', users, items, ids) as tf.Tensor2D;
}

/**
 * BPR with softplus over rows of two tables, reduced: [mean softplus(gap), sum |u|^2, sum |pos|^2,
 * sum |neg|^2] for gap = <users[u], items[neg] - items[pos]>, differentiable in both tables: SgfdBprSoftplus
 * and its gradient, one op each way in place of bprRowsFused's terms and the twenty small ops that reduce them.
 */
export function bprSoftplusFused(users: tf.Tensor2D, items: tf.Tensor2D, ids: BprTableIds): tf.Tensor1D {
  return bprTablesOp('SgfdBprSoftplus', users, items, ids) as tf.Tensor1D;
}

/**
 * The min(k, C) largest entries of each row of x [R, C], best first, ties to the lower column, NaN ranked as
 * -Infinity (as `topK`): SgfdTopK, one pass per row.
 */
export function topKRows(x: tf.Tensor2D, k: number): { values: tf.Tensor2D; indices: tf.Tensor2D } {
  requireCustomOps('SgfdTopK');
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKRows: k must be a positive integer, got ${k}`);
  const [values, indices] = runNativeOpOutputs('SgfdTopK', { k: { int: k } }, [x], 2) as [tf.Tensor2D, tf.Tensor2D];
  return { values, indices };
}

/**
 * MAML's attention hidden layer for [B, K] pairs, sigmoid((u_i + p_ij) / n_ij + bias2) with
 * n_ij = sqrt(max(userSq_i + itemSq_ij, 1e-12)), differentiable in every input: forward and gradient are one
 * custom op each (SgfdMamlHidden, SgfdMamlHiddenGrad).
 */
export function mamlHiddenFused(
  userPart: tf.Tensor2D,
  itemPart: tf.Tensor3D,
  userSq: tf.Tensor1D,
  itemSq: tf.Tensor2D,
  bias2: tf.Tensor1D,
): tf.Tensor3D {
  requireCustomOps('SgfdMamlHidden');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, 5) as tf.Tensor[];
    const sig = runNativeOp('SgfdMamlHidden', {}, inputs) as tf.Tensor3D;
    (args[5] as tf.GradSaveFunc)([...inputs.slice(0, 4), sig]);
    return {
      value: sig,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runNativeOpOutputs('SgfdMamlHiddenGrad', {}, [...saved, dy], 5),
    };
  });
  return op(userPart, itemPart, userSq, itemSq, bias2) as tf.Tensor3D;
}

/** The response-distillation distance of `classifierDistillFused`. */
export type ResponseDistance = 'l1' | 'kl';

/**
 * One modality's joint-SGFD terms with a classifier (weight [D, C], bias [C]) shared by its teacher and
 * student, as a [3] tensor: CE of softmax(teacher W + b) against `labels` (mean over rows), LD between the
 * softened distributions softmax(z / tau) of teacher and student (`l1`: mean |p_T - p_S|; `kl`:
 * tau^2 mean KL(p_T || p_S)), FD = mean (student - teacher)^2; LD and FD are 0 when `student` is null.
 * Differentiable in teacher, student, weight and bias: SgfdClassifierDistill and its gradient, one op each
 * way in place of four products, three softmaxes and about sixty small ops.
 */
export function classifierDistillFused(
  teacher: tf.Tensor2D,
  student: tf.Tensor2D | null,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D,
  labels: tf.Tensor1D,
  tau: number,
  response: ResponseDistance,
): tf.Tensor1D {
  requireCustomOps('SgfdClassifierDistill');
  const attrs = { tau: { float: tau }, response: { string: response } };
  return tf.tidy(() => {
    const ids = labels.dtype === 'int32' ? labels : (tf.cast(labels, 'int32') as tf.Tensor1D);
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const inputs = [...(args.slice(0, 4) as tf.Tensor[]), ids];
      (args[4] as tf.GradSaveFunc)(inputs);
      return {
        value: runNativeOp('SgfdClassifierDistill', attrs, inputs),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          runNativeOpOutputs('SgfdClassifierDistillGrad', attrs, [...saved, dy], 4),
      };
    });
    const noStudent = student ?? tf.zeros([0, teacher.shape[1]]);
    return op(teacher, noStudent, weight, bias) as tf.Tensor1D;
  });
}

/** One small variable's Adam inputs for `adamGroupStep`: its value, gradient, moments and 1-based step. */
export interface AdamGroupEntry {
  param: tf.Tensor;
  grad: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  step: number;
}

/**
 * Adam steps of several small variables in one op (SgfdAdamGroup, the multi-tensor Adam of PyTorch's
 * `foreach` path, for the same reason): each update is ResourceApplyAdam's formula, with the epsilon
 * sqrt(1 - beta2^t) of `FusedAdamSlot.stepInputs`, but without the three resource ops around each variable,
 * whose dispatch costs more than a small update. Returns each variable's new value and moments, in order.
 */
export function adamGroupStep(
  entries: AdamGroupEntry[],
  hyper: { learningRate: number; beta1: number; beta2: number; epsilon: number },
): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor }[] {
  requireCustomOps('SgfdAdamGroup');
  const n = entries.length;
  const { learningRate, beta1, beta2, epsilon } = hyper;
  const powers = tf.tensor2d(
    entries.flatMap((e) => [beta1 ** e.step, beta2 ** e.step, epsilon * Math.sqrt(1 - beta2 ** e.step)]),
    [n, 3],
  );
  try {
    const attrs = { N: { int: n }, lr: { float: learningRate }, beta1: { float: beta1 }, beta2: { float: beta2 } };
    const inputs = (['param', 'grad', 'm', 'v'] as const).flatMap((k) => entries.map((e) => e[k]));
    const out = runNativeOpOutputs('SgfdAdamGroup', attrs, [...inputs, powers], 3 * n);
    return entries.map((_, i) => ({ param: out[i], m: out[n + i], v: out[2 * n + i] }));
  } finally {
    powers.dispose();
  }
}
