import { cp, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EnvironmentError } from '@sgfd/contracts';
import { BUNDLE_FILES, SCORING_FILE, readScoringBundle } from '@sgfd/serving';
import { prepareTensorflowEngine } from '@sgfd/tools';
import { emit, note } from '../output';
import { defaultDatasetRoot } from '../paths';
import { withConnectionOptions } from '../pipeline/connect';
import { resolveModel, type ModelRefOptions } from '../serving/model-ref';

const FORMATS = ['parquet', 'tfjs-layers'] as const;
type ExportFormat = (typeof FORMATS)[number];
const TFJS_FOLDER = 'tfjs';

interface ExportFlags extends ModelRefOptions {
  format: ExportFormat;
  out: string;
}

function parseFormat(value: string): ExportFormat {
  if (!(FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${FORMATS.join(', ')}.`);
  return value as ExportFormat;
}

/**
 * Writes the export into `out` by one rename of a complete temp folder: the representations as Parquet with
 * scoring.json, and for tfjs-layers a TF.js layers model under tfjs/.
 */
export async function exportModel(bundleDir: string, format: ExportFormat, out: string): Promise<string[]> {
  if (existsSync(out))
    throw new EnvironmentError('The export folder exists already', { file: out, expected: 'a new folder' });
  const bundle = await readScoringBundle(bundleDir);
  const tmp = join(dirname(out), `.tmp-${basename(out)}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    for (const file of Object.values(BUNDLE_FILES)) await cp(join(bundleDir, file), join(tmp, file));
    const spec = { ...bundle.spec };
    if (format === 'tfjs-layers') {
      await prepareTensorflowEngine({ log: () => undefined });
      const { initBackend } = await import('@sgfd/tensor');
      await initBackend();
      const { writeTfjsLayersModel } = await import('../serving/tfjs-export');
      await writeTfjsLayersModel(join(tmp, TFJS_FOLDER), bundle.representations);
      Object.assign(spec, {
        tfjs: {
          model: `${TFJS_FOLDER}/model.json`,
          input: 'user index (the row of users.parquet), shape [batch, 1]',
          output: 'score(u, i) of every item i (rows of items.parquet), shape [batch, items]; nothing masked',
        },
      });
    }
    await writeFile(join(tmp, SCORING_FILE), `${JSON.stringify(spec, null, 1)}\n`);
    await rename(tmp, out);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  return [
    SCORING_FILE,
    ...Object.values(BUNDLE_FILES),
    ...(format === 'tfjs-layers' ? [`${TFJS_FOLDER}/model.json`, `${TFJS_FOLDER}/weights.bin`] : []),
  ];
}

/** `sgfd model export MODEL --format parquet|tfjs-layers --out DIR`. */
export function register(program: Command): void {
  const model = program.command('model').description('trained models: export');
  withConnectionOptions(
    model
      .command('export')
      .description(
        'representations as Parquet + scoring.json, and optionally a TF.js layers model that scores with stock TF.js',
      )
      .argument('<model>', 'pipeline run id, schedule id (its champion), evaluation or run folder, or scoring bundle')
      .requiredOption('--out <dir>', 'a new folder for the export')
      .option('--format <format>', FORMATS.join(' | '), parseFormat, 'tfjs-layers')
      .option('--artifacts <dir>', 'artifact store (env SGFD_ARTIFACTS; default <repo>/.sgfd/artifacts)')
      .option('--root <dir>', 'snapshot root, for run folders of `sgfd train`', defaultDatasetRoot()),
  ).action(async (ref: string, flags: ExportFlags, cmd: Command) => {
    const { bundleDir } = await resolveModel(ref, { ...flags, log: (line) => note(cmd, line) });
    const out = resolve(flags.out);
    const files = await exportModel(bundleDir, flags.format, out);
    emit(
      cmd,
      { out, format: flags.format, files },
      () => `exported ${flags.format} -> ${out}\n${files.map((f) => `  ${f}`).join('\n')}`,
    );
  });
}
