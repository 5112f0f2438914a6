import sharp from 'sharp';
import type { Rng } from '@sgfd/data';
import { PRODUCT_CATEGORIES } from './product-titles';

/** A base colour per category (RGB), so that pooled colour features tell categories apart. */
const CATEGORY_COLOURS: [number, number, number][] = [
  [30, 60, 200],
  [240, 240, 220],
  [120, 120, 130],
  [40, 40, 40],
  [110, 70, 40],
  [40, 160, 60],
  [230, 120, 30],
  [200, 60, 160],
];

/**
 * A product photo drawn for a test or a demo: a pale background with a noisy object of the category's
 * colour, at a random place and size, encoded as PNG.
 */
export async function drawProductImage(category: number, rng: Rng, size = 64): Promise<Uint8Array> {
  const base = CATEGORY_COLOURS[category % CATEGORY_COLOURS.length]!;
  if (category >= PRODUCT_CATEGORIES.length) throw new Error(`no category ${category}`);
  const pixels = new Uint8Array(size * size * 3);
  const r = size * (0.2 + 0.15 * rng.float());
  const cx = size / 2 + (rng.float() - 0.5) * size * 0.3;
  const cy = size / 2 + (rng.float() - 0.5) * size * 0.3;
  const square = rng.float() < 0.5;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = square ? Math.abs(x - cx) < r && Math.abs(y - cy) < r : (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      for (let c = 0; c < 3; c++) {
        const value = inside ? base[c]! + (rng.float() - 0.5) * 60 : 235 + (rng.float() - 0.5) * 30;
        pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}
