import { join, resolve } from 'node:path';

/** Local state lives under $SGFD_HOME (default ./.sgfd); snapshots under <home>/datasets. */
export function sgfdHome(): string {
  return resolve(process.env.SGFD_HOME ?? '.sgfd');
}

export function defaultDatasetRoot(): string {
  return join(sgfdHome(), 'datasets');
}
