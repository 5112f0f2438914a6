import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { DatasetError } from '@sgfd/contracts';
import { decodeParquet, encodeParquet } from '../parquet-io';
import { loadSnapshot } from '../snapshot-load';
import { writeSnapshot } from '../snapshot-write';
import { originalIds } from './id-map';
import { readRawCatalogue } from './raw-catalogue';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgfd-raw-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const ITEMS = [
  {
    asin: 'B0STAPLER',
    title: 'Heavy duty stapler',
    description: 'Staples 40 sheets',
    cat: 'Office > Tools > Staplers',
  },
  { asin: 'B0PUNCH', title: 'Three hole punch', description: '', cat: 'Office > Tools > Punches' },
  { asin: 'B0PAPER', title: 'Copy paper, 500 sheets', description: 'Bright white', cat: 'Office > Paper > Copy' },
  { asin: 'B0NOTE', title: 'Spiral notebook', description: 'College ruled', cat: 'Office > Paper > Notebooks' },
  { asin: 'B0PEN', title: 'Gel pens, blue', description: 'Fine point', cat: 'Office > Writing > Pens' },
  { asin: 'B0PENCIL', title: 'Pencils HB', description: 'Pre-sharpened', cat: 'Office > Writing > Pencils' },
];
const USERS = ['A2XR', 'A9QQ', 'AB01', 'AZ77'];

/** Every user rates every item except one, so each user has training, validation and test rows. */
function interactions(): { user: string; item: string; rating: number; time: number }[] {
  const rows: { user: string; item: string; rating: number; time: number }[] = [];
  USERS.forEach((user, u) =>
    ITEMS.forEach((item, i) => {
      if (i !== u) rows.push({ user, item: item.asin, rating: 1 + ((u + i) % 5), time: 1_600_000_000 + 10 * i + u });
    }),
  );
  return rows;
}

const csv = (rows: Record<string, unknown>[]) => {
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return `${cols.join(',')}\n${rows.map((r) => cols.map((c) => cell(r[c])).join(',')).join('\n')}\n`;
};
const jsonl = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function catalogue(
  itemRows: Record<string, unknown>[] = ITEMS,
  interRows: Record<string, unknown>[] = interactions(),
) {
  const items = join(work, 'items.jsonl');
  const inter = join(work, 'reviews.csv');
  await writeFile(items, jsonl(itemRows));
  await writeFile(inter, csv(interRows));
  return { items, interactions: inter };
}

const columns = {
  user: 'user',
  item: 'item',
  rating: 'rating',
  timestamp: 'time',
  itemId: 'asin',
  text: ['title', 'description'],
  category: 'cat',
};

describe('raw catalogue with its own ids', () => {
  it('maps string ids to dense indices and keeps them in users.parquet / items.parquet', async () => {
    const files = await catalogue();
    const raw = await readRawCatalogue({ ...files, columns, categoryLevel: 2 });
    expect(raw.ids.items).toEqual([...ITEMS.map((i) => i.asin)].sort());
    expect(raw.ids.users).toEqual([...USERS].sort());
    expect(raw.categoryLabels).toEqual(['Office > Paper', 'Office > Tools', 'Office > Writing']);
    const written = await writeSnapshot(raw.input, { root: join(work, 'snapshots') });
    const ids = await originalIds(written.dir);
    expect(ids.hasOriginalIds).toBe(true);
    const dataset = await loadSnapshot(written.dir);
    expect(dataset.nCategories).toBe(3);
    // Every interaction read back through the id map is one of the source's rows.
    const source = new Set(interactions().map((r) => `${r.user}|${r.item}`));
    for (const split of ['train', 'valid', 'test'] as const) {
      const { users, items } = dataset.splits[split];
      for (let p = 0; p < users.length; p++)
        expect(source.has(`${ids.user(users[p])}|${ids.item(items[p])}`)).toBe(true);
    }
    expect(dataset.manifest.counts.interactions).toBe(source.size);
    // The category of each item is the level-2 prefix of its path.
    for (const item of ITEMS) {
      const i = ids.itemOf(item.asin)!;
      expect(raw.categoryLabels![dataset.categories![i]]).toBe(item.cat.split(' > ').slice(0, 2).join(' > '));
    }
    const itemsTable = decodeParquet(await readFile(join(written.dir, 'items.parquet')), 'items');
    expect(itemsTable.getChild('id')!.get(ids.itemOf('B0PEN')!)).toBe('B0PEN');
    expect(itemsTable.getChild('category_label')!.get(ids.itemOf('B0PEN')!)).toBe('Office > Writing');
    const usersTable = decodeParquet(await readFile(join(written.dir, 'users.parquet')), 'users');
    expect(Array.from(usersTable.getChild('id')!)).toEqual([...USERS].sort());
    expect(ids.userOf('nobody')).toBeUndefined();
  });

  it('gives the same snapshot for the same catalogue in another row order and format', async () => {
    const first = await readRawCatalogue({ ...(await catalogue()), columns, categoryLevel: 2 });
    const a = await writeSnapshot(first.input, { root: join(work, 's') });
    const itemsParquet = join(work, 'items.parquet');
    const reversed = [...ITEMS].reverse();
    await writeFile(
      itemsParquet,
      encodeParquet(
        new Table({
          asin: vectorFromArray(
            reversed.map((i) => i.asin),
            new Utf8(),
          ),
          title: vectorFromArray(
            reversed.map((i) => i.title),
            new Utf8(),
          ),
          description: vectorFromArray(
            reversed.map((i) => i.description),
            new Utf8(),
          ),
          cat: vectorFromArray(
            reversed.map((i) => i.cat),
            new Utf8(),
          ),
        }),
      ),
    );
    const interJsonl = join(work, 'reviews.jsonl');
    await writeFile(interJsonl, jsonl([...interactions()].reverse()));
    const second = await readRawCatalogue({ items: itemsParquet, interactions: interJsonl, columns, categoryLevel: 2 });
    const b = await writeSnapshot(second.input, { root: join(work, 's') });
    expect(b.id).toBe(a.id);
    expect(b.created).toBe(false);
  });

  it('takes integer ids as ids (not as indices) and whole category labels without a level', async () => {
    const items = join(work, 'items.parquet');
    await writeFile(
      items,
      encodeParquet(
        new Table({
          id: vectorFromArray([100, 7, 42, 9], new Int32()),
          name: vectorFromArray(['red mug', 'blue mug', 'steel pan', 'cast iron pan'], new Utf8()),
          kind: vectorFromArray(['mugs', 'mugs', 'pans', 'pans'], new Utf8()),
        }),
      ),
    );
    const inter = join(work, 'inter.jsonl');
    const rows = [];
    for (const user of [5, 6, 8]) for (const item of [100, 7, 42, 9]) rows.push({ u: user, i: item });
    await writeFile(inter, jsonl(rows));
    const raw = await readRawCatalogue({
      items,
      interactions: inter,
      columns: { user: 'u', item: 'i', itemId: 'id', text: ['name'], category: 'kind' },
    });
    expect(raw.ids.items).toEqual(['7', '9', '42', '100']);
    expect(raw.ids.users).toEqual(['5', '6', '8']);
    expect(raw.categoryLabels).toEqual(['mugs', 'pans']);
    expect(raw.items.texts.name).toEqual(['blue mug', 'cast iron pan', 'steel pan', 'red mug']);
  });

  it('resolves image paths against the items table folder', async () => {
    const rows = ITEMS.map((item, k) => ({ ...item, image: k === 0 ? '/abs/stapler.png' : `img/${item.asin}.png` }));
    const raw = await readRawCatalogue({ ...(await catalogue(rows)), columns: { ...columns, image: 'image' } });
    const i = raw.ids.items.indexOf('B0PEN');
    expect(raw.items.images![i]).toBe(join(work, 'img', 'B0PEN.png'));
    expect(raw.items.images![raw.ids.items.indexOf('B0STAPLER')]).toBe('/abs/stapler.png');
  });
});

describe('raw catalogue errors name the file, row and id', () => {
  async function failure(promise: Promise<unknown>): Promise<DatasetError> {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }

  it('rejects an item id repeated with different content, naming both rows', async () => {
    const rows = [...ITEMS, { ...ITEMS[2]!, title: 'Copy paper, 5000 sheets' }];
    const files = await catalogue(rows);
    const err = await failure(readRawCatalogue({ ...files, columns }));
    expect(err.message).toContain("Item 'B0PAPER' appears twice with different content");
    expect(err.location).toMatchObject({ file: files.items, row: 7, field: 'asin' });
    expect(err.message).toContain('as row 3');
  });

  it('accepts an item id repeated with the same content', async () => {
    const raw = await readRawCatalogue({ ...(await catalogue([...ITEMS, ITEMS[0]!])), columns });
    expect(raw.ids.items).toHaveLength(ITEMS.length);
  });

  it('rejects interactions with unknown items by default, drops and counts them when asked', async () => {
    const rows = [...interactions(), { user: 'AB01', item: 'B0GHOST', rating: 3, time: 1 }];
    const files = await catalogue(ITEMS, rows);
    const err = await failure(readRawCatalogue({ ...files, columns }));
    expect(err.message).toContain("item 'B0GHOST'");
    // header on line 1, so the last of the rows is on line rows.length + 1
    expect(err.location).toMatchObject({ file: files.interactions, row: rows.length + 1, field: 'item' });
    const dropped = await readRawCatalogue({ ...files, columns, unknownItems: 'drop' });
    expect(dropped.droppedUnknownItems).toBe(1);
    expect(dropped.input.source).toMatchObject({ droppedUnknownItems: 1, unknownItems: 'drop' });
  });

  it('rejects an item whose text columns are all empty', async () => {
    const rows = ITEMS.map((item) => (item.asin === 'B0NOTE' ? { ...item, title: '  ', description: null } : item));
    const files = await catalogue(rows);
    const err = await failure(readRawCatalogue({ ...files, columns }));
    expect(err.message).toContain("Empty text for item 'B0NOTE'");
    expect(err.location).toMatchObject({ file: files.items, row: 4, field: 'title, description' });
  });

  it('rejects a repeated (user, item) pair, a missing column and an unknown file type', async () => {
    const rows = interactions();
    const files = await catalogue(ITEMS, [...rows, rows[0]!]);
    const err = await failure(readRawCatalogue({ ...files, columns }));
    expect(err.location).toMatchObject({ file: files.interactions, row: rows.length + 2 });
    expect(err.message).toContain('also at row 2');
    const missing = await failure(
      readRawCatalogue({ ...(await catalogue()), columns: { ...columns, text: ['blurb'] } }),
    );
    expect(missing.message).toContain("Missing column 'blurb'");
    const odd = join(work, 'items.xlsx');
    await writeFile(odd, 'x');
    const format = await failure(readRawCatalogue({ items: odd, interactions: files.interactions, columns }));
    expect(format.location).toMatchObject({ file: odd, expected: 'a file ending in .parquet, .csv or .jsonl' });
  });

  it('rejects a CSV row with the wrong number of fields, naming its line', async () => {
    const files = await catalogue();
    await writeFile(files.interactions, 'user,item,rating,time\nA2XR,B0PEN,5,1\nA9QQ,B0PEN,5\n');
    const err = await failure(readRawCatalogue({ ...files, columns }));
    expect(err.location).toMatchObject({ file: files.interactions, row: 3 });
  });
});
