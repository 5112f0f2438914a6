import type { Command } from 'commander';
import type { ExcludeSeen } from '@sgfd/contracts';
import { buildServer, fixedModelSource, readScoringBundle, servedModel, type ModelSource } from '@sgfd/serving';
import { note } from '../output';
import { defaultDatasetRoot } from '../paths';
import { parseInteger } from '../program';
import { withConnectionOptions } from '../pipeline/connect';
import { artifactRoot } from '../serving/artifact-root';
import { championSource } from '../serving/champion-source';
import { resolveModel, type ModelRefOptions } from '../serving/model-ref';
import { parseExclude } from './recommend';

export interface ServeOptions extends ModelRefOptions {
  /** Follow this schedule's champion (a schedule id given as the model does the same). */
  schedule?: string;
  host: string;
  port: number;
  maxK: number;
  maxBatch: number;
  excludeSeen: ExcludeSeen;
  log(line: string): void;
}

/** Starts the service; resolves once it listens. A schedule's champion is followed, any other model fixed. */
export async function startServe(
  model: string | undefined,
  options: ServeOptions,
): Promise<{ app: ReturnType<typeof buildServer>; url: string }> {
  let source: ModelSource;
  const scheduleId = options.schedule ?? model;
  const followed = scheduleId
    ? await championSource(artifactRoot(options.artifacts), scheduleId, {
        onSwitch: (m) => options.log(`now serving ${m.bundle.spec.model.run} (${m.source})`),
        onError: (e) => options.log(`champion not switched: ${e instanceof Error ? e.message : String(e)}`),
      }).catch((error: unknown) => {
        if (options.schedule) throw error;
        return null;
      })
    : null;
  if (followed) {
    source = followed;
    options.log(`following the champion of schedule ${scheduleId}`);
  } else {
    if (!model) throw new Error('serve needs a model or --schedule');
    const { bundleDir } = await resolveModel(model, options);
    source = fixedModelSource(servedModel(await readScoringBundle(bundleDir), bundleDir));
  }
  const app = buildServer({
    models: source,
    maxK: options.maxK,
    maxBatch: options.maxBatch,
    defaultExclude: options.excludeSeen,
  });
  const url = await app.listen({ host: options.host, port: options.port });
  options.log(`serving ${source.current().bundle.spec.model.run} on ${url}`);
  return { app, url };
}

/** `sgfd serve [MODEL] [--schedule ID]`: the HTTP recommendation service. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('serve')
      .description("HTTP recommendations from a model, or from a schedule's champion (followed without restart)")
      .argument(
        '[model]',
        'schedule id (its champion, followed), pipeline run id, evaluation or run folder, or scoring bundle',
      )
      .option('--schedule <id>', "follow this schedule's champion")
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--port <n>', 'port (0: any free one)', parseInteger('--port', 0, 65535), 8080)
      .option('--max-k <n>', 'largest k a request may ask for', parseInteger('--max-k', 1), 1000)
      .option('--max-batch <n>', 'most users in one batch request', parseInteger('--max-batch', 1), 1000)
      .option('--exclude-seen <which>', 'default masking: train | train+valid | none', parseExclude, 'train')
      .option('--artifacts <dir>', 'artifact store (env SGFD_ARTIFACTS; default <repo>/.sgfd/artifacts)')
      .option('--root <dir>', 'snapshot root, for run folders of `sgfd train`', defaultDatasetRoot()),
  ).action(async (model: string | undefined, flags: Omit<ServeOptions, 'log'>, cmd: Command) => {
    const log = (line: string) => note(cmd, line);
    const { app } = await startServe(model, { ...flags, log });
    await new Promise<void>((resolve) => {
      const stop = () => {
        log('stopping: finishing the requests in flight');
        void app.close().then(() => resolve());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}
