import { nativeBinding, type ResidentTensor } from './native-ops';

// Fixed index and value arrays (a sparse matrix's CSR arrays) uploaded to TensorFlow once and kept there
// while the array lives, instead of once per op call: LightGCN's propagation and LATTICE's item graph read
// the same ~90k-entry arrays four times a step. The tensors belong to the binding, not to tfjs, so no tfjs
// scope or leak count sees them; a FinalizationRegistry deletes each when its array is collected. The
// arrays must not change after their first upload, which holds for a SparseMatrix's (its transpose and
// structure caches assume the same).

type FixedArray = Int32Array | Float32Array;

const uploaded = new WeakMap<FixedArray, ResidentTensor>();
let live = 0;
const release = new FinalizationRegistry<{ id: number; remove: (id: number) => void }>(({ id, remove }) => {
  live--;
  remove(id);
});

/** `array` as a 1-D TensorFlow tensor (int32 or float32) resident in the binding; tensorflow backend only. */
export function residentArray(array: FixedArray): ResidentTensor {
  let resident = uploaded.get(array);
  if (!resident) {
    const binding = nativeBinding();
    const dtype = array instanceof Int32Array ? binding.TF_INT32 : binding.TF_FLOAT;
    resident = { tensorId: binding.createTensor([array.length], dtype, array) };
    uploaded.set(array, resident);
    live++;
    release.register(array, { id: resident.tensorId, remove: (id) => binding.deleteTensor(id) });
  }
  return resident;
}

/** How many uploaded arrays are still resident (for tests of their release). */
export function residentArrayCount(): number {
  return live;
}
