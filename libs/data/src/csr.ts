import type { CsrStructure } from '@sgfd/tensor';
import type { InteractionPairs } from './types';

/** CSR of user -> items with each user's item ids sorted ascending. */
export function buildCsr(pairs: InteractionPairs, nUsers: number): CsrStructure {
  const indptr = new Int32Array(nUsers + 1);
  for (let k = 0; k < pairs.users.length; k++) indptr[pairs.users[k] + 1]++;
  for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
  const fill = indptr.slice(0, nUsers);
  const indices = new Int32Array(pairs.users.length);
  // Snapshots store rows sorted by (user, item): then every user's run is already in order.
  let sorted = true;
  for (let k = 0; k < pairs.users.length; k++) {
    const u = pairs.users[k];
    const at = fill[u]++;
    indices[at] = pairs.items[k];
    if (at > indptr[u] && indices[at] <= indices[at - 1]) sorted = false;
  }
  if (!sorted) for (let u = 0; u < nUsers; u++) indices.subarray(indptr[u], indptr[u + 1]).sort();
  return { indptr, indices };
}
