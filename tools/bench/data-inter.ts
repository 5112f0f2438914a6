// The large-.inter part of `npm run bench -- data`: the streaming .inter reader's peak RSS on a generated
// file of --inter-rows rows (default 25 M, ~0.6 GB: past the ~512 MB that a one-string read could not hold) and on a quarter of it, against the runtime's own RSS
// and the output arrays (21 bytes a row: user, item int32, split int8, rating float32, timestamp int64).
// Bounded memory means: peak RSS - idle RSS - output bytes is the same for both sizes. Also: a 135 MB
// garbage file that is bad at row 2 (fails at once), and the whole import of the large file.
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { importMmrec, readInterFile } from '@sgfd/data';

export const BYTES_PER_ROW = 21;

/** Writes an MMRec folder whose `big.inter` has `rows` valid rows (20 per user, every item used, no repeats). */
export async function writeLargeInter(dir: string, rows: number): Promise<{ path: string; bytes: number }> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'big.inter');
  const file = await open(path, 'w');
  const items = Math.max(1000, Math.floor(rows / 100));
  try {
    await file.write('userID\titemID\trating\ttimestamp\n');
    let lines: string[] = [];
    for (let k = 0; k < rows; k++) {
      const user = Math.floor(k / 20);
      const item = (user * 7 + (k % 20) * 131) % items;
      lines.push(`${user}\t${item}\t${1 + (k % 5)}\t${1600000000 + k}`);
      if (lines.length === 1 << 16) {
        await file.write(`${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) await file.write(`${lines.join('\n')}\n`);
  } finally {
    await file.close();
  }
  return { path, bytes: (await stat(path)).size };
}

/** A header and then 135 MB of lines that are not rows: the reader must stop at row 2. */
export async function writeGarbageInter(dir: string): Promise<{ path: string; bytes: number }> {
  const path = join(dir, 'garbage.inter');
  const file = await open(path, 'w');
  try {
    await file.write('userID\titemID\n');
    const block = `${'garbage '.repeat(120)}\n`.repeat(1024);
    for (let written = 0; written < 135e6; written += block.length) await file.write(block);
  } finally {
    await file.close();
  }
  return { path, bytes: (await stat(path)).size };
}

/** One measured phase in the child process; returns a detail line. */
export async function interPhase(phase: string, args: string[]): Promise<string> {
  if (phase === 'read-inter') {
    const { cols } = await readInterFile(args[0]);
    return `${cols.users.length} rows`;
  }
  if (phase === 'fail-inter') {
    const error = await readInterFile(args[0]).then(
      () => null,
      (e: unknown) => e as Error,
    );
    return error ? error.message.slice(0, 90) : 'no error';
  }
  if (phase === 'import-inter') {
    const result = await importMmrec({ dir: args[0], root: args[1] });
    return `snapshot ${result.id.slice(0, 12)}: ${result.manifest.counts.interactions} interactions`;
  }
  throw new Error(`unknown phase ${phase}`);
}
