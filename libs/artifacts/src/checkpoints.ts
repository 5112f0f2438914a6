// Where training checkpoints live while a training runs, so that a retry (possibly on another machine)
// resumes from the last one. A checkpoint is a folder the training loop writes (`checkpoint.json`, the index,
// written last, naming one `checkpoint-<hash>.bin`); a space gives it a URI other workers can reach.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '@sgfd/contracts';
import type { S3ArtifactStore } from './s3-store';

export interface CheckpointSpace {
  /** The local folder the training loop writes the checkpoint `path` ('<stage>/<key>/<attempt id>') into. */
  localDir(path: string): string;
  /** The URI heartbeats carry for the checkpoint `path`. */
  uriOf(path: string): string;
  /**
   * Makes the checkpoint now in localDir(path) reachable by other workers and resolves to its URI. Reads
   * the files at once, before returning, so the training may overwrite them while the copy is uploaded.
   */
  publish(path: string): Promise<string>;
  /** The path of the checkpoint `uri` names, ready in its local folder; null when it is not there. */
  fetch(uri: string): Promise<string | null>;
  /** Removes the checkpoint `path`, local and remote. */
  discard(path: string): Promise<void>;
}

async function removeLocal(root: string, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  // Empty parents (<root>/<stage>/<key>) go too; rmdir refuses any that still hold something.
  for (let parent = dirname(dir); parent.startsWith(root + sep); parent = dirname(parent)) {
    if (
      !(await rmdir(parent).then(
        () => true,
        () => false,
      ))
    )
      break;
  }
}

/** Checkpoints in a folder every worker reaches at the same path (`<file store root>/.checkpoints`). */
export function fileCheckpoints(root: string): CheckpointSpace {
  const base = resolve(root);
  return {
    localDir: (path) => resolve(base, path),
    uriOf: (path) => pathToFileURL(resolve(base, path)).href,
    publish: async (path) => pathToFileURL(resolve(base, path)).href,
    async fetch(uri) {
      if (!uri.startsWith('file:')) return null;
      const dir = fileURLToPath(uri);
      return existsSync(dir) ? relative(base, dir) : null;
    },
    discard: (path) => removeLocal(base, resolve(base, path)),
  };
}

const INDEX = 'checkpoint.json';

/**
 * Checkpoints written locally under `<cache>/checkpoints/` and copied to `<prefix>/.checkpoints/` in the
 * bucket after every save: the binary first, the index last, so a reader of the index finds its binary.
 * Uploads of one checkpoint run one after another; a failed upload leaves the previous one in place.
 */
export function s3Checkpoints(store: S3ArtifactStore, localRoot: string): CheckpointSpace {
  const base = resolve(localRoot);
  const remoteKey = (path: string, file = '') => `${store.objectKey('.checkpoints', path)}/${file}`;
  const uriOf = (path: string) => `s3://${store.bucket}/${store.objectKey('.checkpoints', path)}`;
  const queues = new Map<string, Promise<unknown>>();
  const checkPath = (path: string) => {
    if (path.split('/').some((part) => part === '' || part === '.' || part === '..'))
      throw new ConfigError('Invalid checkpoint path', {
        field: 'checkpoint',
        expected: '<stage>/<key>/<id>',
        found: path,
      });
    return path;
  };
  return {
    localDir: (path) => join(base, checkPath(path)),
    uriOf,
    publish(path) {
      const dir = join(base, checkPath(path));
      const index = readFileSync(join(dir, INDEX));
      const binName = (JSON.parse(index.toString('utf8')) as { file: string }).file;
      const bin = readFileSync(join(dir, binName));
      const previous = queues.get(path) ?? Promise.resolve();
      const upload = previous
        .catch(() => undefined)
        .then(async () => {
          const doing = `uploading checkpoint ${uriOf(path)}`;
          await store.call(doing, () => store.putBytes(remoteKey(path, binName), bin));
          await store.call(doing, () => store.putBytes(remoteKey(path, INDEX), index));
          // Binaries of earlier saves are no longer named by the index.
          const stale = (await store.listKeys(remoteKey(path))).filter(
            (k) => k.endsWith('.bin') && !k.endsWith(`/${binName}`),
          );
          await store.deleteKeys(stale);
          return uriOf(path);
        });
      queues.set(path, upload);
      return upload;
    },
    async fetch(uri) {
      const root = `s3://${store.bucket}/${store.objectKey('.checkpoints')}/`;
      if (!uri.startsWith(root)) return null;
      const path = checkPath(uri.slice(root.length));
      const dir = join(base, path);
      const indexText = await store.getText(remoteKey(path, INDEX), `reading checkpoint ${uri}`);
      if (indexText === undefined) return null;
      const binName = (JSON.parse(indexText) as { file: string }).file;
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      if (!(await store.downloadFile(remoteKey(path, binName), join(dir, binName), `downloading checkpoint ${uri}`)))
        return null;
      await writeFile(join(dir, INDEX), indexText);
      return path;
    },
    async discard(path) {
      await (queues.get(path) ?? Promise.resolve()).catch(() => undefined);
      queues.delete(path);
      await store.deletePrefix(remoteKey(path));
      await removeLocal(base, join(base, path));
    },
  };
}
