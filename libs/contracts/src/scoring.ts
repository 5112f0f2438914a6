// How a trained model scores (user, item) pairs once its representations are precomputed: shared by the
// backbones (which produce the representations), the serving library (which scores from them alone) and
// the CLI. Plain typed arrays, no tensors: the serving path never loads the training stack.

/** Which items a user's top-K leaves out: the user's training items, training and validation items, or none. */
export const EXCLUDE_SEEN = ['train', 'train+valid', 'none'] as const;
export type ExcludeSeen = (typeof EXCLUDE_SEEN)[number];

/**
 * `dot`: score(u, i) = <user vector u, item vector i>.
 * `maml-attention`: MAML's user-specific attention over the item's aspects (see MamlRepresentations).
 */
export type ScoringForm = 'dot' | 'maml-attention';

/** A row-major float32 matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface DotRepresentations {
  form: 'dot';
  /** [nUsers, d] */
  users: Matrix;
  /** [nItems, d] */
  items: Matrix;
}

/**
 * MAML: score(u, i) = -sum_k a_k^2 (u_k - i_k)^2 with the attention
 * a = d * softmax(relu(W2 t / |t| + b2)), t = tanh(h), h = (P_u + Q_i) / sqrt(|u|^2 + |i|^2 + |f_i|^2) + b1,
 * where P_u = W1_u u and Q_i = W1_i i + W1_f f_i are the per-user and per-item parts of the first layer
 * (f_i the item's content projection), precomputed.
 */
export interface MamlRepresentations {
  form: 'maml-attention';
  /** User embeddings u [nUsers, d]. */
  users: Matrix;
  /** Item embeddings i [nItems, d]. */
  items: Matrix;
  /** P_u [nUsers, hidden] and |u|^2 [nUsers, 1]. */
  userPart: Matrix;
  userSq: Matrix;
  /** Q_i [nItems, hidden] and |i|^2 + |f_i|^2 [nItems, 1]. */
  itemPart: Matrix;
  itemSq: Matrix;
  /** b1 [1, hidden], W2 [hidden, d], b2 [1, d]. */
  b1: Matrix;
  w2: Matrix;
  b2: Matrix;
}

export type ScoringRepresentations = DotRepresentations | MamlRepresentations;
