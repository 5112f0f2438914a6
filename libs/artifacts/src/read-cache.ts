import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/** Entries used this recently are not evicted by default: a reader may still be about to open their files. */
const DEFAULT_KEEP_MS = 60_000;

/**
 * A size-limited folder of downloaded artifacts, one subfolder per artifact version (`<kind>/<key>-<sha>`),
 * least recently used evicted first. Files arrive complete (the caller downloads to a temp name and renames)
 * and an entry disappears by one rename, so a reader never sees half of either.
 */
export class ReadCache {
  private readonly trash: string;

  constructor(
    readonly root: string,
    readonly maxBytes: number,
    /** Entries used within this many ms are kept even over the limit. */
    readonly keepMs = DEFAULT_KEEP_MS,
  ) {
    this.trash = join(root, '.trash');
  }

  /** The folder of one artifact version; its mtime records its last use. */
  async entry(kind: string, key: string, manifestSha: string): Promise<string> {
    const dir = join(this.root, kind, `${key}-${manifestSha.slice(0, 16)}`);
    await mkdir(dir, { recursive: true });
    const now = new Date();
    await utimes(dir, now, now);
    return dir;
  }

  /** A temp path in the cache (same filesystem, so the finished file can be renamed into an entry). */
  async tempPath(): Promise<string> {
    const dir = join(this.root, '.incoming');
    await mkdir(dir, { recursive: true });
    return join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /** Evicts least recently used entries until the cache fits `maxBytes` (entries in use excepted). */
  async trim(): Promise<{ bytes: number; evicted: string[] }> {
    const entries = await this.entries();
    let bytes = entries.reduce((sum, e) => sum + e.bytes, 0);
    const evicted: string[] = [];
    entries.sort((a, b) => a.usedAt - b.usedAt);
    for (const e of entries) {
      if (bytes <= this.maxBytes) break;
      if (Date.now() - e.usedAt < this.keepMs) continue;
      await mkdir(this.trash, { recursive: true });
      const trashed = join(this.trash, `${Date.now()}-${randomBytes(6).toString('hex')}`);
      try {
        await rename(e.dir, trashed);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      await rm(trashed, { recursive: true, force: true });
      bytes -= e.bytes;
      evicted.push(e.dir);
    }
    return { bytes, evicted };
  }

  private async entries(): Promise<{ dir: string; bytes: number; usedAt: number }[]> {
    const out: { dir: string; bytes: number; usedAt: number }[] = [];
    for (const kind of await readdir(this.root).catch(() => [] as string[])) {
      if (kind.startsWith('.')) continue;
      for (const name of await readdir(join(this.root, kind)).catch(() => [] as string[])) {
        const dir = join(this.root, kind, name);
        const info = await stat(dir).catch(() => undefined);
        if (!info?.isDirectory()) continue;
        out.push({ dir, bytes: await folderBytes(dir), usedAt: info.mtimeMs });
      }
    }
    return out;
  }
}

async function folderBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile()) sum += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return sum;
}
