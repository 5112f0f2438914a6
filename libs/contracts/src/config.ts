import { z } from 'zod';
import { nearestKey, validKeysAt } from './config-keys';
import { ConfigError } from './errors';

/**
 * A backbone's name. The registry in @sgfd/models is the one list of backbones and checks the name where a
 * run config is resolved (contracts cannot see it: workflows import only contracts).
 */
export const BackboneNameSchema = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a backbone name such as vbpr or bm3');
export type BackboneName = string;
/**
 * `off`: the plain backbone. `control`: the authors' ablation (their `ce_weight = kd_weight = 0`): the same
 * students in the same slots and the same training, with no teacher and no SGFD term, so SGFD's gain over it
 * is what distillation adds. `two-stage` / `joint`: SGFD with its two training schedules.
 */
export const SGFD_MODES = ['off', 'control', 'two-stage', 'joint'] as const;
export type SgfdMode = (typeof SGFD_MODES)[number];

/** Whether the backbone's slots hold SGFD students (every mode but `off`). */
export function usesStudents(mode: SgfdMode): boolean {
  return mode !== 'off';
}

/** Whether the mode learns from item categories (the teacher's labels): `two-stage` and `joint`. */
export function needsCategories(mode: SgfdMode): boolean {
  return mode === 'two-stage' || mode === 'joint';
}

/**
 * The student extractor's form. `normalised`: the authors' Linear + LeakyReLU + L2 normalisation, which
 * replaces the backbone's projection. `projection`: the backbone's own projection stays in the slot (its
 * form and initialisation) and the SGFD terms read its L2-normalised output, so the backbone keeps the
 * feature norm. `auto`: each backbone's measured default (STUDENT_FORM_DEFAULTS).
 */
export const STUDENT_FORMS = ['auto', 'normalised', 'projection'] as const;
export type StudentForm = (typeof STUDENT_FORMS)[number];

/**
 * Each backbone's student form under `auto`, chosen by the office attribution suite (README, "Attribution"):
 * the form at which SGFD is not worse than the plain backbone.
 */
export const STUDENT_FORM_DEFAULTS: Partial<Record<BackboneName, Exclude<StudentForm, 'auto'>>> = {
  bm3: 'projection',
};

/** The student form a run uses: `sgfd.studentForm`, or its backbone's default under `auto`. */
export function resolveStudentForm(config: {
  backbone: BackboneName;
  sgfd: { studentForm: StudentForm };
}): Exclude<StudentForm, 'auto'> {
  if (config.sgfd.studentForm !== 'auto') return config.sgfd.studentForm;
  return STUDENT_FORM_DEFAULTS[config.backbone] ?? 'normalised';
}

/**
 * A transform of a modality's raw features before the teacher and the students read them (the plain
 * backbone never does): `log1p` for heavy-tailed non-negative features such as CNN activations,
 * `standardise` (each column to mean 0, std 1 over all items), or `none`.
 */
export const INPUT_TRANSFORMS = ['none', 'log1p', 'standardise'] as const;
export type InputTransform = (typeof INPUT_TRANSFORMS)[number];

/** SGFD options; defaults follow the paper, and the authors' code where the paper leaves them open. */
export const SgfdConfigSchema = z.strictObject({
  mode: z.enum(SGFD_MODES).default('two-stage'),
  latentDim: z.number().int().positive().default(64),
  ceWeight: z.number().nonnegative().default(0.1),
  kdWeight: z.number().nonnegative().default(0.1),
  tau: z.number().positive().default(10),
  /** Activation between teacher layers: the authors use none. */
  teacherActivation: z.enum(['none', 'leaky_relu', 'relu', 'tanh']).default('none'),
  /** Response distillation: L1 between softened distributions (authors) or KL x tau^2. */
  responseLoss: z.enum(['l1', 'kl']).default('l1'),
  /** Reproduces the authors' softmax-then-cross-entropy quirk; for comparison only. */
  authorsDoubleSoftmax: z.boolean().default(false),
  /** nn.LeakyReLU default slope, as the authors' PyTorch code. */
  leakySlope: z.number().nonnegative().default(0.01),
  studentForm: z.enum(STUDENT_FORMS).default('auto'),
  /** Per modality; recorded in the teacher artifact, and the students read the same transformed rows. */
  inputTransform: z
    .strictObject({
      /** log1p: the image features are non-negative CNN-like activations with a heavy tail. */
      image: z.enum(INPUT_TRANSFORMS).default('log1p'),
      text: z.enum(INPUT_TRANSFORMS).default('none'),
    })
    .prefault({}),
  teacher: z
    .strictObject({
      epochs: z.number().int().positive().default(200),
      patience: z.number().int().positive().default(20),
      /**
       * 3e-2 and batch 64 (were 1e-3 and 256, at which the teacher stayed far below a linear probe of its own
       * features): measured on tiny against the ridge probe (README, "A teacher that learns").
       */
      learningRate: z.number().positive().default(3e-2),
      batchSize: z.number().int().positive().default(64),
      /** Fraction of items held out to early-stop the teacher on category accuracy. */
      holdoutFraction: z.number().gt(0).lt(1).default(0.1),
      /**
       * Inverted dropout on the teacher's input rows in pretraining (every modality): with fewer items than
       * feature dimensions a linear tower overfits, and input noise acts as the ridge penalty of its probe
       * (Wager et al. 2013). 0.5 lifted office's image tower from 0.94 to 1.07 of its probe (README).
       */
      inputDropout: z.number().min(0).lt(1).default(0.5),
    })
    .prefault({}),
});
export type SgfdConfig = z.infer<typeof SgfdConfigSchema>;

export const TrainingConfigSchema = z.strictObject({
  seed: z.number().int().nonnegative().default(2023),
  epochs: z.number().int().positive().default(1000),
  batchSize: z.number().int().positive().default(2048),
  learningRate: z.number().positive().default(1e-3),
  /** Early stopping on validation Recall@20, as MMRec. */
  patience: z.number().int().positive().default(20),
  evalEvery: z.number().int().positive().default(1),
  checkpointEvery: z.number().int().positive().default(5),
  /** Mask validation items when scoring test; MMRec does not, so off by default for comparability. */
  maskValidInTest: z.boolean().default(false),
});
export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

export const RunConfigSchema = z.strictObject({
  backbone: BackboneNameSchema,
  /** Backbone hyperparameters; each backbone validates its own with its schema. */
  backboneParams: z.record(z.string(), z.unknown()).default({}),
  sgfd: SgfdConfigSchema.prefault({}),
  training: TrainingConfigSchema.prefault({}),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined),
    value,
  );
}

/**
 * Parses with zod and turns the first issue into a ConfigError naming the field. Unknown keys come first
 * (a typo there is usually why a field looks missing) and name the nearest valid key.
 */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, source = 'config'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown) {
    const key = unknown.keys[0]!;
    const valid = validKeysAt(schema, unknown.path, valueAt(value, unknown.path));
    const suggestion = nearestKey(key, valid);
    const field = [...unknown.path.map(String), key].join('.');
    const prefix = unknown.path.length > 0 ? `${unknown.path.map(String).join('.')}.` : '';
    throw new ConfigError(
      `Invalid ${source}: unknown key '${field}'${suggestion ? ` (did you mean '${prefix}${suggestion}'?)` : ''}`,
      {
        file: source,
        field,
        expected: valid.length > 0 ? `one of ${valid.join(', ')}` : 'no key here',
        found: `'${key}'`,
      },
    );
  }
  const issue = issues[0]!;
  throw new ConfigError(`Invalid ${source}: ${issue.message}`, {
    file: source,
    field: issue.path.join('.') || '(root)',
  });
}
