import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readScoringBundle } from '@sgfd/serving';
import { defaultDatasetRoot } from '../paths';
import { trainTwoModels, type TrainedModels } from '../test-support/trained-models';
import { recommendUsers } from './recommend';
import { startServe } from './serve';

let t: TrainedModels;
const log: string[] = [];

beforeAll(async () => {
  t = await trainTwoModels();
}, 120_000);
afterAll(async () => {
  await t?.remove();
});

const options = (extra: object = {}) => ({
  host: '127.0.0.1',
  port: 0,
  maxK: 50,
  maxBatch: 20,
  excludeSeen: 'train' as const,
  root: defaultDatasetRoot(),
  log: (line: string) => log.push(line),
  ...extra,
});

async function expected(model: 0 | 1, user: string, k: number) {
  const bundle = await readScoringBundle(join(t.models[model].evaluationDir, 'scoring'));
  return recommendUsers(bundle, [user], k, 'train')[0]!.items;
}

describe('sgfd serve', () => {
  it('answers a known user with the model top-K, similar items, the model, health and metrics', async () => {
    const { app, url } = await startServe(t.models[0].evaluationDir, options());
    try {
      const response = await fetch(`${url}/v1/users/5/recommendations?k=7`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { user: string; model: string; items: unknown[] };
      expect(body).toEqual({ user: '5', model: 'run-1', items: await expected(0, '5', 7) });

      const batch = await fetch(`${url}/v1/recommendations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ users: ['5', '9'], k: 3 }),
      });
      const results = ((await batch.json()) as { results: { user: string; items: unknown[] }[] }).results;
      expect(results).toEqual([
        { user: '5', items: await expected(0, '5', 3) },
        { user: '9', items: await expected(0, '9', 3) },
      ]);

      const similar = (await (await fetch(`${url}/v1/items/4/similar?k=5`)).json()) as {
        similar: { item: string; score: number }[];
      };
      expect(similar.similar).toHaveLength(5);
      expect(similar.similar.map((s) => s.item)).not.toContain('4');
      expect(similar.similar[0]!.score).toBeLessThanOrEqual(1 + 1e-6);

      const model = (await (await fetch(`${url}/v1/model`)).json()) as Record<string, unknown>;
      expect(model).toMatchObject({ run: 'run-1', backbone: 'vbpr', form: 'dot', users: 120, items: 90 });
      expect(model['test']).toEqual(t.models[0].evaluation.test);
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', model: 'run-1' });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        /sgfd_http_requests_total\{route="\/v1\/users\/:id\/recommendations",method="GET",status="200"\} 1/,
      );
      expect(metrics).toMatch(/sgfd_http_request_duration_seconds_count\{route="\/v1\/recommendations"\} 1/);
      expect(metrics).toMatch(
        /sgfd_http_request_duration_seconds_bucket\{le="\+Inf",route="\/v1\/recommendations"\} 1/,
      );
      expect(metrics).toMatch(/sgfd_model_info\{run="run-1",backbone="vbpr"\} 1/);
    } finally {
      await app.close();
    }
  });

  it('bad requests get precise errors: unknown user or item 404, k = 0 or too large, bad masking, malformed JSON, huge batches 400, a huge body 413', async () => {
    const { app, url } = await startServe(t.models[0].evaluationDir, options());
    const post = (body: string) =>
      fetch(`${url}/v1/recommendations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const error = async (response: Response) => ({
      status: response.status,
      message: ((await response.json()) as { error: { message: string } }).error.message,
    });
    try {
      expect(await error(await fetch(`${url}/v1/users/120/recommendations`))).toEqual({
        status: 404,
        message: "Unknown user '120' (user and item ids are the snapshot indices in decimal: 0..119)",
      });
      expect(await error(await fetch(`${url}/v1/items/x/similar`))).toMatchObject({
        status: 404,
        message: /Unknown item 'x'/,
      });
      expect(await error(await fetch(`${url}/v1/users/1/recommendations?k=0`))).toEqual({
        status: 400,
        message: 'querystring.k must be >= 1',
      });
      expect(await error(await fetch(`${url}/v1/users/1/recommendations?k=51`))).toEqual({
        status: 400,
        message: 'querystring.k must be <= 50',
      });
      expect(await error(await fetch(`${url}/v1/users/1/recommendations?k=two`))).toEqual({
        status: 400,
        message: 'querystring.k must be integer',
      });
      expect(await error(await fetch(`${url}/v1/users/1/recommendations?exclude=test`))).toMatchObject({
        status: 400,
        message: /querystring.exclude must be equal to one of the allowed values/,
      });
      expect(await error(await fetch(`${url}/v1/users/1/recommendations?kk=3`))).toMatchObject({
        status: 400,
        message: /must NOT have additional properties/,
      });
      expect(await error(await post('{"users": ["1"'))).toMatchObject({ status: 400, message: /JSON/ });
      expect(await error(await post('{}'))).toEqual({
        status: 400,
        message: "body must have required property 'users'",
      });
      const many = JSON.stringify({ users: Array.from({ length: 21 }, (_, u) => String(u)) });
      expect(await error(await post(many))).toEqual({
        status: 400,
        message: 'body.users must NOT have more than 20 items',
      });
      expect(await error(await post(JSON.stringify({ users: ['1', '500', 'y'] })))).toEqual({
        status: 404,
        message: "Unknown users: '500', 'y'",
      });
      expect((await post(JSON.stringify({ users: ['1'], pad: 'x'.repeat(2 << 20) }))).status).toBe(413);
      // The service still answers after all of that.
      expect((await fetch(`${url}/v1/users/1/recommendations`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("follows a schedule's champion: a promotion during a request loop fails no request, and the new model answers afterwards", async () => {
    await t.promote('nightly', 1, t.models[0]);
    const { app, url } = await startServe('nightly', options({ artifacts: t.root }));
    try {
      const before = await expected(0, '11', 10);
      const after = await expected(1, '11', 10);
      expect(after).not.toEqual(before);
      const seen: { status: number; model: string; items: unknown }[] = [];
      let stop = false;
      const loop = async () => {
        while (!stop) {
          const response = await fetch(`${url}/v1/users/11/recommendations?k=10`);
          const body = (await response.json()) as { model: string; items: unknown };
          seen.push({ status: response.status, model: body.model, items: body.items });
        }
      };
      const loops = [loop(), loop(), loop(), loop()];
      await new Promise((resolve) => setTimeout(resolve, 200));
      await t.promote('nightly', 2, t.models[1]);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && seen.at(-1)?.model !== 'run-2') await new Promise((r) => setTimeout(r, 20));
      await new Promise((resolve) => setTimeout(resolve, 200));
      stop = true;
      await Promise.all(loops);
      expect(seen.filter((s) => s.status !== 200)).toEqual([]);
      const switchAt = seen.findIndex((s) => s.model === 'run-2');
      expect(switchAt).toBeGreaterThan(0);
      for (const s of seen.slice(0, switchAt)) expect(s).toEqual({ status: 200, model: 'run-1', items: before });
      // Four loops: up to three requests that started before the switch may finish after it.
      const late = seen.slice(switchAt).filter((s) => s.model !== 'run-2');
      expect(late.length).toBeLessThanOrEqual(3);
      expect(seen.at(-1)).toEqual({ status: 200, model: 'run-2', items: after });
      expect(log.some((line) => line.includes('now serving run-2'))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
