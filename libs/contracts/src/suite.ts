// Experiment suites: the suite file's schema, its expansion into grid cells, and the contract of the
// `experimentSuite` workflow and its report activity. Expansion lives here (not in @sgfd/experiments) because
// the workflow, the report activity and the CLI must derive exactly the same cells from a spec, and
// workflow code may import only contracts.
import { z } from 'zod';
import type { ArtifactRef } from './artifacts';
import {
  BackboneNameSchema,
  RunConfigSchema,
  SGFD_MODES,
  usesStudents,
  type BackboneName,
  type RunConfig,
  type SgfdMode,
} from './config';
import { ConfigError } from './errors';
import { DATASET_SPEC_VARIANTS, type DatasetSpec, type StageTimeoutOverrides } from './pipeline';
import type { Stage } from './queues';

export const EXPERIMENT_SUITE_WORKFLOW = 'experimentSuite';
/** Query name: returns SuiteProgress. */
export const SUITE_PROGRESS_QUERY = 'suiteProgress';
/** At most this many cells in one suite: every cell's outcome travels in the report activity's payload. */
export const MAX_SUITE_CELLS = 1000;

// ---------------------------------------------------------------------------------------------------------
// The suite file

const distinct = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .min(1, 'a non-empty list')
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      values.forEach((v, i) => {
        const key = JSON.stringify(v);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `duplicate value ${key}`, path: [i] });
        seen.add(key);
      });
    });

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const positiveInt = z.number().int().positive();

/**
 * Hyperparameter lists; every combination is a grid point. SGFD-only ones are not crossed with the modes that
 * ignore them: latentDim not with the plain backbone (`off`); ceWeight, kdWeight and tau with neither `off`
 * nor `control`.
 */
export const SuiteGridSchema = z
  .object({
    learningRate: distinct(positive).optional(),
    /** The backbone's regularisation weight (backboneParams.regWeight of every backbone). */
    regWeight: distinct(nonNegative).optional(),
    batchSize: distinct(positiveInt).optional(),
    ceWeight: distinct(nonNegative).optional(),
    kdWeight: distinct(nonNegative).optional(),
    tau: distinct(positive).optional(),
    latentDim: distinct(positiveInt).optional(),
    /** Any other backbone hyperparameter, e.g. `embeddingSize: [32, 64]`; the backbone validates values. */
    backboneParams: z.record(z.string(), distinct(z.union([z.number(), z.string(), z.boolean()]))).optional(),
  })
  .strict();
export type SuiteGrid = z.infer<typeof SuiteGridSchema>;

/** A run config without its backbone: what every cell starts from before its grid values are applied. */
export const SuiteBaseConfigSchema = z
  .object({
    backboneParams: z.record(z.string(), z.unknown()).optional(),
    sgfd: z.record(z.string(), z.unknown()).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const label = z.string().regex(LABEL, 'letters, digits, "_", "." or "-" (used in workflow ids and file names)');

/** A dataset of the suite: any DatasetSpec, plus the label the report shows (derived when absent). */
export const SuiteDatasetSchema = z.discriminatedUnion('kind', [
  DATASET_SPEC_VARIANTS[0].extend({ label: label.optional() }),
  DATASET_SPEC_VARIANTS[1].extend({ label: label.optional() }),
  DATASET_SPEC_VARIANTS[2].extend({ label: label.optional() }),
  DATASET_SPEC_VARIANTS[3].extend({ label: label.optional() }),
]);

export const SuiteSpecSchema = z
  .object({
    name: label,
    description: z.string().optional(),
    datasets: z.array(SuiteDatasetSchema).min(1, 'a non-empty list'),
    backbones: distinct(BackboneNameSchema),
    /** SGFD modes to compare; the report compares each against `report.baseline`. */
    sgfd: distinct(z.enum(SGFD_MODES)),
    seeds: distinct(z.number().int().nonnegative()),
    grid: SuiteGridSchema.prefault({}),
    base: SuiteBaseConfigSchema.prefault({}),
    selection: z
      .object({
        /** Validation metric that picks each (dataset, backbone, mode)'s hyperparameters. */
        metric: z
          .string()
          .regex(/^[a-z_]+@\d+$/, 'a metric like recall@20')
          .default('recall@20'),
      })
      .strict()
      .prefault({}),
    report: z
      .object({
        /** Test metrics in the Table-2 columns. */
        metrics: distinct(z.string().regex(/^[a-z_]+@\d+$/, 'a metric like ndcg@20')).default(['recall@20', 'ndcg@20']),
        /** The arm the others are compared against. */
        baseline: z.enum(SGFD_MODES).default('off'),
        /** Significance level of the paired t-test over seeds. */
        alpha: z.number().gt(0).lt(1).default(0.05),
      })
      .strict()
      .prefault({}),
    /** Cells trained at the same time (child workflows in flight). */
    parallelism: z.number().int().positive().max(100).default(4),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const labels = new Map<string, number>();
    spec.datasets.forEach((d, i) => {
      const l = datasetLabel(d);
      if (labels.has(l)) {
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', i, 'label'],
          message: `duplicate dataset label '${l}' (also datasets[${labels.get(l)}]): give each a distinct label`,
        });
      }
      labels.set(l, i);
    });
    if (spec.sgfd.length > 1 && !spec.sgfd.includes(spec.report.baseline)) {
      ctx.addIssue({
        code: 'custom',
        path: ['report', 'baseline'],
        message: `the baseline mode '${spec.report.baseline}' is not among sgfd: [${spec.sgfd.join(', ')}]`,
      });
    }
    // The base config must make a valid run config for every backbone of the suite.
    for (const backbone of spec.backbones) {
      const parsed = RunConfigSchema.safeParse({ ...spec.base, backbone });
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', path: ['base', ...issue.path.map(pathKey)], message: issue.message });
        break;
      }
    }
    const cells = countCells(spec);
    if (cells > MAX_SUITE_CELLS) {
      ctx.addIssue({
        code: 'custom',
        path: ['grid'],
        message: `the suite expands to ${cells} cells, more than the ${MAX_SUITE_CELLS} one suite may run: split it`,
      });
    }
  });
export type SuiteSpec = z.infer<typeof SuiteSpecSchema>;
export type SuiteSpecInput = z.input<typeof SuiteSpecSchema>;
export type SuiteDataset = z.infer<typeof SuiteDatasetSchema>;

const dirname = (path: string) => path.replace(/[\\/]+[^\\/]*$/, '') || path;
const pathKey = (k: PropertyKey): string | number => (typeof k === 'number' ? k : String(k));

/** A dataset's label: the given one, else derived from the source (preset name, folder name). */
export function datasetLabel(dataset: DatasetSpec & { label?: string }): string {
  if (dataset.label) return dataset.label;
  const base = (path: string) =>
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() || path;
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
  switch (dataset.kind) {
    case 'synthetic':
      return clean(dataset.preset);
    case 'snapshot': {
      // A snapshot folder is usually named by its content hash: its first 12 characters identify it.
      const name = base(dataset.path);
      return clean(/^[0-9a-f]{64}$/.test(name) ? name.slice(0, 12) : name);
    }
    case 'mmrec':
      return clean(dataset.name ?? base(dataset.dir));
    case 'parquet':
      return clean(base(dataset.dir));
    case 'raw':
      return clean(base(dirname(dataset.items)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Grid expansion

type AxisValue = number | string | boolean;
interface Axis {
  /** Name shown in reports: `learningRate`, `ceWeight`, `backboneParams.embeddingSize`. */
  name: string;
  values: AxisValue[];
  /** The modes whose configs this axis changes (the SGFD loss weights mean nothing to `off` or `control`). */
  appliesTo(mode: SgfdMode): boolean;
  apply(config: RunConfig, value: AxisValue): void;
}

function axesOf(grid: SuiteGrid): Axis[] {
  const axes: Axis[] = [];
  const every = () => true;
  const distilling = (mode: SgfdMode) => mode === 'two-stage' || mode === 'joint';
  const add = (name: string, values: AxisValue[] | undefined, appliesTo: Axis['appliesTo'], apply: Axis['apply']) => {
    if (values) axes.push({ name, values, appliesTo, apply });
  };
  add('learningRate', grid.learningRate, every, (c, v) => (c.training.learningRate = v as number));
  add('regWeight', grid.regWeight, every, (c, v) => (c.backboneParams['regWeight'] = v));
  add('batchSize', grid.batchSize, every, (c, v) => (c.training.batchSize = v as number));
  for (const [key, values] of Object.entries(grid.backboneParams ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    add(`backboneParams.${key}`, values, every, (c, v) => (c.backboneParams[key] = v));
  }
  add('ceWeight', grid.ceWeight, distilling, (c, v) => (c.sgfd.ceWeight = v as number));
  add('kdWeight', grid.kdWeight, distilling, (c, v) => (c.sgfd.kdWeight = v as number));
  add('tau', grid.tau, distilling, (c, v) => (c.sgfd.tau = v as number));
  add('latentDim', grid.latentDim, usesStudents, (c, v) => (c.sgfd.latentDim = v as number));
  return axes;
}

function combinations(axes: Axis[]): Record<string, AxisValue>[] {
  let out: Record<string, AxisValue>[] = [{}];
  for (const axis of axes) out = out.flatMap((combo) => axis.values.map((v) => ({ ...combo, [axis.name]: v })));
  return out;
}

function countCells(spec: SuiteSpec): number {
  const axes = axesOf(spec.grid);
  const size = (mode: SgfdMode) => axes.filter((a) => a.appliesTo(mode)).reduce((n, a) => n * a.values.length, 1);
  const perBackbone = spec.sgfd.reduce((n, mode) => n + size(mode), 0);
  return spec.datasets.length * spec.backbones.length * perBackbone * spec.seeds.length;
}

/** One training run of the suite: a (dataset, backbone, mode, hyperparameter point, seed). */
export interface SuiteCell {
  /** `<dataset>/<backbone>/<mode>/h<point>/s<seed>`: unique in the suite, stable across runs of the same spec. */
  id: string;
  dataset: string;
  backbone: BackboneName;
  mode: SgfdMode;
  /** `h<index>` of the hyperparameter point among this mode's points (the same index means the same values). */
  point: string;
  /** The grid values of this point (axis name -> value); empty without a grid. */
  hyperparameters: Record<string, AxisValue>;
  seed: number;
  datasetSpec: DatasetSpec;
  config: RunConfig;
}

/** The (dataset, backbone, mode) a cell belongs to: the unit of selection and of the report's rows. */
export const armKey = (c: Pick<SuiteCell, 'dataset' | 'backbone' | 'mode'>): string =>
  `${c.dataset}/${c.backbone}/${c.mode}`;

/**
 * Every cell of a (parsed) suite, in a fixed order: dataset, backbone, mode, hyperparameter point, seed.
 * Throws a ConfigError naming the cell when its config is invalid.
 */
export function expandSuite(spec: SuiteSpec): SuiteCell[] {
  const axes = axesOf(spec.grid);
  const cells: SuiteCell[] = [];
  for (const dataset of spec.datasets) {
    const datasetSpec = { ...dataset };
    delete datasetSpec.label;
    const name = datasetLabel(dataset);
    for (const backbone of spec.backbones) {
      for (const mode of spec.sgfd) {
        const modeAxes = axes.filter((a) => a.appliesTo(mode));
        combinations(modeAxes).forEach((hyperparameters, p) => {
          for (const seed of spec.seeds) {
            const id = `${name}/${backbone}/${mode}/h${p}/s${seed}`;
            const config = parseCellConfig(spec, backbone, mode, seed, id);
            for (const axis of modeAxes) axis.apply(config, hyperparameters[axis.name]!);
            const checked = RunConfigSchema.safeParse(config);
            if (!checked.success) {
              const issue = checked.error.issues[0]!;
              throw new ConfigError(`Invalid config of suite cell ${id}: ${issue.message}`, {
                field: issue.path.map(String).join('.'),
              });
            }
            cells.push({
              id,
              dataset: name,
              backbone,
              mode,
              point: `h${p}`,
              hyperparameters,
              seed,
              datasetSpec: datasetSpec as DatasetSpec,
              config: checked.data,
            });
          }
        });
      }
    }
  }
  return cells;
}

function parseCellConfig(spec: SuiteSpec, backbone: BackboneName, mode: SgfdMode, seed: number, id: string): RunConfig {
  const parsed = RunConfigSchema.safeParse({
    ...spec.base,
    backbone,
    backboneParams: { ...spec.base.backboneParams },
    sgfd: { ...spec.base.sgfd, mode },
    training: { ...spec.base.training, seed },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid config of suite cell ${id}: ${issue.message}`, {
      field: `base.${issue.path.map(String).join('.')}`,
    });
  }
  return parsed.data;
}

/** Parses a suite spec (already read from its file) with a ConfigError naming the file and field. */
export function parseSuiteSpec(value: unknown, file = 'suite'): SuiteSpec {
  const result = SuiteSpecSchema.safeParse(value);
  if (result.success) return result.data;
  throw suiteSpecError(result.error, file);
}

/** The zod issues of a suite spec as one ConfigError: the first issue's field, and a count of the rest. */
export function suiteSpecError(
  error: z.ZodError,
  file: string,
  lineOf?: (path: (string | number)[]) => number | undefined,
): ConfigError {
  const describeIssue = (issue: z.ZodError['issues'][number]) => {
    const path = issue.path.map(pathKey);
    return { field: formatPath(path), line: lineOf?.(path), message: issue.message };
  };
  const [first, ...rest] = error.issues.map(describeIssue);
  const more = rest.length ? `; also ${rest.map((r) => `'${r.field}': ${r.message}`).join('; ')}` : '';
  return new ConfigError(`Invalid suite file: ${first!.message}${more}`, {
    file,
    row: first!.line,
    field: first!.field,
  });
}

/** `datasets[0].preset`, `grid.tau[1]`. */
export function formatPath(path: (string | number)[]): string {
  if (path.length === 0) return '(root)';
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

// ---------------------------------------------------------------------------------------------------------
// The experimentSuite workflow and its report activity

export interface ExperimentSuiteInput {
  /** Names the suite; the workflow id, and the prefix of every cell's workflow id. */
  suiteId: string;
  spec: SuiteSpec;
  codeVersion: string;
  /** Passed on to every cell's trainPipeline. */
  timeouts?: Partial<Record<Stage, StageTimeoutOverrides>>;
  /** Continue as new once the history has this many events (default 10,000; tests lower it). */
  continueAsNewAfterEvents?: number;
  /** Cells finished by earlier runs of this suite (set by continue-as-new). */
  carried?: SuiteCellOutcome[];
  /** How many times this suite has continued as new. */
  generation?: number;
  /** When the first run of this suite started (set by continue-as-new). */
  startedAt?: string;
}

/** Workflow id of a cell's trainPipeline: stable, so a re-run suite finds (and reuses) its cells' artifacts. */
export const suiteCellWorkflowId = (suiteId: string, cellId: string): string => `${suiteId}/${cellId}`;

/** What happened to one cell: the refs the report reads the numbers from, or the error. */
export type SuiteCellOutcome =
  | {
      cellId: string;
      workflowId: string;
      status: 'done';
      model: ArtifactRef;
      evaluation: ArtifactRef;
      bestEpoch: number;
    }
  | { cellId: string; workflowId: string; status: 'failed'; error: string };

export interface SuiteProgress {
  suiteId: string;
  phase: 'running' | 'reporting' | 'done' | 'failed' | 'cancelled';
  total: number;
  done: number;
  failed: number;
  /** Ids of the cells training now. */
  running: string[];
  pending: number;
  failures: { cellId: string; error: string }[];
  generation: number;
  updatedAt: string;
}

export interface WriteSuiteReportInput {
  suiteId: string;
  spec: SuiteSpec;
  outcomes: SuiteCellOutcome[];
  codeVersion: string;
}

/** One row of the Table-2 comparison: an arm against the baseline on one (dataset, backbone). */
export interface SuiteComparisonRow {
  dataset: string;
  backbone: BackboneName;
  mode: SgfdMode;
  baseline: SgfdMode;
  metric: string;
  baselineMean: number;
  baselineStd: number;
  mean: number;
  std: number;
  /** (mean / baselineMean - 1), a fraction; null when the baseline is 0. */
  relativeGain: number | null;
  /** Paired two-sided t-test over the seeds both arms completed; null with fewer than 2 pairs or identical values. */
  pValue: number | null;
  pairs: number;
  significant: boolean;
}

export interface WriteSuiteReportResult {
  /** report.md, report.json, cells.csv, table.csv, plots/*.svg */
  report: ArtifactRef;
  reused: boolean;
  rows: SuiteComparisonRow[];
}

export interface SuiteReportActivities {
  writeSuiteReport(input: WriteSuiteReportInput): Promise<WriteSuiteReportResult>;
}

export interface ExperimentSuiteResult {
  suiteId: string;
  report: ArtifactRef;
  rows: SuiteComparisonRow[];
  cells: { total: number; done: number; failed: number };
  failures: { cellId: string; error: string }[];
  startedAt: string;
  finishedAt: string;
}
