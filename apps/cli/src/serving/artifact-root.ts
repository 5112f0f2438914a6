import { join, resolve } from 'node:path';
import { sgfdHome } from '@sgfd/tools';

/** The artifact store the workers use: --artifacts, else SGFD_ARTIFACTS, else <home>/.sgfd/artifacts (see sgfdHome). */
export function artifactRoot(flag: string | undefined): string {
  const location = flag ?? process.env['SGFD_ARTIFACTS'] ?? join(sgfdHome(), '.sgfd', 'artifacts');
  return location.startsWith('file:') ? location : resolve(location);
}
