import { DatasetError } from '@sgfd/contracts';
import { openRegularFile } from './source-files';

const CHUNK_BYTES = 1 << 20;
/** A longer line is not a data row; stopping there bounds memory on binary or newline-free input. */
export const MAX_LINE_CHARS = 1 << 20;

export interface LineSource {
  path: string;
  /** Size of the file in bytes (for sizing the output arrays from the first lines). */
  bytes: number;
}

/**
 * Streams a UTF-8 text file line by line (1 MB reads, so memory stays bounded whatever the file size) and
 * calls `onLine(text, lineNumber)` for each line, line 1 first, without the line ending. Empty lines at
 * the end of the file are skipped; an empty line followed by more data is passed on (and rejected there).
 * Stops at the first problem: UTF-16 or invalid UTF-8, a NUL byte, an over-long line, or an error
 * thrown by `onLine`.
 */
export async function forEachLine(
  path: string,
  what: string,
  onLine: (text: string, lineNumber: number) => void,
  onStart?: (source: LineSource) => void,
): Promise<void> {
  const handle = await openRegularFile(path, what);
  try {
    const bytes = (await handle.stat()).size;
    onStart?.({ path, bytes });
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    const buffer = new Uint8Array(CHUNK_BYTES);
    let carry = '';
    let lineNumber = 0;
    let pendingEmpty = 0;
    let first = true;
    const deliver = (raw: string): void => {
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      lineNumber++;
      if (text.length === 0) {
        pendingEmpty++;
        return;
      }
      for (; pendingEmpty > 0; pendingEmpty--) onLine('', lineNumber - pendingEmpty);
      if (text.includes('\u0000')) {
        throw new DatasetError('NUL byte in a text file', {
          file: path,
          row: lineNumber,
          expected: 'UTF-8 text (is the file binary or UTF-16?)',
          found: `'${text}'`,
        });
      }
      onLine(text, lineNumber);
    };
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      if (first) {
        first = false;
        rejectUtf16(chunk, path);
      }
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        const loose = new TextDecoder().decode(chunk);
        const row = lineNumber + 1 + countNewlines(loose.slice(0, Math.max(0, loose.indexOf('\ufffd'))));
        throw new DatasetError('Invalid UTF-8 in a text file', {
          file: path,
          row,
          expected: 'UTF-8 (or ASCII) text',
          found: 'bytes that are not UTF-8',
        });
      }
      const lines = (carry + text).split('\n');
      carry = lines.pop()!;
      for (const line of lines) deliver(line);
      if (carry.length > MAX_LINE_CHARS) {
        throw new DatasetError('Line too long', {
          file: path,
          row: lineNumber + 1,
          expected: `a line of at most ${MAX_LINE_CHARS} characters (is this a text file?)`,
          found: 'a longer line',
        });
      }
    }
    try {
      carry += decoder.decode();
    } catch {
      throw new DatasetError('Invalid UTF-8 in a text file', {
        file: path,
        row: lineNumber + 1,
        expected: 'UTF-8 (or ASCII) text',
        found: 'a truncated UTF-8 sequence at the end',
      });
    }
    if (carry.length > 0) deliver(carry);
  } finally {
    await handle.close();
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) n++;
  return n;
}

/** A UTF-16 file decodes to NUL-riddled garbage; name the encoding instead. */
function rejectUtf16(start: Uint8Array, path: string): void {
  const bom =
    start.length >= 2 && ((start[0] === 0xff && start[1] === 0xfe) || (start[0] === 0xfe && start[1] === 0xff));
  const nulPairs = start.length >= 4 && (start[1] === 0 || start[0] === 0) && (start[3] === 0 || start[2] === 0);
  if (bom || nulPairs) {
    throw new DatasetError('Text file is UTF-16', {
      file: path,
      row: 1,
      expected: 'UTF-8 (or ASCII) text: re-save it as UTF-8',
      found: bom ? 'a UTF-16 byte order mark' : 'UTF-16 text (NUL bytes between characters)',
    });
  }
}
