// `npm run bench -- serve [--duration 30] [--batch 32] [--connections 10]`: load test of `sgfd serve` over
// loopback with autocannon against a VBPR model trained on the synthetic office preset (4,874 users x
// 2,406 items). Phases, each `--duration` seconds against one server process: single-user top-10 requests
// (GET /v1/users/:id/recommendations, users drawn at random), batch requests (POST /v1/recommendations with
// `--batch` users), and the baseline measured in the same run: GET /healthz of the same server (the cost of
// the HTTP stack alone). The server's RSS is sampled every second. Targets (single-user): >= 2,000 req/s,
// p99 < 20 ms, no errors, memory flat.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { RunConfigSchema } from '@sgfd/contracts';
import { generateSynthetic, loadSnapshot, writeSnapshot } from '@sgfd/data';
import { writeScoringBundle } from '@sgfd/serving';
import { initBackend } from '@sgfd/tensor';
import { loadRunModel, trainRun } from '@sgfd/training';

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'serve-server.ts');
const TARGETS = { requestsPerSecond: 2000, p99Ms: 20, rssGrowth: 1.1 };

interface Options {
  duration: number;
  batch: number;
  connections: number;
}

function parseArgs(args: string[]): Options {
  const options = { duration: 30, batch: 32, connections: 10 };
  for (let i = 0; i < args.length; i++) {
    const key = args[i]!.replace(/^--/, '') as keyof Options;
    if (!(key in options))
      throw new Error(`unknown argument ${args[i]} (expected --duration S, --batch N, --connections N)`);
    options[key] = Number(args[++i]);
  }
  return options;
}

/** A VBPR model of the office preset (a few epochs: serving cost does not depend on how well it learned). */
async function officeBundle(root: string): Promise<string> {
  await initBackend();
  const { dir } = await writeSnapshot(generateSynthetic({ preset: 'office', seed: 1 }), { root });
  const dataset = await loadSnapshot(dir);
  const config = RunConfigSchema.parse({
    backbone: 'vbpr',
    sgfd: { mode: 'off' },
    training: { epochs: 3, evalEvery: 3, learningRate: 0.01 },
  });
  const runDir = join(root, 'run');
  const { metrics, manifest } = await trainRun(dataset, config, { outDir: runDir });
  const model = await loadRunModel(runDir, dataset);
  const bundle = join(root, 'scoring');
  try {
    await writeScoringBundle(bundle, model.backbone.representations(), dataset.splits, {
      backbone: 'vbpr',
      sgfd: 'off',
      run: manifest.runId,
      trainedAt: manifest.finishedAt ?? manifest.startedAt,
      datasetId: manifest.datasetId,
      test: metrics.test,
    });
  } finally {
    model.dispose();
  }
  return bundle;
}

function startServer(bundle: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER, bundle], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve({ child, url: line! });
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

interface Phase {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  rssStart: number;
  rssEnd: number;
  rssMax: number;
}

async function phase(
  name: string,
  pid: number,
  options: Options,
  request: Partial<autocannon.Options> & { url: string },
): Promise<Phase> {
  const samples: number[] = [rssMb(pid)];
  const timer = setInterval(() => samples.push(rssMb(pid)), 1000);
  const result = await autocannon({ connections: options.connections, duration: options.duration, ...request });
  clearInterval(timer);
  samples.push(rssMb(pid));
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    rssStart: samples[0]!,
    rssEnd: samples.at(-1)!,
    rssMax: Math.max(...samples),
  };
}

export async function run(args: string[]): Promise<void> {
  const options = parseArgs(args);
  const root = await mkdtemp(join(tmpdir(), 'sgfd-bench-serve-'));
  let server: ChildProcess | undefined;
  try {
    const bundle = await officeBundle(root);
    const started = await startServer(bundle);
    server = started.child;
    const { url } = started;
    const pid = server.pid!;
    const nUsers = (JSON.parse(await (await fetch(`${url}/v1/model`)).text()) as { users: number }).users;
    const randomUser = () => String(Math.floor(Math.random() * nUsers));
    // Warm-up (JIT, allocation pools), not reported.
    await autocannon({ url: `${url}/v1/users/1/recommendations`, connections: options.connections, duration: 3 });
    const rssWarm = rssMb(pid);
    const phases = [
      await phase('baseline: GET /healthz', pid, options, { url: `${url}/healthz` }),
      await phase('single user: GET /v1/users/:id/recommendations?k=10', pid, options, {
        url,
        requests: [
          { method: 'GET', setupRequest: (r) => ({ ...r, path: `/v1/users/${randomUser()}/recommendations?k=10` }) },
        ],
      }),
      await phase(`batch: POST /v1/recommendations, ${options.batch} users, k=10`, pid, options, {
        url,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (r) => ({
              ...r,
              path: '/v1/recommendations',
              body: JSON.stringify({ users: Array.from({ length: options.batch }, randomUser), k: 10 }),
            }),
          },
        ],
      }),
    ];
    const baseline = phases[0]!.requestsPerSecond;
    console.log(
      `office VBPR (${nUsers} users x 2,406 items, 128-d), ${options.connections} connections, ${options.duration} s per phase, server in its own process`,
    );
    console.log(
      '\n| phase | req/s | x baseline req/s | p50 ms | p99 ms | errors | non-2xx | RSS start -> end (max) MB |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of phases) {
      console.log(
        `| ${p.name} | ${p.requestsPerSecond.toFixed(0)} | ${(p.requestsPerSecond / baseline).toFixed(2)} | ${p.p50} | ${p.p99} | ${p.errors} | ${p.non2xx} | ${p.rssStart.toFixed(0)} -> ${p.rssEnd.toFixed(0)} (${p.rssMax.toFixed(0)}) |`,
      );
    }
    const single = phases[1]!;
    const rssEnd = phases.at(-1)!.rssEnd;
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(
      `\nsingle-user: ${single.requestsPerSecond.toFixed(0)} req/s (target >= ${TARGETS.requestsPerSecond}: ${verdict(single.requestsPerSecond >= TARGETS.requestsPerSecond)}), ` +
        `p99 ${single.p99} ms (target < ${TARGETS.p99Ms}: ${verdict(single.p99 < TARGETS.p99Ms)}), ` +
        `errors ${single.errors + single.non2xx} (target 0: ${verdict(single.errors + single.non2xx === 0)})`,
    );
    console.log(
      `memory: RSS ${rssWarm.toFixed(0)} MB after warm-up, ${rssEnd.toFixed(0)} MB at the end (${(rssEnd / rssWarm).toFixed(2)}x; target <= ${TARGETS.rssGrowth}x: ${verdict(rssEnd / rssWarm <= TARGETS.rssGrowth)})`,
    );
  } finally {
    server?.kill('SIGTERM');
    await rm(root, { recursive: true, force: true });
  }
}
