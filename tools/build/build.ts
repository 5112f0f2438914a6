// `npm run build`: the five worker apps and the CLI as bundles in dist/ that start from any directory with
// only Node and a node_modules (no checkout, no tsx). One esbuild call over the six entry points, so the code
// they share is in shared chunks and the CLI's lazily loaded commands stay lazy. Packages that must load from
// node_modules (native bindings, wasm files beside their module, Temporal, the AWS SDK, tfjs) stay external;
// dist/package.json lists them at the versions installed here. The workflow bundle is built here too
// (Temporal's bundleWorkflowCode), so worker-ingest never runs webpack at start.
import { readFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { BuildInfo } from '@sgfd/contracts';
import { codeVersion } from '@sgfd/training';
import { REPO_ROOT } from '../temporal/local-server';

/** The bundles of dist/: output name (without .mjs) -> entry source. */
export const ENTRY_POINTS = {
  'worker-ingest': 'apps/worker-ingest/src/main.ts',
  'worker-extract': 'apps/worker-extract/src/main.ts',
  'worker-teacher': 'apps/worker-teacher/src/main.ts',
  'worker-student': 'apps/worker-student/src/main.ts',
  'worker-eval': 'apps/worker-eval/src/main.ts',
  sgfd: 'apps/cli/src/main.ts',
} as const;

/**
 * Loaded from node_modules at run time, never bundled: native bindings (tfjs-node's, onnxruntime, sharp,
 * Temporal's core bridge), packages that find wasm or data files beside their own module (parquet-wasm, the
 * tfjs wasm backend, the tokenizers), and large packages with their own module layout (Temporal, the AWS
 * SDK, apache-arrow), and wabt (an Emscripten build that requires Node's modules at run time). `node-gyp`
 * and `tsx` are only resolved by path (engine build, source runs).
 */
export const EXTERNAL = [
  '@tensorflow/*',
  'onnxruntime-node',
  'sharp',
  '@temporalio/*',
  '@aws-sdk/*',
  'apache-arrow',
  'parquet-wasm',
  '@huggingface/tokenizers',
  'wabt',
  'node-gyp',
  'tsx',
];

/** The name of the package a bare import specifier belongs to (`@scope/name/sub` -> `@scope/name`). */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Every external package the bundles import, with the version installed in this checkout. */
async function externalDependencies(metafile: Metafile): Promise<Record<string, string>> {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs))
    for (const imported of output.imports)
      if (imported.external && !/^[./]/.test(imported.path)) names.add(packageOf(imported.path));
  for (const name of names) if (name.startsWith('node:') || builtinModules.includes(name)) names.delete(name);
  // Loaded by require() from a path, not imported: tfjs-node's JS kernels beside the native binding, and
  // node-gyp, which builds that binding on first use.
  names.add('@tensorflow/tfjs-node');
  names.add('node-gyp');
  const require = createRequire(join(REPO_ROOT, 'libs', 'tensor', 'package.json'));
  const versions: Record<string, string> = {};
  for (const name of [...names].sort()) {
    let version: string | undefined;
    for (const from of [require, createRequire(join(REPO_ROOT, 'package.json'))]) {
      try {
        version = (JSON.parse(await readFile(from.resolve(`${name}/package.json`), 'utf8')) as { version: string })
          .version;
        break;
      } catch {
        // A package whose exports hide package.json, or one that is not installed: found by its folder below.
      }
    }
    version ??= (
      JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
    ).version;
    versions[name] = version;
  }
  return versions;
}

export interface BuildResult {
  outDir: string;
  files: string[];
  info: BuildInfo;
  dependencies: Record<string, string>;
  seconds: { bundles: number; workflows: number };
}

/** Builds dist/ (or `outDir`) from scratch. */
export async function buildDist(options: { outDir?: string; log?: (line: string) => void } = {}): Promise<BuildResult> {
  const outDir = resolve(options.outDir ?? join(REPO_ROOT, 'dist'));
  const log = options.log ?? ((line: string) => console.error(`[build] ${line}`));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const info: BuildInfo = { codeVersion: codeVersion(REPO_ROOT), builtAt: new Date().toISOString() };

  let started = Date.now();
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, path]) => [name, join(REPO_ROOT, path)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // Chunks beside the entries: code that finds files next to its own module (the workflow bundle) sees dist/.
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.3',
    external: EXTERNAL,
    // Bundled CommonJS packages call require() for Node's modules, which an ES module does not have.
    banner: {
      js: "import { createRequire as __sgfdCreateRequire } from 'node:module'; const require = __sgfdCreateRequire(import.meta.url);",
    },
    define: { __SGFD_BUILD_INFO__: JSON.stringify(info) },
    metafile: true,
    logLevel: 'warning',
  });
  const bundles = (Date.now() - started) / 1000;

  started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(REPO_ROOT, 'workflows', 'src', 'index.ts'),
    logger: new DefaultLogger('WARN'),
  });
  await writeFile(join(outDir, 'workflow-bundle.js'), code);
  const workflows = (Date.now() - started) / 1000;

  const dependencies = await externalDependencies(result.metafile);
  await writeFile(
    join(outDir, 'package.json'),
    `${JSON.stringify({ name: 'sgfd-dist', private: true, type: 'module', sgfdBuild: info, dependencies }, null, 2)}\n`,
  );
  // As in the checkout: no lifecycle scripts (tfjs-node's would download libtensorflow; the engine is built
  // by the workers on first use, or named by SGFD_TENSORFLOW_DIR).
  await writeFile(join(outDir, '.npmrc'), 'ignore-scripts=true\n');
  const files = Object.keys(result.metafile.outputs).map((f) => resolve(REPO_ROOT, f));
  log(
    `${files.length} files in ${outDir} (bundles ${bundles.toFixed(1)} s, workflow bundle ${workflows.toFixed(1)} s), code version ${info.codeVersion}`,
  );
  return { outDir, files, info, dependencies, seconds: { bundles, workflows } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outFlag = process.argv.indexOf('--out-dir');
  await buildDist({ outDir: outFlag > 0 ? process.argv[outFlag + 1] : undefined });
}
