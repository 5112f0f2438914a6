import { initBackend, tf } from '@sgfd/tensor';
import { maxRelativeError, randomTensor } from '@sgfd/tensor/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { bprRowTerms, bprSoftplusTerms } from './shared';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

describe('bprRowTerms and bprSoftplusTerms', () => {
  for (const [name, terms] of [
    [
      'bprRowTerms',
      (users: tf.Tensor2D, items: tf.Tensor2D, ids: Parameters<typeof bprRowTerms>[2]) => {
        const { gap, squares } = bprRowTerms(users, items, ids);
        return { bpr: tf.mean(tf.softplus(gap)) as tf.Scalar, squares };
      },
    ],
    ['bprSoftplusTerms', bprSoftplusTerms],
  ] as const)
    it(`${name}: mean softplus(<u, neg> - <u, pos>) and the sums of squares of the gathered rows, in value and gradients`, () => {
      const users = tf.variable(randomTensor([6, 20], 1) as tf.Tensor2D);
      const items = tf.variable(randomTensor([7, 20], 2) as tf.Tensor2D);
      // Repeated users and items, an item as positive and negative of one pair.
      const ids = {
        users: Int32Array.from([0, 5, 5, 2, 1]),
        items: Int32Array.from([3, 3, 6, 0, 4]),
        negItems: Int32Array.from([1, 6, 6, 3, 4]),
      };
      // Every term weighted differently, so a gradient routed to the wrong term shows.
      const combine = (bpr: tf.Scalar, squares: tf.Scalar[]) =>
        tf.addN([bpr, tf.mul(squares[0], 0.01), tf.mul(squares[1], 0.02), tf.mul(squares[2], 0.05)]) as tf.Scalar;
      const fromTables = tf.variableGrads(() => {
        const { bpr, squares } = terms(users, items, ids);
        return combine(bpr, squares);
      }, [users, items]);
      const written = tf.variableGrads(() => {
        const rows = (t: tf.Tensor2D, at: Int32Array) => tf.gather(t, tf.tensor1d(at, 'int32')) as tf.Tensor2D;
        const [u, pos, neg] = [rows(users, ids.users), rows(items, ids.items), rows(items, ids.negItems)];
        const gap = tf.sub(tf.sum(tf.mul(u, neg), 1), tf.sum(tf.mul(u, pos), 1)) as tf.Tensor1D;
        return combine(
          tf.mean(tf.softplus(gap)) as tf.Scalar,
          [u, pos, neg].map((x) => tf.sum(tf.square(x)) as tf.Scalar),
        );
      }, [users, items]);
      expect(fromTables.value.dataSync()[0]).toBeCloseTo(written.value.dataSync()[0], 5);
      for (const v of [users, items])
        expect(maxRelativeError(fromTables.grads[v.name].dataSync(), written.grads[v.name].dataSync())).toBeLessThan(
          1e-5,
        );
      // Rows no pair touches get no gradient.
      expect(Array.from(fromTables.grads[users.name].slice([3, 0], [2, 20]).dataSync()).every((x) => x === 0)).toBe(
        true,
      );
      tf.dispose([users, items, fromTables.value, written.value]);
      tf.dispose([...Object.values(fromTables.grads), ...Object.values(written.grads)]);
    });
});
