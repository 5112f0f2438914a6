import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'sgfd.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;

/** Runs the real `sgfd` executable as a user would. */
function sgfd(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: work, env: { ...process.env, SGFD_HOME: join(work, 'home') } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sgfd data (spawned CLI)', () => {
  it('prints help for the program and every data command', async () => {
    const top = await sgfd('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/--json/);
    expect(top.stdout).toMatch(/data\s+dataset snapshots/);
    const parquet = await sgfd('data', 'import', 'parquet', '--help');
    expect(parquet.code).toBe(0);
    for (const flag of [
      '--interactions',
      '--items',
      '--user-col',
      '--image-col',
      '--text-col',
      '--category-col',
      '--split-seed',
    ]) {
      expect(parquet.stdout).toContain(flag);
    }
  });

  it('synthesises, inspects, exports and re-imports a dataset, with --json output at every step', async () => {
    const synth = await sgfd('data', 'synth', '--preset', 'tiny', '--seed', '5', '--json');
    expect(synth.code, synth.stderr).toBe(0);
    const created = JSON.parse(synth.stdout) as { id: string; dir: string; created: boolean };
    expect(created.created).toBe(true);
    expect(created.dir).toBe(join(work, 'home', 'datasets', created.id));

    const inspect = await sgfd('data', 'inspect', created.id.slice(0, 10), '--json');
    expect(inspect.code, inspect.stderr).toBe(0);
    const summary = JSON.parse(inspect.stdout) as {
      users: number;
      items: number;
      categoryHistogram: number[];
      features: { modality: string; dim: number }[];
    };
    expect([summary.users, summary.items, summary.categoryHistogram.length]).toEqual([400, 300, 10]);
    expect(summary.features.map((f) => [f.modality, f.dim])).toEqual([
      ['image', 4096],
      ['text', 384],
    ]);

    const exported = await sgfd('data', 'export-mmrec', created.dir, '--out', join(work, 'mm', 'tiny'));
    expect(exported.code, exported.stderr).toBe(0);
    expect((await readdir(join(work, 'mm', 'tiny'))).sort()).toEqual([
      'image_feat.npy',
      'item_category.npy',
      'text_feat.npy',
      'tiny.inter',
    ]);

    const imported = await sgfd('--json', 'data', 'import', 'mmrec', join(work, 'mm', 'tiny'));
    expect(imported.code, imported.stderr).toBe(0);
    const again = JSON.parse(imported.stdout) as { id: string; created: boolean };
    expect(again).toMatchObject({ id: created.id, created: false });

    const human = await sgfd('data', 'inspect', created.dir);
    expect(human.stdout).toMatch(/density\s+[\d.]+ %/);
    expect(human.stdout).toMatch(/categories: 10/);
  });

  it('extracts a raw catalogue in-process with the feature cache under --cache: a re-run encodes 0 items', async () => {
    const { RAW_CATALOGUE_COLUMNS: c, writeRawCatalogue } = await import('@sgfd/extract');
    const files = await writeRawCatalogue(join(work, 'shop'), {
      items: 24,
      users: 20,
      interactionsPerUser: 6,
      seed: 3,
    });
    const cache = join(work, 'feature-cache');
    const args = [
      ...['data', 'extract', '--interactions', files.interactions, '--items', files.items, '--cache', cache],
      ...['--user-col', c.user, '--item-col', c.item, '--item-id-col', c.itemId, '--rating-col', c.rating],
      ...['--text-col', 'title', '--text-col', 'description', '--category-col', c.category, '--category-level', '2'],
      ...['--max-tokens', '32', '--chunk-size', '10'],
    ];
    type Extracted = { id: string; created: boolean; stats: { text: { encoded: number; cached: number } } };
    const first = await sgfd(...args, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout) as Extracted).toMatchObject({ stats: { text: { encoded: 24, cached: 0 } } });
    // The cache is a file:// artifact store: one 'features' artifact per finished chunk.
    expect(await readdir(join(cache, 'features'))).toHaveLength(3);

    const again = await sgfd(...args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('text: 24 items, 0 encoded, 24 from the cache, 0 failed (384-d)');
    expect(again.stdout).toContain((JSON.parse(first.stdout) as Extracted).id);
    expect(again.stderr).toContain('text: 24/24 items hashed');
    expect(again.stderr).not.toContain('chunk');
  }, 180_000);

  it('exits 1 with the validation message and no stack trace on bad input; --debug adds the stack, --json makes it JSON', async () => {
    const dir = join(work, 'bad');
    await mkdir(dir);
    await writeFile(join(dir, 'x.inter'), 'userID\titemID\trating\ttimestamp\tx_label\n0\t0\t1\t1\t0\n0\t0\t1\t2\t0\n');
    const plain = await sgfd('data', 'import', 'mmrec', dir, '--out', join(work, 'snaps'));
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(
      /^error: Duplicate \(user, item\) pair \(0, 0\), first seen at row 2 \(.*x\.inter, row 3/,
    );
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    await expect(readdir(join(work, 'snaps'))).rejects.toThrow();

    const debug = await sgfd('data', 'import', 'mmrec', dir, '--out', join(work, 'snaps'), '--debug');
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);

    const json = await sgfd('data', 'import', 'mmrec', dir, '--json');
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stderr) as { error: { name: string; location: { row: number } } };
    expect(body.error.name).toBe('DatasetError');
    expect(body.error.location.row).toBe(3);
  });

  it('exits 2 on bad usage and 1 when a snapshot does not exist', async () => {
    const usage = await sgfd('data', 'synth', '--preset', 'huge');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Allowed choices are tiny, office, baby/);
    const missing = await sgfd('data', 'inspect', 'deadbeef');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No snapshot 'deadbeef'/);
  });
});
