import type { FeatureMatrix } from './types';
import { Rng } from './random';

/**
 * Generic modality features as a nonlinear, noisy, high-dimensional function of (category, item latent),
 * with nuisance factors that carry no signal. See the model at the top of synthetic.ts.
 */
export interface FeatureModelInput {
  nItems: number;
  categories: Int32Array;
  nCategories: number;
  /** Item latent vectors, row-major nItems x latentDim. */
  itemLatent: Float32Array;
  latentDim: number;
}

export interface FeatureModelParams {
  dim: number;
  /** Width of the semantic code h (category + latent). */
  semanticDim: number;
  /** Number of nuisance factors (item-specific, unrelated to category and preference). */
  nuisanceDim: number;
  /** Which categories this modality confuses: category c is seen as group groupOf(c). */
  groupOf: (category: number) => number;
  /** Weight of the category's own code next to its group's code: small means the modality mixes up the group. */
  categoryCodeWeight: number;
  /** Weight of the projected item latent in the semantic code. */
  latentWeight: number;
  /** Noise inside the semantic code (before the nonlinearity). */
  codeNoise: number;
  /** Noise added to every output dimension. */
  outputNoise: number;
}

/** Pairs of categories look alike in images: {0,1}, {2,3}, ... */
export const imageGroupOf = (c: number): number => c >> 1;
/** Text pairs them differently: {0}, {1,2}, {3,4}, ...; with the image grouping, every category is identifiable. */
export const textGroupOf = (c: number): number => (c + 1) >> 1;

/** Per item [tanh(semantic code); nuisance], row-major nItems x (semanticDim + nuisanceDim). */
function hiddenFactors(input: FeatureModelInput, p: FeatureModelParams, rng: Rng): Float32Array {
  const { nItems, categories, nCategories, itemLatent, latentDim } = input;
  const H = p.semanticDim;
  const width = H + p.nuisanceDim;
  const nGroups = Math.max(...Array.from({ length: nCategories }, (_, c) => p.groupOf(c))) + 1;
  const groupCode = gaussian(rng, nGroups * H, 1);
  const categoryCode = gaussian(rng, nCategories * H, 1);
  const projection = gaussian(rng, H * latentDim, 1 / Math.sqrt(latentDim));
  // Keeps tanh in its curved range whatever the noise level: saturated units would carry only signs.
  const gain = 1.2 / Math.sqrt(1 + p.categoryCodeWeight ** 2 + p.latentWeight ** 2 + p.codeNoise ** 2);
  const out = new Float32Array(nItems * width);
  for (let i = 0; i < nItems; i++) {
    const c = categories[i];
    const g = p.groupOf(c);
    const row = i * width;
    for (let k = 0; k < H; k++) {
      let s = groupCode[g * H + k] + p.categoryCodeWeight * categoryCode[c * H + k];
      let proj = 0;
      for (let l = 0; l < latentDim; l++) proj += projection[k * latentDim + l] * itemLatent[i * latentDim + l];
      s += p.latentWeight * Math.sqrt(latentDim) * proj + p.codeNoise * rng.normal();
      out[row + k] = Math.tanh(gain * s);
    }
    for (let k = 0; k < p.nuisanceDim; k++) out[row + H + k] = rng.normal();
  }
  return out;
}

/**
 * Image-like: non-negative and sparse, like pooled CNN activations. Each output unit reads a few hidden
 * factors (semantic and nuisance mixed), adds noise, and passes a ReLU with a threshold that zeroes
 * about 70 % of the values; units have log-normal scales.
 */
export function imageLikeFeatures(input: FeatureModelInput, p: FeatureModelParams, seed: number): FeatureMatrix {
  const rng = new Rng(seed);
  const hidden = hiddenFactors(input, p, rng.fork('hidden'));
  const width = p.semanticDim + p.nuisanceDim;
  const fanIn = 6;
  const wrng = rng.fork('weights');
  const source = new Int32Array(p.dim * fanIn);
  const weight = new Float32Array(p.dim * fanIn);
  const threshold = new Float32Array(p.dim);
  const scale = new Float32Array(p.dim);
  for (let j = 0; j < p.dim; j++) {
    let variance = p.outputNoise * p.outputNoise;
    for (let f = 0; f < fanIn; f++) {
      const s = wrng.int(width);
      const w = wrng.normal();
      source[j * fanIn + f] = s;
      weight[j * fanIn + f] = w;
      variance += w * w * (s < p.semanticDim ? 0.6 : 1);
    }
    threshold[j] = 0.52 * Math.sqrt(variance);
    scale[j] = Math.exp(0.5 * wrng.normal());
  }
  const nrng = rng.fork('noise');
  const data = new Float32Array(input.nItems * p.dim);
  for (let i = 0; i < input.nItems; i++) {
    const h = i * width;
    const row = i * p.dim;
    for (let j = 0; j < p.dim; j++) {
      let pre = p.outputNoise * nrng.normal() - threshold[j];
      for (let f = 0; f < fanIn; f++) pre += weight[j * fanIn + f] * hidden[h + source[j * fanIn + f]];
      data[row + j] = pre > 0 ? pre * scale[j] : 0;
    }
  }
  return { rows: input.nItems, dim: p.dim, data };
}

/** Text-like: a dense linear mix of all hidden factors plus noise, L2-normalised like sentence embeddings. */
export function textLikeFeatures(input: FeatureModelInput, p: FeatureModelParams, seed: number): FeatureMatrix {
  const rng = new Rng(seed);
  const hidden = hiddenFactors(input, p, rng.fork('hidden'));
  const width = p.semanticDim + p.nuisanceDim;
  const mix = gaussian(rng.fork('weights'), p.dim * width, 1 / Math.sqrt(width));
  const nrng = rng.fork('noise');
  const data = new Float32Array(input.nItems * p.dim);
  for (let i = 0; i < input.nItems; i++) {
    const h = i * width;
    const row = i * p.dim;
    let norm = 0;
    for (let j = 0; j < p.dim; j++) {
      let v = p.outputNoise * nrng.normal();
      for (let k = 0; k < width; k++) v += mix[j * width + k] * hidden[h + k];
      data[row + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < p.dim; j++) data[row + j] *= inv;
  }
  return { rows: input.nItems, dim: p.dim, data };
}

function gaussian(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = std * rng.normal();
  return out;
}
