import { DatasetError, type ErrorLocation } from '@sgfd/contracts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Where = Pick<ErrorLocation, 'file' | 'row' | 'field'>;

/** A rating as stored (float32): NaN, infinities and values beyond float32's range are errors, not +inf. */
export function float32Value(value: number, where: Where, raw = String(value)): number {
  const stored = Math.fround(value);
  if (stored - stored !== 0) {
    throw new DatasetError(`Invalid value in '${where.field}'`, {
      ...where,
      expected: 'a finite number within float32 range (|x| < 3.4e38)',
      found: raw,
    });
  }
  return stored;
}

/** A timestamp as stored (int64); a value outside int64 is an error, not silently wrapped. */
export function int64Value(value: number | bigint, where: Where, raw = String(value)): bigint {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new DatasetError(`Invalid value in '${where.field}'`, { ...where, expected: 'a finite number', found: raw });
  }
  const whole = typeof value === 'bigint' ? value : BigInt(Math.floor(value));
  if (whole < INT64_MIN || whole > INT64_MAX) {
    throw new DatasetError(`Value out of range in '${where.field}'`, {
      ...where,
      expected: 'an integer within int64 (|x| < 9.2e18)',
      found: raw,
    });
  }
  return whole;
}
