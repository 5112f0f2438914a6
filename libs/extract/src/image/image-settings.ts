import { ConfigError } from '@sgfd/contracts';

/**
 * An ONNX image encoder and the preprocessing it was trained with, declared with the model: resize the
 * shorter side to `resize`, centre-crop `crop` x `crop`, scale to [0, 1], subtract `mean` and divide by
 * `std` per RGB channel, feed as float32 NCHW to `input`, read the features from `output` (any shape
 * [n, ...]: flattened per image, e.g. a pooled [n, 512, 1, 1] layer).
 */
export interface ImageSettings {
  /** Path of the .onnx file. */
  model: string;
  input: string;
  output: string;
  resize: number;
  crop: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/** ImageNet statistics, as torchvision's ResNets and most CNN towers expect. */
export const IMAGENET_PREPROCESSING = {
  resize: 256,
  crop: 224,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
} as const;

export function checkImageSettings(settings: ImageSettings): void {
  const bad = (field: string, expected: string, found: unknown) =>
    new ConfigError('Invalid image preprocessing', { field: `image.${field}`, expected, found: JSON.stringify(found) });
  if (!(Number.isInteger(settings.resize) && settings.resize >= 1))
    throw bad('resize', 'a positive integer', settings.resize);
  if (!(Number.isInteger(settings.crop) && settings.crop >= 1 && settings.crop <= settings.resize))
    throw bad('crop', `an integer in [1, resize = ${settings.resize}]`, settings.crop);
  for (const key of ['mean', 'std'] as const) {
    const v = settings[key];
    if (
      !Array.isArray(v) ||
      v.length !== 3 ||
      !v.every((x) => Number.isFinite(x)) ||
      (key === 'std' && v.some((x) => x <= 0))
    )
      throw bad(key, key === 'std' ? 'three positive numbers (R, G, B)' : 'three numbers (R, G, B)', v);
  }
}

/** The sidecar that declares a model's preprocessing: `<model file>.json` (e.g. `resnet18.onnx.json`). */
export const preprocessingFileOf = (model: string) => `${model}.json`;

/**
 * The settings of an image model: ImageNet preprocessing, overridden by the sidecar declared with the model,
 * overridden by what the caller gives. `input` and `output` must come from one of the last two.
 */
export async function resolveImageSettings(given: Partial<ImageSettings> & { model: string }): Promise<ImageSettings> {
  const { readFile } = await import('node:fs/promises');
  const sidecarPath = preprocessingFileOf(given.model);
  let sidecar: Partial<ImageSettings> = {};
  const text = await readFile(sidecarPath, 'utf8').catch(() => null);
  if (text !== null) {
    try {
      sidecar = JSON.parse(text) as Partial<ImageSettings>;
    } catch (err) {
      throw new ConfigError('Image preprocessing file is not JSON', {
        file: sidecarPath,
        expected: 'JSON with input, output, resize, crop, mean, std',
        found: (err as Error).message,
      });
    }
  }
  const settings = { ...IMAGENET_PREPROCESSING, ...sidecar, ...given } as ImageSettings;
  for (const key of ['input', 'output'] as const) {
    if (typeof settings[key] !== 'string' || !settings[key]) {
      throw new ConfigError(`Image model ${key} not declared`, {
        file: sidecarPath,
        field: key,
        expected: `the name of the model's ${key} tensor, in ${sidecarPath} or given with the model`,
        found: 'nothing',
      });
    }
  }
  checkImageSettings(settings);
  return settings;
}
