import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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
import { sha256Hex } from './keys';
import { ARTIFACT_MANIFEST_FILE, type ArtifactManifest } from './manifest';
import { ReadCache } from './read-cache';
import { s3Checkpoints, type CheckpointSpace } from './checkpoints';
import { isNotFound, isPreconditionFailed, s3Failure } from './s3-errors';
import type { ArtifactAddress, ArtifactStore, StagingArea, StoredArtifact } from './store';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing '/'. */
  prefix: string;
  /** Default: AWS_REGION / AWS_DEFAULT_REGION / the AWS config file; us-east-1 for a custom endpoint. */
  region?: string;
  /** For S3-compatible services: their endpoint URL. Default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Local directory for staging builds and the read-through cache of downloaded artifacts. */
  cacheDir: string;
  /** Size limit of the read-through cache (least recently used artifacts go first). Default 10 GiB. */
  cacheMaxBytes?: number;
  /** Cached artifacts used within this many ms are not evicted (a reader may be about to open them). */
  cacheKeepMs?: number;
  /** Files larger than this are uploaded in parts of this size (S3's minimum part is 5 MiB). Default 8 MiB. */
  partBytes?: number;
  /** Where the standard AWS variables are read from (credentials come from the SDK's default chain). */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_CACHE_BYTES = 10 * 1024 ** 3;
const DEFAULT_PART_BYTES = 8 * 1024 ** 2;
const BLOBS = 'blobs';
/** Manifests `list` reads at once. */
const LIST_READS = 8;

/** Splits `s3://bucket/some/prefix` into options. */
export function parseS3Uri(uri: string): Pick<S3ArtifactStoreOptions, 'bucket' | 'prefix'> {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match)
    throw new ConfigError('Invalid S3 artifact store URI', {
      field: 'artifactStore',
      expected: 's3://<bucket>[/<prefix>]',
      found: uri,
    });
  return { bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
}

export function createS3ArtifactStore(options: S3ArtifactStoreOptions): S3ArtifactStore {
  return new S3ArtifactStore(options);
}

/**
 * Artifacts as objects: `<prefix>/<kind>/<key>/blobs/<sha256>` for each file (content-named, so a racing
 * builder can never overwrite a published file with other bytes) and `<prefix>/<kind>/<key>/manifest.json`,
 * put last and only if absent (`If-None-Match: *`): an artifact is visible exactly when its manifest is, and
 * of two racing builders exactly one publishes; the other returns the winner's ref. Builds happen in a
 * local staging folder; reads go through a size-limited local cache.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  readonly bucket: string;
  readonly prefix: string;
  /** What errors name: the endpoint URL, or "AWS S3 (<region>)". */
  readonly endpoint: string;
  readonly client: S3Client;
  readonly cache: ReadCache;
  readonly checkpoints: CheckpointSpace;
  private readonly cacheDir: string;
  private readonly partBytes: number;

  constructor(options: S3ArtifactStoreOptions) {
    const env = options.env ?? process.env;
    // The pinned SDK supports Node 20; its notice is about SDK versions of 2027, which this project pins
    // past. Without this every worker's log would open with it.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.rootUri = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    const endpoint = options.endpoint ?? (env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined);
    const region =
      options.region ?? (env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || (endpoint ? 'us-east-1' : undefined));
    this.endpoint = endpoint ?? `AWS S3 (${region ?? 'region from the AWS config'})`;
    this.client = new S3Client({
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      ...(region ? { region } : {}),
      // Few quick SDK retries: a longer outage is the activity's retry policy's business.
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    });
    this.cacheDir = options.cacheDir;
    this.cache = new ReadCache(
      join(options.cacheDir, 'read'),
      options.cacheMaxBytes ?? DEFAULT_CACHE_BYTES,
      options.cacheKeepMs,
    );
    this.checkpoints = s3Checkpoints(this, join(options.cacheDir, 'checkpoints'));
    this.partBytes = Math.max(5 * 1024 ** 2, options.partBytes ?? DEFAULT_PART_BYTES);
  }

  /** `<prefix>/<rest>` as an object key. */
  objectKey(...parts: string[]): string {
    return [this.prefix, ...parts].filter((p) => p !== '').join('/');
  }

  async withArtifact<M>(
    address: ArtifactAddress,
    build: (staging: StagingArea) => Promise<M>,
  ): Promise<StoredArtifact<M>> {
    const existing = await this.find(address);
    if (existing) return existing as StoredArtifact<M>;
    const stagingRoot = join(this.cacheDir, 'staging');
    await mkdir(stagingRoot, { recursive: true });
    const stagingDir = await mkdtemp(
      join(stagingRoot, `${process.pid}@${hostname()}~${address.kind}~${address.key.slice(0, 12)}~`),
    );
    try {
      const meta = await build(stagingArea(stagingDir));
      const manifest = await describeStaged(address, stagingDir, meta);
      for (const file of manifest.files) await this.uploadBlob(address, file.sha256, join(stagingDir, file.path));
      const text = formatManifest(manifest);
      try {
        await this.call('publishing a manifest', () =>
          this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: this.manifestKey(address),
              Body: text,
              ContentType: 'application/json',
              IfNoneMatch: '*',
            }),
          ),
        );
      } catch (e) {
        if (!isPreconditionFailed(e)) throw e;
        // Another builder published this address first: theirs wins (same inputs, same code).
        const winner = await this.find(address);
        if (winner) return winner as StoredArtifact<M>;
        throw e;
      }
      return {
        ref: this.refFor(address, manifest, text),
        manifest: manifest as ArtifactManifest & { meta: M },
        reused: false,
      };
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
    checkAddress(address);
    const text = await this.getText(this.manifestKey(address), 'reading a manifest');
    if (text === undefined) return undefined;
    const manifest = parseManifest(text, this.uriOf(address, ARTIFACT_MANIFEST_FILE));
    return { ref: this.refFor(address, manifest, text), manifest, reused: true };
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
    const address = this.addressOf(ref);
    const where = this.uriOf(address, ARTIFACT_MANIFEST_FILE);
    const text = await this.getText(this.manifestKey(address), 'reading a manifest');
    if (text === undefined)
      throw new DatasetError('Artifact not found in the store', {
        file: where,
        expected: `the ${ref.kind} artifact ${ref.uri}`,
      });
    return this.checkedManifest(text, ref, where);
  }

  async get(ref: ArtifactRef, file: string): Promise<Uint8Array> {
    const path = await this.openPath(ref, file);
    const data = await readFile(path);
    const { manifest } = await this.cachedManifest(ref);
    const entry = manifest.files.find((f) => f.path === file)!;
    const found = sha256Hex(data);
    if (found !== entry.sha256)
      throw new DatasetError('Artifact file is corrupt', { file: path, expected: `sha256 ${entry.sha256}`, found });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Downloads the file (or every file) into the read-through cache, verified, and returns its local path. */
  async openPath(ref: ArtifactRef, file?: string): Promise<string> {
    const { manifest, dir } = await this.cachedManifest(ref);
    const address = this.addressOf(ref);
    const wanted = file === undefined ? manifest.files : manifest.files.filter((f) => f.path === file);
    if (file !== undefined && wanted.length === 0) throw missingFileError(`${ref.uri}/${file}`, manifest);
    let downloaded = false;
    for (const entry of wanted) {
      const local = join(dir, entry.path);
      const present = await stat(local).catch(() => undefined);
      if (present?.size === entry.bytes) continue;
      await this.download(address, entry.sha256, entry.bytes, local, `${ref.uri}/${entry.path}`);
      downloaded = true;
    }
    if (downloaded) await this.cache.trim();
    return file === undefined ? dir : join(dir, file);
  }

  async list(prefix = ''): Promise<ArtifactRef[]> {
    const refs: ArtifactRef[] = [];
    for (const kind of [...ARTIFACT_KINDS].sort()) {
      if (!`${kind}/`.startsWith(prefix) && !prefix.startsWith(`${kind}/`)) continue;
      const keys: string[] = [];
      // A prefix that names part of a key ('features/<encoder key>') lists only the keys that start with it.
      const keyStart = prefix.startsWith(`${kind}/`) ? prefix.slice(kind.length + 1) : '';
      let token: string | undefined;
      do {
        const page = await this.call('listing artifacts', () =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: `${this.objectKey(kind)}/${keyStart}`,
              Delimiter: '/',
              ContinuationToken: token,
            }),
          ),
        );
        for (const p of page.CommonPrefixes ?? []) keys.push(p.Prefix!.slice(0, -1).split('/').pop()!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      const wanted = keys.sort().filter((key) => ARTIFACT_KEY.test(key) && `${kind}/${key}`.startsWith(prefix));
      // Manifests are read a few at a time: a kind with hundreds of artifacts (feature chunks) lists quickly.
      for (let i = 0; i < wanted.length; i += LIST_READS) {
        const found = await Promise.all(wanted.slice(i, i + LIST_READS).map((key) => this.find({ kind, key })));
        for (const f of found) if (f) refs.push(f.ref);
      }
    }
    return refs;
  }

  async delete(target: ArtifactAddress | ArtifactRef): Promise<boolean> {
    const address = 'uri' in target ? this.addressOf(target) : target;
    checkAddress(address);
    const present = await this.getText(this.manifestKey(address), 'reading a manifest');
    if (present === undefined) return false;
    // The manifest goes first: the artifact stops being visible at once; its blobs follow.
    await this.deleteKeys([this.manifestKey(address)]);
    await this.deletePrefix(`${this.objectKey(address.kind, address.key)}/`);
    return true;
  }

  /** Removes every object under `prefix` (a full key prefix, ending in '/'). */
  async deletePrefix(prefix: string): Promise<void> {
    await this.deleteKeys(await this.listKeys(prefix));
  }

  /** Uploads a local file to `key` (in parts when large); the object appears only when complete. */
  async uploadFile(key: string, path: string, doing: string): Promise<void> {
    const { size } = await stat(path);
    await this.call(doing, async () => {
      if (size <= this.partBytes) {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: await readFile(path) }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: createReadStream(path) },
        partSize: this.partBytes,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    });
  }

  /** Downloads `key` to `path` through a temp file (renamed into place when complete); false when absent. */
  async downloadFile(key: string, path: string, doing: string): Promise<boolean> {
    const temp = await this.cache.tempPath();
    try {
      const found = await this.call(doing, async () => {
        let body: Readable;
        try {
          const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
          body = response.Body as Readable;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
        await pipeline(body, createWriteStream(temp));
        return true;
      });
      if (!found) return false;
      await mkdir(dirname(path), { recursive: true });
      await rename(temp, path);
      return true;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** The object's text, or undefined when it does not exist. */
  async getText(key: string, doing: string): Promise<string | undefined> {
    return this.call(doing, async () => {
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return await response.Body!.transformToString('utf8');
      } catch (e) {
        if (isNotFound(e) && (e as { name?: string }).name !== 'NoSuchBucket') return undefined;
        throw e;
      }
    });
  }

  async putBytes(key: string, body: Uint8Array | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  /** Every object key under `prefix` (a full key prefix). */
  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('listing objects', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Runs one SDK call, turning its failure into the error a user acts on (see s3Failure). */
  async call<T>(doing: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      throw s3Failure(e, { endpoint: this.endpoint, bucket: this.bucket, doing });
    }
  }

  async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.call('deleting objects', () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
    }
  }

  private async uploadBlob(address: ArtifactAddress, sha256: string, path: string): Promise<void> {
    const key = this.objectKey(address.kind, address.key, BLOBS, sha256);
    // Content-named: a blob already there (an earlier attempt's upload) holds these very bytes.
    const head = await this.call('checking an uploaded file', async () => {
      try {
        return await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    });
    if (head?.ContentLength === (await stat(path)).size) return;
    await this.uploadFile(key, path, `uploading ${path}`);
  }

  private async download(
    address: ArtifactAddress,
    sha256: string,
    bytes: number,
    local: string,
    uri: string,
  ): Promise<void> {
    const temp = await this.cache.tempPath();
    try {
      const key = this.objectKey(address.kind, address.key, BLOBS, sha256);
      const found = await this.downloadFile(key, temp, `downloading ${uri}`);
      if (!found)
        throw new DatasetError('Artifact file is missing from the store', { file: uri, expected: `${bytes} bytes` });
      const hash = createHash('sha256');
      await pipeline(createReadStream(temp), hash);
      const got = hash.digest('hex');
      if (got !== sha256)
        throw new DatasetError('Artifact file is corrupt', { file: uri, expected: `sha256 ${sha256}`, found: got });
      await mkdir(dirname(local), { recursive: true });
      await rename(temp, local);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** The manifest `ref` names, from the cache entry when there (it is pinned by the ref's sha256). */
  private async cachedManifest(ref: ArtifactRef): Promise<{ manifest: ArtifactManifest; dir: string }> {
    const address = this.addressOf(ref);
    const dir = await this.cache.entry(address.kind, address.key, ref.sha256);
    const local = join(dir, ARTIFACT_MANIFEST_FILE);
    const cached = await readFile(local, 'utf8').catch(() => undefined);
    if (cached !== undefined && sha256Hex(cached) === ref.sha256) {
      return { manifest: parseManifest(cached, local), dir };
    }
    const where = this.uriOf(address, ARTIFACT_MANIFEST_FILE);
    const text = await this.getText(this.manifestKey(address), 'reading a manifest');
    if (text === undefined)
      throw new DatasetError('Artifact not found in the store', {
        file: where,
        expected: `the ${ref.kind} artifact ${ref.uri}`,
      });
    const manifest = this.checkedManifest(text, ref, where);
    const temp = await this.cache.tempPath();
    await writeFile(temp, text);
    await rename(temp, local);
    return { manifest, dir };
  }

  private checkedManifest(text: string, ref: ArtifactRef, where: string): ArtifactManifest {
    const found = sha256Hex(text);
    if (found !== ref.sha256) {
      throw new DatasetError('Artifact manifest does not match its reference', {
        file: where,
        expected: `sha256 ${ref.sha256}`,
        found,
      });
    }
    return parseManifest(text, where);
  }

  private manifestKey(address: ArtifactAddress): string {
    return this.objectKey(address.kind, address.key, ARTIFACT_MANIFEST_FILE);
  }

  private uriOf(address: ArtifactAddress, file?: string): string {
    return `s3://${this.bucket}/${this.objectKey(address.kind, address.key)}${file ? `/${file}` : ''}`;
  }

  private addressOf(ref: ArtifactRef): ArtifactAddress {
    const base = `${this.rootUri}/`;
    const rest = ref.uri.startsWith(base) ? ref.uri.slice(base.length).split('/') : [];
    if (rest.length !== 2 || !ARTIFACT_KEY.test(rest[1]!)) {
      throw new ConfigError('This artifact store reads only its own artifacts', {
        field: 'uri',
        expected: `${base}<kind>/<key>`,
        found: ref.uri,
      });
    }
    const address = { kind: rest[0] as ArtifactAddress['kind'], key: rest[1]! };
    checkAddress(address);
    return address;
  }

  private refFor(address: ArtifactAddress, manifest: ArtifactManifest, text: string): ArtifactRef {
    const bytes = manifest.files.reduce((sum, f) => sum + f.bytes, Buffer.byteLength(text));
    return { uri: this.uriOf(address), sha256: sha256Hex(text), bytes, kind: manifest.kind };
  }
}
