// Hostile and careless inputs to `sgfd data import` and `sgfd train`, one case each: the inputs a case
// builds, the exit code it must get and what its message must say. hostile-inputs.test.ts runs them all.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FIXTURE_ROWS,
  fixtureFeatures,
  fixtureWithRow,
  FIXTURE_HEADER,
  FIXTURE_ITEMS,
  listColumn,
  npyBytes,
  writeMmrecFolder,
  writeParquetTable,
  type MmrecFolderSpec,
} from '@sgfd/data/testing';

export interface HostileCase {
  name: string;
  /** Builds the inputs under `dir` and returns the CLI arguments; `out` is the --out the case must leave clean. */
  build(dir: string, out: string): Promise<string[]>;
  code: 1 | 2;
  /** The message must match each: the path, the row or field, what was expected. */
  says: RegExp[];
  /** Run as an unprivileged user (uid 65534) in a child process: permissions do not bind root. */
  unprivileged?: boolean;
}

const importFolder =
  (spec: MmrecFolderSpec = {}) =>
  async (dir: string, out: string) => [
    'data',
    'import',
    'mmrec',
    await writeMmrecFolder(join(dir, 'ds'), spec),
    '--out',
    out,
  ];
const mmrec = (name: string, spec: MmrecFolderSpec, says: RegExp[]): HostileCase => ({
  name,
  build: importFolder(spec),
  code: 1,
  says,
});
const parquet = (name: string, tables: (dir: string) => Promise<string[]>, says: RegExp[]): HostileCase => ({
  name,
  build: async (dir, out) => ['data', 'import', 'parquet', ...(await tables(dir)), '--out', out],
  code: 1,
  says,
});
const int32 = (values: number[]) => Int32Array.from(values);
const npyF4 = (rows: number, dim: number) =>
  npyBytes({ descr: '<f4', shape: [rows, dim], values: fixtureFeatures(rows, dim) });

/** A .npy v2/v3 prefix whose header length field claims `length` bytes (the file itself is tiny). */
function npyWithHeaderLength(version: 2 | 3, length: number): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  new DataView(bytes.buffer).setUint32(8, length, true);
  return bytes;
}

/** The cases that were covered before issue 16 (library level), now through the CLI. */
const EARLIER_CASES: HostileCase[] = [
  {
    name: 'a missing dataset folder',
    build: async (dir, out) => ['data', 'import', 'mmrec', join(dir, 'nowhere'), '--out', out],
    code: 1,
    says: [/Missing MMRec dataset folder/, /nowhere/, /no such file/],
  },
  {
    name: 'a folder without an .inter file',
    build: async (dir, out) => (
      await mkdir(join(dir, 'ds')),
      ['data', 'import', 'mmrec', join(dir, 'ds'), '--out', out]
    ),
    code: 1,
    says: [/Missing MMRec interaction file/, /<name>\.inter/],
  },
  {
    name: 'a named .inter file that does not exist',
    build: async (dir, out) => [...(await importFolder()(dir, out)), '--name', 'baby'],
    code: 1,
    says: [/Missing MMRec interaction file \(\.inter\)/, /baby\.inter/],
  },
  mmrec('a directory in place of a feature file', { image: 'directory' }, [
    /Unreadable image feature file/,
    /image_feat\.npy/,
    /found a directory/,
  ]),
  mmrec(
    'a comma-separated .inter file',
    { header: FIXTURE_HEADER.replaceAll('\t', ','), rows: FIXTURE_ROWS.map((r) => r.replaceAll('\t', ',')) },
    [/Wrong delimiter/, /ds\.inter, row 1/, /found commas/],
  ),
  mmrec('a header without userID', { header: 'user\titemID\trating\ttimestamp\tx_label' }, [
    /Missing column 'userID'/,
    /ds\.inter, row 1, field 'userID'/,
  ]),
  mmrec('a line with the wrong number of fields', { rows: fixtureWithRow(4, '0\t2\t3') }, [
    /Wrong number of fields/,
    /ds\.inter, row 4/,
    /found 3 fields/,
  ]),
  mmrec('a non-integer id', { rows: fixtureWithRow(3, '0\t1.5\t4\t2\t0') }, [
    /Non-integer id in 'itemID'/,
    /row 3, field 'itemID'/,
    /found '1\.5'/,
  ]),
  mmrec('a negative id', { rows: fixtureWithRow(2, '-1\t0\t5\t1\t0') }, [
    /Negative id in 'userID'/,
    /row 2, field 'userID'/,
    /found -1/,
  ]),
  mmrec('ids with a gap', { rows: FIXTURE_ROWS.map((r) => r.replace(/^(\d)\t3\t/, '$1\t5\t')) }, [
    /no row has itemID 3/,
    /ds\.inter, field 'itemID'/,
    /contiguous ids 0\.\.5/,
  ]),
  parquet(
    'item ids out of the range of the items table',
    async (dir) => {
      await writeParquetTable(join(dir, 'i.parquet'), { user: int32([0, 0, 1]), item: int32([0, 9, 1]) });
      await writeParquetTable(join(dir, 'items.parquet'), { item: int32([0, 1, 2]) });
      return ['--interactions', join(dir, 'i.parquet'), '--items', join(dir, 'items.parquet')];
    },
    [/Id out of range in 'item'/, /i\.parquet, row 1, field 'item'/, /expected an integer in \[0, 3\)/, /found 9/],
  ),
  mmrec('duplicate (user, item) pairs', { rows: [...FIXTURE_ROWS, '1\t2\t5\t10\t0'] }, [
    /Duplicate \(user, item\) pair \(1, 2\), first seen at row 6/,
    /ds\.inter, row 11/,
  ]),
  mmrec('split labels outside 0/1/2', { rows: fixtureWithRow(7, '1\t3\t1\t6\t3') }, [
    /Split label outside 0\/1\/2/,
    /row 7, field 'x_label'/,
    /found 3/,
  ]),
  mmrec('a user with validation/test rows but no training rows', { rows: [...FIXTURE_ROWS, '3\t4\t5\t10\t2'] }, [
    /User 3 has validation\/test rows but no training rows/,
    /ds\.inter, row 11/,
  ]),
  mmrec('a feature file whose row count is not the item count', { image: npyF4(4, 3) }, [
    /Feature row count does not equal the item count/,
    /image_feat\.npy, field 'shape'/,
    /expected 5 rows/,
    /found 4 rows/,
  ]),
  mmrec(
    'a .npy file of the wrong dtype',
    { image: npyBytes({ descr: '<i8', shape: [FIXTURE_ITEMS, 3], values: new BigInt64Array(15) }) },
    [/Wrong dtype/, /image_feat\.npy, field 'descr'/, /found '<i8'/],
  ),
  mmrec(
    'a .npy file of the wrong shape',
    { text: npyBytes({ descr: '<f4', shape: [10], values: fixtureFeatures(10, 1) }) },
    [/Wrong shape/, /text_feat\.npy, field 'shape'/, /found \(10\)/],
  ),
  mmrec(
    'a Fortran-order .npy matrix',
    {
      image: npyBytes({
        descr: '<f4',
        shape: [FIXTURE_ITEMS, 3],
        values: fixtureFeatures(FIXTURE_ITEMS, 3),
        fortranOrder: true,
      }),
    },
    [/Wrong memory order/, /image_feat\.npy, field 'fortran_order'/],
  ),
  mmrec('a truncated .npy file', { image: npyF4(FIXTURE_ITEMS, 3).subarray(0, 182) }, [
    /Truncated \.npy file/,
    /image_feat\.npy/,
    /expected 188 bytes for shape \(5, 3\)/,
    /found 182 bytes/,
  ]),
  mmrec('a file that is not .npy at all', { text: new TextEncoder().encode('0.1,0.2\n0.3,0.4\n') }, [
    /Not a \.npy file/,
    /text_feat\.npy/,
  ]),
  mmrec(
    'NaN in float32 features',
    {
      image: npyBytes({
        descr: '<f4',
        shape: [FIXTURE_ITEMS, 3],
        values: fixtureFeatures(FIXTURE_ITEMS, 3).map((v, k) => (k === 7 ? NaN : v)),
      }),
    },
    [/Non-finite feature value/, /image_feat\.npy, row 2, field 'column 1'/, /found NaN/],
  ),
  mmrec(
    'Inf in float64 features',
    {
      text: npyBytes({
        descr: '<f8',
        shape: [FIXTURE_ITEMS, 2],
        values: Float64Array.from(fixtureFeatures(FIXTURE_ITEMS, 2), (v, k) => (k === 8 ? -Infinity : v)),
      }),
    },
    [/Non-finite feature value/, /text_feat\.npy, row 4, field 'column 0'/, /found -Infinity/],
  ),
  mmrec('categories missing for some items', { categories: 'item,category\n0,0\n1,1\n2,0\n3,1\n' }, [
    /item 4 has none/,
    /item_category\.csv/,
    /1 items without one/,
  ]),
  mmrec('a negative category', { categories: 'item,category\n0,0\n1,1\n2,-2\n3,1\n4,2\n' }, [
    /Category out of range/,
    /item_category\.csv, row 4, field 'category'/,
    /found '-2'/,
  ]),
  mmrec(
    'a category file naming an item that does not exist',
    { categories: 'item,category\n0,0\n1,1\n2,0\n3,1\n4,2\n7,1\n' },
    [/Item id out of range in category file/, /item_category\.csv, row 7, field 'item'/],
  ),
  mmrec('an empty dataset', { rows: [] }, [/Dataset is empty/, /ds\.inter/, /found 0 rows/]),
  parquet(
    'feature lists of different lengths across Parquet rows',
    async (dir) => {
      await writeParquetTable(join(dir, 'i.parquet'), { user: int32([0, 0, 1]), item: int32([0, 1, 2]) });
      await writeParquetTable(join(dir, 'items.parquet'), {
        item: int32([0, 1, 2]),
        image: listColumn([
          [1, 2, 3],
          [4, 5, 6],
          [7, 8],
        ]),
      });
      return ['--interactions', join(dir, 'i.parquet'), '--items', join(dir, 'items.parquet')];
    },
    [/Mismatched feature dims across rows of column 'image'/, /items\.parquet, row 2, field 'image'/, /found 2 values/],
  ),
  parquet(
    'a file that is not Parquet',
    async (dir) => (
      await writeFile(join(dir, 'i.parquet'), 'user,item\n0,0\n'),
      ['--interactions', join(dir, 'i.parquet')]
    ),
    [/Not a readable Parquet file/, /i\.parquet/],
  ),
  parquet(
    'a missing column named by an option',
    async (dir) => (
      await writeParquetTable(join(dir, 'i.parquet'), { user: int32([0, 1]), item: int32([0, 1]) }),
      ['--interactions', join(dir, 'i.parquet'), '--rating-col', 'stars']
    ),
    [/Missing column 'stars'/, /i\.parquet, field 'stars'/, /found columns user, item/],
  ),
];

const GARBAGE_LINE = `${'x'.repeat(1000)}\n`;

/** One case (or a few) per defect of issue 16, in its order. */
const ISSUE_16_CASES: HostileCase[] = [
  // 1. native abort on a huge declared header length
  mmrec('a .npy v2 header declaring 2^31 bytes', { text: npyWithHeaderLength(2, 2 ** 31) }, [
    /Truncated \.npy file/,
    /text_feat\.npy, field 'header length'/,
    /expected a 2147483648-byte header/,
  ]),
  mmrec('a .npy v3 header declaring 2^32-1 bytes', { image: npyWithHeaderLength(3, 2 ** 32 - 1) }, [
    /Truncated \.npy file/,
    /image_feat\.npy, field 'header length'/,
  ]),
  // 2. huge category ids
  mmrec('category id 100,000,000', { categories: 'item,category\n0,0\n1,1\n2,0\n3,1\n4,100000000\n' }, [
    /Category id out of range for item 4/,
    /item_category\.csv, row 4, field 'category'/,
    /dense category ids/,
    /found 100000000/,
  ]),
  mmrec('category id 2^31-2', { categories: 'item,category\n0,0\n1,2147483646\n2,0\n3,1\n4,2\n' }, [
    /Category id out of range for item 1/,
    /found 2147483646/,
  ]),
  mmrec('category ids with a gap', { categories: 'item,category\n0,0\n1,1\n2,0\n3,1\n4,3\n' }, [
    /no item has category 2/,
    /item_category\.csv, field 'category'/,
  ]),
  // 3. one category
  mmrec('an all-zero category file', { categories: 'item,category\n0,0\n1,0\n2,0\n3,0\n4,0\n' }, [
    /Only one category/,
    /item_category\.csv, field 'category'/,
    /at least 2 categories/,
  ]),
  {
    name: 'two-stage training of a snapshot without categories',
    build: async (dir, out) => {
      const { importMmrec } = await import('@sgfd/data');
      const { dir: snapshot } = await importMmrec({
        dir: await writeMmrecFolder(join(dir, 'ds'), { categories: null }),
        root: join(dir, 'snapshots'),
      });
      return ['train', snapshot, '--out', join(out, 'run'), '--epochs', '1'];
    },
    code: 1,
    says: [/SGFD \(two-stage\) needs item categories/, /field 'sgfd\.mode'/, /--sgfd off/],
  },
  // 4. silent corruption
  mmrec('a rating of 1e39', { rows: fixtureWithRow(3, '0\t1\t1e39\t2\t0') }, [
    /ds\.inter, row 3, field 'rating'/,
    /float32 range/,
    /found '1e39'/,
  ]),
  mmrec('a timestamp beyond int64', { rows: fixtureWithRow(5, '1\t1\t5\t18446744073709551621\t0') }, [
    /ds\.inter, row 5, field 'timestamp'/,
    /int64/,
    /found '18446744073709551621'/,
  ]),
  mmrec('a timestamp of 1e300', { rows: fixtureWithRow(6, '1\t2\t2\t1e300\t0') }, [
    /ds\.inter, row 6, field 'timestamp'/,
    /found '1e300'/,
  ]),
  parquet(
    'a NaN rating in Parquet',
    async (dir) => (
      await writeParquetTable(join(dir, 'i.parquet'), {
        user: int32([0, 0, 1]),
        item: int32([0, 1, 1]),
        rating: Float32Array.from([1, NaN, 2]),
      }),
      ['--interactions', join(dir, 'i.parquet')]
    ),
    [/i\.parquet, row 1, field 'rating'/, /finite number/, /found NaN/],
  ),
  // 5. a modality dropped silently
  {
    name: 'a dangling text_feat.npy symlink',
    build: async (dir, out) => {
      const args = await importFolder({ text: null })(dir, out);
      await symlink(join(dir, 'gone.npy'), join(dir, 'ds', 'text_feat.npy'));
      return args;
    },
    code: 1,
    says: [/Unreadable text feature file/, /text_feat\.npy/, /dangling symbolic link/],
  },
  {
    name: 'a symlink loop in place of text_feat.npy',
    build: async (dir, out) => {
      const args = await importFolder({ text: null })(dir, out);
      await symlink(join(dir, 'ds', 'text_feat.npy'), join(dir, 'ds', 'text_feat.npy'));
      return args;
    },
    code: 1,
    says: [/Unreadable text feature file/, /text_feat\.npy/, /symbolic link loop/],
  },
  // 7. the user's environment
  {
    name: '--out is a file',
    build: async (dir) => (await writeFile(join(dir, 'file'), 'x'), importFolder()(dir, join(dir, 'file'))),
    code: 1,
    says: [/Cannot create the snapshot root/, /file: expected a writable location/, /choose another --out/],
  },
  {
    name: '--out under a file',
    build: async (dir) => (
      await writeFile(join(dir, 'file'), 'x'),
      importFolder()(dir, join(dir, 'file', 'snapshots'))
    ),
    code: 1,
    says: [/Cannot create the snapshot root/, /file\/snapshots/, /a file where a directory belongs/],
  },
  {
    name: '--out read-only',
    build: async (dir, out) => {
      await mkdir(out);
      await chmod(out, 0o555);
      return importFolder()(dir, out);
    },
    code: 1,
    says: [
      /Cannot create a temp directory in the snapshot root/,
      /permission denied/,
      /make it writable or choose another --out/,
    ],
    unprivileged: true,
  },
  {
    name: 'an unreadable input folder',
    build: async (dir, out) => {
      const args = await importFolder()(dir, out);
      await chmod(join(dir, 'ds'), 0o311);
      return args;
    },
    code: 1,
    says: [/Unreadable MMRec dataset folder/, /ds: expected a readable MMRec dataset folder/, /permission denied/],
    unprivileged: true,
  },
  {
    name: 'export-mmrec --out under a file',
    build: async (dir, out) => {
      const { importMmrec } = await import('@sgfd/data');
      const { dir: snapshot } = await importMmrec({
        dir: await writeMmrecFolder(join(dir, 'ds')),
        root: join(dir, 'snapshots'),
      });
      await mkdir(out);
      await writeFile(join(out, 'blocker'), 'x');
      return ['data', 'export-mmrec', snapshot, '--out', join(out, 'blocker', 'mm')];
    },
    code: 1,
    says: [
      /Cannot create the export folder/,
      /out\/blocker: expected a writable location/,
      /a file where a directory belongs/,
    ],
  },
  {
    name: 'a null config file',
    build: async (dir) => (
      await writeFile(join(dir, 'run.json'), 'null\n'),
      ['train', 'nosuch', '--config', join(dir, 'run.json')]
    ),
    code: 1,
    says: [/The config file is not a JSON object/, /run\.json/, /found null/],
  },
  // 8. memory before cheap checks
  mmrec(
    'a 4 MB garbage .inter that fails at row 2',
    { interBytes: new TextEncoder().encode(`${FIXTURE_HEADER}\n${GARBAGE_LINE.repeat(4000)}`) },
    [/Wrong number of fields/, /ds\.inter, row 2/],
  ),
  mmrec('a newline-free 3 MB .inter', { interBytes: new Uint8Array(3 << 20).fill(0x61) }, [
    /Line too long/,
    /ds\.inter, row 1/,
  ]),
  mmrec(
    'a .npy whose header shows the wrong row count (and holds no data)',
    { image: npyBytes({ descr: '<f4', shape: [1000, 3], values: new Float32Array(0) }) },
    [/Feature row count does not equal the item count/, /image_feat\.npy, field 'shape'/, /found 1000 rows/],
  ),
  // 9. config typos
  {
    name: '--set sgfd.tua=50',
    build: async () => ['train', 'nosuch', '--set', 'sgfd.tua=50'],
    code: 1,
    says: [/unknown key 'sgfd\.tua' \(did you mean 'sgfd\.tau'\?\)/, /field 'sgfd\.tua'/],
  },
  {
    name: '--set nonexistent.key=1',
    build: async () => ['train', 'nosuch', '--set', 'nonexistent.key=1'],
    code: 1,
    says: [/unknown key 'nonexistent'/, /expected one of backbone, backboneParams, sgfd, training/],
  },
  {
    name: 'an unknown key in --config',
    build: async (dir) => (
      await writeFile(join(dir, 'run.json'), JSON.stringify({ backbone: 'vbpr', training: { epoch: 3 } })),
      ['train', 'nosuch', '--config', join(dir, 'run.json')]
    ),
    code: 1,
    says: [/unknown key 'training\.epoch' \(did you mean 'training\.epochs'\?\)/, /run\.json/],
  },
  {
    name: '--set noequals',
    build: async () => ['train', 'nosuch', '--set', 'noequals'],
    code: 2,
    says: [/--set expects key=value/, /'noequals'/],
  },
  {
    name: '--set __proto__.x=1',
    build: async () => ['train', 'nosuch', '--set', '__proto__.x=1'],
    code: 2,
    says: [/--set: bad key '__proto__\.x'/],
  },
  // 10. usage errors are reported (and are JSON under --json: every case is also run with --json)
  {
    name: 'an unknown option',
    build: async (dir, out) => [...(await importFolder()(dir, out)), '--colour'],
    code: 2,
    says: [/unknown option '--colour'/],
  },
  // 12. FIFOs
  {
    name: 'a FIFO as the .inter file',
    build: async (dir, out) => {
      const args = await importFolder({ rows: [] })(dir, out);
      execFileSync('rm', [join(dir, 'ds', 'ds.inter')]);
      execFileSync('mkfifo', [join(dir, 'ds', 'ds.inter')]);
      return args;
    },
    code: 1,
    says: [/Unreadable MMRec interaction file/, /ds\.inter/, /a named pipe \(FIFO\)/],
  },
  {
    name: 'a FIFO as the config file',
    build: async (dir) => (
      execFileSync('mkfifo', [join(dir, 'run.json')]),
      ['train', 'nosuch', '--config', join(dir, 'run.json')]
    ),
    code: 1,
    says: [/Unreadable config file/, /run\.json/, /a named pipe \(FIFO\)/],
  },
  // 13. minor
  {
    name: '--split-seed 2^32',
    build: async (dir, out) => [...(await importFolder()(dir, out)), '--split-seed', String(2 ** 32)],
    code: 2,
    says: [/--split-seed must be an integer in \[0, 4294967295\]/],
  },
  mmrec('a NUL byte in a field', { rows: fixtureWithRow(4, '1\t1\u0000\t5\t4\t0') }, [
    /NUL byte/,
    /ds\.inter, row 4/,
    /\\x00/,
  ]),
  mmrec(
    'invalid UTF-8 in a field',
    {
      interBytes: Uint8Array.from([
        ...new TextEncoder().encode(`${FIXTURE_HEADER}\n${FIXTURE_ROWS[0]}\n0\t`),
        0xff,
        0xfe,
        0x0a,
      ]),
    },
    [/Invalid UTF-8/, /ds\.inter, row 3/],
  ),
  mmrec(
    'a UTF-16 .inter file',
    {
      interBytes: Uint8Array.from([
        0xff,
        0xfe,
        ...Buffer.from(`${FIXTURE_HEADER}\n${FIXTURE_ROWS.join('\n')}\n`, 'utf16le'),
      ]),
    },
    [/Text file is UTF-16/, /ds\.inter, row 1/, /re-save it as UTF-8/],
  ),
];

export const HOSTILE_CASES: HostileCase[] = [...EARLIER_CASES, ...ISSUE_16_CASES];
