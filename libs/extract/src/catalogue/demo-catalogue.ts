// A complete raw catalogue for demos and benchmarks: tables with string ids, English titles, category paths,
// a drawn PNG per item, and an image encoder (the small CNN as ONNX with its preprocessing sidecar), named
// in catalogue.json so `sgfd run --dataset <dir>` and `sgfd data extract` take the folder as it is.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { smallCnnOnnx } from '../image/small-cnn-onnx';
import { preprocessingFileOf } from '../image/image-settings';
import { drawProductImage } from './product-images';
import { writeRawCatalogue, type RawCatalogueFiles } from './raw-catalogue-writer';

export const DEMO_CATALOGUE_SIZES = {
  tiny: { items: 300, users: 200, interactionsPerUser: 15 },
  office: { items: 2400, users: 4800, interactionsPerUser: 11 },
} as const;
export type DemoCatalogueSize = keyof typeof DEMO_CATALOGUE_SIZES;

export const DEMO_IMAGE_MODEL = 'image-encoder.onnx';
const DEMO_PREPROCESSING = {
  input: 'pixels',
  output: 'features',
  resize: 64,
  crop: 56,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
};

export async function writeDemoCatalogue(
  dir: string,
  options: { size: DemoCatalogueSize; seed: number },
): Promise<RawCatalogueFiles & { imageModel: string }> {
  const model = join(dir, DEMO_IMAGE_MODEL);
  const files = await writeRawCatalogue(dir, {
    ...DEMO_CATALOGUE_SIZES[options.size],
    seed: options.seed,
    images: (category, rng) => drawProductImage(category, rng),
    imageModel: { model: DEMO_IMAGE_MODEL },
  });
  await writeFile(model, smallCnnOnnx({ channels: 32, seed: options.seed }));
  await writeFile(preprocessingFileOf(model), `${JSON.stringify(DEMO_PREPROCESSING, null, 2)}\n`);
  return { ...files, imageModel: model };
}
