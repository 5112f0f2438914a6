import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isProcessAlive } from '@sgfd/artifacts';

export interface FileLockOptions {
  /** How often a waiter looks at the lock again. */
  pollMs?: number;
  /** Give up waiting after this long. */
  timeoutMs?: number;
  /** Called once when the lock is found taken, so a caller can say why it waits. */
  onWait?: (holder: string) => void;
}

/** A lock held by a dead process of this host is stale; one from another host is trusted until released. */
async function isStale(lockPath: string): Promise<boolean> {
  let content: string;
  try {
    content = await readFile(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const [pid, host] = content.trim().split(' ');
  if (host !== hostname()) return false;
  // An empty file is a holder that has created the lock but not yet written its pid.
  if (!pid) return false;
  return !isProcessAlive(Number(pid));
}

/**
 * Runs `fn` while holding an exclusive lock file (created with O_EXCL, holding "pid host"). Callers on the
 * same machine wait for each other; a lock left by a crashed process is broken. Two callers breaking the
 * same stale lock at once can both proceed: the lock only saves duplicate work, so whatever it guards must
 * stay correct without it (the installer writes to a temp name and renames).
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const { pollMs = 250, timeoutMs = 60 * 60_000, onWait } = options;
  const deadline = Date.now() + timeoutMs;
  let waited = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid} ${hostname()}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lockPath)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (!waited) {
      waited = true;
      onWait?.(
        await readFile(lockPath, 'utf8').then(
          (s) => s.trim(),
          () => 'unknown',
        ),
      );
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for lock ${lockPath}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
