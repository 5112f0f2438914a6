import { DatasetError, MODALITIES, SplitCode } from '@sgfd/contracts';
import type { DatasetInput, InteractionColumns, RowOrigin } from './dataset-input';
import { inMemoryOrigin } from './dataset-input';
import type { FeatureMatrix } from './types';

const INT32_MAX = 2147483647;

/** Largest id, or -1 for none. */
export function maxId(values: Int32Array): number {
  let max = -1;
  for (let k = 0; k < values.length; k++) if (values[k] > max) max = values[k];
  return max;
}

/** Rejects an empty interaction table. */
export function checkNotEmpty(rows: number, origin: RowOrigin): void {
  if (rows === 0) {
    throw new DatasetError('Dataset is empty', {
      file: origin.file,
      expected: 'at least one interaction row',
      found: '0 rows',
    });
  }
}

/** Every id in [0, count) must occur: MMRec ids are contiguous from 0. */
export function checkIdsContiguous(ids: Int32Array, count: number, field: string, origin: RowOrigin): void {
  const seen = new Uint8Array(count);
  for (let k = 0; k < ids.length; k++) seen[ids[k]] = 1;
  const missing = seen.indexOf(0);
  if (missing >= 0) {
    throw new DatasetError(`Ids in '${field}' have a gap: no row has ${field} ${missing}`, {
      file: origin.file,
      field,
      expected: `contiguous ids 0..${count - 1}`,
      found: `${field} ${missing} missing`,
    });
  }
}

/** Ids must be in [0, count). */
export function checkIdsInRange(ids: Int32Array, count: number, field: string, origin: RowOrigin): void {
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    if (id < 0 || id >= count) {
      throw new DatasetError(`Id out of range in '${field}'`, {
        file: origin.file,
        row: k + origin.rowBase,
        field,
        expected: `an integer in [0, ${count})`,
        found: String(id),
      });
    }
  }
}

export function checkNoDuplicatePairs(
  users: Int32Array,
  items: Int32Array,
  nUsers: number,
  nItems: number,
  origin: RowOrigin,
): void {
  // Rows grouped by user (stable counting sort), then one marker per item: O(rows + items), no hashing.
  const byUser = groupRowsByUser(users, nUsers);
  const markUser = new Int32Array(nItems).fill(-1);
  const markRow = new Int32Array(nItems);
  let worst: { row: number; first: number } | null = null;
  for (let u = 0; u < nUsers; u++) {
    for (let p = byUser.indptr[u]; p < byUser.indptr[u + 1]; p++) {
      const k = byUser.rows[p];
      const item = items[k];
      if (markUser[item] === u) {
        if (worst === null || k < worst.row) worst = { row: k, first: markRow[item] };
        break;
      }
      markUser[item] = u;
      markRow[item] = k;
    }
  }
  if (worst !== null) throw repeatedPairError(users[worst.row], items[worst.row], worst.row, worst.first, origin);
}

/** A repeated (user, item) pair at data row `row`, first seen at data row `firstRow`. */
export function repeatedPairError(
  user: number,
  item: number,
  row: number,
  firstRow: number,
  origin: RowOrigin,
): DatasetError {
  return new DatasetError(
    `Duplicate (user, item) pair (${user}, ${item}), first seen at row ${firstRow + origin.rowBase}`,
    {
      file: origin.file,
      row: row + origin.rowBase,
      field: 'userID,itemID',
      expected: 'each (user, item) pair once',
      found: 'a repeat',
    },
  );
}

/**
 * Rejects a repeated (user, item) pair in columns already sorted by user then item, where repeats are
 * neighbours: no memory, but no input row to name either (the importers name it: checkNoDuplicatePairs,
 * checkSortedPairsNamingRows).
 */
export function checkSortedPairsDistinct(cols: InteractionColumns, origin: RowOrigin): void {
  const { users, items } = cols;
  for (let k = 1; k < users.length; k++) {
    if (users[k] === users[k - 1] && items[k] === items[k - 1]) {
      throw new DatasetError(`Duplicate (user, item) pair (${users[k]}, ${items[k]})`, {
        file: origin.file,
        field: 'userID,itemID',
        expected: 'each (user, item) pair once',
        found: 'a repeat',
      });
    }
  }
}

/** Row indices grouped by user, in their original order within each user. */
export function groupRowsByUser(users: Int32Array, nUsers: number): { indptr: Int32Array; rows: Int32Array } {
  const indptr = new Int32Array(nUsers + 1);
  for (let k = 0; k < users.length; k++) indptr[users[k] + 1]++;
  for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
  const fill = indptr.slice(0, nUsers);
  const rows = new Int32Array(users.length);
  for (let k = 0; k < users.length; k++) rows[fill[users[k]]++] = k;
  return { indptr, rows };
}

export function checkSplitLabels(splits: Int8Array, origin: RowOrigin, field = 'x_label'): void {
  for (let k = 0; k < splits.length; k++) {
    const s = splits[k];
    if (s !== SplitCode.train && s !== SplitCode.valid && s !== SplitCode.test) {
      throw new DatasetError('Split label outside 0/1/2', {
        file: origin.file,
        row: k + origin.rowBase,
        field,
        expected: '0 (train), 1 (valid) or 2 (test)',
        found: String(s),
      });
    }
  }
}

/** A user with validation or test rows must have training rows, or nothing can be learned about them. */
export function checkUsersHaveTraining(cols: InteractionColumns, nUsers: number, origin: RowOrigin): void {
  const trainCount = new Int32Array(nUsers);
  for (let k = 0; k < cols.users.length; k++) if (cols.splits[k] === SplitCode.train) trainCount[cols.users[k]]++;
  for (let k = 0; k < cols.users.length; k++) {
    if (cols.splits[k] !== SplitCode.train && trainCount[cols.users[k]] === 0) {
      throw new DatasetError(`User ${cols.users[k]} has validation/test rows but no training rows`, {
        file: origin.file,
        row: k + origin.rowBase,
        field: 'x_label',
        expected: 'at least one training row (x_label 0) for every user',
        found: 'none',
      });
    }
  }
}

/**
 * One category per item, with dense ids 0..C-1 (C <= the item count: a huge id would make the teacher's
 * output layer huge) and at least two categories (one category teaches nothing and breaks the one-hot).
 */
export function checkCategories(categories: Int32Array, nItems: number, origin: RowOrigin): void {
  if (categories.length !== nItems) {
    throw new DatasetError('Categories missing for some items', {
      file: origin.file,
      expected: `one category for each of the ${nItems} items`,
      found: `${categories.length} categories`,
    });
  }
  const itemsPerCategory = new Int32Array(nItems);
  for (let k = 0; k < categories.length; k++) {
    const c = categories[k];
    if (c < 0 || c >= nItems) {
      throw new DatasetError(`Category id out of range for item ${k}`, {
        file: origin.file,
        row: k + origin.rowBase,
        field: 'category',
        expected: `dense category ids 0..C-1 with C <= ${nItems} (the item count)`,
        found: String(c),
      });
    }
    itemsPerCategory[c]++;
  }
  const count = maxId(categories) + 1;
  const gap = itemsPerCategory.subarray(0, count).indexOf(0);
  if (gap >= 0) {
    throw new DatasetError(`Category ids have a gap: no item has category ${gap}`, {
      file: origin.file,
      field: 'category',
      expected: `dense category ids 0..${count - 1}, each used by at least one item`,
      found: `category ${gap} unused`,
    });
  }
  if (count < 2) {
    throw new DatasetError('Only one category', {
      file: origin.file,
      field: 'category',
      expected: 'at least 2 categories (SGFD learns to tell them apart), or no category file',
      found: `every item in category ${count - 1}`,
    });
  }
}

export function checkFeatureShape(matrix: FeatureMatrix, nItems: number, origin: RowOrigin): void {
  if (matrix.rows !== nItems) {
    throw new DatasetError('Feature row count does not equal the item count', {
      file: origin.file,
      expected: `${nItems} rows (one per item)`,
      found: `${matrix.rows} rows`,
    });
  }
  if (!Number.isInteger(matrix.dim) || matrix.dim <= 0 || matrix.data.length !== matrix.rows * matrix.dim) {
    throw new DatasetError('Feature matrix has an invalid shape', {
      file: origin.file,
      expected: `${matrix.rows} x dim values with dim >= 1`,
      found: `dim ${matrix.dim}, ${matrix.data.length} values`,
    });
  }
}

/** Rejects NaN and +-Inf, naming the item row and column. */
export function checkFinite(values: Float32Array | Float64Array, dim: number, origin: RowOrigin, firstIndex = 0): void {
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    // v - v is NaN for NaN and +-Inf, 0 for every finite number: one comparison per value.
    if (v - v !== 0) {
      const index = firstIndex + k;
      throw new DatasetError('Non-finite feature value', {
        file: origin.file,
        row: Math.floor(index / dim) + origin.rowBase,
        field: `column ${index % dim}`,
        expected: 'a finite number',
        found: String(v),
      });
    }
  }
}

/**
 * Everything a snapshot must satisfy that can name an input row; runs before a single byte is written.
 * Duplicate (user, item) pairs are not checked here: writeSnapshot finds them in its in-place canonical
 * sort (checkSortedPairsDistinct) without a per-row index; the importers check them naming the row.
 */
export function validateDatasetInput(input: DatasetInput): void {
  const cols = input.interactions;
  const interactions = input.origin?.interactions ?? inMemoryOrigin('interactions');
  for (const [name, n] of [
    ['user count', input.nUsers],
    ['item count', input.nItems],
  ] as const) {
    if (!Number.isInteger(n) || n <= 0 || n > INT32_MAX) {
      throw new DatasetError(`Invalid ${name}`, {
        file: interactions.file,
        expected: 'a positive int32',
        found: String(n),
      });
    }
  }
  const rows = cols.users.length;
  for (const [field, column] of Object.entries(cols) as [string, { length: number }][]) {
    if (column.length !== rows) {
      throw new DatasetError('Interaction columns have different lengths', {
        file: interactions.file,
        field,
        expected: `${rows} values`,
        found: `${column.length}`,
      });
    }
  }
  checkNotEmpty(rows, interactions);
  checkIdsInRange(cols.users, input.nUsers, 'userID', interactions);
  checkIdsInRange(cols.items, input.nItems, 'itemID', interactions);
  checkSplitLabels(cols.splits, interactions);
  checkUsersHaveTraining(cols, input.nUsers, interactions);
  if (input.categories) {
    checkCategories(input.categories, input.nItems, input.origin?.categories ?? inMemoryOrigin('categories'));
  }
  if (input.ids) {
    checkIdList(input.ids.users, input.nUsers, 'user ids', interactions);
    checkIdList(input.ids.items, input.nItems, 'item ids', interactions);
  }
  if (input.categoryLabels && input.categories) {
    checkIdList(input.categoryLabels, maxId(input.categories) + 1, 'category labels', interactions);
  }
  for (const modality of MODALITIES) {
    const matrix = input.features[modality];
    if (!matrix) continue;
    const origin = input.origin?.features?.[modality] ?? inMemoryOrigin(`${modality} features`);
    checkFeatureShape(matrix, input.nItems, origin);
    checkFinite(matrix.data, matrix.dim, origin);
  }
}

/** An id map: one distinct original id per dense index. */
function checkIdList(ids: string[], count: number, what: string, origin: RowOrigin): void {
  if (ids.length !== count) {
    throw new DatasetError(`Wrong number of ${what}`, {
      file: origin.file,
      expected: `${count} (one per index)`,
      found: String(ids.length),
    });
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) {
      throw new DatasetError(`Repeated id in the ${what}`, { file: origin.file, expected: 'distinct ids', found: id });
    }
    seen.add(id);
  }
}
