// Writes a raw catalogue as a shop would export one: items.csv (item id, title, description, category
// path, image file) and interactions.csv (reviewer id, item id, rating, timestamp), with string ids. Users
// prefer one or two categories, so the categories carry collaborative signal. Used by tests, the bench and
// `sgfd data synth --raw`.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@sgfd/data';
import { PRODUCT_CATEGORIES, productText } from './product-titles';

export interface RawCatalogueSpec {
  items: number;
  users: number;
  interactionsPerUser: number;
  seed: number;
  /** Draw a PNG per item into images/ (see drawProductImage); without, no image column. */
  images?: (category: number, rng: Rng) => Promise<Uint8Array>;
  /** Share of a user's interactions inside the preferred categories (default 0.9). */
  categorySignal?: number;
  /** Image model settings recorded in catalogue.json (model path relative to `dir`). */
  imageModel?: Record<string, unknown> & { model: string };
}

export interface RawCatalogueFiles {
  dir: string;
  items: string;
  interactions: string;
  itemIds: string[];
  userIds: string[];
  /** Category index (into PRODUCT_CATEGORIES) of each item. */
  categories: number[];
}

export const RAW_CATALOGUE_COLUMNS = {
  user: 'reviewer_id',
  item: 'asin',
  rating: 'rating',
  timestamp: 'unix_time',
  itemId: 'asin',
  text: ['title', 'description'],
  category: 'category_path',
  image: 'image',
};

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (header: string[], rows: (string | number)[][]) =>
  `${header.join(',')}\n${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;

export function itemIdOf(serial: number): string {
  return `B0${(0x10000000 + serial * 7919).toString(36).toUpperCase()}`;
}

/** Items `from`..`from + count - 1` of the catalogue of `seed` (the same serial always gives the same item). */
export function catalogueItems(seed: number, from: number, count: number) {
  return Array.from({ length: count }, (_, k) => {
    const serial = from + k;
    const rng = new Rng(seed * 1_000_003 + serial);
    const category = rng.int(PRODUCT_CATEGORIES.length);
    return { serial, id: itemIdOf(serial), rng, ...productText(rng, category, serial) };
  });
}

/** Writes the catalogue into `dir` (created; its two tables replaced atomically). */
export async function writeRawCatalogue(dir: string, spec: RawCatalogueSpec): Promise<RawCatalogueFiles> {
  await mkdir(join(dir, 'images'), { recursive: true });
  const items = catalogueItems(spec.seed, 0, spec.items);
  const itemRows: (string | number)[][] = [];
  for (const item of items) {
    let image = '';
    if (spec.images) {
      image = `images/${item.id}.png`;
      await writeFile(join(dir, image), await spec.images(item.category, item.rng));
    }
    itemRows.push([
      item.id,
      item.title,
      item.description,
      PRODUCT_CATEGORIES[item.category]!.path,
      ...(spec.images ? [image] : []),
    ]);
  }
  const byCategory = PRODUCT_CATEGORIES.map((_, c) => items.filter((i) => i.category === c));
  const rng = new Rng(spec.seed);
  const signal = spec.categorySignal ?? 0.9;
  const userIds = Array.from(
    { length: spec.users },
    (_, u) => `A${(0x3000000 + u * 104729).toString(36).toUpperCase()}`,
  );
  const interRows: (string | number)[][] = [];
  userIds.forEach((user) => {
    const liked = [rng.int(PRODUCT_CATEGORIES.length), rng.int(PRODUCT_CATEGORIES.length)].filter(
      (c) => byCategory[c]!.length > 0,
    );
    const seen = new Set<string>();
    for (let tries = 0; seen.size < spec.interactionsPerUser && tries < spec.interactionsPerUser * 20; tries++) {
      const pool = liked.length && rng.float() < signal ? byCategory[liked[rng.int(liked.length)]!]! : items;
      const item = pool[rng.int(pool.length)]!;
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      interRows.push([user, item.id, 1 + rng.int(5), 1_600_000_000 + interRows.length * 60]);
    }
  });
  const header = ['asin', 'title', 'description', 'category_path', ...(spec.images ? ['image'] : [])];
  const files = { items: join(dir, 'items.csv'), interactions: join(dir, 'interactions.csv') };
  await atomicWrite(files.items, csv(header, itemRows));
  await atomicWrite(files.interactions, csv(['reviewer_id', 'asin', 'rating', 'unix_time'], interRows));
  // What `sgfd run --dataset <dir>` reads: the tables, their columns and the extraction settings.
  const columns = { ...RAW_CATALOGUE_COLUMNS, ...(spec.images ? {} : { image: undefined }) };
  await atomicWrite(
    join(dir, 'catalogue.json'),
    `${JSON.stringify(
      {
        interactions: 'interactions.csv',
        items: 'items.csv',
        columns,
        categoryLevel: 2,
        ...(spec.imageModel ? { image: spec.imageModel } : {}),
      },
      null,
      2,
    )}\n`,
  );
  return {
    dir,
    ...files,
    itemIds: items.map((i) => i.id),
    userIds,
    categories: items.map((i) => i.category),
  };
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
