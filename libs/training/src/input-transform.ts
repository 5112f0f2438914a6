import { ConfigError, MODALITIES, usesStudents, type RunConfig } from '@sgfd/contracts';
import type { FeatureMatrix, LoadedDataset } from '@sgfd/data';

function log1p(matrix: FeatureMatrix, modality: string, dataset: LoadedDataset): Float32Array {
  const out = new Float32Array(matrix.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = matrix.data[i]!;
    if (v < 0) {
      throw new ConfigError(
        `sgfd.inputTransform.${modality} 'log1p' is for non-negative features, and the ${modality} feature of item ${Math.floor(i / matrix.dim)} has a negative value`,
        {
          file: dataset.dir,
          field: `sgfd.inputTransform.${modality}`,
          expected: "features >= 0 for 'log1p' ('standardise' or 'none' otherwise)",
          found: `${v} in column ${i % matrix.dim}`,
        },
      );
    }
    out[i] = Math.log1p(v);
  }
  return out;
}

/** Each column to mean 0 and standard deviation 1 over all items (a constant column to 0). */
function standardise(matrix: FeatureMatrix): Float32Array {
  const { rows, dim, data } = matrix;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) {
      const v = data[r * dim + c]!;
      mean[c] += v;
      sq[c] += v * v;
    }
  }
  const scale = new Float64Array(dim);
  for (let c = 0; c < dim; c++) {
    mean[c] /= rows;
    const variance = Math.max(0, sq[c] / rows - mean[c] * mean[c]);
    scale[c] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 0;
  }
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) out[r * dim + c] = (data[r * dim + c]! - mean[c]) * scale[c];
  }
  return out;
}

/**
 * The dataset as the teacher and the students see it: every modality's features through
 * `sgfd.inputTransform` (the plain backbone, `off`, reads the raw features). Untransformed modalities and
 * everything else are shared with `dataset`, not copied.
 */
export function sgfdInputs(dataset: LoadedDataset, config: RunConfig): LoadedDataset {
  if (!usesStudents(config.sgfd.mode)) return dataset;
  const transforms = config.sgfd.inputTransform;
  if (MODALITIES.every((m) => transforms[m] === 'none' || !dataset.features[m])) return dataset;
  const features = { ...dataset.features };
  for (const m of MODALITIES) {
    const matrix = dataset.features[m];
    if (!matrix || transforms[m] === 'none') continue;
    const data = transforms[m] === 'log1p' ? log1p(matrix, m, dataset) : standardise(matrix);
    features[m] = { rows: matrix.rows, dim: matrix.dim, data };
  }
  return { ...dataset, features };
}
