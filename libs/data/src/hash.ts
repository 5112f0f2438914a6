import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Hashes a sequence of labelled parts; each part is length-prefixed so boundaries cannot shift. */
export class ContentHasher {
  private readonly hash: Hash = createHash('sha256');

  part(label: string, view: ArrayBufferView | string): this {
    const bytes = typeof view === 'string' ? new TextEncoder().encode(view) : bytesOf(view);
    this.hash.update(`${label}:${bytes.byteLength}:`);
    // Large typed arrays are fed in slices; update() of a view does not copy.
    const slice = 1 << 26;
    for (let off = 0; off < bytes.byteLength; off += slice) {
      this.hash.update(bytes.subarray(off, Math.min(off + slice, bytes.byteLength)));
    }
    return this;
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
