import { EnvironmentError } from '@sgfd/contracts';

const REMEDIES: Record<string, { found: string; todo: string }> = {
  ENOTDIR: {
    found: 'a file where a directory belongs (the path or one of its parents is a file)',
    todo: 'move the file away or choose another --out',
  },
  EEXIST: { found: 'a file already there', todo: 'move it away or choose another --out' },
  EISDIR: { found: 'a directory where a file belongs', todo: 'move it away or choose another --out' },
  EACCES: { found: 'permission denied', todo: 'make it writable or choose another --out' },
  EPERM: { found: 'operation not permitted', todo: 'make it writable or choose another --out' },
  EROFS: { found: 'a read-only file system', todo: 'choose an --out on a writable file system' },
  ENOSPC: { found: 'no space left on the device', todo: 'free disk space or choose an --out on another disk' },
  EDQUOT: { found: 'the disk quota is exhausted', todo: 'free space or choose another --out' },
};

/** True for a failure of the file system (an errno error), as opposed to a bug. */
export function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

/** A failed write, mkdir or rename as an error naming the path, the cause and what to do. */
export function writeError(path: string, action: string, err: NodeJS.ErrnoException): EnvironmentError {
  // mkdir -p over a file fails with EEXIST: the file is where a directory belongs.
  const code = err.code === 'EEXIST' && err.syscall === 'mkdir' ? 'ENOTDIR' : (err.code ?? '');
  const remedy = REMEDIES[code];
  return new EnvironmentError(`Cannot ${action}`, {
    file: path,
    expected: `a writable location (${remedy?.todo ?? 'check the path or choose another --out'})`,
    found: remedy?.found ?? `${err.code}: ${err.message}`,
  });
}

/** Runs a file-system step; an errno failure becomes a `writeError` naming `path`, anything else passes. */
export async function writing<T>(path: string, action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw isFileSystemError(err) ? writeError(path, action, err) : err;
  }
}
