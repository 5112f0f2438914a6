// Unknown config keys: which keys a zod schema accepts at a path, and the nearest one to a typo.
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at this level may match (through defaults, optionals, unions, pipes). */
function objectsOf(schema: z.ZodType): Def[] {
  const def = defOf(schema);
  if (def.type === 'object') return [def];
  const inner = def.innerType ?? def.in;
  if (inner) return objectsOf(inner);
  if (def.options) return def.options.flatMap(objectsOf);
  if (def.left && def.right) return [...objectsOf(def.left), ...objectsOf(def.right)];
  return [];
}

function childrenAt(schema: z.ZodType, key: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  const inner = def.innerType ?? def.in;
  if (inner) return childrenAt(inner, key);
  if (def.type === 'array' && def.element) return typeof key === 'number' ? [def.element] : [];
  return objectsOf(schema).flatMap((o) => {
    const child = o.shape?.[String(key)];
    return child ? [child] : [];
  });
}

/** Every key an object at `path` of `schema` may have (empty when the path leads to no object). */
export function validKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let level = [schema];
  for (const key of path) level = level.flatMap((s) => childrenAt(s, key));
  return [...new Set(level.flatMap(objectsOf).flatMap((o) => Object.keys(o.shape ?? {})))].sort();
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The candidate closest to `key` (case-insensitive edit distance), or undefined when none is close. */
export function nearestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
