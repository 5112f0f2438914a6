import sharp from 'sharp';
import type { ImageSettings } from './image-settings';

/**
 * Decodes an image file's bytes and preprocesses it as declared: shorter side to `resize`, centre crop
 * `crop` x `crop`, RGB in [0, 1] normalised per channel, laid out CHW into `out` at `offset`.
 * Throws sharp's error for bytes that are not a decodable image.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  settings: Pick<ImageSettings, 'resize' | 'crop' | 'mean' | 'std'>,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const { resize, crop, mean, std } = settings;
  const resized = await sharp(bytes, { failOn: 'error' })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(resize, resize, { fit: 'outside', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = resized.info;
  const left = Math.floor((width - crop) / 2);
  const top = Math.floor((height - crop) / 2);
  const { data, info } = await sharp(resized.data, { raw: { width, height, channels: 3 } })
    .extract({ left, top, width: crop, height: crop })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = crop * crop;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      out[offset + c * plane + p] = (data[p * info.channels + c]! / 255 - mean[c]!) / std[c]!;
    }
  }
}
