import { SgfdConfigSchema } from '@sgfd/contracts';
import { createRng, initBackend, seededDropoutMask, tf } from '@sgfd/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGradients, maxRelativeError } from '@sgfd/tensor/testing';
import { crossEntropy, featureDistillation, responseDistillation } from './losses';
import {
  distillationLoss,
  jointLoss,
  teacherFirstProducts,
  teacherPretrainLoss,
  teacherPretrainLossFromProducts,
} from './objectives';
import { SemanticTeacher } from './semantic-teacher';
import { Student } from './student';
import { TeacherTower, teacherWidths } from './teacher';
import { leakyNormalize } from '../layers';
import { linearStackOrder } from '../linear-stack';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

const config = (overrides: Record<string, unknown> = {}) =>
  SgfdConfigSchema.parse({ latentDim: 2, ceWeight: 0.3, kdWeight: 0.7, tau: 2, ...overrides });

function randomRows(seed: number, rows: number, cols: number): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(
    Float32Array.from({ length: rows * cols }, () => rng.normal()),
    [rows, cols],
  );
}

function rowNorms(x: tf.Tensor2D): number[] {
  return Array.from(tf.tidy(() => tf.sqrt(tf.sum(tf.square(x), 1))).dataSync());
}

const scalar = (s: tf.Scalar): number => s.dataSync()[0];

describe('teacher and student extractors', () => {
  it('shrink by 4 per layer to the latent size, as the authors (4096->1024->256->64, 384->96->64)', () => {
    expect(teacherWidths(4096, 64)).toEqual([4096, 1024, 256, 64]);
    expect(teacherWidths(384, 64)).toEqual([384, 96, 64]);
    expect(teacherWidths(300, 64)).toEqual([300, 75, 64]);
    expect(teacherWidths(32, 64)).toEqual([32, 64]);
  });

  it('end in LeakyReLU + L2 normalisation, are seeded, and apply the inner activation only when asked', () => {
    const x = randomRows(1, 5, 48);
    const opts = { latentDim: 3, leakySlope: 0.2 };
    const plain = new TeacherTower(48, { ...opts, activation: 'none' }, createRng(3));
    const again = new TeacherTower(48, { ...opts, activation: 'none' }, createRng(3));
    const tanh = new TeacherTower(48, { ...opts, activation: 'tanh' }, createRng(3));
    const student = new Student(48, 3, 0.2, createRng(4));
    const [a, b, c, s] = [plain.apply(x), again.apply(x), tanh.apply(x), student.apply(x)];
    expect(plain.layers.map((l) => [l.inDim, l.outDim])).toEqual([
      [48, 12],
      [12, 3],
    ]);
    for (const n of [...rowNorms(a), ...rowNorms(s)]) expect(n).toBeCloseTo(1, 5);
    expect(a.dataSync()).toEqual(b.dataSync());
    expect(Array.from(c.dataSync())).not.toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b, c, s]);
    for (const m of [plain, again, tanh, student]) m.dispose();
  });

  it('without an inner activation, give the same rows as their layers applied one by one', () => {
    const x = randomRows(5, 300, 64);
    const tower = new TeacherTower(64, { latentDim: 4, leakySlope: 0.2, activation: 'none' }, createRng(6));
    expect(linearStackOrder([64, 16, 4], 300)).toBe('collapsed');
    const got = tower.apply(x);
    const want = tf.tidy(() =>
      leakyNormalize(
        tower.layers.reduce((h, layer) => layer.apply(h), x),
        0.2,
      ),
    );
    const [g, w] = [got.dataSync(), want.dataSync()];
    for (let i = 0; i < w.length; i++) expect(Math.abs(g[i] - w[i])).toBeLessThan(1e-5);
    tf.dispose([x, got, want]);
    tower.dispose();
  });
});

describe('SGFD objectives', () => {
  const dims = { image: 16, text: 12 };
  const labels = () => tf.tensor1d([0, 2, 1, 2], 'int32');
  const raw = () => ({ image: randomRows(10, 4, 16), text: randomRows(11, 4, 12) });

  it('teacher pretraining = mean_m CE_m + L_fuse, with gradients matching finite differences', () => {
    const teacher = new SemanticTeacher(dims, 3, config(), createRng(22));
    const x = raw();
    const y = labels();
    tf.tidy(() => {
      const out = teacher.forward(x);
      const terms = teacherPretrainLoss(teacher, x, y, config());
      const ce = (scalar(crossEntropy(out.logits.image!, y)) + scalar(crossEntropy(out.logits.text!, y))) / 2;
      expect(scalar(terms.parts['sgfd.ce'])).toBeCloseTo(ce, 5);
      expect(scalar(terms.total)).toBeCloseTo(ce + scalar(crossEntropy(out.fusionLogits!, y)), 5);
    });
    const check = checkGradients(
      () => teacherPretrainLoss(teacher, x, y, config()).total,
      Object.values(teacher.weights),
    );
    expect(check.worst).toBeLessThanOrEqual(1);
    expect(check.checked).toBeGreaterThan(150);
    tf.dispose([x.image, x.text, y]);
    teacher.dispose();
  });

  it('teacher pretraining with input dropout = the loss on rows masked per modality and scaled by 1 / (1 - rate)', () => {
    // Seed 22 as the test above: with 23, a fusion unit's LeakyReLU input sits within the finite-difference
    // step of its kink on wasm (the check fails there even on fixed, pre-masked rows).
    const teacher = new SemanticTeacher(dims, 3, config(), createRng(22));
    const x = raw();
    const y = labels();
    const dropout = { rate: 0.5, seed: 41 };
    tf.tidy(() => {
      // The masks the loss draws: stream k for the k-th modality.
      const maskOf = (k: number, cols: number) => seededDropoutMask(dropout.seed, k, [4, cols], 0.5);
      const masks = { image: maskOf(0, 16), text: maskOf(1, 12) };
      // The mask's rate and scale are seededDropoutMask's own tests (libs/tensor/src/init.test.ts).
      expect(Array.from(masks.image.dataSync()).slice(0, 12)).not.toEqual(Array.from(masks.text.dataSync()));
      const masked = {
        image: tf.mul(x.image, masks.image) as tf.Tensor2D,
        text: tf.mul(x.text, masks.text) as tf.Tensor2D,
      };
      const dropped = scalar(teacherPretrainLoss(teacher, x, y, config(), dropout).total);
      expect(dropped).toBeCloseTo(scalar(teacherPretrainLoss(teacher, masked, y, config()).total), 5);
      expect(dropped).toBeCloseTo(scalar(teacherPretrainLoss(teacher, x, y, config(), dropout).total), 6);
      expect(dropped).not.toBeCloseTo(scalar(teacherPretrainLoss(teacher, x, y, config()).total), 3);
      expect(dropped).not.toBeCloseTo(
        scalar(teacherPretrainLoss(teacher, x, y, config(), { rate: 0.5, seed: 42 }).total),
        3,
      );
      expect(scalar(teacherPretrainLoss(teacher, x, y, config(), { rate: 0, seed: 41 }).total)).toBe(
        scalar(teacherPretrainLoss(teacher, x, y, config()).total),
      );
    });
    const check = checkGradients(
      () => teacherPretrainLoss(teacher, x, y, config(), dropout).total,
      Object.values(teacher.weights),
    );
    expect(check.worst).toBeLessThanOrEqual(1);
    expect(check.checked).toBeGreaterThan(150);
    tf.dispose([x.image, x.text, y]);
    teacher.dispose();
  });

  for (const teacherActivation of ['none', 'tanh'] as const)
    it(`teacher pretraining from first-layer products is the same loss, and rows^T dLoss/dProduct is the first kernel's gradient (activation ${teacherActivation})`, () => {
      const options = config({ teacherActivation });
      const teacher = new SemanticTeacher(dims, 3, options, createRng(22));
      const x = raw();
      const y = labels();
      const dropout = { rate: 0.5, seed: 41 };
      const products = teacherFirstProducts(teacher, x, dropout)!;
      const firstKernels = teacher.modalities.map((m) => teacher.towers[m]!.layers[0].kernel);
      const others = Object.values(teacher.weights).filter((w) => !firstKernels.includes(w));
      const whole = tf.variableGrads(() => teacherPretrainLoss(teacher, x, y, options, dropout).total);
      const split = tf
        .engine()
        .gradients(
          () => teacherPretrainLossFromProducts(teacher, products, y, options).total,
          [...others, ...teacher.modalities.map((m) => products[m]!.product)],
        );
      expect(scalar(split.value)).toBeCloseTo(scalar(whole.value), 6);
      others.forEach((w, i) =>
        expect(maxRelativeError(split.grads[i].dataSync(), whole.grads[w.name].dataSync())).toBeLessThan(1e-5),
      );
      teacher.modalities.forEach((m, k) => {
        const kernelGrad = tf.matMul(products[m]!.rows, split.grads[others.length + k] as tf.Tensor2D, true, false);
        expect(maxRelativeError(kernelGrad.dataSync(), whole.grads[firstKernels[k].name].dataSync())).toBeLessThan(
          1e-5,
        );
        kernelGrad.dispose();
      });
      tf.dispose([x.image, x.text, y, whole.value, split.value, ...Object.values(whole.grads), ...split.grads]);
      tf.dispose(teacher.modalities.flatMap((m) => [products[m]!.rows, products[m]!.product]));
      teacher.dispose();
    });

  it('start a tower from its first-layer product only where that order is the cheaper one', () => {
    const teacher = new SemanticTeacher({ image: 4096 }, 3, config({ latentDim: 64 }), createRng(4));
    // 4096 -> 1024 -> 256 -> 64: on 2,000 rows the collapsed stack is 9x fewer FLOPs.
    expect(teacher.towers.image!.startsWithFirstProduct(64)).toBe(true);
    expect(teacher.towers.image!.startsWithFirstProduct(2000)).toBe(false);
    const rows = { image: tf.zeros([2000, 4096]) as tf.Tensor2D };
    expect(teacherFirstProducts(teacher, rows)).toBeNull();
    tf.dispose(rows.image);
    teacher.dispose();
  });

  it('joint = ce_weight (mean CE + fuse) + kd_weight (mean LD + mean FD), gradients into teacher and students', () => {
    for (const responseLoss of ['l1', 'kl'] as const) {
      const c = config({ responseLoss, teacherActivation: 'leaky_relu' });
      const teacher = new SemanticTeacher(dims, 3, c, createRng(6));
      const students = {
        image: new Student(16, 2, c.leakySlope, createRng(7)),
        text: new Student(12, 2, c.leakySlope, createRng(8)),
      };
      const x = raw();
      const y = labels();
      const loss = () =>
        tf.tidy(
          () =>
            jointLoss(teacher, x, { image: students.image.apply(x.image), text: students.text.apply(x.text) }, y, c)
              .total,
        );
      tf.tidy(() => {
        const sf = { image: students.image.apply(x.image), text: students.text.apply(x.text) };
        const out = teacher.forward(x);
        const terms = jointLoss(teacher, x, sf, y, c);
        const ld =
          (scalar(
            responseDistillation(out.logits.image!, teacher.classifiers.image!.apply(sf.image), 2, responseLoss),
          ) +
            scalar(responseDistillation(out.logits.text!, teacher.classifiers.text!.apply(sf.text), 2, responseLoss))) /
          2;
        const fd =
          (scalar(featureDistillation(sf.image, out.features.image!)) +
            scalar(featureDistillation(sf.text, out.features.text!))) /
          2;
        const p = Object.fromEntries(Object.entries(terms.parts).map(([k, v]) => [k, scalar(v)]));
        expect(p['sgfd.ld']).toBeCloseTo(ld, 5);
        expect(p['sgfd.fd']).toBeCloseTo(fd, 5);
        expect(scalar(terms.total)).toBeCloseTo(0.3 * (p['sgfd.ce'] + p['sgfd.fuse']) + 0.7 * (ld + fd), 5);
      });
      const vars = [
        ...Object.values(teacher.weights),
        ...Object.values(students.image.weights),
        ...Object.values(students.text.weights),
      ];
      expect(checkGradients(loss, vars).worst).toBeLessThanOrEqual(1);
      tf.dispose([x.image, x.text, y]);
      teacher.dispose();
      students.image.dispose();
      students.text.dispose();
    }
  });

  it('student distillation = ce_weight CE(student) + kd_weight (LD + FD) against constant teacher rows', () => {
    const c = config({ authorsDoubleSoftmax: true });
    const student = new Student(12, 2, c.leakySlope, createRng(9));
    const x = randomRows(12, 4, 12);
    const y = labels();
    const teacherFeatures = { text: tf.tidy(() => tf.div(randomRows(13, 4, 2), 2) as tf.Tensor2D) };
    const teacherLogits = { text: randomRows(14, 4, 3) };
    const kernel = randomRows(15, 2, 3);
    const classify = (_m: unknown, f: tf.Tensor2D): tf.Tensor2D => tf.matMul(f, kernel);
    const loss = () =>
      tf.tidy(() => distillationLoss(teacherFeatures, teacherLogits, { text: student.apply(x) }, y, classify, c).total);
    tf.tidy(() => {
      const sf = student.apply(x);
      const expected =
        0.3 * scalar(crossEntropy(classify(null, sf), y, true)) +
        0.7 *
          (scalar(responseDistillation(teacherLogits.text, classify(null, sf), 2, 'l1')) +
            scalar(featureDistillation(sf, teacherFeatures.text)));
      expect(scalar(loss())).toBeCloseTo(expected, 5);
    });
    expect(checkGradients(loss, Object.values(student.weights)).worst).toBeLessThanOrEqual(1);
    tf.dispose([x, y, teacherFeatures.text, teacherLogits.text, kernel]);
    student.dispose();
  });

  it('work with a single modality (no fusion branch)', () => {
    const teacher = new SemanticTeacher({ text: 12 }, 3, config(), createRng(16));
    const x = { text: randomRows(17, 4, 12) };
    const y = labels();
    expect(teacher.fusion).toBeNull();
    tf.tidy(() => {
      const terms = teacherPretrainLoss(teacher, x, y, config());
      expect(Object.keys(terms.parts)).toEqual(['sgfd.ce']);
      expect(scalar(terms.total)).toBeCloseTo(scalar(crossEntropy(teacher.forward(x).logits.text!, y)), 6);
    });
    expect(
      checkGradients(() => teacherPretrainLoss(teacher, x, y, config()).total, Object.values(teacher.weights)).worst,
    ).toBeLessThanOrEqual(1);
    tf.dispose([x.text, y]);
    teacher.dispose();
  });
});
