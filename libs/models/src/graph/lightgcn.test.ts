import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRng, initBackend, setCustomOpsEnabled, sparseFromCoo, tf } from '@sgfd/tensor';
import { checkGradients } from '@sgfd/tensor/testing';
import { lightGcnMean, lightGcnMeanOfBlocks } from './lightgcn';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

afterEach(() => setCustomOpsEnabled(true));

// 3 users and 4 items with an asymmetric weighted matrix over the 7 nodes (row 5 empty), and random blocks.
const rows = [0, 0, 1, 2, 3, 3, 4, 6, 6, 1];
const cols = [3, 4, 5, 6, 0, 1, 2, 0, 6, 1];
const values = Float32Array.of(0.5, 1, -0.25, 2, 0.75, -1, 1.5, 0.3, 0.6, 0.9);
const matrix = sparseFromCoo(rows, cols, values, 7, 7);

function blocks(seed: number): { users: tf.Variable<tf.Rank.R2>; items: tf.Variable<tf.Rank.R2> } {
  const rng = createRng(seed);
  const draw = (n: number) => Array.from({ length: n * 2 }, () => rng.normal());
  return { users: tf.variable(tf.tensor2d(draw(3), [3, 2])), items: tf.variable(tf.tensor2d(draw(4), [4, 2])) };
}

describe('lightGcnMeanOfBlocks', () => {
  it('equals the layer mean over the concatenated nodes, split back, with the same gradients', () => {
    const { users, items } = blocks(1);
    const rng = createRng(2);
    const weights = tf.tensor2d(
      Array.from({ length: 14 }, () => rng.normal()),
      [7, 2],
    );
    const reference = tf.tidy(() => lightGcnMean(matrix, tf.concat([users, items], 0) as tf.Tensor2D, 2).arraySync());
    const out = lightGcnMeanOfBlocks(matrix, users, items, 2);
    expect([...out.users.arraySync(), ...out.items.arraySync()].flat()).toEqual(
      reference.flat().map((v) => expect.closeTo(v, 5)),
    );
    const loss = () =>
      tf.tidy(() => {
        const o = lightGcnMeanOfBlocks(matrix, users, items, 2);
        return tf.sum(tf.mul(tf.square(tf.concat([o.users, o.items], 0)), weights)) as tf.Scalar;
      });
    expect(checkGradients(loss, [users, items]).worst).toBeLessThanOrEqual(1);
    // Only one block read: the other's gradient is taken as zero.
    const [gUsers, gItems] = tf.grads((u: tf.Tensor, i: tf.Tensor) =>
      tf.sum(lightGcnMeanOfBlocks(matrix, u as tf.Tensor2D, i as tf.Tensor2D, 1).items),
    )([users, items]);
    setCustomOpsEnabled(false);
    const [wantUsers, wantItems] = tf.grads((u: tf.Tensor, i: tf.Tensor) =>
      tf.sum(lightGcnMeanOfBlocks(matrix, u as tf.Tensor2D, i as tf.Tensor2D, 1).items),
    )([users, items]);
    expect(Array.from(gUsers.dataSync())).toEqual(Array.from(wantUsers.dataSync()).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(gItems.dataSync())).toEqual(Array.from(wantItems.dataSync()).map((v) => expect.closeTo(v, 5)));
    tf.dispose([users, items, weights, out.users, out.items, gUsers, gItems, wantUsers, wantItems]);
  });

  it('is the identity with no layers and leaks nothing', () => {
    const { users, items } = blocks(3);
    const out = lightGcnMeanOfBlocks(matrix, users, items, 0);
    expect(out.users.arraySync()).toEqual(users.arraySync());
    expect(out.items.arraySync()).toEqual(items.arraySync());
    tf.dispose([out.users, out.items]);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const o = lightGcnMeanOfBlocks(matrix, users, items, 2);
      return tf.add(tf.sum(o.users), tf.sum(o.items)) as tf.Scalar;
    }, [users, items]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([users, items]);
  });
});
