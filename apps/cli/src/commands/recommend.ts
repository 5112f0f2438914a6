import { writeFile, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EXCLUDE_SEEN, UserError, type ExcludeSeen } from '@sgfd/contracts';
import { idsHint, readScoringBundle, recommendAll, recommendationsParquet, type ScoringBundle } from '@sgfd/serving';
import { emit, formatNumber, note } from '../output';
import { defaultDatasetRoot } from '../paths';
import { parseInteger } from '../program';
import { withConnectionOptions } from '../pipeline/connect';
import { resolveModel, type ModelRefOptions } from '../serving/model-ref';

class UnknownIdError extends UserError {
  override readonly name = 'UnknownIdError';
}

interface RecommendFlags extends ModelRefOptions {
  user: string[];
  k: number;
  excludeSeen: ExcludeSeen;
  all?: boolean;
  out?: string;
}

export function parseExclude(value: string): ExcludeSeen {
  if (!(EXCLUDE_SEEN as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${EXCLUDE_SEEN.join(', ')}.`);
  return value as ExcludeSeen;
}

/** Top-k of the given users, as ids. */
export function recommendUsers(bundle: ScoringBundle, users: string[], k: number, exclude: ExcludeSeen) {
  return users.map((id) => {
    const index = bundle.ids.userIndex(id);
    if (index === undefined) {
      throw new UnknownIdError(`Unknown user '${id}'`, {
        field: '--user',
        expected: `a user id of the model (${idsHint(bundle, 'user')})`,
        found: id,
      });
    }
    const top = bundle.recommender.recommend(index, k, exclude);
    return {
      user: id,
      items: Array.from(top.items, (item, j) => ({ item: bundle.ids.itemId(item), score: top.scores[j]! })),
    };
  });
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `sgfd recommend MODEL --user U ... --k N`: top-K items for users, from the precomputed scoring. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('recommend')
      .description('top-K items for users from a trained model (run id, model folder or schedule id: its champion)')
      .argument('<model>', 'pipeline run id, schedule id, evaluation or run folder, or scoring bundle')
      .option('--user <id>', 'a user id (repeatable)', collect, [])
      .option('--k <n>', 'items per user', parseInteger('--k', 1), 10)
      .option('--exclude-seen <which>', `items to leave out: ${EXCLUDE_SEEN.join(' | ')}`, parseExclude, 'train')
      .option('--all', 'every user (with --out)')
      .option('--out <file.parquet>', "with --all: write every user's top-K as Parquet")
      .option('--artifacts <dir>', 'artifact store (env SGFD_ARTIFACTS; default <repo>/.sgfd/artifacts)')
      .option('--root <dir>', 'snapshot root, for run folders of `sgfd train`', defaultDatasetRoot()),
  ).action(async (ref: string, flags: RecommendFlags, cmd: Command) => {
    if (flags.all ? !flags.out || flags.user.length > 0 : flags.user.length === 0 || flags.out) {
      throw new InvalidArgumentError(
        flags.all
          ? '--all needs --out <file.parquet> and no --user'
          : 'give --user <id> (repeatable), or --all --out <file>',
      );
    }
    const model = await resolveModel(ref, { ...flags, log: (line) => note(cmd, line) });
    const bundle = await readScoringBundle(model.bundleDir);
    if (flags.all) {
      const out = resolve(flags.out!);
      const recs = recommendAll(bundle.recommender, flags.k, flags.excludeSeen);
      await writeAtomically(out, recommendationsParquet(recs, bundle.ids));
      emit(
        cmd,
        { out, users: bundle.spec.users, k: flags.k, excludeSeen: flags.excludeSeen, rows: recs.items.length },
        () =>
          `${recs.items.length} recommendations (top ${flags.k} of ${bundle.spec.users} users, ${flags.excludeSeen} excluded) -> ${out}`,
      );
      return;
    }
    const results = recommendUsers(bundle, flags.user, flags.k, flags.excludeSeen);
    emit(
      cmd,
      { model: { bundle: model.bundleDir, ...bundle.spec.model }, k: flags.k, excludeSeen: flags.excludeSeen, results },
      () =>
        results
          .map(({ user, items }) =>
            [
              `user ${user}:`,
              ...items.map(
                ({ item, score }, j) => `  ${String(j + 1).padStart(3)}. item ${item}  ${formatNumber(score)}`,
              ),
            ].join('\n'),
          )
          .join('\n'),
    );
  });
}
