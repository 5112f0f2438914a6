import type { ExcludeSeen } from '@sgfd/contracts';

/** A user's items as CSR: items of user u are indices[indptr[u] .. indptr[u + 1]). */
export interface UserItems {
  indptr: Int32Array;
  indices: Int32Array;
}

/** Each user's training and validation items: what a top-K may leave out. */
export interface SeenItems {
  train: UserItems;
  valid: UserItems;
}

/** CSR of (user, item) pairs in any order. */
export function userItemsOf(nUsers: number, users: Int32Array, items: Int32Array): UserItems {
  const indptr = new Int32Array(nUsers + 1);
  for (const u of users) indptr[u + 1]++;
  for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
  const indices = new Int32Array(users.length);
  const cursor = indptr.slice(0, nUsers);
  for (let p = 0; p < users.length; p++) indices[cursor[users[p]]++] = items[p];
  return { indptr, indices };
}

/** Sets the scores of the items `exclude` names to -Infinity. */
export function maskSeen(seen: SeenItems, exclude: ExcludeSeen, user: number, scores: Float32Array): void {
  if (exclude === 'none') return;
  const lists = exclude === 'train' ? [seen.train] : [seen.train, seen.valid];
  for (const { indptr, indices } of lists) {
    for (let p = indptr[user]; p < indptr[user + 1]; p++) scores[indices[p]] = -Infinity;
  }
}
