import { ConfigError, type RunConfig } from '@sgfd/contracts';
import type { LoadedDataset } from '@sgfd/data';

/** SGFD learns from item categories: a dataset without them cannot run it. */
export function requireCategories(
  dataset: LoadedDataset,
  config: RunConfig,
): { categories: Int32Array; nCategories: number } {
  if (!dataset.categories || !dataset.nCategories) {
    throw new ConfigError(
      `SGFD (sgfd.mode '${config.sgfd.mode}') needs item categories, and dataset ${dataset.manifest.id.slice(0, 12)} has none; ` +
        `set sgfd.mode to 'off' to train the plain backbone (or 'control' for SGFD's students without a teacher), or ingest a dataset with a category per item`,
      {
        file: dataset.dir,
        field: 'sgfd.mode',
        expected: "'off' for a dataset without categories",
        found: `'${config.sgfd.mode}'`,
      },
    );
  }
  return { categories: dataset.categories, nCategories: dataset.nCategories };
}

export function requireFeatures(dataset: LoadedDataset): void {
  if (Object.keys(dataset.features).length === 0) {
    throw new ConfigError('SGFD distils modality features, and the dataset has none', {
      file: dataset.dir,
      field: 'sgfd.mode',
    });
  }
}
