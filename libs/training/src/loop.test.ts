import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, RunConfigSchema, type RunConfigInput } from '@sgfd/contracts';
import { createRng, initBackend, tf } from '@sgfd/tensor';
import { maxRelativeError, randomTensor } from '@sgfd/tensor/testing';
import { runLoop } from './loop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from './progress';
import { trainStudent } from './student';
import { pretrainTeacher } from './teacher';
import { tinyDataset, withoutCategories } from './test-support/datasets';

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'sgfd-loop-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (input: Partial<RunConfigInput> = {}) =>
  RunConfigSchema.parse({
    backbone: 'vbpr',
    backboneParams: { regWeight: 1 },
    ...input,
    sgfd: {
      mode: 'off',
      ...input.sgfd,
      teacher: { epochs: 3, batchSize: 64, learningRate: 0.02, ...input.sgfd?.teacher },
    },
    training: { learningRate: 0.01, batchSize: 1024, epochs: 6, patience: 50, checkpointEvery: 2, ...input.training },
  });

describe('the training loop', () => {
  it('resumes from a checkpoint to exactly the metrics of an uninterrupted run', async () => {
    const dataset = await tinyDataset();
    const cfg = config({ sgfd: { mode: 'off' } });
    const straight = await trainStudent(dataset, cfg, null, { checkpointDir: join(dir, 'straight') });

    const controller = new AbortController();
    const interrupted = trainStudent(dataset, cfg, null, {
      checkpointDir: join(dir, 'resumed'),
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'epoch' && e.epoch === 3) controller.abort(new Error('worker lost'));
      },
    });
    await expect(interrupted).rejects.toThrow('worker lost');
    const events: ProgressEvent[] = [];
    const resumed = await trainStudent(dataset, cfg, null, {
      checkpointDir: join(dir, 'resumed'),
      onProgress: (e) => events.push(e),
    });
    expect(resumed.resumedFrom).toBe(2);
    expect(events[0]).toMatchObject({ type: 'resumed', epoch: 2 });
    expect(events.filter((e) => e.type === 'epoch').map((e) => (e as { epoch: number }).epoch)).toEqual([3, 4, 5, 6]);
    expect(resumed.test).toEqual(straight.test);
    expect(resumed.valid).toEqual(straight.valid);
    expect(resumed.bestEpoch).toBe(straight.bestEpoch);
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    // One index and one binary: older binaries are removed once the new index is in place.
    expect((await readdir(join(dir, 'resumed'))).sort()).toEqual([
      expect.stringMatching(/^checkpoint-[0-9a-f]+\.bin$/),
      'checkpoint.tensors.json',
    ]);
  });

  it('refuses a checkpoint of another run', async () => {
    const dataset = await tinyDataset();
    await trainStudent(dataset, config({ training: { epochs: 2 } }), null, { checkpointDir: join(dir, 'other') });
    await expect(
      trainStudent(dataset, config({ training: { epochs: 2, learningRate: 0.02 } }), null, {
        checkpointDir: join(dir, 'other'),
      }),
    ).rejects.toThrow(ConfigError);
  });

  it('trains a weight from its products with the batch rows (outer-product loss) as from its own gradient', async () => {
    // Least squares of x W + b against y on fixed batches; the same run with W's product made outside the
    // gradient scope must land on the same weights (up to float rounding), and leave no tensor behind.
    const rows = (seed: number) => randomTensor([8, 12], seed) as tf.Tensor2D;
    const batches = [0, 1, 2].map((k) => ({ x: rows(80 + k), y: randomTensor([8, 5], 90 + k) as tf.Tensor2D }));
    const train = async (outer: boolean) => {
      const w = tf.variable(randomTensor([12, 5], 99));
      const b = tf.variable(tf.zeros([5]));
      const lossFrom = (product: tf.Tensor2D, y: tf.Tensor2D) => {
        const total = tf.mean(tf.square(tf.sub(tf.add(product, b), y))) as tf.Scalar;
        return { total, parts: {} };
      };
      const before = tf.memory().numTensors;
      await runLoop<(typeof batches)[number]>({
        stage: 'student',
        weights: { w, b },
        rng: createRng(1),
        maxEpochs: 4,
        patience: 100,
        evalEvery: 100,
        learningRate: 0.05,
        metric: 'score',
        batches: () => batches,
        loss: ({ x, y }) => lossFrom(tf.matMul(x, w) as tf.Tensor2D, y),
        outerProductLoss: outer
          ? ({ x, y }) => {
              const product = tf.matMul(x, w) as tf.Tensor2D;
              return { products: [{ name: 'w', rows: tf.clone(x), product }], loss: () => lossFrom(product, y) };
            }
          : undefined,
        validate: () => ({ score: 0 }),
      });
      const leaked = tf.memory().numTensors - before;
      const out = { w: w.dataSync().slice(), b: b.dataSync().slice(), leaked };
      tf.dispose([w, b]);
      return out;
    };
    const [plain, outer] = [await train(false), await train(true)];
    expect(outer.leaked).toBe(0);
    expect(maxRelativeError(outer.w, plain.w)).toBeLessThan(1e-5);
    expect(maxRelativeError(outer.b, plain.b)).toBeLessThan(1e-5);
    const start = randomTensor([12, 5], 99);
    expect(maxRelativeError(outer.w, start.dataSync())).toBeGreaterThan(0.05);
    tf.dispose([start, ...batches.flatMap(({ x, y }) => [x, y])]);
  });

  it('leaks no tensors across epochs (plain, joint and two-stage, VBPR and BM3)', async () => {
    const dataset = await tinyDataset();
    const counts = async (cfg: ReturnType<typeof config>, teacher = false) => {
      const seen: number[] = [];
      const before = tf.memory().numTensors;
      const outputs = teacher ? await pretrainTeacher(dataset, cfg) : null;
      await trainStudent(dataset, cfg, outputs, {
        onProgress: (e) => {
          if (e.type === 'epoch') seen.push(tf.memory().numTensors);
        },
      });
      return { seen, before, after: tf.memory().numTensors };
    };
    for (const [cfg, teacher] of [
      [config({ training: { epochs: 4 } }), false],
      [config({ sgfd: { mode: 'joint' }, training: { epochs: 4 } }), false],
      [config({ backbone: 'bm3', backboneParams: {}, sgfd: { mode: 'two-stage' }, training: { epochs: 4 } }), true],
    ] as const) {
      const { seen, before, after } = await counts(cfg, teacher);
      expect(new Set(seen).size).toBe(1);
      expect(after).toBe(before);
    }
  });

  it('reports progress with loss parts, validation and ETA, and yields to the event loop between batches', async () => {
    const dataset = await tinyDataset();
    const events: ProgressEvent[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const result = await trainStudent(dataset, config({ sgfd: { mode: 'joint' }, training: { epochs: 2 } }), null, {
      onProgress: (e) => events.push(e),
    });
    clearInterval(timer);
    const batches = events.filter((e) => e.type === 'batch');
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(batches.length).toBe(2 * Math.ceil(dataset.splits.train.users.length / 1024));
    expect(ticks).toBeGreaterThanOrEqual(batches.length / 2);
    expect(epochs).toHaveLength(2);
    const last = epochs[1] as Extract<ProgressEvent, { type: 'epoch' }>;
    expect(Object.keys(last.loss).sort()).toEqual([
      'sgfd.ce',
      'sgfd.fd',
      'sgfd.fuse',
      'sgfd.ld',
      'total',
      'vbpr.bpr',
      'vbpr.reg',
    ]);
    expect(last.valid!['recall@20']).toBeGreaterThan(0);
    expect(last.etaMs).toBe(0);
    expect((epochs[0] as typeof last).etaMs).toBeGreaterThan(0);
    expect(result.history).toHaveLength(2);
  });

  it('stops early after `patience` evaluations without improvement and keeps the best weights', async () => {
    const dataset = await tinyDataset();
    // A learning rate this large overshoots after the first epochs.
    const result = await trainStudent(dataset, config({ training: { epochs: 30, patience: 2, learningRate: 0.2 } }));
    const scores = result.history.map((h) => h.valid!['recall@20']);
    const best = Math.max(...scores);
    expect(result.stoppedEarly).toBe(true);
    expect(result.epochsRun).toBe(scores.indexOf(best) + 1 + 2);
    expect(result.valid['recall@20']).toBe(best);
    expect(result.bestEpoch).toBe(scores.indexOf(best) + 1);
  });

  it('refuses SGFD on a dataset without categories, and two-stage without teacher outputs', async () => {
    const dataset = withoutCategories(await tinyDataset());
    await expect(trainStudent(dataset, config({ sgfd: { mode: 'joint' } }))).rejects.toThrow(/needs item categories/);
    await expect(pretrainTeacher(dataset, config({ sgfd: { mode: 'two-stage' } }))).rejects.toThrow(ConfigError);
    await expect(trainStudent(await tinyDataset(), config({ sgfd: { mode: 'two-stage' } }))).rejects.toThrow(
      /run pretrainTeacher first/,
    );
    const plain = await trainStudent(dataset, config({ training: { epochs: 1 } }));
    expect(plain.epochsRun).toBe(1);
  });
});
