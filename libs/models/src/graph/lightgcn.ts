import { customOpsAvailable, propagationMeanOfBlocks, spmm, tf, type SparseMatrix } from '@sgfd/tensor';
import { tidyObject } from '../ops';

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

/**
 * lightGcnMean over the nodes [users; items], given and returned as the two blocks: on the native engine one
 * custom op each way (no concatenation, split, sum or scaling ops around the sparse products).
 */
export function lightGcnMeanOfBlocks(
  adjacency: SparseMatrix,
  users: tf.Tensor2D,
  items: tf.Tensor2D,
  layers: number,
): { users: tf.Tensor2D; items: tf.Tensor2D } {
  if (customOpsAvailable()) {
    const { top, bottom } = propagationMeanOfBlocks(adjacency, users, items, layers);
    return { users: top, items: bottom };
  }
  return tidyObject(() =>
    splitNodes(lightGcnMean(adjacency, tf.concat([users, items], 0) as tf.Tensor2D, layers), users.shape[0]),
  );
}
