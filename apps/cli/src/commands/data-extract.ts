import { Command, Option } from 'commander';
import type { ExtractDatasetResult, ExtractProgress } from '@sgfd/extract';
import { FileArtifactStore } from '@sgfd/artifacts';
import { ensureTextModel } from '@sgfd/tools';
import { snapshotText } from '../dataset-format';
import { emit, note } from '../output';
import { defaultDatasetRoot, defaultFeatureCache } from '../paths';
import { cleaningUpOnSignals } from '../interrupt';
import { MAX_SEED, parseInteger } from '../program';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface ExtractFlags {
  interactions: string;
  items: string;
  out: string;
  cache: string;
  userCol: string;
  itemCol: string;
  ratingCol?: string;
  timestampCol?: string;
  itemIdCol: string;
  textCol?: string[];
  imageCol?: string;
  categoryCol?: string;
  categoryLevel?: number;
  categorySeparator?: string;
  unknownItems: 'reject' | 'drop';
  textSeparator: string;
  maxTokens: number;
  chunkSize: number;
  splitSeed?: number;
  imageModel?: string;
  imageInput?: string;
  imageOutput?: string;
}

/** `sgfd data extract`: a raw catalogue (own ids, texts, category paths) to a snapshot, in this process. */
export function registerExtract(data: Command): void {
  data
    .command('extract')
    .description(
      'a raw catalogue (interactions + items with own ids, text, category) to a snapshot with extracted features',
    )
    .requiredOption('--interactions <file>', 'interactions table (.parquet, .csv or .jsonl)')
    .requiredOption('--items <file>', 'items table (.parquet, .csv or .jsonl)')
    .option('--out <root>', 'snapshot root', defaultDatasetRoot())
    .option('--cache <dir>', 'feature cache (features of items already encoded)', defaultFeatureCache())
    .option('--user-col <name>', 'user id column of the interactions', 'user')
    .option('--item-col <name>', 'item id column of the interactions', 'item')
    .option('--rating-col <name>', 'rating column')
    .option('--timestamp-col <name>', 'timestamp column')
    .option('--item-id-col <name>', 'item id column of the items table', 'item')
    .option('--text-col <name>', 'text column to encode (repeat for several, joined in order)', collect)
    .option('--image-col <name>', 'image path column (relative to the items table, or absolute)')
    .option('--category-col <name>', 'category label or path column')
    .option(
      '--category-level <n>',
      'cut category paths to their first N levels',
      parseInteger('--category-level', 1, 100),
    )
    .option('--category-separator <text>', 'separator of category path levels (default ">")')
    .addOption(
      new Option('--unknown-items <policy>', 'interactions naming an item the items table lacks')
        .choices(['reject', 'drop'])
        .default('reject'),
    )
    .option('--text-separator <text>', 'put between the text columns', '. ')
    .option('--max-tokens <n>', 'cut texts to this many tokens', parseInteger('--max-tokens', 3, 512), 128)
    .option('--chunk-size <n>', 'items encoded per chunk', parseInteger('--chunk-size', 1, 1_000_000), 256)
    .option('--image-model <file>', 'ONNX image encoder (preprocessing declared in <file>.json); needs --image-col')
    .option('--image-input <name>', "the image model's input tensor (else from <file>.json)")
    .option('--image-output <name>', 'the output (layer) that gives the features (else from <file>.json)')
    .option('--split-seed <n>', 'seed of the 8:1:1 per-user split', parseInteger('--split-seed', 0, MAX_SEED))
    .action(async (opts: ExtractFlags, cmd: Command) => {
      const { extractDataset } = await import('@sgfd/extract');
      if (opts.textCol?.length) {
        await ensureTextModel({ log: (line) => note(cmd, line) });
      }
      let lastHashingLine = 0;
      const result = await cleaningUpOnSignals(cmd, () =>
        extractDataset({
          interactions: opts.interactions,
          items: opts.items,
          root: opts.out,
          // The feature cache is an artifact store of its own here (the pipeline's is the run's store).
          featureStore: new FileArtifactStore(opts.cache),
          columns: {
            user: opts.userCol,
            item: opts.itemCol,
            itemId: opts.itemIdCol,
            text: opts.textCol ?? [],
            ...(opts.ratingCol ? { rating: opts.ratingCol } : {}),
            ...(opts.timestampCol ? { timestamp: opts.timestampCol } : {}),
            ...(opts.imageCol ? { image: opts.imageCol } : {}),
            ...(opts.categoryCol ? { category: opts.categoryCol } : {}),
          },
          categoryLevel: opts.categoryLevel,
          categorySeparator: opts.categorySeparator,
          unknownItems: opts.unknownItems,
          splitSeed: opts.splitSeed,
          extraction: {
            text: { separator: opts.textSeparator, maxTokens: opts.maxTokens },
            ...(opts.imageModel
              ? {
                  image: {
                    model: opts.imageModel,
                    ...(opts.imageInput ? { input: opts.imageInput } : {}),
                    ...(opts.imageOutput ? { output: opts.imageOutput } : {}),
                  },
                }
              : {}),
          },
          chunkSize: opts.chunkSize,
          onProgress: (p) => {
            // Hashing reports often (every chunk's worth of items); a line every few seconds is enough.
            if (p.phase === 'hashing' && p.done < p.total && Date.now() - lastHashingLine < 3_000) return;
            if (p.phase === 'hashing') lastHashingLine = Date.now();
            note(cmd, progressLine(p));
          },
        }),
      );
      emit(cmd, result, () => snapshotText(result) + extractionText(result));
    });
}

function progressLine(p: ExtractProgress): string {
  if (p.phase === 'hashing') return `${p.modality}: ${p.done}/${p.total} items hashed`;
  const rate = p.itemsPerSecond === null ? '' : `, ${p.itemsPerSecond.toFixed(1)} items/s`;
  const eta = p.etaSeconds === null ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
  return `${p.modality}: ${p.done}/${p.total} items (chunk ${p.chunk}/${p.chunks}${rate}${eta})`;
}

function extractionText(result: ExtractDatasetResult): string {
  const lines = Object.entries(result.stats).map(
    ([m, s]) =>
      `${m}: ${s.items} items, ${s.encoded} encoded, ${s.cached} from the cache, ${s.failed} failed (${s.dim}-d)`,
  );
  if (result.droppedUnknownItems > 0)
    lines.push(`note: ${result.droppedUnknownItems} interactions dropped (their item is not in the items table)`);
  for (const p of result.problems.slice(0, 20))
    lines.push(`problem: ${p.modality} of item ${p.item}: ${p.path}: ${p.problem}`);
  if (result.problems.length > 20) lines.push(`... and ${result.problems.length - 20} more problems`);
  return `\n${lines.join('\n')}`;
}
