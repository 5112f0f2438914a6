import type { Command } from 'commander';
import { snapshotText, summaryText } from '../dataset-format';
import { emit, note } from '../output';
import { defaultDatasetRoot } from '../paths';

/**
 * `sgfd start` (what `npm start` runs). Until the Temporal pipeline is wired in, it runs the data stage
 * end to end on the office preset: synthesise, write the snapshot, load it back and inspect it.
 */
export function register(program: Command): void {
  program
    .command('start')
    .description('run the main job (for now: the data stage end to end on the synthetic office preset)')
    .option('--out <root>', 'snapshot root', defaultDatasetRoot())
    .action(async (opts: { out: string }, cmd: Command) => {
      note(cmd, "sgfd start: generating the synthetic 'office' dataset…");
      const started = performance.now();
      const { generateSynthetic, loadSnapshot, summarizeDataset, writeSnapshot } = await import('@sgfd/data');
      const written = await writeSnapshot(generateSynthetic({ preset: 'office' }), { root: opts.out });
      note(cmd, snapshotText(written));
      note(cmd, '\ninspecting the snapshot…\n');
      const summary = summarizeDataset(await loadSnapshot(written.dir));
      const seconds = (performance.now() - started) / 1000;
      emit(cmd, { snapshot: written.dir, created: written.created, seconds, summary }, () => `${summaryText(summary)}\n\ndone in ${seconds.toFixed(1)} s`);
    });
}
