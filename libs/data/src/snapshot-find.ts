import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DatasetError } from '@sgfd/contracts';
import { MANIFEST_FILE, TEMP_PREFIX } from './snapshot-layout';
import { isFile } from './source-files';

/**
 * Resolves what a user typed to a snapshot directory: a path to a snapshot, or an id (or a unique
 * prefix of one) under the snapshot root.
 */
export async function findSnapshot(ref: string, root: string): Promise<string> {
  const direct = resolve(ref);
  if (await isFile(join(direct, MANIFEST_FILE))) return direct;
  let names: string[] = [];
  try {
    names = (await readdir(root)).filter((n) => !n.startsWith(TEMP_PREFIX));
  } catch {
    names = [];
  }
  const matches = /^[0-9a-f]{4,64}$/.test(ref) ? names.filter((n) => n.startsWith(ref)) : [];
  if (matches.length === 1 && (await isFile(join(root, matches[0], MANIFEST_FILE)))) return resolve(root, matches[0]);
  throw new DatasetError(matches.length > 1 ? `Ambiguous snapshot id '${ref}'` : `No snapshot '${ref}'`, {
    file: ref,
    expected: `a snapshot directory (with ${MANIFEST_FILE}) or an id under ${resolve(root)}`,
    found: matches.length > 1 ? matches.map((m) => m.slice(0, 12)).join(', ') : 'nothing',
  });
}
