// `npm run bench -- store [--repeat N]`: the s3:// artifact store on loopback (versitygw, started here on a
// temp folder) against the file:// store on the same disk, for a dataset snapshot (`office`, ~42 MB) and a
// model-size weights file (VBPR on office, 64-d: 4.9 MB). For each: write (build in staging + publish),
// read (a fresh store instance reads every file: S3 downloads into its cache), cached read (the same
// instance again: S3 answers from its local cache). Median of --repeat runs; ratios against file://.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { FileArtifactStore, S3ArtifactStore, artifactKey, type ArtifactStore } from '@sgfd/artifacts';
import type { ArtifactRef } from '@sgfd/contracts';
import { generateSynthetic, writeSnapshot } from '@sgfd/data';
import { startS3Server } from '../s3/s3-server';

type Payload = { name: string; files: Record<string, string> };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(body: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

async function readAll(store: ArtifactStore, ref: ArtifactRef): Promise<number> {
  let bytes = 0;
  for (const f of (await store.readManifest(ref)).files) bytes += (await store.get(ref, f.path)).byteLength;
  return bytes;
}

export async function run(args: string[]): Promise<void> {
  const repeat = Number(args[args.indexOf('--repeat') + 1] ?? 3) || 3;
  const work = await mkdtemp(join(tmpdir(), 'sgfd-bench-store-'));
  const server = await startS3Server({ dataDir: join(work, 's3-data') });
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: server.accessKey,
      AWS_SECRET_ACCESS_KEY: server.secretKey,
      AWS_REGION: 'us-east-1',
    });
    const snapshot = await writeSnapshot(generateSynthetic({ preset: 'office', seed: 1 }), {
      root: join(work, 'snapshots'),
    });
    const snapshotFiles: Record<string, string> = {};
    for (const name of await readdir(snapshot.dir)) snapshotFiles[`snapshot/${name}`] = join(snapshot.dir, name);
    const modelBytes = ((4874 + 2406) * 64 * 2 + (4096 + 384) * 64) * 4;
    await writeFile(join(work, 'model.bin'), randomBytes(modelBytes));
    const payloads: Payload[] = [
      { name: 'snapshot (office)', files: snapshotFiles },
      { name: `model (${(modelBytes / 1e6).toFixed(1)} MB)`, files: { 'weights.bin': join(work, 'model.bin') } },
    ];
    const admin = new S3ArtifactStore({ bucket: 'bench', prefix: '', cacheDir: join(work, 'admin') });
    await admin.client.send(new CreateBucketCommand({ Bucket: 'bench' }));

    const results: string[] = [];
    for (const payload of payloads) {
      const times: Record<string, Record<'write' | 'read' | 'cached', number[]>> = {};
      for (let r = 0; r < repeat; r++) {
        for (const backend of ['file', 's3'] as const) {
          const label = `${backend}-${r}`;
          const open = (instance: string): ArtifactStore =>
            backend === 'file'
              ? new FileArtifactStore(join(work, 'file-store', label))
              : new S3ArtifactStore({ bucket: 'bench', prefix: label, cacheDir: join(work, 'cache', label, instance) });
          const address = {
            kind: 'snapshot' as const,
            key: artifactKey({ inputs: [payload.name, r], config: {}, codeVersion: 'bench' }),
          };
          const t = (times[backend] ??= { write: [], read: [], cached: [] });
          let ref!: ArtifactRef;
          t.write.push(
            await timed(async () => {
              ref = (
                await open('writer').withArtifact(address, async (staging) => {
                  for (const [name, path] of Object.entries(payload.files))
                    await copyFile(path, await staging.path(name));
                  return null;
                })
              ).ref;
            }),
          );
          const reader = open('reader');
          t.read.push(await timed(() => readAll(reader, ref)));
          t.cached.push(await timed(() => readAll(reader, ref)));
        }
      }
      const bytes = Object.values(payload.files).length;
      const f = {
        write: median(times.file!.write),
        read: median(times.file!.read),
        cached: median(times.file!.cached),
      };
      const s = { write: median(times.s3!.write), read: median(times.s3!.read), cached: median(times.s3!.cached) };
      results.push(
        `| ${payload.name}, ${bytes} file(s) | ${f.write.toFixed(0)} / ${s.write.toFixed(0)} | ${(s.write / f.write).toFixed(1)}x | ` +
          `${f.read.toFixed(0)} / ${s.read.toFixed(0)} | ${(s.read / f.read).toFixed(1)}x | ` +
          `${f.cached.toFixed(0)} / ${s.cached.toFixed(0)} | ${(s.cached / f.cached).toFixed(1)}x |`,
      );
    }
    console.log(`store bench: median of ${repeat}; ms file:// / s3:// (versitygw on loopback); ratio = s3 / file`);
    console.log('| artifact | write ms | write ratio | read ms | read ratio | cached read ms | cached ratio |');
    console.log('|---|---|---|---|---|---|---|');
    for (const line of results) console.log(line);
  } finally {
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}
