import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ConfigError } from '@sgfd/contracts';
import { sha256OfFile } from '../file-hash';
import {
  lazyModel,
  type EncodedBatch,
  type LoadedEncoder,
  type ModalityEncoder,
  type PreparedItem,
} from '../modality-encoder';
import { openOnnxSession } from '../onnx-session';
import { preprocessImage } from './image-preprocess';
import { checkImageSettings, type ImageSettings } from './image-settings';

/**
 * An ONNX image encoder over the catalogue's image files. An item's content hash is its file's sha256; a
 * missing file is a problem of that item (it gets the mean feature), and so is a file that does not decode.
 * The model is identified by its file's sha256 and loaded (and checked) only when an image must be encoded.
 */
export async function createImageEncoder(
  settings: ImageSettings,
  options: { threads?: number } = {},
): Promise<ModalityEncoder<string>> {
  checkImageSettings(settings);
  let modelSha256: string;
  try {
    modelSha256 = await sha256OfFile(settings.model);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'Missing ONNX model' : 'Unreadable ONNX model', {
      file: settings.model,
      expected: 'an ONNX model file',
      found: code === 'ENOENT' ? 'no such file' : String(code ?? err),
    });
  }
  const model = lazyModel(() => openImageModel(settings, options));
  const { model: modelPath, ...preprocessing } = settings;
  return {
    modality: 'image',
    identity: { modelSha256, model: modelPath, ...preprocessing },
    async prepare(items, i): Promise<PreparedItem<string>> {
      const path = items.images?.[i] ?? null;
      if (path === null) return { problem: 'no image path', path: items.file };
      try {
        const bytes = await readFile(path);
        return { hash: createHash('sha256').update(bytes).digest('hex'), input: path };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return { problem: code === 'ENOENT' ? 'missing image file' : `unreadable image (${code ?? err})`, path };
      }
    },
    load: model.load,
    get loaded() {
      return model.loaded;
    },
    dispose: model.dispose,
  };
}

/**
 * Opens the model (a ConfigError naming the file if it is not ONNX or lacks the input or the output) and
 * probes its output width.
 */
async function openImageModel(
  settings: ImageSettings,
  options: { threads?: number },
): Promise<LoadedEncoder<string> & { release(): Promise<void> }> {
  const session = await openOnnxSession(settings.model, {
    inputs: [settings.input],
    output: settings.output,
    threads: options.threads,
  });
  const plane = settings.crop * settings.crop;
  const run = async (pixels: Float32Array, n: number): Promise<{ data: Float32Array; dim: number }> => {
    const feeds = { [settings.input]: new ort.Tensor('float32', pixels, [n, 3, settings.crop, settings.crop]) };
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feeds, [settings.output]);
    } catch (err) {
      throw new ConfigError('The image model does not run on the declared input', {
        file: settings.model,
        expected: `input '${settings.input}' of shape [n, 3, ${settings.crop}, ${settings.crop}]`,
        found: (err as Error).message.split('\n')[0],
      });
    }
    const out = result[settings.output]!;
    try {
      return { data: Float32Array.from(out.data as Float32Array), dim: out.size / n };
    } finally {
      for (const t of Object.values(result)) t.dispose();
    }
  };
  let dim: number;
  try {
    ({ dim } = await run(new Float32Array(3 * plane), 1));
  } catch (err) {
    await session.release();
    throw err;
  }
  return {
    dim,
    async encode(paths): Promise<EncodedBatch> {
      const failed: EncodedBatch['failed'] = [];
      const pixels = new Float32Array(paths.length * 3 * plane);
      for (let r = 0; r < paths.length; r++) {
        try {
          await preprocessImage(await readFile(paths[r]!), settings, pixels, r * 3 * plane);
        } catch (err) {
          failed.push({ index: r, problem: `undecodable image (${(err as Error).message.split('\n')[0]})` });
        }
      }
      const { data } = await run(pixels, paths.length);
      return { features: data, failed };
    },
    release: () => session.release(),
  };
}
