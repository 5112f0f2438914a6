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
    // Large typed arrays are fed in slices; update() of a view does not copy.
    const slice = 1 << 26;
    const slices = function* (): Generator<Uint8Array> {
      for (let off = 0; off < bytes.byteLength; off += slice)
        yield bytes.subarray(off, Math.min(off + slice, bytes.byteLength));
    };
    return this.partInChunks(label, bytes.byteLength, slices());
  }

  /**
   * One part given as consecutive chunks of `byteLength` bytes in all: hashes the same as `part` of the
   * chunks joined, without ever holding them joined.
   */
  partInChunks(label: string, byteLength: number, chunks: Iterable<ArrayBufferView>): this {
    this.hash.update(`${label}:${byteLength}:`);
    let fed = 0;
    for (const chunk of chunks) {
      this.hash.update(bytesOf(chunk));
      fed += chunk.byteLength;
    }
    if (fed !== byteLength) throw new Error(`ContentHasher: part ${label} declared ${byteLength} bytes, got ${fed}`);
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
