// A scoring bundle: everything needed to rank items for users without the training code, in files other
// tools read too. `scoring.json` says how a score is computed; `users.parquet` / `items.parquet` hold the
// representations (one row per user / item, in index order, with its id); `seen.parquet` the training and
// validation pairs that a top-K may exclude.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  makeVector,
  Table,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import {
  DatasetError,
  type MamlRepresentations,
  type Matrix,
  type MetricTable,
  type ScoringForm,
  type ScoringRepresentations,
} from '@sgfd/contracts';
import { decodeParquet, encodeParquet, type IdMap as SnapshotIds } from '@sgfd/data';
import { servingIds, snapshotIndexIds, type IdMap } from './ids';
import { createScorer, scoreFormula } from './scorer';
import { userItemsOf, type SeenItems } from './seen-items';
import { Recommender } from './top-k';

export const SCORING_FILE = 'scoring.json';
export const BUNDLE_FILES = { users: 'users.parquet', items: 'items.parquet', seen: 'seen.parquet' } as const;
const FORMAT = 'sgfd-scoring';
const INDEX_IDS = 'user and item ids are the snapshot indices in decimal';
const ORIGINAL_IDS = "user and item ids are the source's own (the user / item columns)";

/** What the model is, for `GET /v1/model` and the export. */
export interface ModelInfo {
  backbone: string;
  sgfd: string;
  /** The run (workflow id or run folder) that trained it. */
  run: string;
  trainedAt: string;
  datasetId: string;
  test: MetricTable | null;
}

export interface ScoringSpec {
  format: typeof FORMAT;
  version: 1;
  form: ScoringForm;
  score: string;
  similarItems: string;
  ids: string;
  users: number;
  items: number;
  dim: number;
  files: typeof BUNDLE_FILES;
  /** MAML's attention weights: b1 [hidden], W2 [hidden][d], b2 [d]. */
  parameters?: { b1: number[]; w2: number[][]; b2: number[] };
  model: ModelInfo;
}

/** Training (split 0) and validation (split 1) pairs of the snapshot. */
export interface SeenPairs {
  train: { users: Int32Array; items: Int32Array };
  valid: { users: Int32Array; items: Int32Array };
}

export interface ScoringBundle {
  spec: ScoringSpec;
  representations: ScoringRepresentations;
  seen: SeenItems;
  ids: IdMap;
  recommender: Recommender;
}

function matrixVector(m: Matrix): Vector {
  const type = new FixedSizeList(m.cols, new Field('value', new Float32(), false));
  const child = makeData({ type: new Float32(), length: m.data.length, data: m.data });
  return makeVector(makeData({ type, length: m.rows, nullCount: 0, child }));
}

function representationTable(idColumn: string, ids: string[], vector: Matrix, part?: Matrix, sq?: Matrix): Table {
  const columns: Record<string, Vector> = {
    [idColumn]: vectorFromArray(ids, new Utf8()),
    vector: matrixVector(vector),
  };
  if (part && sq) {
    columns.attention_part = matrixVector(part);
    columns.sq_norm = makeVector(sq.data);
  }
  return new Table(columns);
}

function rows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
}

/** Writes the bundle into `dir` (created by one rename of a complete temp folder; an existing one is replaced). */
export async function writeScoringBundle(
  dir: string,
  representations: ScoringRepresentations,
  seen: SeenPairs,
  model: ModelInfo,
  /** The snapshot's ids (`originalIds`); without them, the snapshot indices in decimal. */
  snapshotIds?: SnapshotIds,
): Promise<ScoringSpec> {
  const { users, items } = representations;
  const original = snapshotIds?.hasOriginalIds === true;
  const ids = snapshotIds ? servingIds(snapshotIds) : snapshotIndexIds(users.rows, items.rows);
  const maml = representations.form === 'maml-attention' ? representations : null;
  const spec: ScoringSpec = {
    format: FORMAT,
    version: 1,
    form: representations.form,
    score: scoreFormula(representations.form),
    similarItems: 'cosine of items.vector',
    ids: original ? ORIGINAL_IDS : INDEX_IDS,
    users: users.rows,
    items: items.rows,
    dim: users.cols,
    files: BUNDLE_FILES,
    ...(maml ? { parameters: { b1: rows(maml.b1)[0], w2: rows(maml.w2), b2: rows(maml.b2)[0] } } : {}),
    model,
  };
  const userIds = Array.from({ length: users.rows }, (_, u) => ids.userId(u));
  const itemIds = Array.from({ length: items.rows }, (_, i) => ids.itemId(i));
  const split = new Int8Array(seen.train.users.length + seen.valid.users.length);
  split.fill(1, seen.train.users.length);
  const concat = (a: Int32Array, b: Int32Array) => {
    const out = new Int32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const seenTable = new Table({
    user: makeVector(concat(seen.train.users, seen.valid.users)),
    item: makeVector(concat(seen.train.items, seen.valid.items)),
    split: makeVector(split),
  });
  const tmp = join(dirname(dir), `.tmp-${basename(dir)}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await mkdir(tmp, { recursive: true });
  try {
    await writeFile(
      join(tmp, BUNDLE_FILES.users),
      encodeParquet(representationTable('user', userIds, users, maml?.userPart, maml?.userSq)),
    );
    await writeFile(
      join(tmp, BUNDLE_FILES.items),
      encodeParquet(representationTable('item', itemIds, items, maml?.itemPart, maml?.itemSq)),
    );
    await writeFile(join(tmp, BUNDLE_FILES.seen), encodeParquet(seenTable));
    await writeFile(join(tmp, SCORING_FILE), `${JSON.stringify(spec, null, 1)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return spec;
}

function fixedSizeMatrix(table: Table, column: string, file: string, rowsExpected: number): Matrix {
  const vector = table.getChild(column);
  const type = vector?.type as FixedSizeList | undefined;
  if (!vector || !(type instanceof FixedSizeList)) {
    throw new DatasetError('Missing representation column', {
      file,
      field: column,
      expected: 'FixedSizeList<float32>',
    });
  }
  if (vector.length !== rowsExpected) {
    throw new DatasetError('Wrong number of rows', {
      file,
      field: column,
      expected: String(rowsExpected),
      found: String(vector.length),
    });
  }
  const cols = type.listSize;
  const data = new Float32Array(rowsExpected * cols);
  let offset = 0;
  for (const chunk of vector.data) {
    const values = chunk.children[0].values as Float32Array;
    const start = chunk.offset * cols;
    data.set(values.subarray(start, start + chunk.length * cols), offset);
    offset += chunk.length * cols;
  }
  return { rows: rowsExpected, cols, data };
}

function floatColumn(table: Table, column: string, file: string): Matrix {
  const vector = table.getChild(column);
  if (!vector) throw new DatasetError('Missing column', { file, field: column, expected: 'float32' });
  return { rows: vector.length, cols: 1, data: Float32Array.from(vector.toArray() as Float32Array) };
}

function intColumn(table: Table, column: string, file: string): Int32Array {
  const vector = table.getChild(column);
  if (!vector) throw new DatasetError('Missing column', { file, field: column, expected: 'int' });
  return Int32Array.from(vector.toArray() as ArrayLike<number>);
}

function stringColumn(table: Table, column: string, file: string, rowsExpected: number): string[] {
  const vector = table.getChild(column);
  if (!vector || vector.length !== rowsExpected)
    throw new DatasetError('Missing id column', { file, field: column, expected: `${rowsExpected} utf8 ids` });
  return Array.from(vector as Iterable<unknown>, (v) => String(v));
}

const matrixOfRows = (values: number[][]): Matrix => ({
  rows: values.length,
  cols: values[0]?.length ?? 0,
  data: Float32Array.from(values.flat()),
});

export async function readScoringSpec(dir: string): Promise<ScoringSpec> {
  const file = join(dir, SCORING_FILE);
  let spec: ScoringSpec;
  try {
    spec = JSON.parse(await readFile(file, 'utf8')) as ScoringSpec;
  } catch (error) {
    throw new DatasetError(`Cannot read the scoring description: ${(error as Error).message}`, { file });
  }
  if (spec?.format !== FORMAT || spec.version !== 1) {
    throw new DatasetError('Not an sgfd scoring description', {
      file,
      field: 'format',
      expected: `'${FORMAT}' version 1`,
      found: `${String(spec?.format)} version ${String(spec?.version)}`,
    });
  }
  return spec;
}

/** Which ids a bundle's users or items have, for an unknown id's message ("...: 0..119", or an example id). */
export function idsHint(bundle: Pick<ScoringBundle, 'spec' | 'ids'>, kind: 'user' | 'item'): string {
  const n = kind === 'user' ? bundle.spec.users : bundle.spec.items;
  if (bundle.spec.ids === INDEX_IDS) return `${bundle.spec.ids}: 0..${n - 1}`;
  const example = n > 0 ? (kind === 'user' ? bundle.ids.userId(0) : bundle.ids.itemId(0)) : undefined;
  return `${bundle.spec.ids}: ${n} ids${example === undefined ? '' : ` such as '${example}'`}`;
}

/** Reads a bundle written by writeScoringBundle, ready to rank. */
export async function readScoringBundle(dir: string): Promise<ScoringBundle> {
  const spec = await readScoringSpec(dir);
  const table = async (name: string) => {
    const file = join(dir, name);
    const bytes = await readFile(file).catch((error: Error) => {
      throw new DatasetError(`Cannot read the scoring bundle: ${error.message}`, { file });
    });
    return { file, table: decodeParquet(bytes, file) };
  };
  const users = await table(spec.files.users);
  const items = await table(spec.files.items);
  const seen = await table(spec.files.seen);
  const userVectors = fixedSizeMatrix(users.table, 'vector', users.file, spec.users);
  const itemVectors = fixedSizeMatrix(items.table, 'vector', items.file, spec.items);
  let representations: ScoringRepresentations;
  if (spec.form === 'dot') {
    representations = { form: 'dot', users: userVectors, items: itemVectors };
  } else {
    const p = spec.parameters;
    if (!p)
      throw new DatasetError('MAML scoring needs its attention weights', {
        file: join(dir, SCORING_FILE),
        field: 'parameters',
      });
    const maml: MamlRepresentations = {
      form: 'maml-attention',
      users: userVectors,
      items: itemVectors,
      userPart: fixedSizeMatrix(users.table, 'attention_part', users.file, spec.users),
      userSq: floatColumn(users.table, 'sq_norm', users.file),
      itemPart: fixedSizeMatrix(items.table, 'attention_part', items.file, spec.items),
      itemSq: floatColumn(items.table, 'sq_norm', items.file),
      b1: matrixOfRows([p.b1]),
      w2: matrixOfRows(p.w2),
      b2: matrixOfRows([p.b2]),
    };
    representations = maml;
  }
  const seenUsers = intColumn(seen.table, 'user', seen.file);
  const seenItems = intColumn(seen.table, 'item', seen.file);
  const split = intColumn(seen.table, 'split', seen.file);
  const pick = (s: number) => {
    const keep = split.reduce((n, v) => n + (v === s ? 1 : 0), 0);
    const u = new Int32Array(keep);
    const i = new Int32Array(keep);
    for (let p = 0, q = 0; p < split.length; p++) {
      if (split[p] !== s) continue;
      u[q] = seenUsers[p];
      i[q++] = seenItems[p];
    }
    return userItemsOf(spec.users, u, i);
  };
  const seenItemsBySplit: SeenItems = { train: pick(0), valid: pick(1) };
  return {
    spec,
    representations,
    seen: seenItemsBySplit,
    ids:
      spec.ids === INDEX_IDS
        ? snapshotIndexIds(spec.users, spec.items)
        : snapshotIndexIds(spec.users, spec.items, {
            users: stringColumn(users.table, 'user', users.file, spec.users),
            items: stringColumn(items.table, 'item', items.file, spec.items),
          }),
    recommender: new Recommender(await createScorer(representations), seenItemsBySplit),
  };
}
