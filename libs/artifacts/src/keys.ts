import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * JSON with object keys sorted at every depth, so equal values always give equal text (and equal hashes)
 * whatever order their keys were written in. Rejects values JSON cannot represent faithfully.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value, '(root)'));
}

function normalise(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is ${value}, not a finite number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => normalise(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
      throw new TypeError(
        `canonicalJson: ${path} is a ${value.constructor?.name ?? 'non-plain object'}, not plain data`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`canonicalJson: ${path} is a ${typeof value}, not JSON data`);
}

/** What an artifact is made from; equal parts mean the stored artifact can be reused as is. */
export interface ArtifactKeyParts {
  /** Identities of the inputs (snapshot ids, sha256 of upstream artifacts), not their bytes. */
  inputs: unknown;
  config: unknown;
  /** Changes whenever the code that builds the artifact changes its output. */
  codeVersion: string;
}

/** sha256 of the canonical JSON of (inputs, config, code version): the artifact's address. */
export function artifactKey(parts: ArtifactKeyParts): string {
  return sha256Hex(canonicalJson({ inputs: parts.inputs, config: parts.config, codeVersion: parts.codeVersion }));
}
