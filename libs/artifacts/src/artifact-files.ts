// What every backend does the same way: address checks, the local staging area a build writes into, and the
// manifest that describes (and is parsed back from) a finished build.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ARTIFACT_KINDS, ConfigError, DatasetError, type ArtifactKind } from '@sgfd/contracts';
import { sha256File } from './hash-file';
import {
  ARTIFACT_FORMAT_VERSION,
  ARTIFACT_MANIFEST_FILE,
  ArtifactManifestSchema,
  type ArtifactFile,
  type ArtifactManifest,
} from './manifest';
import type { ArtifactAddress, StagingArea } from './store';

export const ARTIFACT_KEY = /^[0-9a-f]{64}$/;

export function checkAddress({ kind, key }: ArtifactAddress): void {
  if (!(ARTIFACT_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError('Unknown artifact kind', {
      field: 'kind',
      expected: ARTIFACT_KINDS.join('|'),
      found: String(kind),
    });
  }
  if (!ARTIFACT_KEY.test(key))
    throw new ConfigError('Invalid artifact key', { field: 'key', expected: 'a hex sha256 (artifactKey)', found: key });
}

async function walkFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walkFiles(full, base)));
    else if (entry.isFile()) out.push(relative(base, full).split(sep).join('/'));
    else
      throw new DatasetError('Artifacts may hold only files and directories', {
        file: full,
        found: 'a link or device',
      });
  }
  return out;
}

export function stagingArea(dir: string): StagingArea {
  return {
    dir,
    async path(name: string) {
      const full = resolve(dir, name);
      if (!full.startsWith(dir + sep))
        throw new ConfigError('Artifact file name escapes the artifact', { found: name });
      await mkdir(dirname(full), { recursive: true });
      return full;
    },
  };
}

/** The manifest of a finished build in `dir`: every file with its sha256 and size, and the builder's meta. */
export async function describeStaged(address: ArtifactAddress, dir: string, meta: unknown): Promise<ArtifactManifest> {
  const names = (await walkFiles(dir)).sort();
  if (names.includes(ARTIFACT_MANIFEST_FILE)) {
    throw new ConfigError(`'${ARTIFACT_MANIFEST_FILE}' is reserved for the store`, {
      file: join(dir, ARTIFACT_MANIFEST_FILE),
    });
  }
  const files: ArtifactFile[] = [];
  for (const path of names) {
    const full = join(dir, path);
    files.push({ path, sha256: await sha256File(full), bytes: (await stat(full)).size });
  }
  return {
    formatVersion: ARTIFACT_FORMAT_VERSION,
    kind: address.kind as ArtifactKind,
    key: address.key,
    files,
    meta: meta ?? null,
  };
}

export function manifestText(manifest: ArtifactManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses a manifest read from `where` (a path or URI), naming it and the bad field on failure. */
export function parseManifest(text: string, where: string): ArtifactManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DatasetError('Artifact manifest is not valid JSON', { file: where });
  }
  const parsed = ArtifactManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DatasetError('Artifact manifest is invalid', {
      file: where,
      field: issue.path.join('.') || '(root)',
      expected: issue.message,
    });
  }
  return parsed.data;
}

export function missingFileError(where: string, manifest: ArtifactManifest): DatasetError {
  return new DatasetError('No such file in the artifact', {
    file: where,
    expected: manifest.files.map((f) => f.path).join(', ') || 'no files',
  });
}
