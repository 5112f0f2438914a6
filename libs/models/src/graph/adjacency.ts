import { csrProblem, entryRows, sparseFromCoo, type CsrStructure, type SparseMatrix } from '@sgfd/tensor';

/** The training interactions as parallel (user, item) arrays, in CSR order (by user, items sorted). */
export interface UserItemEdges {
  users: Int32Array;
  items: Int32Array;
  nUsers: number;
  nItems: number;
}

export function userItemEdges(trainCsr: CsrStructure, nUsers: number, nItems: number): UserItemEdges {
  const { indptr, indices } = trainCsr;
  const problem = csrProblem(indptr, indices, nUsers, nItems);
  if (problem) throw new RangeError(`training CSR (users x items): ${problem.message}`);
  const users = entryRows(indptr);
  return { users, items: Int32Array.from(indices), nUsers, nItems };
}

/** Number of edges at each user and at each item. */
export function degrees(edges: UserItemEdges): { user: Float64Array; item: Float64Array } {
  const user = new Float64Array(edges.nUsers);
  const item = new Float64Array(edges.nItems);
  for (let e = 0; e < edges.users.length; e++) {
    user[edges.users[e]]++;
    item[edges.items[e]]++;
  }
  return { user, item };
}

/**
 * 1 / sqrt((d_u + eps) (d_i + eps)) for every edge: the entries of D^-1/2 A D^-1/2 as MMRec computes
 * them (`get_norm_adj_mat`, FREEDOM's `_normalize_adj_m`; eps = 1e-7 avoids dividing by zero).
 */
export function symmetricEdgeWeights(edges: UserItemEdges, eps = 1e-7): Float32Array {
  const d = degrees(edges);
  const out = new Float32Array(edges.users.length);
  for (let e = 0; e < out.length; e++)
    out[e] = 1 / Math.sqrt((d.user[edges.users[e]] + eps) * (d.item[edges.items[e]] + eps));
  return out;
}

/**
 * The symmetric (n_users + n_items)^2 matrix with value[e] at (u, n_users + i) and (n_users + i, u) for
 * every edge e = (u, i): users first, then items, as MMRec's graph backbones index their nodes.
 */
export function bipartiteAdjacency(edges: UserItemEdges, values: ArrayLike<number>): SparseMatrix {
  const { nUsers, nItems } = edges;
  const n = edges.users.length;
  if (values.length !== n) throw new RangeError(`bipartiteAdjacency: ${values.length} values for ${n} edges`);
  const rows = new Int32Array(2 * n);
  const cols = new Int32Array(2 * n);
  const vals = new Float32Array(2 * n);
  for (let e = 0; e < n; e++) {
    const u = edges.users[e];
    const i = nUsers + edges.items[e];
    rows[e] = u;
    cols[e] = i;
    rows[n + e] = i;
    cols[n + e] = u;
    vals[e] = vals[n + e] = values[e];
  }
  return sparseFromCoo(rows, cols, vals, nUsers + nItems, nUsers + nItems);
}

/**
 * D^-1 (A + I) of the user-item training graph, (n_users + n_items)^2, users first: LATTICE's
 * `normalized_adj_single(adj + eye)`. (The symmetric D^-1/2 A D^-1/2 of LightGCN, BM3 and FREEDOM is
 * `bipartiteAdjacency(edges, symmetricEdgeWeights(edges))`.)
 */
export function randomWalkAdjacencyWithSelfLoops(edges: UserItemEdges): SparseMatrix {
  const { nUsers, nItems } = edges;
  const nNodes = nUsers + nItems;
  const n = edges.users.length;
  const rows = new Int32Array(2 * n + nNodes);
  const cols = new Int32Array(2 * n + nNodes);
  const degree = new Float64Array(nNodes).fill(1);
  for (let e = 0; e < n; e++) {
    const u = edges.users[e];
    const i = nUsers + edges.items[e];
    rows[e] = cols[n + e] = u;
    cols[e] = rows[n + e] = i;
    degree[u]++;
    degree[i]++;
  }
  for (let k = 0; k < nNodes; k++) rows[2 * n + k] = cols[2 * n + k] = k;
  const vals = Float32Array.from(rows, (r) => 1 / degree[r]);
  return sparseFromCoo(rows, cols, vals, nNodes, nNodes);
}
