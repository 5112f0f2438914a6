import type { Matrix, MamlRepresentations, ScoringRepresentations } from '@sgfd/contracts';
import { dotRows } from './kernels/dot-rows';

/** Scores from precomputed representations only: one user against every item, into a caller's buffer. */
export interface Scorer {
  readonly nUsers: number;
  readonly nItems: number;
  /** Writes score(user, i) for every item i into `out` (length nItems). */
  scoreUser(user: number, out: Float32Array): void;
}

/** <u, i> for every item: items row-major [nItems, d], multiplied in WebAssembly SIMD (kernels/dot-rows). */
async function dotScorer(users: Matrix, items: Matrix): Promise<Scorer> {
  const d = users.cols;
  const kernel = await dotRows(items.data, items.rows, d);
  return {
    nUsers: users.rows,
    nItems: items.rows,
    scoreUser(user, out) {
      kernel.scores(users.data.subarray(user * d, (user + 1) * d), out);
    },
  };
}

/**
 * MAML's score (MamlRepresentations in @sgfd/contracts): the attention's hidden layer per (user, item) pair
 * from the two precomputed parts, then W2, the softmax and the attention-weighted squared distance.
 */
function mamlScorer(r: MamlRepresentations): Scorer {
  const d = r.users.cols;
  const hidden = r.userPart.cols;
  const w2 = r.w2.data;
  const b1 = r.b1.data;
  const b2 = r.b2.data;
  const t = new Float64Array(hidden);
  const z = new Float64Array(d);
  return {
    nUsers: r.users.rows,
    nItems: r.items.rows,
    scoreUser(user, out) {
      const up = user * hidden;
      const ue = user * d;
      const uSq = r.userSq.data[user];
      for (let i = 0; i < r.items.rows; i++) {
        const ip = i * hidden;
        const norm = Math.sqrt(Math.max(uSq + r.itemSq.data[i], 1e-12));
        let tSq = 0;
        for (let h = 0; h < hidden; h++) {
          const v = Math.tanh((r.userPart.data[up + h] + r.itemPart.data[ip + h]) / norm + b1[h]);
          t[h] = v;
          tSq += v * v;
        }
        const tNorm = Math.sqrt(Math.max(tSq, 1e-24));
        z.fill(0);
        for (let h = 0; h < hidden; h++) {
          const th = t[h] / tNorm;
          const row = h * d;
          for (let k = 0; k < d; k++) z[k] += th * w2[row + k];
        }
        let max = -Infinity;
        for (let k = 0; k < d; k++) {
          z[k] = Math.max(0, z[k] + b2[k]);
          if (z[k] > max) max = z[k];
        }
        let sum = 0;
        for (let k = 0; k < d; k++) {
          z[k] = Math.exp(z[k] - max);
          sum += z[k];
        }
        const ie = i * d;
        let distance = 0;
        for (let k = 0; k < d; k++) {
          const a = (d * z[k]) / sum;
          const diff = r.users.data[ue + k] - r.items.data[ie + k];
          distance += a * a * diff * diff;
        }
        out[i] = -distance;
      }
    },
  };
}

export async function createScorer(representations: ScoringRepresentations): Promise<Scorer> {
  return representations.form === 'dot'
    ? dotScorer(representations.users, representations.items)
    : mamlScorer(representations);
}

/** How a score is computed, in words, for `scoring.json`. */
export function scoreFormula(form: ScoringRepresentations['form']): string {
  return form === 'dot'
    ? 'score(u, i) = sum_k users.vector[u][k] * items.vector[i][k]'
    : 'score(u, i) = -sum_k a_k^2 (users.vector[u][k] - items.vector[i][k])^2, a = d * softmax(relu(W2 t / |t| + b2)), ' +
        't = tanh((users.attention_part[u] + items.attention_part[i]) / sqrt(users.sq_norm[u] + items.sq_norm[i]) + b1), ' +
        'd = the vector width; b1, W2 (hidden x d, row-major), b2 under "parameters"';
}
