// The raw catalogue's snapshot key must change when an image file changes under the same path: the tables
// alone do not, and a reused snapshot would carry the old image's features.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawDatasetSpec } from '@sgfd/contracts';
import { imageFilesFingerprint } from './extract';

describe('the image files in a raw catalogue key', () => {
  let dir: string;
  let spec: RawDatasetSpec;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgfd-extract-key-'));
    await writeFile(join(dir, 'items.csv'), `item,title,image\na,Pen,img/a.png\nb,Ink,${join(dir, 'b.png')}\nc,Pad,\n`);
    await mkdir(join(dir, 'img'));
    await writeFile(join(dir, 'img', 'a.png'), 'first image');
    await writeFile(join(dir, 'b.png'), 'second image');
    spec = {
      kind: 'raw',
      interactions: join(dir, 'interactions.csv'),
      items: join(dir, 'items.csv'),
      columns: { itemId: 'item', text: ['title'], image: 'image' },
      image: { model: join(dir, 'model.onnx') },
    };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is stable while nothing changes, and changes when an image is rewritten, touched or removed', async () => {
    const first = await imageFilesFingerprint(spec);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await imageFilesFingerprint(spec)).toBe(first);

    await writeFile(join(dir, 'img', 'a.png'), 'a repainted image');
    const rewritten = await imageFilesFingerprint(spec);
    expect(rewritten).not.toBe(first);

    // Same size, new modification time (a file replaced by one of equal length).
    await utimes(join(dir, 'b.png'), new Date(), new Date(Date.now() + 60_000));
    const touched = await imageFilesFingerprint(spec);
    expect(touched).not.toBe(rewritten);

    await rm(join(dir, 'b.png'));
    expect(await imageFilesFingerprint(spec)).not.toBe(touched);
  });

  it('is null without an image encoder or image column', async () => {
    expect(await imageFilesFingerprint({ ...spec, image: undefined })).toBeNull();
    expect(await imageFilesFingerprint({ ...spec, columns: { ...spec.columns, image: undefined } })).toBeNull();
  });
});
