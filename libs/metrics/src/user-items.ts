import { DatasetError } from '@sgfd/contracts';
import { csrFromCoo, csrProblem, type CsrStructure } from '@sgfd/tensor';

export interface UserItemPairs {
  users: Int32Array;
  items: Int32Array;
}

/**
 * Groups (user, item) pairs by user, items sorted and deduplicated. Checks every id is in range and
 * names the pair (`what`, row) that is not.
 */
export function groupByUser(pairs: UserItemPairs, nUsers: number, nItems: number, what: string): CsrStructure {
  const { users, items } = pairs;
  if (users.length !== items.length) {
    throw new DatasetError(`${what}: users and items differ in length`, {
      field: what,
      expected: `${users.length} items`,
      found: `${items.length}`,
    });
  }
  for (let i = 0; i < users.length; i++) {
    const u = users[i];
    const it = items[i];
    if (!(u >= 0 && u < nUsers)) {
      throw new DatasetError(`${what}: user id out of range`, {
        field: `${what}.users`,
        row: i,
        expected: `0 <= id < ${nUsers}`,
        found: `${u}`,
      });
    }
    if (!(it >= 0 && it < nItems)) {
      throw new DatasetError(`${what}: item id out of range`, {
        field: `${what}.items`,
        row: i,
        expected: `0 <= id < ${nItems}`,
        found: `${it}`,
      });
    }
  }
  const { indptr, indices } = csrFromCoo(users, items, nUsers, nItems);
  return { indptr, indices };
}

/** Checks a CSR given by a caller covers nUsers rows with item ids in range. */
export function checkCsr(csr: CsrStructure, nUsers: number, nItems: number, what: string): void {
  const problem = csrProblem(csr.indptr, csr.indices, nUsers, nItems);
  if (!problem) return;
  const { message, field, row, expected, found } = problem;
  throw new DatasetError(`${what}: ${message.replace(/rows/g, 'users')}`, {
    field: `${what}.${field}`,
    row,
    expected,
    found,
  });
}
