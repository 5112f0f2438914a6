import type { Csr, InteractionPairs } from './types';

/** CSR of user -> items with each user's item ids sorted ascending. */
export function buildCsr(pairs: InteractionPairs, nUsers: number): Csr {
  const indptr = new Int32Array(nUsers + 1);
  for (let k = 0; k < pairs.users.length; k++) indptr[pairs.users[k] + 1]++;
  for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
  const fill = indptr.slice(0, nUsers);
  const indices = new Int32Array(pairs.users.length);
  for (let k = 0; k < pairs.users.length; k++) indices[fill[pairs.users[k]]++] = pairs.items[k];
  for (let u = 0; u < nUsers; u++) indices.subarray(indptr[u], indptr[u + 1]).sort();
  return { indptr, indices };
}
