// The repo's CI suite (suites/ci.yaml) end to end on the run's real Temporal server: `sgfd suite run --follow`
// starts the experimentSuite workflow, whose trainPipeline children run on the four worker apps (real child
// processes); the eval worker writes the report. The report is checked against the per-cell artifacts, and
// its Markdown is copied to reports/ci-suite.md for CI to publish.
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expandSuite,
  suiteCellWorkflowId,
  type ExperimentSuiteResult,
  type MetricTable,
  type RunSummary,
  type SuiteSpec,
} from '@sgfd/contracts';
import { FileArtifactStore } from '@sgfd/artifacts';
import { EVALUATION_FILES } from '@sgfd/activities';
import type { SuiteReport } from '@sgfd/experiments';
import { registeredBackbones } from '@sgfd/models';
import { REPO_ROOT } from '@sgfd/tools';
import { registerTestNamespace, temporalTestAddress } from '@sgfd/tools/testing';
import { runCliCapturing } from '../test-support/run-in-process';
import { startWorkers, type WorkerGroup } from '../pipeline/workers';
import * as suite from './suite';

const sgfd = (...argv: string[]) => runCliCapturing([suite], argv);

// Loaded lazily, as the CLI loads it (the lib pulls in the tensor backend).
const { SUITE_REPORT_FILES, loadSuiteFile, mean, validationPlotFile } = await import('@sgfd/experiments');

const CI_SUITE = join(REPO_ROOT, 'suites', 'ci.yaml');
const PUBLISHED = join(REPO_ROOT, 'reports', 'ci-suite.md');

describe('the CI experiment suite through the four worker apps on the real server', { timeout: 120_000 }, () => {
  let connection: Connection;
  let client: Client;
  let namespace: string;
  let address: string;
  let artifacts: string;
  let store: FileArtifactStore;
  let workers: WorkerGroup;
  let spec: SuiteSpec;
  let result: ExperimentSuiteResult;
  let followed: { code: number; stdout: string; stderr: string };
  const suiteId = `ci-suite-${randomUUID().slice(0, 8)}`;
  const connectionFlags = () => ['--address', address, '--namespace', namespace];

  beforeAll(async () => {
    ({ address } = temporalTestAddress());
    connection = await Connection.connect({ address });
    namespace = await registerTestNamespace(connection, 'cli-suite');
    client = new Client({ connection, namespace });
    artifacts = await mkdtemp(join(tmpdir(), 'sgfd-suite-'));
    store = new FileArtifactStore(artifacts);
    workers = await startWorkers({ target: { address, namespace }, artifacts });
    spec = await loadSuiteFile(CI_SUITE, registeredBackbones());
    // A short history limit makes the suite continue as new a few times: finished cells must carry over.
    followed = await sgfd(
      '--json',
      'suite',
      'run',
      CI_SUITE,
      '--follow',
      '--id',
      suiteId,
      '--continue-as-new-after',
      '60',
      ...connectionFlags(),
    );
    if (followed.code !== 0) throw new Error(`sgfd suite run failed (${followed.code}): ${followed.stderr}`);
    result = JSON.parse(followed.stdout) as ExperimentSuiteResult;
  }, 600_000);
  afterAll(async () => {
    await workers?.stop();
    await connection?.close();
    if (artifacts) await rm(artifacts, { recursive: true, force: true });
  }, 60_000);

  const readText = async (file: string) => new TextDecoder().decode(await store.get(result.report, file));

  it('runs every cell; --follow shows cells done / running / failed and returns the suite result', () => {
    expect(followed.stderr).toMatch(
      new RegExp(`suite ${suiteId} \\[running\\] +\\d+ done, [1-4] running, 0 failed, \\d+ pending of 12`),
    );
    const total = expandSuite(spec).length;
    expect(total).toBe(12);
    expect(result.cells).toEqual({ total, done: total, failed: 0 });
    expect(result.failures).toEqual([]);
  });

  it('writes a complete report artifact: Markdown, JSON, CSV and the plots', async () => {
    const files = (await store.readManifest(result.report)).files.map((f) => f.path).sort();
    expect(files).toEqual(
      [...Object.values(SUITE_REPORT_FILES), ...spec.backbones.map((b) => validationPlotFile('tiny', b))].sort(),
    );
    const report = JSON.parse(await readText(SUITE_REPORT_FILES.json)) as SuiteReport;
    // 2 backbones x 2 modes, each over 3 seeds; one comparison row per backbone and metric.
    expect(report.arms.map((a) => [a.backbone, a.mode, a.seeds])).toEqual([
      ['vbpr', 'off', [1, 2, 3]],
      ['vbpr', 'two-stage', [1, 2, 3]],
      ['bm3', 'off', [1, 2, 3]],
      ['bm3', 'two-stage', [1, 2, 3]],
    ]);
    expect(report.rows.map((r) => `${r.backbone}/${r.mode}/${r.metric}/${r.pairs}`)).toEqual([
      'vbpr/two-stage/recall@20/3',
      'vbpr/two-stage/ndcg@20/3',
      'bm3/two-stage/recall@20/3',
      'bm3/two-stage/ndcg@20/3',
    ]);
    expect(result.rows).toEqual(report.rows);
    for (const row of report.rows) {
      expect(row.pValue === null || (row.pValue >= 0 && row.pValue <= 1)).toBe(true);
      expect(row.significant).toBe(row.pValue !== null && row.pValue < spec.report.alpha);
    }
    const md = await readText(SUITE_REPORT_FILES.markdown);
    for (const line of ['| VBPR |', '| VBPR + SGFD |', '| BM3 |', '| BM3 + SGFD |']) expect(md).toContain(line);
    expect(md.match(/\| \*Improv\.\* \|/g)).toHaveLength(2);
  });

  it('is consistent with the per-cell artifacts: selection on validation, test means of the selected cells', async () => {
    const report = JSON.parse(await readText(SUITE_REPORT_FILES.json)) as SuiteReport;
    const fromArtifacts = new Map<string, { test: MetricTable; valid: MetricTable }>();
    // Each cell's RunSummary (its child workflow's result) points at the artifacts the report read.
    for (const row of report.cellRows) {
      const summary = (await client.workflow.getHandle(suiteCellWorkflowId(suiteId, row.id)).result()) as RunSummary;
      expect(row.evaluation).toBe(summary.artifacts.evaluation.uri);
      expect(row.model).toBe(summary.artifacts.model.uri);
      const metrics = JSON.parse(
        new TextDecoder().decode(await store.get(summary.artifacts.evaluation, EVALUATION_FILES.metrics)),
      ) as { test: MetricTable; valid: MetricTable };
      fromArtifacts.set(row.id, metrics);
      expect(row.valid).toEqual(metrics.valid);
      expect(row.test).toEqual(row.selected ? metrics.test : null);
    }
    for (const arm of report.arms) {
      const rows = report.cellRows.filter(
        (r) => r.dataset === arm.dataset && r.backbone === arm.backbone && r.mode === arm.mode,
      );
      const points = [...new Set(rows.map((r) => r.point))];
      const validMean = (p: string) =>
        mean(rows.filter((r) => r.point === p).map((r) => fromArtifacts.get(r.id)!.valid[spec.selection.metric]!));
      expect(arm.point).toBe(points.reduce((a, b) => (validMean(b) > validMean(a) ? b : a)));
      for (const metric of spec.report.metrics) {
        const values = rows.filter((r) => r.point === arm.point).map((r) => fromArtifacts.get(r.id)!.test[metric]!);
        expect(arm.test[metric]!.mean).toBeCloseTo(mean(values), 12);
      }
    }
    for (const row of report.rows) {
      const arm = report.arms.find((a) => a.backbone === row.backbone && a.mode === row.mode)!;
      const base = report.arms.find((a) => a.backbone === row.backbone && a.mode === 'off')!;
      expect(row.mean).toBe(arm.test[row.metric]!.mean);
      expect(row.relativeGain).toBeCloseTo(arm.test[row.metric]!.mean / base.test[row.metric]!.mean - 1, 12);
    }
  });

  it('learns: every arm beats random ranking on test recall@20', async () => {
    const report = JSON.parse(await readText(SUITE_REPORT_FILES.json)) as SuiteReport;
    // A random ranking of tiny's 300 items finds a held-out item in the top 20 with probability 20/300.
    for (const arm of report.arms) expect(arm.test['recall@20']!.mean).toBeGreaterThan(2 * (20 / 300));
  });

  it('`sgfd suite results` prints the Markdown report; it is kept at reports/ci-suite.md for CI', async () => {
    const printed = await sgfd('suite', 'results', suiteId, ...connectionFlags());
    expect(printed.code).toBe(0);
    const md = await readText(SUITE_REPORT_FILES.markdown);
    expect(printed.stdout).toContain(md);
    expect(printed.stdout).toContain(`report files: ${new URL(result.report.uri).pathname}`);
    await mkdir(join(REPO_ROOT, 'reports'), { recursive: true });
    await copyFile(await store.openPath(result.report, SUITE_REPORT_FILES.markdown), PUBLISHED);
    expect(await readFile(PUBLISHED, 'utf8')).toBe(md);
  });

  it('`sgfd suite status` shows the finished suite; a missing suite and a suite file error are one line each', async () => {
    const status = await sgfd('--json', 'suite', 'status', suiteId, ...connectionFlags());
    const final = JSON.parse(status.stdout) as { generation: number };
    expect(final).toMatchObject({ status: 'COMPLETED', phase: 'done', total: 12, done: 12, failed: 0 });
    // It continued as new on the way, and every cell finished in an earlier generation was carried over.
    expect(final.generation).toBeGreaterThanOrEqual(1);
    const missing = await sgfd('suite', 'results', 'no-such-suite', ...connectionFlags());
    expect(missing).toMatchObject({ code: 1, stderr: "error: No suite 'no-such-suite' in this namespace\n" });
    const bad = join(artifacts, 'bad.yaml');
    await writeFile(
      bad,
      (await readFile(CI_SUITE, 'utf8')).replace('backbones: [vbpr, bm3]', 'backbones: [vbpr, bm4]'),
    );
    const failed = await sgfd('suite', 'run', bad, ...connectionFlags());
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      new RegExp(`error: Invalid suite file: .*\\(${bad.replace(/[.]/g, '\\.')}, row 11, field 'backbones\\[1\\]'\\)`),
    );
  });
});
