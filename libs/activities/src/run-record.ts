import type { RunConfig, RunManifest } from '@sgfd/contracts';
import { currentBackend } from '@sgfd/tensor';

/**
 * What every artifact records about the run that built it, so the artifact can be reproduced: seed, data
 * hash, config, tensor backend and code version.
 */
export function runRecord(parts: {
  runId: string;
  datasetId: string;
  config: RunConfig;
  codeVersion: string;
  startedAt: string;
}): RunManifest {
  return {
    runId: parts.runId,
    seed: parts.config.training.seed,
    datasetId: parts.datasetId,
    config: parts.config,
    backend: currentBackend(),
    codeVersion: parts.codeVersion,
    startedAt: parts.startedAt,
    finishedAt: new Date().toISOString(),
  };
}
