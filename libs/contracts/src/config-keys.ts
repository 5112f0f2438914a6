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
  values?: unknown[];
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

/** False when a literal field of the object (a union's discriminator, e.g. `kind`) rules out `value`. */
function admits(object: Def, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.entries(object.shape ?? {}).every(([key, field]) => {
    const def = defOf(field);
    return def.type !== 'literal' || !(key in value) || def.values!.includes((value as Record<string, unknown>)[key]);
  });
}

/**
 * Every key an object at `path` of `schema` may have (empty when the path leads to no object). Given the
 * value there, the variants of a union that its discriminator rules out are left out.
 */
export function validKeysAt(schema: z.ZodType, path: readonly PropertyKey[], value?: unknown): string[] {
  let level = [schema];
  for (const key of path) level = level.flatMap((s) => childrenAt(s, key));
  const objects = level.flatMap(objectsOf);
  const admitted = objects.filter((o) => admits(o, value));
  const keys = (admitted.length > 0 ? admitted : objects).flatMap((o) => Object.keys(o.shape ?? {}));
  return [...new Set(keys)].sort();
}

/** Edit distance where swapping two neighbouring letters counts once (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
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
