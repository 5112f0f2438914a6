import { tf } from './tf';

export interface GradientCheck {
  /** Largest |analytic - numeric| / (abs + rel * |numeric|) over all checked entries; <= 1 passes. */
  worst: number;
  checked: number;
}

/**
 * Compares tfjs's gradients of `loss` with central finite differences, entry by entry, for every
 * variable in `vars`. Arithmetic is float32, so no single step fits every entry: a large step suffers
 * from curvature and from LeakyReLU kinks within reach, a small one from rounding (about 1e-7 / step).
 * An entry passes when the central difference at one of `steps` agrees within abs + rel * |numeric|;
 * a wrong gradient disagrees at every scale.
 */
export function checkGradients(
  loss: () => tf.Scalar,
  vars: tf.Variable[],
  options: { steps?: number[]; abs?: number; rel?: number } = {},
): GradientCheck {
  const { steps = [1e-2, 2e-3], abs = 1e-3, rel = 2e-2 } = options;
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dispose();
  const evaluate = (): number => tf.tidy(() => loss().dataSync()[0]);
  let worst = 0;
  let checked = 0;
  for (const v of vars) {
    // A variable the loss does not reach has no gradient: zero, which the probes must confirm.
    const analytic = grads[v.name]?.dataSync().slice() ?? new Float32Array(v.size);
    const original = v.dataSync().slice() as Float32Array;
    const probe = original.slice();
    const at = (i: number, x: number): number => {
      probe[i] = x;
      // A copy: tfjs-node uploads a tensor's values lazily, at their first use, so the reset below would
      // otherwise reach the variable.
      tf.tidy(() => v.assign(tf.tensor(probe.slice(), v.shape)));
      probe[i] = original[i];
      return evaluate();
    };
    for (let i = 0; i < original.length; i++) {
      let best = Infinity;
      for (const step of steps) {
        const numeric = (at(i, original[i] + step) - at(i, original[i] - step)) / (2 * step);
        best = Math.min(best, Math.abs(analytic[i] - numeric) / (abs + rel * Math.abs(numeric)));
      }
      worst = Math.max(worst, best);
      checked++;
    }
    tf.tidy(() => v.assign(tf.tensor(original, v.shape)));
  }
  tf.dispose(Object.values(grads));
  return { worst, checked };
}
