// Property-based fuzzing of the readers a user's files reach first: whatever the bytes, the outcome is a
// result or a DatasetError, never another exception (and never a crash of the process).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '@sgfd/contracts';
import { readMmrecFolder } from './mmrec-import';
import { readNpyIntVector, readNpyMatrix } from './npy';

const RUNS = 250;
let work: string;
let n = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-fuzz-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs `read`; a DatasetError is a fine outcome, anything else thrown fails the property. */
async function onlyDatasetErrors(read: () => Promise<unknown>): Promise<void> {
  try {
    await read();
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    expect(err.message.includes('\u0000') || err.message.includes('\ufffd')).toBe(false);
  }
}

// ---- .npy: a header built from plausible and hostile parts, then optionally bytes flipped ----
const descr = fc.oneof(
  fc.constantFrom('<f4', '<f8', '<i8', '|u1', '<u8', '>f4', '<f2', ''),
  fc.string({ maxLength: 6 }),
);
const shapeEntry = fc.oneof(
  fc.nat({ max: 12 }),
  fc.constantFrom('1e3', '-1', '0x10', '9007199254740993', ' ', 'L'),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
);
const headerText = fc
  .record({
    descr,
    fortran: fc.constantFrom('True', 'False', 'None', '1'),
    shape: fc.array(shapeEntry, { maxLength: 3 }),
    junk: fc.string({ maxLength: 8 }),
  })
  .map(
    ({ descr: d, fortran, shape, junk }) =>
      `{'descr': '${d}', 'fortran_order': ${fortran}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), ${junk}}\n`,
  );
const headerLength = fc.oneof(fc.constant(-1), fc.nat({ max: 300 }), fc.constantFrom(2 ** 16, 2 ** 31, 2 ** 32 - 1));
const npyFile = fc
  .record({
    version: fc.constantFrom(1, 2, 3, 0, 4),
    text: headerText,
    declared: headerLength,
    data: fc.uint8Array({ maxLength: 256 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
  })
  .map(({ version, text, declared, data, flips }) => {
    const header = new TextEncoder().encode(text);
    const lengthBytes = version === 1 ? 2 : 4;
    const bytes = new Uint8Array(8 + lengthBytes + header.length + data.length);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const length = declared < 0 ? header.length : declared;
    if (lengthBytes === 2) new DataView(bytes.buffer).setUint16(8, length & 0xffff, true);
    else new DataView(bytes.buffer).setUint32(8, length >>> 0, true);
    bytes.set(header, 8 + lengthBytes);
    bytes.set(data, 8 + lengthBytes + header.length);
    for (const [at, mask] of flips) bytes[at % bytes.length] ^= mask;
    return bytes;
  });

describe('fuzz', () => {
  it('the .npy reader: any header and data give a matrix or a DatasetError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(npyFile, fc.uint8Array({ maxLength: 64 })), async (bytes) => {
        const path = join(work, `f${n++}.npy`);
        await writeFile(path, bytes);
        await onlyDatasetErrors(() => readNpyMatrix(path, 'fuzzed feature file'));
        await onlyDatasetErrors(() => readNpyIntVector(path, 'fuzzed category file'));
      }),
      { numRuns: RUNS },
    );
  });

  // ---- .inter: lines of plausible and hostile fields, or raw bytes ----
  const column = fc.constantFrom('userID', 'itemID', 'rating', 'timestamp', 'x_label', 'extra', '', 'userid');
  const field = fc.oneof(
    fc.nat({ max: 6 }).map(String),
    fc.constantFrom(
      '-1',
      '1.5',
      '1e39',
      '1e300',
      'NaN',
      'Infinity',
      '18446744073709551621',
      '2147483647',
      '',
      ' 3 ',
      '0x1',
      '\u0000',
      '\r',
      'é',
      '\ud800',
    ),
    fc.string({ maxLength: 5 }),
  );
  const interText = fc
    .record({
      header: fc.oneof(
        fc.constant(['userID', 'itemID', 'rating', 'timestamp', 'x_label']),
        fc.array(column, { minLength: 1, maxLength: 6 }),
      ),
      rows: fc.array(fc.array(field, { minLength: 1, maxLength: 6 }), { maxLength: 30 }),
      separator: fc.constantFrom('\t', '\t', ','),
      newline: fc.constantFrom('\n', '\r\n'),
    })
    .map(({ header, rows, separator, newline }) =>
      new TextEncoder().encode([header, ...rows].map((r) => r.join(separator)).join(newline) + newline),
    );
  const validRows = fc
    .array(fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 5 }), fc.constantFrom(0, 0, 0, 1, 2)), {
      minLength: 1,
      maxLength: 40,
    })
    .map((rows) => new TextEncoder().encode(`userID\titemID\tx_label\n${rows.map((r) => r.join('\t')).join('\n')}\n`));

  it('the .inter reader (and the validation after it): any bytes give a dataset or a DatasetError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(interText, validRows, fc.uint8Array({ maxLength: 200 })), async (bytes) => {
        const dir = join(work, `inter${n++}`);
        await mkdir(dir);
        await writeFile(join(dir, 'ds.inter'), bytes);
        await onlyDatasetErrors(() => readMmrecFolder({ dir }));
      }),
      { numRuns: RUNS },
    );
  });
});
