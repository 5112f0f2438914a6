import { DatasetError } from '@sgfd/contracts';
import { DataType, type Data, type Table, type Vector } from 'apache-arrow';
import { float32Value, int64Value } from './value-ranges';

export function requireColumn(table: Table, name: string, file: string): Vector {
  const column = table.getChild(name);
  if (!column) {
    throw new DatasetError(`Missing column '${name}'`, {
      file,
      field: name,
      expected: `a column named '${name}'`,
      found: `columns ${table.schema.fields.map((f) => f.name).join(', ') || '(none)'}`,
    });
  }
  return column;
}

function firstNull(column: Vector): number {
  for (let k = 0; k < column.length; k++) if (!column.isValid(k)) return k;
  return -1;
}

/** An integer-valued column (any int or integral float type) as Int32Array, with range checks per row. */
export function integerColumn(
  table: Table,
  name: string,
  file: string,
  range: { min?: number; max?: number } = {},
): Int32Array {
  const column = requireColumn(table, name, file);
  if (!DataType.isInt(column.type) && !DataType.isFloat(column.type)) {
    throw new DatasetError(`Wrong type of column '${name}'`, {
      file,
      field: name,
      expected: 'integers',
      found: String(column.type),
    });
  }
  if (column.nullCount > 0) {
    throw new DatasetError(`Missing value in column '${name}'`, {
      file,
      row: firstNull(column),
      field: name,
      expected: 'an integer',
      found: 'null',
    });
  }
  const out = new Int32Array(column.length);
  const min = range.min ?? -2147483648;
  const max = range.max ?? 2147483647;
  const values = column.toArray() as ArrayLike<number | bigint>;
  for (let k = 0; k < values.length; k++) {
    const raw = values[k];
    const v = Number(raw);
    if (!Number.isInteger(v)) {
      throw new DatasetError(`Non-integer value in column '${name}'`, {
        file,
        row: k,
        field: name,
        expected: 'an integer',
        found: String(raw),
      });
    }
    if (v < min || v > max) {
      throw new DatasetError(v < 0 ? `Negative value in column '${name}'` : `Value out of range in column '${name}'`, {
        file,
        row: k,
        field: name,
        expected: `an integer in [${min}, ${max}]`,
        found: String(raw),
      });
    }
    out[k] = v;
  }
  return out;
}

/** A numeric column as Float32Array: nulls, NaN, infinities and values beyond float32 are rejected. */
export function floatColumn(table: Table, name: string, file: string): Float32Array {
  const column = requireColumn(table, name, file);
  if (!DataType.isInt(column.type) && !DataType.isFloat(column.type)) {
    throw new DatasetError(`Wrong type of column '${name}'`, {
      file,
      field: name,
      expected: 'numbers',
      found: String(column.type),
    });
  }
  if (column.nullCount > 0) {
    throw new DatasetError(`Missing value in column '${name}'`, {
      file,
      row: firstNull(column),
      field: name,
      expected: 'a number',
      found: 'null',
    });
  }
  const values = column.toArray() as ArrayLike<number | bigint>;
  const out = new Float32Array(values.length);
  for (let k = 0; k < values.length; k++)
    out[k] = float32Value(Number(values[k]), { file, row: k, field: name }, String(values[k]));
  return out;
}

/** A timestamp-like column (integers, floats or Arrow timestamps) as int64 values; values beyond int64 are rejected. */
export function int64Column(table: Table, name: string, file: string): BigInt64Array {
  const column = requireColumn(table, name, file);
  if (column.nullCount > 0) {
    throw new DatasetError(`Missing value in column '${name}'`, {
      file,
      row: firstNull(column),
      field: name,
      expected: 'a number',
      found: 'null',
    });
  }
  const values = column.toArray() as ArrayLike<number | bigint>;
  const out = new BigInt64Array(column.length);
  for (let k = 0; k < column.length; k++) out[k] = int64Value(values[k], { file, row: k, field: name });
  return out;
}

/**
 * A list<float> / large_list<float> / fixed_size_list<float> feature column as a row-major Float32Array.
 * Every row must have the same length; rows are placed at `rowOrder[k]` (the item id of row k).
 */
export function listFeatureColumn(
  table: Table,
  name: string,
  file: string,
  rowOrder: Int32Array,
): { rows: number; dim: number; data: Float32Array } {
  const column = requireColumn(table, name, file);
  const type = column.type;
  if (
    !(DataType.isList(type) || DataType.isFixedSizeList(type) || DataType.isLargeList(type)) ||
    !DataType.isFloat(type.children[0].type)
  ) {
    throw new DatasetError(`Wrong type of feature column '${name}'`, {
      file,
      field: name,
      expected: 'list<float>',
      found: String(type),
    });
  }
  if (column.nullCount > 0) {
    throw new DatasetError(`Missing feature vector in column '${name}'`, {
      file,
      row: firstNull(column),
      field: name,
      expected: 'a list of floats',
      found: 'null',
    });
  }
  const rows = column.length;
  let dim = -1;
  let data = new Float32Array(0);
  let row = 0;
  for (const chunk of column.data as Data[]) {
    const child = chunk.children[0];
    const values = child.values as Float32Array | Float64Array;
    const fixed = DataType.isFixedSizeList(type) ? type.listSize : 0;
    const offsets = chunk.valueOffsets as Int32Array | BigInt64Array | undefined;
    for (let k = 0; k < chunk.length; k++, row++) {
      const i = chunk.offset + k;
      const start = (fixed ? i * fixed : Number(offsets![i])) + child.offset;
      const end = fixed ? start + fixed : Number(offsets![i + 1]) + child.offset;
      const length = end - start;
      if (dim < 0) {
        dim = length;
        if (dim === 0)
          throw new DatasetError(`Empty feature vector in column '${name}'`, {
            file,
            row,
            field: name,
            expected: 'at least one value',
            found: '[]',
          });
        data = new Float32Array(rows * dim);
      } else if (length !== dim) {
        throw new DatasetError(`Mismatched feature dims across rows of column '${name}'`, {
          file,
          row,
          field: name,
          expected: `${dim} values (as in row 0)`,
          found: `${length} values`,
        });
      }
      const target = rowOrder[row] * dim;
      for (let j = 0; j < dim; j++) {
        const v = values[start + j];
        if (v - v !== 0) {
          throw new DatasetError('Non-finite feature value', {
            file,
            row,
            field: `${name}[${j}]`,
            expected: 'a finite number',
            found: String(v),
          });
        }
        data[target + j] = v;
      }
    }
  }
  return { rows, dim: Math.max(dim, 0), data };
}
