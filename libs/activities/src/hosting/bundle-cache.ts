import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Logger } from '@temporalio/common';

export interface WorkflowBundleSource {
  /** The workflows entry file (every workflow the worker hosts is exported from it). */
  path: string;
  /** Files and folders whose content the bundle depends on (workflow sources, contracts, the lock file). */
  inputs: string[];
}

async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOTDIR') return null;
    throw e;
  });
  if (entries === null) return [path];
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith('.test.ts') && !join(e.parentPath, e.name).includes('/node_modules/'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** sha256 over the names and contents of every input file. */
export async function bundleInputsHash(inputs: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const input of inputs) {
    for (const file of await filesUnder(input))
      hash
        .update(file)
        .update('\0')
        .update(await readFile(file))
        .update('\0');
  }
  return hash.digest('hex');
}

/**
 * The workflow bundle, built once with bundleWorkflowCode and kept in `cacheDir` under the hash of its
 * inputs: workers start without bundling again until a workflow source, the contracts or a dependency
 * changes. Returns the bundle file's path (written atomically).
 */
export async function prebuiltWorkflowBundle(
  source: WorkflowBundleSource,
  cacheDir: string,
  logger: Logger,
): Promise<string> {
  const key = (await bundleInputsHash([source.path, ...source.inputs])).slice(0, 24);
  const file = join(cacheDir, `workflow-bundle-${key}.js`);
  if (existsSync(file)) return file;
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: source.path, logger });
  await mkdir(cacheDir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, code);
  await rename(temp, file);
  // Bundles of older sources are dead weight (a running worker holds its code in memory).
  for (const name of await readdir(cacheDir)) {
    if (name.startsWith('workflow-bundle-') && name.endsWith('.js') && join(cacheDir, name) !== file)
      await rm(join(cacheDir, name), { force: true });
  }
  logger.info('workflow bundle built', { file, seconds: (Date.now() - started) / 1000 });
  return file;
}
