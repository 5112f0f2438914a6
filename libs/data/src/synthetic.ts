/**
 * Seeded synthetic datasets with planted structure, on which SGFD's premise holds and learning is measurable.
 *
 * Generative model (all draws from one seed; every part has its own RNG stream):
 *
 * 1. Categories. K categories with Zipf-skewed sizes: size_k = minCategorySize + share of the rest
 *    proportional to 1/(k+1)^categorySkew. Items are assigned to categories in random order.
 * 2. Item latents. Category centroids mu_k and item parts e_i are random unit vectors in R^L;
 *    z_i = normalise(a * mu_{c(i)} + sqrt(1 - a^2) * e_i), a = itemCentroidWeight.
 *    Item popularity pop_i = exp(popularitySkew * N(0, 1)).
 * 3. Users. Each user prefers 1-3 categories (drawn in proportion to category size, weights ~ Dirichlet(1))
 *    and has a taste t_u = normalise(a * normalise(sum_k w_uk mu_k) + sqrt(1 - a^2) * r_u), r_u a random unit
 *    vector (the user's own taste beyond categories).
 * 4. Interactions. User u makes n_u = 5 + Gamma-distributed extra draws (mean interactionsPerUser). Each draw
 *    picks a category: with probability categorySignal from the user's preferred categories (by w_u),
 *    otherwise any category in proportion to its size. Within the category the item is drawn without
 *    replacement from softmax(tasteSharpness * <t_u, z_i> + log pop_i): popularity-skewed, but driven by
 *    the latent match (category centroid and item part). Items left with fewer than 5 interactions get
 *    extra ones from the users whose taste matches them best (Gumbel-perturbed), so the data is 5-core.
 *    Ratings are 1-5 from the latent match plus noise; timestamps increase per user.
 *    categorySignal is the knob for "categories carry the signal": at 1 a user's interactions come only
 *    from their preferred categories.
 * 5. Split. MMRec's per-user 8:1:1 rule (see split.ts), seeded.
 * 6. Features. Per modality a semantic code s_i = G[group(c_i)] + rho * C[c_i] + lambda * A z_i + noise
 *    passes a tanh; together with item-specific nuisance factors (unrelated to category or preference) it
 *    drives the output:
 *    - image-like (4096-d): sparse non-negative ReLU units, each reading a few factors, ~70 % zeros;
 *    - text-like (384-d): a dense mix of all factors plus noise, L2-normalised.
 *    Each modality confuses categories in pairs, with a different pairing per modality ({0,1},{2,3},... for
 *    images, {0},{1,2},{3,4},... for text) and only a weak per-category code rho: one modality with one
 *    linear layer recovers categories well above chance but far from perfectly, while a category-guided
 *    extractor that combines both modalities (SGFD's teacher with fusion) can recover much more.
 */
import { ConfigError, MODALITIES, type Modality } from '@sgfd/contracts';
import type { DatasetInput, InteractionColumns } from './dataset-input';
import { Rng, sampleCdf } from './random';
import { splitInteractions } from './split';
import {
  imageGroupOf,
  imageLikeFeatures,
  textGroupOf,
  textLikeFeatures,
  type FeatureModelParams,
} from './synthetic-features';
import type { FeatureMatrix } from './types';

export const SYNTHETIC_PRESETS = {
  /**
   * For tests: a few hundred users, dense enough (about 20 interactions per user) and with a strong enough
   * category signal that a plain BPR-MF reaches over 2.5x the Recall@20 of popularity in a few seconds.
   */
  tiny: { users: 400, items: 300, categories: 10, interactionsPerUser: 20, categorySignal: 0.9 },
  /** Amazon Office (5-core) as used in the SGFD paper: 4,874 / 2,406 / ~53k / 54 categories. */
  office: { users: 4874, items: 2406, categories: 54, interactionsPerUser: 10.78, categorySignal: 0.8 },
  /** MMRec's Baby: 19,445 / 7,050 / ~160k; 30 categories. */
  baby: { users: 19445, items: 7050, categories: 30, interactionsPerUser: 8.22, categorySignal: 0.8 },
} as const;
export type SyntheticPresetName = keyof typeof SYNTHETIC_PRESETS;
export const SYNTHETIC_PRESET_NAMES = Object.keys(SYNTHETIC_PRESETS) as SyntheticPresetName[];

export interface SyntheticOptions {
  preset?: SyntheticPresetName;
  seed?: number;
  users?: number;
  items?: number;
  categories?: number;
  /** Mean interactions per user before the 5-core repair (which adds a few). */
  interactionsPerUser?: number;
  /**
   * Probability that an interaction's category comes from the user's preferred categories (0..1; default
   * 0.9 for tiny, 0.8 for office and baby). 1 gives a dataset where categories carry the signal.
   */
  categorySignal?: number;
  imageDim?: number;
  textDim?: number;
  /** Modalities to generate (default both). */
  modalities?: readonly Modality[];
}

/** Every number the generator used, recorded in the snapshot's source description. */
export interface SyntheticParams {
  preset: SyntheticPresetName;
  seed: number;
  users: number;
  items: number;
  categories: number;
  interactionsPerUser: number;
  categorySignal: number;
  latentDim: number;
  itemCentroidWeight: number;
  tasteSharpness: number;
  popularitySkew: number;
  categorySkew: number;
  minCategorySize: number;
  imageDim: number;
  textDim: number;
  modalities: Modality[];
}

/** The hidden variables, for tests and diagnostics. */
export interface PlantedStructure {
  latentDim: number;
  /** nItems x latentDim */
  itemLatent: Float32Array;
  /** nUsers x latentDim */
  userTaste: Float32Array;
  popularity: Float32Array;
  preferredCategories: number[][];
}

export interface SyntheticDataset extends DatasetInput {
  categories: Int32Array;
  params: SyntheticParams;
  truth: PlantedStructure;
}

const DEFAULTS = {
  seed: 2023,
  latentDim: 16,
  itemCentroidWeight: 0.7,
  tasteSharpness: 6,
  popularitySkew: 0.8,
  categorySkew: 1,
  minCategorySize: 5,
  imageDim: 4096,
  textDim: 384,
} as const;

const CORE = 5;
const BASE_TIMESTAMP = 1_420_070_400; // 2015-01-01, seconds

export function resolveSyntheticParams(options: SyntheticOptions = {}): SyntheticParams {
  const preset = options.preset ?? 'tiny';
  const base = SYNTHETIC_PRESETS[preset];
  if (!base) {
    throw new ConfigError('Unknown synthetic preset', {
      field: 'preset',
      expected: SYNTHETIC_PRESET_NAMES.join(', '),
      found: String(preset),
    });
  }
  const params: SyntheticParams = {
    preset,
    seed: options.seed ?? DEFAULTS.seed,
    users: options.users ?? base.users,
    items: options.items ?? base.items,
    categories: options.categories ?? base.categories,
    interactionsPerUser: options.interactionsPerUser ?? base.interactionsPerUser,
    categorySignal: options.categorySignal ?? base.categorySignal,
    latentDim: DEFAULTS.latentDim,
    itemCentroidWeight: DEFAULTS.itemCentroidWeight,
    tasteSharpness: DEFAULTS.tasteSharpness,
    popularitySkew: DEFAULTS.popularitySkew,
    categorySkew: DEFAULTS.categorySkew,
    minCategorySize: DEFAULTS.minCategorySize,
    imageDim: options.imageDim ?? DEFAULTS.imageDim,
    textDim: options.textDim ?? DEFAULTS.textDim,
    modalities: [...(options.modalities ?? MODALITIES)],
  };
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new ConfigError(`Invalid synthetic option: ${what}`, { field: what.split(' ')[0] });
  };
  check(Number.isInteger(params.seed) && params.seed >= 0, 'seed must be a non-negative integer');
  check(Number.isInteger(params.users) && params.users >= 2, 'users must be an integer >= 2');
  check(Number.isInteger(params.categories) && params.categories >= 2, 'categories must be an integer >= 2');
  check(
    Number.isInteger(params.items) && params.items >= params.categories * params.minCategorySize,
    `items must be an integer >= ${params.minCategorySize} x categories`,
  );
  check(
    params.interactionsPerUser >= CORE && params.interactionsPerUser <= params.items / 2,
    'interactionsPerUser must be in [5, items / 2]',
  );
  check(params.categorySignal >= 0 && params.categorySignal <= 1, 'categorySignal must be in [0, 1]');
  check(Number.isInteger(params.imageDim) && params.imageDim >= 1, 'imageDim must be a positive integer');
  check(Number.isInteger(params.textDim) && params.textDim >= 1, 'textDim must be a positive integer');
  check(
    params.modalities.every((m) => (MODALITIES as readonly string[]).includes(m)),
    `modalities must be among ${MODALITIES.join(', ')}`,
  );
  return params;
}

export function generateSynthetic(options: SyntheticOptions = {}): SyntheticDataset {
  const p = resolveSyntheticParams(options);
  const rng = new Rng(p.seed);
  const categories = assignCategories(p, rng.fork('categories'));
  const L = p.latentDim;
  const centroids = unitVectors(rng.fork('centroids'), p.categories, L);
  const itemLatent = mixLatents(rng.fork('items'), categories, centroids, p.items, L, p.itemCentroidWeight);
  const prng = rng.fork('popularity');
  const popularity = Float32Array.from({ length: p.items }, () => Math.exp(p.popularitySkew * prng.normal()));
  const { taste, preferred, weights } = drawUsers(p, rng.fork('users'), categories, centroids);
  const cols = drawInteractions(p, rng.fork('interactions'), {
    categories,
    itemLatent,
    popularity,
    taste,
    preferred,
    weights,
  });
  const { cols: split } = splitInteractions(cols, p.users, new Rng(p.seed).fork('split').uint32());

  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  const featureInput = { nItems: p.items, categories, nCategories: p.categories, itemLatent, latentDim: L };
  const common = { semanticDim: 32, nuisanceDim: 24, categoryCodeWeight: 0.1, latentWeight: 0.6, codeNoise: 1.5 };
  if (p.modalities.includes('image')) {
    const params: FeatureModelParams = { ...common, dim: p.imageDim, groupOf: imageGroupOf, outputNoise: 0.6 };
    features.image = imageLikeFeatures(featureInput, params, rng.fork('image').uint32());
  }
  if (p.modalities.includes('text')) {
    const params: FeatureModelParams = { ...common, dim: p.textDim, groupOf: textGroupOf, outputNoise: 0.4 };
    features.text = textLikeFeatures(featureInput, params, rng.fork('text').uint32());
  }

  return {
    nUsers: p.users,
    nItems: p.items,
    interactions: split,
    categories,
    features,
    source: {
      kind: 'synthetic',
      description: `synthetic preset '${p.preset}', seed ${p.seed}, categorySignal ${p.categorySignal}`,
      params: p,
    },
    params: p,
    truth: { latentDim: L, itemLatent, userTaste: taste, popularity, preferredCategories: preferred },
  };
}

function assignCategories(p: SyntheticParams, rng: Rng): Int32Array {
  const K = p.categories;
  const weights = Array.from({ length: K }, (_, k) => 1 / Math.pow(k + 1, p.categorySkew));
  const total = weights.reduce((a, b) => a + b, 0);
  const rest = p.items - K * p.minCategorySize;
  const exact = weights.map((w) => (rest * w) / total);
  const sizes = exact.map((x) => p.minCategorySize + Math.floor(x));
  // Largest remainders get the items lost to flooring.
  const order = exact.map((x, k) => [x - Math.floor(x), k] as const).sort((a, b) => b[0] - a[0]);
  let missing = p.items - sizes.reduce((a, b) => a + b, 0);
  for (let r = 0; missing > 0; r++, missing--) sizes[order[r % K][1]]++;
  const categories = new Int32Array(p.items);
  let at = 0;
  sizes.forEach((size, k) => categories.fill(k, at, (at += size)));
  return rng.shuffle(categories);
}

function unitVectors(rng: Rng, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let l = 0; l < dim; l++) {
      const v = rng.normal();
      out[r * dim + l] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let l = 0; l < dim; l++) out[r * dim + l] *= inv;
  }
  return out;
}

function normaliseRows(m: Float32Array, dim: number): Float32Array {
  for (let r = 0; r < m.length / dim; r++) {
    let norm = 0;
    for (let l = 0; l < dim; l++) norm += m[r * dim + l] ** 2;
    const inv = 1 / Math.sqrt(norm || 1);
    for (let l = 0; l < dim; l++) m[r * dim + l] *= inv;
  }
  return m;
}

function mixLatents(
  rng: Rng,
  categories: Int32Array,
  centroids: Float32Array,
  n: number,
  L: number,
  a: number,
): Float32Array {
  const own = unitVectors(rng, n, L);
  const b = Math.sqrt(1 - a * a);
  const out = new Float32Array(n * L);
  for (let i = 0; i < n; i++) {
    const c = categories[i];
    for (let l = 0; l < L; l++) out[i * L + l] = a * centroids[c * L + l] + b * own[i * L + l];
  }
  return normaliseRows(out, L);
}

interface Users {
  taste: Float32Array;
  preferred: number[][];
  weights: number[][];
}

function drawUsers(p: SyntheticParams, rng: Rng, categories: Int32Array, centroids: Float32Array): Users {
  const L = p.latentDim;
  const sizeCdf = categorySizeCdf(categories, p.categories);
  const own = unitVectors(rng.fork('own'), p.users, L);
  const a = p.itemCentroidWeight;
  const b = Math.sqrt(1 - a * a);
  const taste = new Float32Array(p.users * L);
  const preferred: number[][] = [];
  const weights: number[][] = [];
  const mix = new Float32Array(L);
  for (let u = 0; u < p.users; u++) {
    const r = rng.float();
    const count = Math.min(p.categories, r < 0.3 ? 1 : r < 0.75 ? 2 : 3);
    const cats: number[] = [];
    while (cats.length < count) {
      const k = sampleCdf(sizeCdf, rng);
      if (!cats.includes(k)) cats.push(k);
    }
    const raw = cats.map(() => rng.gamma(1));
    const sum = raw.reduce((x, y) => x + y, 0);
    const w = raw.map((x) => x / sum);
    mix.fill(0);
    cats.forEach((k, j) => {
      for (let l = 0; l < L; l++) mix[l] += w[j] * centroids[k * L + l];
    });
    normaliseRows(mix, L);
    for (let l = 0; l < L; l++) taste[u * L + l] = a * mix[l] + b * own[u * L + l];
    preferred.push(cats);
    weights.push(w);
  }
  return { taste: normaliseRows(taste, L), preferred, weights };
}

function categorySizeCdf(categories: Int32Array, K: number): Float64Array {
  const cdf = new Float64Array(K);
  for (let i = 0; i < categories.length; i++) cdf[categories[i]]++;
  for (let k = 1; k < K; k++) cdf[k] += cdf[k - 1];
  return cdf;
}

interface World {
  categories: Int32Array;
  itemLatent: Float32Array;
  popularity: Float32Array;
  taste: Float32Array;
  preferred: number[][];
  weights: number[][];
}

/** The interactions drawn so far, in order; `chosen` holds u * nItems + i of every (user, item) pair. */
interface Draws {
  users: number[];
  items: number[];
  chosen: Set<number>;
}

/**
 * Each user's items drawn by taste within preferred (or any) categories, then every item topped up to CORE
 * interactions, then ratings and timestamps. The random streams are drawn in this order; the output is a
 * pure function of the seed.
 */
function drawInteractions(p: SyntheticParams, rng: Rng, world: World): InteractionColumns {
  const draws = drawUserItems(p, rng, world);
  completeItemCores(p, rng.fork('core'), world, draws);
  return rateAndTimestamp(p, rng.fork('ratings'), world, draws);
}

/** <taste of u, latent of i>. */
function affinity(world: World, L: number, u: number, i: number): number {
  let s = 0;
  for (let l = 0; l < L; l++) s += world.taste[u * L + l] * world.itemLatent[i * L + l];
  return s;
}

function itemsByCategory(categories: Int32Array, K: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < categories.length; i++) lists[categories[i]].push(i);
  return lists.map((l) => Int32Array.from(l));
}

/** CORE plus a gamma-distributed extra with mean interactionsPerUser - CORE, at most half the items. */
function interactionCount(p: SyntheticParams, rng: Rng): number {
  const extraMean = p.interactionsPerUser - CORE;
  const shape = 1.5;
  const maxPerUser = Math.floor(p.items / 2);
  return Math.min(maxPerUser, CORE + Math.round(extraMean > 0 ? rng.gamma(shape) * (extraMean / shape) : 0));
}

/** Cumulative weights exp(sharpness <taste, latent> + log popularity) of a category's members for user u. */
function tasteCdf(
  p: SyntheticParams,
  world: World,
  logPop: Float64Array,
  u: number,
  members: Int32Array,
): Float64Array {
  const L = p.latentDim;
  const cdf = new Float64Array(members.length);
  let acc = 0;
  const ub = u * L;
  for (let j = 0; j < members.length; j++) {
    const ib = members[j] * L;
    let dot = 0;
    for (let l = 0; l < L; l++) dot += world.taste[ub + l] * world.itemLatent[ib + l];
    acc += Math.exp(p.tasteSharpness * dot + logPop[members[j]]);
    cdf[j] = acc;
  }
  return cdf;
}

/**
 * Every user's items: each draw picks a category (a preferred one with probability categorySignal, else
 * one by size) and an item in it by taste and popularity, retrying on repeats; after 30 repeats the best
 * unchosen item by the same score.
 */
function drawUserItems(p: SyntheticParams, rng: Rng, world: World): Draws {
  const itemsOf = itemsByCategory(world.categories, p.categories);
  const sizeCdf = categorySizeCdf(world.categories, p.categories);
  const logPop = Float64Array.from(world.popularity, Math.log);
  const draws: Draws = { users: [], items: [], chosen: new Set<number>() };
  for (let u = 0; u < p.users; u++) {
    const n = interactionCount(p, rng);
    const prefCdf = new Float64Array(world.preferred[u].length);
    world.weights[u].forEach((w, j) => (prefCdf[j] = (j > 0 ? prefCdf[j - 1] : 0) + w));
    const cdfs = new Map<number, Float64Array>();
    const drawCategory = () =>
      rng.float() < p.categorySignal ? world.preferred[u][sampleCdf(prefCdf, rng)] : sampleCdf(sizeCdf, rng);
    const mine: number[] = [];
    for (let draw = 0; draw < n; draw++) {
      let item = -1;
      for (let attempt = 0; attempt < 30 && item < 0; attempt++) {
        const k = drawCategory();
        let cdf = cdfs.get(k);
        if (!cdf) {
          cdf = tasteCdf(p, world, logPop, u, itemsOf[k]);
          cdfs.set(k, cdf);
        }
        const candidate = itemsOf[k][sampleCdf(cdf, rng)];
        if (!draws.chosen.has(u * p.items + candidate)) item = candidate;
      }
      if (item < 0) {
        const score = (i: number) => affinity(world, p.latentDim, u, i) + logPop[i] / p.tasteSharpness;
        item = bestUnchosen(u, p.items, draws.chosen, score);
      }
      draws.chosen.add(u * p.items + item);
      mine.push(item);
    }
    for (const item of mine) {
      draws.users.push(u);
      draws.items.push(item);
    }
  }
  return draws;
}

/** 5-core on items: the users who like a rare item most get it, until it has CORE interactions. */
function completeItemCores(p: SyntheticParams, gumbel: Rng, world: World, draws: Draws): void {
  const itemCount = new Int32Array(p.items);
  for (const i of draws.items) itemCount[i]++;
  for (let i = 0; i < p.items; i++) {
    const needed = CORE - itemCount[i];
    if (needed <= 0) continue;
    for (const u of bestMatchingUsers(p, gumbel, world, draws.chosen, i, needed)) {
      if (u < 0) continue;
      draws.chosen.add(u * p.items + i);
      draws.users.push(u);
      draws.items.push(i);
    }
  }
}

/** The `needed` best (Gumbel-perturbed) matches for item i among users who do not have it yet (-1: none). */
function bestMatchingUsers(
  p: SyntheticParams,
  gumbel: Rng,
  world: World,
  chosen: Set<number>,
  i: number,
  needed: number,
): Int32Array {
  const L = p.latentDim;
  const bestScore = new Float64Array(needed).fill(-Infinity);
  const bestUser = new Int32Array(needed).fill(-1);
  const ib = i * L;
  for (let u = 0; u < p.users; u++) {
    let dot = 0;
    for (let l = 0; l < L; l++) dot += world.taste[u * L + l] * world.itemLatent[ib + l];
    const s = p.tasteSharpness * dot - Math.log(-Math.log(gumbel.float() || 1e-12));
    if (s <= bestScore[needed - 1] || chosen.has(u * p.items + i)) continue;
    let at = needed - 1;
    while (at > 0 && bestScore[at - 1] < s) {
      bestScore[at] = bestScore[at - 1];
      bestUser[at] = bestUser[at - 1];
      at--;
    }
    bestScore[at] = s;
    bestUser[at] = u;
  }
  return bestUser;
}

/** The drawn pairs as columns, with a rating from the affinity and each user's timestamps moving forward. */
function rateAndTimestamp(p: SyntheticParams, rrng: Rng, world: World, draws: Draws): InteractionColumns {
  const n = draws.users.length;
  const cols: InteractionColumns = {
    users: Int32Array.from(draws.users),
    items: Int32Array.from(draws.items),
    splits: new Int8Array(n),
    ratings: new Float32Array(n),
    timestamps: new BigInt64Array(n),
  };
  const clock = new Float64Array(p.users);
  for (let u = 0; u < p.users; u++) clock[u] = BASE_TIMESTAMP + rrng.float() * 3 * 365 * 86_400;
  for (let k = 0; k < n; k++) {
    const u = cols.users[k];
    const match = affinity(world, p.latentDim, u, cols.items[k]);
    cols.ratings[k] = Math.min(5, Math.max(1, Math.round(3.5 + 2 * match + 0.8 * rrng.normal())));
    clock[u] += 3600 + rrng.gamma(1) * 20 * 86_400;
    cols.timestamps[k] = BigInt(Math.floor(clock[u]));
  }
  return cols;
}

function bestUnchosen(u: number, nItems: number, chosen: Set<number>, score: (i: number) => number): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < nItems; i++) {
    if (chosen.has(u * nItems + i)) continue;
    const s = score(i);
    if (s > bestScore) {
      bestScore = s;
      best = i;
    }
  }
  return best;
}
