import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ARTIFACT_KINDS, ConfigError, DatasetError, type ArtifactRef } from '@sgfd/contracts';
import {
  ARTIFACT_KEY,
  checkAddress,
  describeStaged,
  manifestText as formatManifest,
  missingFileError,
  parseManifest,
  stagingArea,
} from './artifact-files';
import { fileCheckpoints, type CheckpointSpace } from './checkpoints';
import { isProcessAlive } from './process-alive';
import { sha256Hex } from './keys';
import { ARTIFACT_MANIFEST_FILE, type ArtifactManifest } from './manifest';
import type { ArtifactAddress, ArtifactStore, StagingArea, StoredArtifact } from './store';

export const DEFAULT_ARTIFACT_ROOT = '.sgfd/artifacts';
const STAGING = '.staging';
const TRASH = '.trash';
const CHECKPOINTS = '.checkpoints';
/** Staging dirs from other hosts are only swept when this old (their owner's liveness is unknowable). */
const FOREIGN_STAGING_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * Artifacts as directories under a local (or shared network) root: `<root>/<kind>/<key>/` holding the
 * files and `manifest.json`. Builds happen in `<root>/.staging/` and are published with one rename of the
 * whole directory, manifest included, so readers see an artifact completely or not at all.
 */
export class FileArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly rootUri: string;
  readonly checkpoints: CheckpointSpace;
  private swept = false;

  constructor(root: string = DEFAULT_ARTIFACT_ROOT) {
    this.root = resolve(root);
    this.rootUri = pathToFileURL(this.root).href;
    this.checkpoints = fileCheckpoints(join(this.root, CHECKPOINTS));
  }

  dirOf(address: ArtifactAddress): string {
    checkAddress(address);
    return join(this.root, address.kind, address.key);
  }

  async withArtifact<M>(
    address: ArtifactAddress,
    build: (staging: StagingArea) => Promise<M>,
  ): Promise<StoredArtifact<M>> {
    const existing = await this.find(address);
    if (existing) return existing as StoredArtifact<M>;
    await this.sweepStaging();

    await mkdir(join(this.root, STAGING), { recursive: true });
    const stagingDir = await mkdtemp(
      join(this.root, STAGING, `${process.pid}@${hostname()}~${address.kind}~${address.key.slice(0, 12)}~`),
    );
    try {
      const meta = await build(stagingArea(stagingDir));
      const manifest = await describeStaged(address, stagingDir, meta);
      const manifestText = formatManifest(manifest);
      // Written last: until the directory holding it is renamed into place, nothing is visible.
      await writeFile(join(stagingDir, ARTIFACT_MANIFEST_FILE), manifestText);
      return await this.publish(address, stagingDir, manifest as ArtifactManifest & { meta: M }, manifestText);
    } finally {
      await rm(stagingDir, { recursive: true, force: true });
    }
  }

  async put<M = null>(
    address: ArtifactAddress,
    files: Record<string, Uint8Array | string>,
    meta?: M,
  ): Promise<StoredArtifact<M | null>> {
    return this.withArtifact(address, async (staging) => {
      for (const [name, data] of Object.entries(files)) await writeFile(await staging.path(name), data);
      return meta ?? null;
    });
  }

  async find(address: ArtifactAddress): Promise<StoredArtifact | undefined> {
    const dir = this.dirOf(address);
    const manifestPath = join(dir, ARTIFACT_MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const manifest = parseManifest(text, manifestPath);
    return { ref: this.refFor(dir, manifest, text), manifest, reused: true };
  }

  async exists(target: ArtifactAddress | ArtifactRef): Promise<boolean> {
    if ('uri' in target) {
      try {
        await this.readManifest(target);
        return true;
      } catch (e) {
        if (e instanceof DatasetError) return false;
        throw e;
      }
    }
    return (await this.find(target)) !== undefined;
  }

  async readManifest(ref: ArtifactRef): Promise<ArtifactManifest> {
    const manifestPath = join(this.localDir(ref), ARTIFACT_MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new DatasetError('Artifact not found in the store', {
          file: manifestPath,
          expected: `the ${ref.kind} artifact ${ref.uri}`,
        });
      }
      throw e;
    }
    const found = sha256Hex(text);
    if (found !== ref.sha256) {
      throw new DatasetError('Artifact manifest does not match its reference', {
        file: manifestPath,
        expected: `sha256 ${ref.sha256}`,
        found,
      });
    }
    return parseManifest(text, manifestPath);
  }

  async get(ref: ArtifactRef, file: string): Promise<Uint8Array> {
    const manifest = await this.readManifest(ref);
    const entry = manifest.files.find((f) => f.path === file);
    const path = join(this.localDir(ref), file);
    if (!entry) throw missingFileError(path, manifest);
    const data = await readFile(path);
    const found = sha256Hex(data);
    if (found !== entry.sha256)
      throw new DatasetError('Artifact file is corrupt', { file: path, expected: `sha256 ${entry.sha256}`, found });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  async openPath(ref: ArtifactRef, file?: string): Promise<string> {
    const manifest = await this.readManifest(ref);
    const dir = this.localDir(ref);
    if (file === undefined) return dir;
    if (!manifest.files.some((f) => f.path === file)) throw missingFileError(join(dir, file), manifest);
    return join(dir, file);
  }

  async list(prefix = ''): Promise<ArtifactRef[]> {
    const refs: ArtifactRef[] = [];
    for (const kind of [...ARTIFACT_KINDS].sort()) {
      if (!`${kind}/`.startsWith(prefix) && !prefix.startsWith(`${kind}/`)) continue;
      let keys: string[];
      try {
        keys = await readdir(join(this.root, kind));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      for (const key of keys.sort()) {
        if (!ARTIFACT_KEY.test(key) || !`${kind}/${key}`.startsWith(prefix)) continue;
        const found = await this.find({ kind, key });
        if (found) refs.push(found.ref);
      }
    }
    return refs;
  }

  async delete(target: ArtifactAddress | ArtifactRef): Promise<boolean> {
    const dir = 'uri' in target ? this.localDir(target) : this.dirOf(target);
    await mkdir(join(this.root, TRASH), { recursive: true });
    const trashed = join(this.root, TRASH, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    try {
      // One rename makes the artifact (manifest included) disappear at once; the files go after.
      await rename(dir, trashed);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    await rm(trashed, { recursive: true, force: true });
    return true;
  }

  /** Removes staging areas left by builders that died (same host, pid gone) or are very old. */
  async sweepStaging(): Promise<string[]> {
    if (this.swept) return [];
    this.swept = true;
    const stagingRoot = join(this.root, STAGING);
    let entries: string[];
    try {
      entries = await readdir(stagingRoot);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const removed: string[] = [];
    for (const name of entries) {
      const [owner = ''] = name.split('~');
      const [pid, host] = owner.split('@');
      const full = join(stagingRoot, name);
      let stale: boolean;
      if (host === hostname() && pid) stale = !isProcessAlive(Number(pid));
      else stale = Date.now() - (await stat(full)).mtimeMs > FOREIGN_STAGING_MAX_AGE_MS;
      if (stale) {
        await rm(full, { recursive: true, force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  private localDir(ref: ArtifactRef): string {
    if (!ref.uri.startsWith('file:')) {
      throw new ConfigError('This artifact store reads only file:// artifacts', {
        field: 'uri',
        expected: 'file://…',
        found: ref.uri,
      });
    }
    return fileURLToPath(ref.uri);
  }

  private refFor(dir: string, manifest: ArtifactManifest, manifestText: string): ArtifactRef {
    const bytes = manifest.files.reduce((sum, f) => sum + f.bytes, Buffer.byteLength(manifestText));
    return { uri: pathToFileURL(dir).href, sha256: sha256Hex(manifestText), bytes, kind: manifest.kind };
  }

  private async publish<M>(
    address: ArtifactAddress,
    stagingDir: string,
    manifest: ArtifactManifest & { meta: M },
    manifestText: string,
  ): Promise<StoredArtifact<M>> {
    const dir = this.dirOf(address);
    await mkdir(dirname(dir), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(stagingDir, dir);
        return { ref: this.refFor(dir, manifest, manifestText), manifest, reused: false };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      }
      // Someone published the same address first: theirs wins (same inputs, same code).
      const winner = await this.find(address);
      if (winner) return winner as StoredArtifact<M>;
      // A directory without a manifest is not an artifact (e.g. emptied by hand): clear it and retry once.
      if (attempt > 0)
        throw new DatasetError('Could not publish artifact', {
          file: dir,
          found: 'a directory without a manifest that cannot be replaced',
        });
      await this.delete(address);
    }
  }
}
