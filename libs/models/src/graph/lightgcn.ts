import { spmm, tf, type SparseMatrix } from '@sgfd/tensor';

/** LightGCN with layer mean: mean of [E, A E, ..., A^layers E] (no weights, no activations). */
export function lightGcnMean(adjacency: SparseMatrix, ego: tf.Tensor2D, layers: number): tf.Tensor2D {
  return tf.tidy(() => {
    let h = ego;
    const all: tf.Tensor2D[] = [ego];
    for (let l = 0; l < layers; l++) {
      h = spmm(adjacency, h);
      all.push(h);
    }
    return all.length === 1 ? ego.clone() : (tf.div(tf.addN(all), all.length) as tf.Tensor2D);
  });
}

/** A^layers x by repeated sparse products (item-graph propagation of LATTICE and FREEDOM). */
export function propagate(adjacency: SparseMatrix, x: tf.Tensor2D, layers: number): tf.Tensor2D {
  return tf.tidy(() => {
    let h = x;
    for (let l = 0; l < layers; l++) h = spmm(adjacency, h);
    return layers === 0 ? x.clone() : h;
  });
}

/** Splits node rows into users (first nUsers) and items. */
export function splitNodes(nodes: tf.Tensor2D, nUsers: number): { users: tf.Tensor2D; items: tf.Tensor2D } {
  const [users, items] = tf.split(nodes, [nUsers, nodes.shape[0] - nUsers], 0) as [tf.Tensor2D, tf.Tensor2D];
  return { users, items };
}
