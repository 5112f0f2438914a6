// Test helpers: a fresh file artifact store per test and small real datasets.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';
import {
  RunConfigSchema,
  parseConfig,
  type DatasetSpec,
  type RawDatasetSpec,
  type RunConfig,
  type RunConfigInput,
} from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';

/** ~100 users: trains in well under a second per epoch, still with learnable structure. */
export const SMALL_DATASET: DatasetSpec = {
  kind: 'synthetic',
  preset: 'tiny',
  seed: 7,
  overrides: { users: 120, items: 90, categories: 5, interactionsPerUser: 14, imageDim: 48, textDim: 24 },
};

export function smallConfig(overrides: Partial<RunConfigInput> & { training?: object; sgfd?: object } = {}): RunConfig {
  return parseConfig(RunConfigSchema, {
    backbone: 'vbpr',
    ...overrides,
    training: {
      epochs: 6,
      patience: 50,
      learningRate: 0.01,
      batchSize: 256,
      checkpointEvery: 2,
      seed: 3,
      ...overrides.training,
    },
    sgfd: {
      ...overrides.sgfd,
      teacher: {
        epochs: 4,
        batchSize: 32,
        learningRate: 0.01,
        ...(overrides.sgfd as { teacher?: object } | undefined)?.teacher,
      },
    },
  });
}

export interface TempStore {
  root: string;
  store: FileArtifactStore;
  /** Every path under the root that is not an empty directory, relative to it. */
  leftovers(): Promise<string[]>;
  remove(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const root = await mkdtemp(join(tmpdir(), 'sgfd-activities-'));
  const store = new FileArtifactStore(root);
  return {
    root,
    store,
    async leftovers() {
      if (!existsSync(root)) return [];
      const out: string[] = [];
      for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) out.push(join(entry.parentPath, entry.name).slice(root.length + 1));
      }
      return out.sort();
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

const ignore = () => undefined;
/** The SDK logs every failed activity as a warning; the failures here are the point of the tests. */
const quietLogger: Logger = { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

/** MockActivityEnvironment with `run` typed by the activity (the SDK's signature infers `unknown`). */
export type ActivityEnv = Omit<MockActivityEnvironment, 'run'> & {
  run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R>;
};

export function activityEnv(info: Partial<Info> = {}): ActivityEnv {
  return new MockActivityEnvironment(
    { activityId: '1', workflowExecution: { workflowId: 'wf-test', runId: 'run-test' }, ...info },
    { logger: quietLogger },
  ) as unknown as ActivityEnv;
}

/** A generated raw catalogue (text only: 30 users, 8 interactions each) under `dir`, as a dataset spec. */
export async function rawCatalogueSpec(
  dir: string,
  options: { items: number; seed: number; maxTokens: number },
): Promise<RawDatasetSpec> {
  // Loaded as extract.ts loads it (lazily), so the module-boundary rule holds in the tests too.
  const { RAW_CATALOGUE_COLUMNS, writeRawCatalogue } = await import('@sgfd/extract');
  const files = await writeRawCatalogue(dir, {
    items: options.items,
    users: 30,
    interactionsPerUser: 8,
    seed: options.seed,
  });
  return {
    kind: 'raw',
    interactions: files.interactions,
    items: files.items,
    columns: { ...RAW_CATALOGUE_COLUMNS, image: undefined },
    categoryLevel: 2,
    text: { maxTokens: options.maxTokens },
    chunkSize: 16,
  };
}
