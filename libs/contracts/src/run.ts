import type { RunConfig } from './config';

/** Recorded with every run so it can be reproduced: seed, data hash, config, backend, code version. */
export interface RunManifest {
  runId: string;
  seed: number;
  datasetId: string;
  config: RunConfig;
  backend: string;
  codeVersion: string;
  startedAt: string;
  finishedAt?: string;
}

/** metric name ("recall@20") -> value */
export type MetricTable = Record<string, number>;
