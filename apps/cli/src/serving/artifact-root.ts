import { join, resolve } from 'node:path';
import { sgfdStateDir } from '@sgfd/tools';

/** The artifact store the workers use: --artifacts, else SGFD_ARTIFACTS, else <state folder>/artifacts (sgfdStateDir). */
export function artifactRoot(flag: string | undefined): string {
  const location = flag ?? process.env['SGFD_ARTIFACTS'] ?? join(sgfdStateDir(), 'artifacts');
  return location.startsWith('file:') ? location : resolve(location);
}
