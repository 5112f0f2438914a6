import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetManifestSchema, type DatasetManifest } from '@sgfd/contracts';
import { sha256File } from './hash';
import { MANIFEST_FILE } from './snapshot-layout';

export type ExistingSnapshot =
  | { state: 'absent' }
  | { state: 'intact'; manifest: DatasetManifest }
  /** A directory whose manifest or files do not check out: it may be replaced. */
  | { state: 'damaged'; reason: string }
  /** Something that is not a directory: never removed, reported. */
  | { state: 'blocked' };

/**
 * What is at a snapshot's path: nothing, an intact snapshot of this content (manifest valid, same id,
 * every file's size and sha256 as listed), a damaged one, or something else in the way.
 */
export async function inspectExistingSnapshot(dir: string, id: string): Promise<ExistingSnapshot> {
  const entry = await lstat(dir).catch(() => null);
  if (!entry) return { state: 'absent' };
  if (!entry.isDirectory()) return { state: 'blocked' };
  let manifest: DatasetManifest;
  try {
    const parsed = DatasetManifestSchema.safeParse(JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')));
    if (!parsed.success) return { state: 'damaged', reason: `${MANIFEST_FILE} is not a valid manifest` };
    manifest = parsed.data;
  } catch {
    return { state: 'damaged', reason: `${MANIFEST_FILE} is missing or not JSON` };
  }
  if (manifest.id !== id) return { state: 'damaged', reason: `${MANIFEST_FILE} names another id` };
  for (const file of manifest.files) {
    const actual = await sha256File(join(dir, file.path)).catch(() => null);
    if (!actual || actual.bytes !== file.bytes || actual.sha256 !== file.sha256)
      return { state: 'damaged', reason: `${file.path} does not match its checksum` };
  }
  return { state: 'intact', manifest };
}
