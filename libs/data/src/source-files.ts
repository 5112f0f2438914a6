import { readFile, stat } from 'node:fs/promises';
import { DatasetError } from '@sgfd/contracts';

/** Turns a file-system failure into a DatasetError that names the file and what was expected. */
export function fileError(path: string, what: string, err: unknown): DatasetError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const found =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : err instanceof Error
            ? err.message
            : String(err);
  return new DatasetError(code === 'ENOENT' ? `Missing ${what}` : `Unreadable ${what}`, {
    file: path,
    expected: `a readable ${what}`,
    found,
  });
}

export async function readSourceFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fileError(path, what, err);
  }
}

export async function readSourceText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw fileError(path, what, err);
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
