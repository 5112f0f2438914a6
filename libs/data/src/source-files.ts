import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, stat, type FileHandle } from 'node:fs/promises';
import { DatasetError, type UserError } from '@sgfd/contracts';

type UserErrorClass = new (summary: string, location: ConstructorParameters<typeof DatasetError>[1]) => UserError;

function describeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'a symbolic link loop';
    case 'ENOTDIR':
      return 'a path through a file';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** Turns a file-system failure into a DatasetError that names the file and what was expected. */
export function fileError(
  path: string,
  what: string,
  err: unknown,
  ErrorType: UserErrorClass = DatasetError,
): UserError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new ErrorType(code === 'ENOENT' ? `Missing ${what}` : `Unreadable ${what}`, {
    file: path,
    expected: `a readable ${what}`,
    found: describeFailure(err),
  });
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** A missing target behind a symbolic link is a broken link, not an absent file: say so. */
async function openFailure(path: string, what: string, err: unknown, ErrorType: UserErrorClass): Promise<UserError> {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    const link = await lstat(path).catch(() => null);
    if (link?.isSymbolicLink()) {
      const target = await readlink(path).catch(() => '?');
      return new ErrorType(`Unreadable ${what}`, {
        file: path,
        expected: `a readable ${what}`,
        found: `a dangling symbolic link (to ${target})`,
      });
    }
  }
  return fileError(path, what, err, ErrorType);
}

/**
 * Opens an input file for reading; anything but a regular file (a directory, a FIFO that would block
 * forever, a device) is an error naming the path. O_NONBLOCK makes opening a FIFO return at once; it
 * does not change reads of regular files.
 */
export async function openRegularFile(
  path: string,
  what: string,
  ErrorType: UserErrorClass = DatasetError,
): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw await openFailure(path, what, err, ErrorType);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new ErrorType(`Unreadable ${what}`, {
      file: path,
      expected: `a regular file (a readable ${what})`,
      found: kindOf(stats),
    });
  }
  return handle;
}

export async function readSourceFile(
  path: string,
  what: string,
  ErrorType: UserErrorClass = DatasetError,
): Promise<Uint8Array> {
  const handle = await openRegularFile(path, what, ErrorType);
  try {
    return await handle.readFile();
  } catch (err) {
    throw fileError(path, what, err, ErrorType);
  } finally {
    await handle.close();
  }
}

/** True when anything is at `path`, a broken symbolic link included: the reader then says what is wrong. */
export async function entryExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** True when `path` exists and is a regular file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function requireDirectory(path: string, what: string): Promise<void> {
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fileError(path, what, err);
  }
  if (!isDir) throw new DatasetError(`Unreadable ${what}`, { file: path, expected: 'a directory', found: 'a file' });
}

/** The names in a directory; an unreadable one is an error naming it. */
export async function listDirectory(path: string, what: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    throw fileError(path, what, err);
  }
}
