// Turns `sgfd run` flags into the workflow's input: the dataset spec, the resolved config, an id.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mergeRunConfig, readConfigFile, type RunConfigFlags } from '../config-input';
import {
  ConfigError,
  DatasetSpecSchema,
  datasetLabel,
  parseConfig,
  type DatasetSpec,
  type RunConfig,
  type RunConfigInput,
  type TrainPipelineInput,
} from '@sgfd/contracts';

// Loaded when a run is prepared, so `sgfd --help` and the other commands start fast.
const loadData = () => import('@sgfd/data');
const loadTraining = () => import('@sgfd/training');

/** Seed of the synthetic generator when a preset is named (the `sgfd data synth` default). */
export const DEFAULT_DATA_SEED = 2023;

/**
 * A preset name (tiny, office, baby), or a folder: a snapshot (manifest.json), an MMRec dataset (*.inter)
 * or Parquet tables (interactions.parquet). Paths become absolute: workers may run elsewhere.
 */
export async function datasetSpecFor(value: string, dataSeed = DEFAULT_DATA_SEED): Promise<DatasetSpec> {
  const { SYNTHETIC_PRESET_NAMES } = await loadData();
  if ((SYNTHETIC_PRESET_NAMES as readonly string[]).includes(value))
    return { kind: 'synthetic', preset: value, seed: dataSeed };
  const dir = resolve(value);
  if (!existsSync(dir)) {
    throw new ConfigError(`No dataset '${value}'`, {
      field: '--dataset',
      expected: `a preset (${SYNTHETIC_PRESET_NAMES.join(', ')}), a snapshot folder, an MMRec folder or a Parquet folder`,
      found: `nothing at ${dir}`,
    });
  }
  if (!statSync(dir).isDirectory())
    throw new ConfigError('A dataset is a folder', { field: '--dataset', found: `the file ${dir}` });
  if (existsSync(join(dir, 'manifest.json'))) return { kind: 'snapshot', path: dir };
  if (existsSync(join(dir, RAW_CATALOGUE_FILE))) return rawCatalogueSpec(dir);
  if (readdirSync(dir).some((f) => f.endsWith('.inter'))) return { kind: 'mmrec', dir };
  if (existsSync(join(dir, 'interactions.parquet'))) return { kind: 'parquet', dir };
  throw new ConfigError(`Not a dataset folder: ${dir}`, {
    field: '--dataset',
    expected: `manifest.json (snapshot), <name>.inter (MMRec), interactions.parquet or ${RAW_CATALOGUE_FILE} (raw catalogue)`,
    found: readdirSync(dir).slice(0, 8).join(', ') || 'an empty folder',
  });
}

/** A raw catalogue folder names its tables, columns and extraction settings in this file. */
export const RAW_CATALOGUE_FILE = 'catalogue.json';

/** The raw spec of a catalogue folder: catalogue.json with table paths relative to the folder. */
async function rawCatalogueSpec(dir: string): Promise<DatasetSpec> {
  const file = join(dir, RAW_CATALOGUE_FILE);
  const json = (await readConfigFile(file)) as Record<string, unknown>;
  const spec = parseConfig(DatasetSpecSchema, { kind: 'raw', ...json }, file);
  if (spec.kind !== 'raw') throw new ConfigError('Not a raw catalogue', { file, field: 'kind', expected: 'raw' });
  return {
    ...spec,
    interactions: resolve(dir, spec.interactions),
    items: resolve(dir, spec.items),
    ...(spec.image ? { image: { ...spec.image, model: resolve(dir, spec.image.model) } } : {}),
  };
}

export interface RunFlags extends RunConfigFlags {
  dataset: string;
  dataSeed?: number;
  id?: string;
}

/** The config file (if any), the flags and every --set on top, every default filled and validated. */
export async function runConfigFor(flags: RunConfigFlags): Promise<RunConfig> {
  const merged = await mergeRunConfig(flags);
  if (!merged['backbone'])
    throw new ConfigError('Which backbone? Pass --backbone (or set "backbone" in the config file)', {
      field: 'backbone',
    });
  const { resolveRunConfig } = await loadTraining();
  return resolveRunConfig(merged as RunConfigInput, flags.config ?? 'run config');
}

/** `vbpr-two-stage-office-20261126-230501`: readable in the Web UI, unique per second. */
export function defaultRunId(config: RunConfig, dataset: DatasetSpec, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${config.backbone}-${config.sgfd.mode}-${datasetLabel(dataset)}-${stamp}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export async function pipelineInputFor(flags: RunFlags): Promise<TrainPipelineInput> {
  const dataset = await datasetSpecFor(flags.dataset, flags.dataSeed);
  const config = await runConfigFor(flags);
  const { codeVersion } = await loadTraining();
  return { runId: flags.id ?? defaultRunId(config, dataset), dataset, config, codeVersion: codeVersion() };
}
