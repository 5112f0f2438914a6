import { DatasetError } from '@sgfd/contracts';
import { tf } from '@sgfd/tensor';
import type { NamedVariables } from '../params';
import { readTensorFile, tensorIndexPath, writeTensorFile, type StoredArrays } from './tensor-file';

/** Copies of the variables' current values (for best-weights snapshots and files). */
export function snapshotVariables(vars: NamedVariables): StoredArrays {
  const out: StoredArrays = {};
  for (const [name, v] of Object.entries(vars)) {
    out[name] = { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() };
  }
  return out;
}

/** Assigns stored values to the variables of the same name; every variable must be present with its shape. */
export function assignVariables(vars: NamedVariables, arrays: StoredArrays, source = 'weights'): void {
  for (const [name, v] of Object.entries(vars)) {
    const stored = arrays[name];
    if (!stored) throw new DatasetError('Weights file lacks a variable the model needs', { file: source, field: name });
    if (stored.shape.length !== v.shape.length || stored.shape.some((d, i) => d !== v.shape[i])) {
      throw new DatasetError('Weights do not fit the model', {
        file: source,
        field: name,
        expected: `shape [${v.shape}]`,
        found: `[${stored.shape}]`,
      });
    }
  }
  for (const [name, v] of Object.entries(vars)) {
    const stored = arrays[name];
    tf.tidy(() => v.assign(tf.tensor(stored.data, stored.shape, v.dtype)));
  }
}

export async function saveVariables(
  dir: string,
  base: string,
  vars: NamedVariables,
  meta: unknown = null,
): Promise<void> {
  await writeTensorFile(dir, base, snapshotVariables(vars), meta);
}

export async function loadVariables(dir: string, base: string, vars: NamedVariables): Promise<unknown> {
  const { arrays, meta } = await readTensorFile(dir, base);
  assignVariables(vars, arrays, tensorIndexPath(dir, base));
  return meta;
}
