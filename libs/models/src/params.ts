import { tf } from '@sgfd/tensor';

/** Variables by a stable, model-local name (tfjs's own variable names are global and not reproducible). */
export type NamedVariables = Record<string, tf.Variable>;

/** Wraps an initial value in a trainable variable and frees the initial tensor. */
export function createVariable(initial: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(initial, trainable);
  initial.dispose();
  return v;
}

/** The same variables under `prefix.` names, for composing modules. */
export function prefixed(prefix: string, vars: NamedVariables): NamedVariables {
  const out: NamedVariables = {};
  for (const [name, v] of Object.entries(vars)) out[`${prefix}.${name}`] = v;
  return out;
}

export function disposeAll(vars: NamedVariables): void {
  for (const v of Object.values(vars)) v.dispose();
}
