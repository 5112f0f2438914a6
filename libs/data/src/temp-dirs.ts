// Temp directories that become snapshots by one rename. Their names carry the owning process
// (`.tmp-<id>-<pid>@<host>-<random>`), so a later import can tell a live one from the leftover of a
// killed process, and the process itself can remove its own on SIGINT/SIGTERM.
import { existsSync, rmSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from '@sgfd/artifacts';
import { TEMP_PREFIX } from './snapshot-layout';

const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';
const OWNED = /^\.tmp-.*-(\d+)@([A-Za-z0-9._]+)-[0-9a-f]{8}$/;
/** Temp directories of older versions carry no owner; after a day nobody is writing them. */
const UNOWNED_STALE_MS = 24 * 3600 * 1000;

const active = new Set<string>();

/** Creates `<root>/.tmp-<label>-<pid>@<host>-<random>` with the usual permissions (umask applies, unlike mkdtemp's 0700). */
export async function createTempDir(root: string, label: string): Promise<string> {
  for (;;) {
    const path = join(root, `${TEMP_PREFIX}${label}-${process.pid}@${HOST}-${randomBytes(4).toString('hex')}`);
    // Registered before it exists: a signal handled between the directory's creation and mkdir's
    // callback must still find it (removing a path that does not exist yet is harmless).
    active.add(path);
    try {
      await mkdir(path, { mode: 0o777 });
      return path;
    } catch (err) {
      active.delete(path);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export async function removeTempDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  active.delete(path);
}

/** Forgets a temp directory that was renamed into place. */
export function releaseTempDir(path: string): void {
  active.delete(path);
}

/** Removes this process's temp directories now (from a signal handler: synchronous); returns those that existed. */
export function removeActiveTempDirsSync(): string[] {
  const removed = [...active].filter((path) => existsSync(path));
  for (const path of removed) rmSync(path, { recursive: true, force: true });
  active.clear();
  return removed;
}

/** Removes temp directories under `root` whose owner process (on this host) is gone; returns their names. */
export async function sweepStaleTempDirs(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => n.startsWith(TEMP_PREFIX));
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const name of names) {
    const owner = OWNED.exec(name);
    let stale: boolean;
    if (owner) stale = owner[2] === HOST && Number(owner[1]) !== process.pid && !isProcessAlive(Number(owner[1]));
    else
      stale = await stat(join(root, name)).then(
        (s) => Date.now() - s.mtimeMs > UNOWNED_STALE_MS,
        () => false,
      );
    if (!stale) continue;
    await rm(join(root, name), { recursive: true, force: true });
    swept.push(name);
  }
  return swept;
}
