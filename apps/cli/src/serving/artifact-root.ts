import { join, resolve } from 'node:path';
import { REPO_ROOT } from '@sgfd/tools';

/** The artifact store the workers use: --artifacts, else SGFD_ARTIFACTS, else <repo>/.sgfd/artifacts. */
export function artifactRoot(flag: string | undefined): string {
  const location = flag ?? process.env['SGFD_ARTIFACTS'] ?? join(REPO_ROOT, '.sgfd', 'artifacts');
  return location.startsWith('file:') ? location : resolve(location);
}
