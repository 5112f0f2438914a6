// Test helpers other projects' tests use (`@sgfd/data/testing`): byte-exact input files to attack the readers
// with, and the linear probe that checks features carry their categories.
export * from './mmrec-folder';
export { npyBytes } from './npy-bytes';
export { listColumn, writeParquetTable } from './arrow';
export { linearProbeAccuracy, majorityAccuracy } from './probes';
