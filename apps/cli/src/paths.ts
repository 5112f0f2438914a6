import { join, resolve } from 'node:path';

/** Local state lives under $SGFD_HOME (default ./.sgfd); snapshots under <home>/datasets. */
export function sgfdHome(): string {
  return resolve(process.env.SGFD_HOME ?? '.sgfd');
}

export function defaultDatasetRoot(): string {
  return join(sgfdHome(), 'datasets');
}

/** Features already extracted, per encoder and settings, by item content hash. */
export function defaultFeatureCache(): string {
  return join(sgfdHome(), 'feature-cache');
}
