export * from './types';
export * from './dataset-input';
export { Rng } from './random';
export { buildCsr } from './csr';
export { writeSnapshot, type WriteSnapshotOptions, type WriteSnapshotResult } from './snapshot-write';
export { loadSnapshot, readManifest, readSnapshotInput, type LoadOptions } from './snapshot-load';
export { INTERACTIONS_FILE, ITEMS_FILE, MANIFEST_FILE, USERS_FILE, featureFile } from './snapshot-layout';
export { validateDatasetInput } from './validate';
export {
  generateSynthetic,
  resolveSyntheticParams,
  SYNTHETIC_PRESETS,
  SYNTHETIC_PRESET_NAMES,
  type PlantedStructure,
  type SyntheticDataset,
  type SyntheticOptions,
  type SyntheticParams,
  type SyntheticPresetName,
} from './synthetic';
export {
  assignSortedSplits,
  assignSplits,
  splitInteractions,
  splitSortedInteractions,
  splitSizes,
  DROPPED,
} from './split';
export {
  importMmrec,
  readMmrecFolder,
  MMREC_FEATURE_FILES,
  DEFAULT_SPLIT_SEED,
  type ImportResult,
  type MmrecImportOptions,
} from './mmrec-import';
export {
  importParquet,
  readParquetDataset,
  DEFAULT_PARQUET_COLUMNS,
  type ParquetColumns,
  type ParquetImportOptions,
} from './parquet-import';
export { exportMmrec, exportSnapshotToMmrec, type MmrecExportOptions, type MmrecExportResult } from './mmrec-export';
export { readNpyMatrix, readNpyIntVector } from './npy';
export { summarizeDataset, type CountStats, type DatasetSummary, type FeatureStats } from './summary';
export { findSnapshot } from './snapshot-find';
export { encodeParquet, decodeParquet } from './parquet-io';
export { removeActiveTempDirsSync } from './temp-dirs';
export { readSourceFile } from './source-files';
export { readInterFile } from './inter-file';
export { IdMap, originalIds, type OriginalIds } from './raw/id-map';
export { readRawTable, rawTableFormat, type RawTable, type RawValue } from './raw/raw-table';
export {
  readRawCatalogue,
  DEFAULT_RAW_COLUMNS,
  type CatalogueItems,
  type RawCatalogue,
  type RawCatalogueColumns,
  type RawCatalogueOptions,
  type UnknownItemPolicy,
} from './raw/raw-catalogue';
