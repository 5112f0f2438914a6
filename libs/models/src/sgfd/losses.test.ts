import { createRng, customOpsAvailable, initBackend, setCustomOpsEnabled, tf } from '@sgfd/tensor';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkGradients } from '@sgfd/tensor/testing';
import { Dense } from '../layers';
import {
  classifierCrossEntropy,
  crossEntropy,
  featureDistillation,
  jointModalityTerms,
  responseDistillation,
} from './losses';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

const value = (s: tf.Scalar): number => {
  const v = s.dataSync()[0];
  s.dispose();
  return v;
};

describe('SGFD losses against hand-computed values', () => {
  it('cross-entropy is -mean log softmax(logits)[y]', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([
        [1, 2, 3],
        [1, 1, 1],
      ]);
      const labels = tf.tensor1d([2, 0], 'int32');
      // (-(3 - log(e + e^2 + e^3)) + log 3) / 2
      expect(value(crossEntropy(logits, labels))).toBeCloseTo(0.7531091, 5);
      // the authors' quirk: cross-entropy of softmax(logits)
      expect(value(crossEntropy(logits, labels, true))).toBeCloseTo(0.9479013, 5);
    });
  });

  it('LD (l1) is the mean |p_T - p_S| of the tau-softened distributions over rows x classes', () => {
    tf.tidy(() => {
      const teacher = tf.tensor2d([
        [2, 0, -2],
        [0.5, 1.5, 0],
      ]);
      const student = tf.tensor2d([
        [0, 1, 0],
        [1, 0, 1],
      ]);
      expect(value(responseDistillation(teacher, student, 2, 'l1'))).toBeCloseTo(0.2131667, 5);
      expect(value(responseDistillation(teacher, student, 2, 'kl'))).toBeCloseTo(0.9800376, 4);
      expect(value(responseDistillation(teacher, teacher, 2, 'kl'))).toBeCloseTo(0, 6);
    });
  });

  it('FD is the mean squared difference over rows x dims', () => {
    tf.tidy(() => {
      const s = tf.tensor2d([
        [1, 0],
        [0, 1],
      ]);
      const t = tf.tensor2d([
        [0.5, 0.5],
        [0, -1],
      ]);
      // (0.25 + 0.25 + 0 + 4) / 4
      expect(value(featureDistillation(s, t))).toBeCloseTo(1.125, 6);
    });
  });
});

describe('SGFD loss gradients match finite differences', () => {
  const rng = createRng(7);
  const randomVariable = (shape: [number, number], scale = 1): tf.Variable =>
    tf.variable(
      tf.tensor2d(
        Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal() * scale),
        shape,
      ),
    );

  it('for cross-entropy, with and without the double softmax', () => {
    const logits = randomVariable([4, 5]);
    const labels = tf.tensor1d([0, 3, 4, 1], 'int32');
    for (const quirk of [false, true]) {
      const check = checkGradients(() => crossEntropy(logits as tf.Tensor2D, labels, quirk), [logits]);
      expect(check.worst).toBeLessThanOrEqual(1);
    }
    tf.dispose([logits, labels]);
  });

  it('for LD (both kinds) with respect to teacher and student logits', () => {
    const teacher = randomVariable([3, 4], 3);
    const student = randomVariable([3, 4], 3);
    for (const kind of ['l1', 'kl'] as const) {
      const check = checkGradients(
        () => responseDistillation(teacher as tf.Tensor2D, student as tf.Tensor2D, 1.5, kind),
        [teacher, student],
      );
      expect(check.worst).toBeLessThanOrEqual(1);
      expect(check.checked).toBe(24);
    }
    tf.dispose([teacher, student]);
  });

  it('for FD', () => {
    const s = randomVariable([3, 4]);
    const t = randomVariable([3, 4]);
    expect(
      checkGradients(() => featureDistillation(s as tf.Tensor2D, t as tf.Tensor2D), [s, t]).worst,
    ).toBeLessThanOrEqual(1);
    tf.dispose([s, t]);
  });

  it('the checker rejects a wrong gradient', () => {
    const x = randomVariable([2, 3]);
    const doubledGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const input = args[0] as tf.Tensor;
      return { value: tf.sum(tf.square(input)), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.mul(input, 4)) };
    });
    expect(checkGradients(() => doubledGradient(x) as tf.Scalar, [x]).worst).toBeGreaterThan(1);
    x.dispose();
  });
});

describe('jointModalityTerms', () => {
  afterEach(() => setCustomOpsEnabled(true));

  it('on the native engine, the fused op gives the composite terms and gradients (l1 and kl, with and without a student)', (ctx) => {
    if (!customOpsAvailable()) return ctx.skip();
    const rng = createRng(3);
    const classifier = new Dense(6, 5, rng, { biasInit: 'torchDefault' });
    const randomVariable = (seed: number) =>
      tf.variable(tf.tidy(() => tf.mul(tf.randomNormal([90, 6], 0, 1, 'float32', seed), 2)));
    const teacher = randomVariable(1);
    const student = randomVariable(2);
    const labels = tf.tensor1d(
      Array.from({ length: 90 }, (_, i) => (i * 3) % 5),
      'int32',
    );
    const vars = [teacher, student, classifier.kernel, classifier.bias!];
    for (const responseLoss of ['l1', 'kl'] as const)
      for (const withStudent of [true, false]) {
        const options = { tau: 3, responseLoss, authorsDoubleSoftmax: false };
        const weights = tf.tensor1d([0.4, 1.2, 2.5]);
        const loss = () =>
          tf.sum(
            tf.mul(
              jointModalityTerms(
                teacher as tf.Tensor2D,
                withStudent ? (student as tf.Tensor2D) : null,
                classifier,
                labels,
                options,
              ),
              weights,
            ),
          ) as tf.Scalar;
        const fused = tf.variableGrads(loss, vars);
        setCustomOpsEnabled(false);
        const composite = tf.variableGrads(loss, vars);
        setCustomOpsEnabled(true);
        expect(fused.value.dataSync()[0]).toBeCloseTo(composite.value.dataSync()[0], 5);
        for (const v of vars) {
          const got = fused.grads[v.name]?.dataSync() ?? new Float32Array(v.size);
          const want = composite.grads[v.name]?.dataSync() ?? new Float32Array(v.size);
          expect(Array.from(got)).toEqual(Array.from(want).map((x) => expect.closeTo(x, 5)));
        }
        tf.dispose([
          weights,
          fused.value,
          composite.value,
          ...Object.values(fused.grads),
          ...Object.values(composite.grads),
        ]);
      }
    tf.dispose([teacher, student, labels]);
    classifier.dispose();
  });
});

describe('classifierCrossEntropy', () => {
  afterEach(() => setCustomOpsEnabled(true));

  it('is the cross-entropy of the classifier logits, with gradients to features, kernel and bias that match finite differences', () => {
    const rng = createRng(11);
    const classifier = new Dense(6, 5, rng, { biasInit: 'torchDefault' });
    const features = tf.variable(tf.tidy(() => tf.randomNormal([12, 6], 0, 1, 'float32', 4)));
    const labels = tf.tensor1d(
      Array.from({ length: 12 }, (_, i) => (i * 2) % 5),
      'int32',
    );
    const x = features as tf.Tensor2D;
    const want = value(tf.tidy(() => crossEntropy(classifier.apply(x), labels)));
    expect(value(classifierCrossEntropy(x, classifier, labels))).toBeCloseTo(want, 5);
    setCustomOpsEnabled(false);
    expect(value(classifierCrossEntropy(x, classifier, labels))).toBeCloseTo(want, 5);
    setCustomOpsEnabled(true);
    const check = checkGradients(
      () => classifierCrossEntropy(x, classifier, labels),
      [features, classifier.kernel, classifier.bias!],
    );
    expect(check.worst).toBeLessThanOrEqual(1);
    expect(check.checked).toBe(12 * 6 + 6 * 5 + 5);
    tf.dispose([features, labels]);
    classifier.dispose();
  });
});
