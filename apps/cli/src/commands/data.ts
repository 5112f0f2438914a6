import { Command, Option } from 'commander';
import { ConfigError, MODALITIES, type Modality } from '@sgfd/contracts';
import type { ParquetColumns, SyntheticPresetName } from '@sgfd/data';
import { snapshotText, summaryText } from '../dataset-format';
import { registerExtract } from './data-extract';
import { emit, note } from '../output';
import { defaultDatasetRoot } from '../paths';
import { cleaningUpOnSignals } from '../interrupt';
import { MAX_SEED, parseFraction, parseInteger } from '../program';

// @sgfd/data (Arrow, Parquet wasm) is loaded only when a data command runs, so `sgfd --help` and other
// commands start fast.
const loadData = () => import('@sgfd/data');

const PRESETS = ['tiny', 'office', 'baby'] as const satisfies readonly SyntheticPresetName[];
// Fails to compile when the generator gains a preset that PRESETS does not list.
type UnlistedPreset = Exclude<SyntheticPresetName, (typeof PRESETS)[number]>;
export const PRESETS_COMPLETE: [UnlistedPreset] extends [never] ? true : never = true;

/** `sgfd data ...`: synthesise, import, inspect and export dataset snapshots. */
export function register(program: Command): void {
  const data = program.command('data').description('dataset snapshots: synthesise, import, inspect, export');

  data
    .command('synth')
    .description('generate a synthetic dataset with planted structure and write it as a snapshot (or an MMRec folder)')
    .addOption(new Option('--preset <name>', 'size preset').choices(PRESETS).default('tiny'))
    .option('--seed <n>', 'random seed', parseInteger('--seed', 0, MAX_SEED), 2023)
    .option(
      '--category-signal <p>',
      "share of interactions drawn from the users' preferred categories (0..1)",
      parseFraction('--category-signal'),
    )
    .addOption(
      new Option('--format <format>', 'snapshot, or an MMRec folder for other toolkits')
        .choices(['snapshot', 'mmrec'])
        .default('snapshot'),
    )
    .option(
      '--out <dir>',
      'snapshot root (format snapshot) or folder to create (format mmrec, raw)',
      defaultDatasetRoot(),
    )
    .option(
      '--raw',
      'write a raw catalogue instead (string ids, English titles, category paths, drawn PNGs, an ONNX image model, catalogue.json) into --out; presets tiny and office',
    )
    .action(
      async (
        opts: {
          preset: SyntheticPresetName;
          seed: number;
          categorySignal?: number;
          format: string;
          out: string;
          raw?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.raw) {
          const { writeDemoCatalogue, DEMO_CATALOGUE_SIZES } = await import('@sgfd/extract');
          if (!(opts.preset in DEMO_CATALOGUE_SIZES))
            throw new ConfigError(`No raw catalogue preset '${opts.preset}'`, {
              field: '--preset',
              expected: Object.keys(DEMO_CATALOGUE_SIZES).join(' | '),
              found: opts.preset,
            });
          note(cmd, `writing a raw catalogue '${opts.preset}' (seed ${opts.seed}) into ${opts.out}…`);
          const size = opts.preset as keyof typeof DEMO_CATALOGUE_SIZES;
          const files = await writeDemoCatalogue(opts.out, { size, seed: opts.seed });
          emit(
            cmd,
            { dir: files.dir, items: files.itemIds.length, users: files.userIds.length },
            () =>
              `raw catalogue ${files.dir}: ${files.itemIds.length} items, ${files.userIds.length} users ` +
              `(train on it: sgfd run --dataset ${files.dir} --backbone vbpr --sgfd two-stage)`,
          );
          return;
        }
        note(cmd, `generating synthetic '${opts.preset}' (seed ${opts.seed})…`);
        const { exportMmrec, generateSynthetic, writeSnapshot } = await loadData();
        const dataset = generateSynthetic({
          preset: opts.preset,
          seed: opts.seed,
          categorySignal: opts.categorySignal,
        });
        if (opts.format === 'mmrec') {
          const result = await cleaningUpOnSignals(cmd, () => exportMmrec(dataset, { out: opts.out }));
          emit(cmd, result, () => `MMRec folder ${result.dir}: ${result.files.join(', ')}`);
          return;
        }
        const result = await cleaningUpOnSignals(cmd, () => writeSnapshot(dataset, { root: opts.out }));
        emit(cmd, result, () => snapshotText(result));
      },
    );

  registerExtract(data);

  const importer = data.command('import').description('import a dataset as a snapshot');

  importer
    .command('mmrec')
    .description('import an MMRec folder: <name>.inter, image_feat.npy / text_feat.npy, item categories')
    .argument('<dir>', 'the MMRec dataset folder')
    .option('--out <root>', 'snapshot root', defaultDatasetRoot())
    .option('--name <name>', 'dataset name (which <name>.inter) when the folder holds several')
    .option(
      '--categories <file>',
      'item categories (.npy, or .csv/.parquet with item,category); default item_category.* in the folder',
    )
    .option(
      '--split-seed <n>',
      'seed of the 8:1:1 per-user split when the .inter has no x_label (default 2023)',
      parseInteger('--split-seed', 0, MAX_SEED),
    )
    .action(
      async (
        dir: string,
        opts: { out: string; name?: string; categories?: string; splitSeed?: number },
        cmd: Command,
      ) => {
        const { importMmrec } = await loadData();
        const result = await cleaningUpOnSignals(cmd, () =>
          importMmrec({ dir, root: opts.out, name: opts.name, categories: opts.categories, splitSeed: opts.splitSeed }),
        );
        emit(cmd, result, () => snapshotText(result) + droppedText(result.droppedRows));
      },
    );

  importer
    .command('parquet')
    .description(
      'import Parquet tables: interactions (user, item, ...) and items (item, category, list<float> features)',
    )
    .requiredOption('--interactions <file>', 'interactions table')
    .option('--items <file>', 'items table (item ids 0..n-1, optional category and feature columns)')
    .option('--out <root>', 'snapshot root', defaultDatasetRoot())
    .option('--user-col <name>', 'user id column', 'user')
    .option('--item-col <name>', 'item id column of the interactions table', 'item')
    .option('--rating-col <name>', 'rating column (default: "rating" if present)')
    .option('--timestamp-col <name>', 'timestamp column (default: "timestamp" if present)')
    .option('--split-col <name>', 'split column with 0/1/2 (default: "split" if present, else split 8:1:1)')
    .option('--item-id-col <name>', 'item id column of the items table', 'item')
    .option('--category-col <name>', 'category column of the items table (default: "category" if present)')
    .option('--image-col <name>', 'list<float> image feature column (default: "image" if present)')
    .option('--text-col <name>', 'list<float> text feature column (default: "text" if present)')
    .option(
      '--split-seed <n>',
      'seed of the 8:1:1 per-user split (default 2023)',
      parseInteger('--split-seed', 0, MAX_SEED),
    )
    .action(async (opts: ParquetFlags, cmd: Command) => {
      const { importParquet } = await loadData();
      const result = await cleaningUpOnSignals(cmd, () =>
        importParquet({
          interactions: opts.interactions,
          items: opts.items,
          root: opts.out,
          columns: parquetColumns(opts),
          splitSeed: opts.splitSeed,
        }),
      );
      emit(cmd, result, () => snapshotText(result) + droppedText(result.droppedRows));
    });

  data
    .command('inspect')
    .description('counts, density, split sizes, category histogram and feature statistics of a snapshot')
    .argument('<snapshot>', 'snapshot directory, or its id (prefix) under --root')
    .option('--root <dir>', 'snapshot root for ids', defaultDatasetRoot())
    .option('--no-verify', 'skip the sha256 check of the files')
    .action(async (ref: string, opts: { root: string; verify: boolean }, cmd: Command) => {
      const { findSnapshot, loadSnapshot, summarizeDataset } = await loadData();
      const dir = await findSnapshot(ref, opts.root);
      const summary = summarizeDataset(await loadSnapshot(dir, { verify: opts.verify }));
      emit(cmd, { dir, ...summary }, () => summaryText(summary));
    });

  data
    .command('export-mmrec')
    .description('write a snapshot in MMRec layout (<name>.inter, image_feat.npy, text_feat.npy, item_category.npy)')
    .argument('<snapshot>', 'snapshot directory, or its id (prefix) under --root')
    .requiredOption('--out <dir>', 'folder to create')
    .option('--name <name>', 'dataset name (default: the folder name)')
    .option('--root <dir>', 'snapshot root for ids', defaultDatasetRoot())
    .action(async (ref: string, opts: { out: string; name?: string; root: string }, cmd: Command) => {
      const { exportSnapshotToMmrec, findSnapshot } = await loadData();
      const dir = await findSnapshot(ref, opts.root);
      const result = await cleaningUpOnSignals(cmd, () =>
        exportSnapshotToMmrec(dir, { out: opts.out, name: opts.name }),
      );
      emit(cmd, result, () => `MMRec folder ${result.dir}: ${result.files.join(', ')}`);
    });
}

interface ParquetFlags {
  interactions: string;
  items?: string;
  out: string;
  userCol: string;
  itemCol: string;
  ratingCol?: string;
  timestampCol?: string;
  splitCol?: string;
  itemIdCol: string;
  categoryCol?: string;
  imageCol?: string;
  textCol?: string;
  splitSeed?: number;
}

function parquetColumns(opts: ParquetFlags): Partial<ParquetColumns> {
  const features: Partial<Record<Modality, string>> = {};
  const given: Record<Modality, string | undefined> = { image: opts.imageCol, text: opts.textCol };
  for (const m of MODALITIES) if (given[m]) features[m] = given[m];
  return {
    user: opts.userCol,
    item: opts.itemCol,
    itemId: opts.itemIdCol,
    ...(opts.ratingCol ? { rating: opts.ratingCol } : {}),
    ...(opts.timestampCol ? { timestamp: opts.timestampCol } : {}),
    ...(opts.splitCol ? { split: opts.splitCol } : {}),
    ...(opts.categoryCol ? { category: opts.categoryCol } : {}),
    ...(Object.keys(features).length > 0 ? { features } : {}),
  };
}

function droppedText(dropped: number): string {
  return dropped > 0 ? `\nnote: ${dropped} valid/test rows dropped (their users had no training rows)` : '';
}
