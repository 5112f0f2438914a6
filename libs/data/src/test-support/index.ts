// Test helpers other projects' tests use (`@sgfd/data/testing`): byte-exact input files to attack the readers with.
export * from './mmrec-folder';
export { npyBytes } from './npy-bytes';
export { listColumn, writeParquetTable } from './arrow';
