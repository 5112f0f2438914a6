import type { FileHandle } from 'node:fs/promises';
import { DatasetError } from '@sgfd/contracts';
import { openRegularFile } from './source-files';
import { checkFinite } from './validate';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const CHUNK_BYTES = 1 << 23;
/** NumPy writes headers of ~128 bytes (and refuses to read ones over 10,000 by default). */
const MAX_HEADER_BYTES = 1 << 16;

export interface NpyReadOptions {
  /** Called with the row count from the header, before any data is read: may throw to reject it. */
  checkRows?: (rows: number) => void;
}

export interface NpyHeader {
  version: number;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first value. */
  dataOffset: number;
  fileBytes: number;
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Parses the .npy header (format versions 1.0, 2.0 and 3.0). */
export async function readNpyHeader(handle: FileHandle, path: string): Promise<NpyHeader> {
  const fileBytes = (await handle.stat()).size;
  const prefix = new Uint8Array(12);
  const got = await readExactly(handle, prefix, 0);
  const notNpy = (found: string): DatasetError =>
    new DatasetError('Not a .npy file', {
      file: path,
      expected: 'a NumPy .npy file (magic \\x93NUMPY, version 1-3)',
      found,
    });
  if (got < 10 || MAGIC.some((b, k) => prefix[k] !== b)) throw notNpy(got < 10 ? `${got} bytes` : 'other bytes');
  const version = prefix[6];
  if (version < 1 || version > 3) throw notNpy(`version ${version}.${prefix[7]}`);
  const view = new DataView(prefix.buffer);
  const lengthBytes = version === 1 ? 2 : 4;
  const headerLength = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  // The declared length is compared with the file before anything is allocated: a hostile 4 GB length
  // must not reach the allocator (or fs.read, which aborts the process on 2 GB and more).
  if (headerStart + headerLength > fileBytes) {
    throw new DatasetError('Truncated .npy file', {
      file: path,
      field: 'header length',
      expected: `a ${headerLength}-byte header`,
      found: `a ${fileBytes}-byte file`,
    });
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new DatasetError('Unreadable .npy header', {
      file: path,
      field: 'header length',
      expected: `a header of at most ${MAX_HEADER_BYTES} bytes`,
      found: `${headerLength} bytes`,
    });
  }
  const headerBytes = new Uint8Array(headerLength);
  await readExactly(handle, headerBytes, headerStart);
  const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DatasetError('Unreadable .npy header', {
      file: path,
      expected: "a dict with 'descr', 'fortran_order', 'shape'",
      found: text.trim(),
    });
  }
  const entries = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const shape = entries.map(Number);
  if (entries.some((e) => !/^\d+$/.test(e)) || shape.some((n) => !Number.isSafeInteger(n))) {
    throw new DatasetError('Unreadable .npy shape', {
      file: path,
      field: 'shape',
      expected: 'non-negative integers',
      found: `(${shapeText})`,
    });
  }
  return { version, descr, fortranOrder: fortran === 'True', shape, dataOffset: headerStart + headerLength, fileBytes };
}

const FLOAT_TYPES: Record<string, { bytes: number; array: Float32ArrayConstructor | Float64ArrayConstructor }> = {
  '<f4': { bytes: 4, array: Float32Array },
  '<f8': { bytes: 8, array: Float64Array },
};
const INT_TYPES: Record<string, { bytes: number; read: (view: DataView, at: number) => number }> = {
  '|i1': { bytes: 1, read: (v, at) => v.getInt8(at) },
  '|u1': { bytes: 1, read: (v, at) => v.getUint8(at) },
  '<i2': { bytes: 2, read: (v, at) => v.getInt16(at, true) },
  '<u2': { bytes: 2, read: (v, at) => v.getUint16(at, true) },
  '<i4': { bytes: 4, read: (v, at) => v.getInt32(at, true) },
  '<u4': { bytes: 4, read: (v, at) => v.getUint32(at, true) },
  '<i8': { bytes: 8, read: (v, at) => Number(v.getBigInt64(at, true)) },
  '<u8': { bytes: 8, read: (v, at) => Number(v.getBigUint64(at, true)) },
};

function checkSize(header: NpyHeader, itemBytes: number, path: string): void {
  const count = header.shape.reduce((a, b) => a * b, 1);
  const expected = header.dataOffset + count * itemBytes;
  if (header.fileBytes < expected) {
    throw new DatasetError('Truncated .npy file', {
      file: path,
      expected: `${expected} bytes for shape (${header.shape.join(', ')})`,
      found: `${header.fileBytes} bytes`,
    });
  }
  if (header.fileBytes > expected) {
    throw new DatasetError('Unexpected trailing bytes in .npy file', {
      file: path,
      expected: `${expected} bytes for shape (${header.shape.join(', ')})`,
      found: `${header.fileBytes} bytes`,
    });
  }
}

/**
 * Reads a 2-D float32/float64 C-order .npy matrix into a Float32Array, in chunks: float32 data is read
 * straight into the result, float64 through one small buffer, so memory stays at the size of the result.
 * Every value is checked to be finite (and, for float64, representable as float32).
 */
export async function readNpyMatrix(
  path: string,
  what: string,
  options: NpyReadOptions = {},
): Promise<{ rows: number; dim: number; data: Float32Array }> {
  const handle = await openRegularFile(path, what);
  try {
    const header = await readNpyHeader(handle, path);
    const type = FLOAT_TYPES[header.descr];
    if (!type) {
      throw new DatasetError('Wrong dtype in .npy file', {
        file: path,
        field: 'descr',
        expected: "little-endian float32 ('<f4') or float64 ('<f8')",
        found: `'${header.descr}'`,
      });
    }
    if (header.shape.length !== 2 || header.shape[1] === 0) {
      throw new DatasetError('Wrong shape in .npy file', {
        file: path,
        field: 'shape',
        expected: '(n_items, dim) with dim >= 1',
        found: `(${header.shape.join(', ')})`,
      });
    }
    if (header.fortranOrder && header.shape[1] > 1) {
      throw new DatasetError('Wrong memory order in .npy file', {
        file: path,
        field: 'fortran_order',
        expected: 'C order (False)',
        found: 'True',
      });
    }
    options.checkRows?.(header.shape[0]);
    checkSize(header, type.bytes, path);
    const [rows, dim] = header.shape;
    const data = new Float32Array(rows * dim);
    const origin = { file: path, rowBase: 0 };
    if (type.bytes === 4) {
      const bytes = new Uint8Array(data.buffer);
      for (let off = 0; off < bytes.byteLength; off += CHUNK_BYTES) {
        const len = Math.min(CHUNK_BYTES, bytes.byteLength - off);
        await readExactly(handle, bytes.subarray(off, off + len), header.dataOffset + off);
        checkFinite(data.subarray(off / 4, (off + len) / 4), dim, origin, off / 4);
      }
    } else {
      const chunk = new Float64Array(CHUNK_BYTES / 8);
      const chunkBytes = new Uint8Array(chunk.buffer);
      for (let first = 0; first < data.length; first += chunk.length) {
        const n = Math.min(chunk.length, data.length - first);
        await readExactly(handle, chunkBytes.subarray(0, n * 8), header.dataOffset + first * 8);
        const values = chunk.subarray(0, n);
        checkFinite(values, dim, origin, first);
        for (let k = 0; k < n; k++) {
          const v = Math.fround(values[k]);
          if (v - v !== 0) {
            throw new DatasetError('Feature value out of float32 range', {
              file: path,
              row: Math.floor((first + k) / dim),
              field: `column ${(first + k) % dim}`,
              expected: 'a magnitude below 3.4e38',
              found: String(values[k]),
            });
          }
          data[first + k] = v;
        }
      }
    }
    return { rows, dim, data };
  } finally {
    await handle.close();
  }
}

/** Reads a 1-D (or n x 1) integer .npy vector, e.g. item_category.npy. */
export async function readNpyIntVector(path: string, what: string, options: NpyReadOptions = {}): Promise<Int32Array> {
  const handle = await openRegularFile(path, what);
  try {
    const header = await readNpyHeader(handle, path);
    const type = INT_TYPES[header.descr];
    if (!type) {
      throw new DatasetError('Wrong dtype in .npy file', {
        file: path,
        field: 'descr',
        expected: 'a little-endian integer dtype (e.g. <i8)',
        found: `'${header.descr}'`,
      });
    }
    const ok = header.shape.length === 1 || (header.shape.length === 2 && header.shape[1] === 1);
    if (!ok) {
      throw new DatasetError('Wrong shape in .npy file', {
        file: path,
        field: 'shape',
        expected: '(n_items,)',
        found: `(${header.shape.join(', ')})`,
      });
    }
    options.checkRows?.(header.shape[0]);
    checkSize(header, type.bytes, path);
    const n = header.shape[0];
    const raw = new Uint8Array(n * type.bytes);
    await readExactly(handle, raw, header.dataOffset);
    const view = new DataView(raw.buffer);
    const out = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const v = type.read(view, k * type.bytes);
      if (v < 0 || v > 2147483647) {
        throw new DatasetError('Category out of range', {
          file: path,
          row: k,
          expected: 'an integer in [0, 2^31)',
          found: String(v),
        });
      }
      out[k] = v;
    }
    return out;
  } finally {
    await handle.close();
  }
}

type NpyArray = Float32Array | Int32Array | BigInt64Array;

function descrOf(data: NpyArray): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Int32Array) return '<i4';
  return '<i8';
}

/** Writes a C-order .npy (format 1.0, header padded to 64 bytes as NumPy does), streaming the data. */
export async function writeNpy(handle: FileHandle, data: NpyArray, shape: number[]): Promise<void> {
  const dict = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const header = new Uint8Array(total);
  header.set(MAGIC, 0);
  header[6] = 1;
  header[7] = 0;
  new DataView(header.buffer).setUint16(8, total - 10, true);
  header.set(new TextEncoder().encode(dict.padEnd(total - 11, ' ') + '\n'), 10);
  await handle.write(header);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let off = 0; off < bytes.byteLength; off += CHUNK_BYTES) {
    await handle.write(bytes.subarray(off, Math.min(off + CHUNK_BYTES, bytes.byteLength)));
  }
}
