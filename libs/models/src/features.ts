import { MODALITIES } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';
import { cacheTranspose, releaseTranspose, tf } from '@sgfd/tensor';
import type { BackboneData, FeatureTensors } from './backbone';

export function backboneData(dataset: LoadedDataset): BackboneData {
  const featureDims: BackboneData['featureDims'] = {};
  for (const m of MODALITIES) {
    const f = dataset.features[m];
    if (f) featureDims[m] = f.dim;
  }
  return { nUsers: dataset.nUsers, nItems: dataset.nItems, featureDims, trainCsr: dataset.trainCsr };
}

/**
 * The dataset's feature matrices as device tensors (dispose them with `disposeFeatures`). Each keeps a
 * transposed copy, made on first use, for the weight gradients of projections of every item.
 */
export function featureTensors(dataset: LoadedDataset): FeatureTensors {
  const out: FeatureTensors = {};
  for (const m of MODALITIES) {
    const f = dataset.features[m];
    if (f) {
      out[m] = tf.tensor2d(f.data, [f.rows, f.dim]);
      cacheTranspose(out[m]!);
    }
  }
  return out;
}

export function disposeFeatures(features: FeatureTensors): void {
  for (const t of Object.values(features)) releaseTranspose(t);
  tf.dispose(Object.values(features));
}
