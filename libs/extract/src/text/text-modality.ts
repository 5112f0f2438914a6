import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ConfigError } from '@sgfd/contracts';
import type { CatalogueItems } from '@sgfd/data';
import { sha256OfFile } from '../file-hash';
import { lazyModel, type ModalityEncoder, type PreparedItem } from '../modality-encoder';
import { checkMaxTokens, SentenceEncoder } from './sentence-encoder';
import { TEXT_MODEL, TEXT_MODEL_FILES, textModelDir } from './text-model';

/** What text is encoded for an item, and how. Recorded in the snapshot's manifest. */
export interface TextSettings {
  /** Text columns of the items table, joined in this order (empty cells skipped). */
  columns: string[];
  /** Put between the columns' texts. */
  separator: string;
  /** Tokens per text, [CLS] and [SEP] included; longer texts are cut (all-MiniLM-L6-v2 was trained on 128). */
  maxTokens: number;
}

export const DEFAULT_TEXT_SETTINGS: Omit<TextSettings, 'columns'> = { separator: '. ', maxTokens: 128 };

/** The text of item `i` as encoded: its non-empty text cells joined by the separator. */
export function itemText(items: CatalogueItems, i: number, settings: TextSettings): string {
  return settings.columns
    .map((column) => items.texts[column]?.[i] ?? null)
    .filter((t): t is string => t !== null)
    .join(settings.separator);
}

/**
 * The sentence encoder as a modality encoder. Its identity comes from the pinned sha256 of the model and
 * tokenizer when they are the machine's cache of the pinned files (`ensureTextModel` checked them), else
 * from hashing the files of the given directory; the model itself is loaded only when a text must be encoded.
 */
export async function createTextEncoder(
  settings: TextSettings,
  options: { modelDir?: string; threads?: number } = {},
): Promise<ModalityEncoder<string>> {
  if (settings.columns.length === 0) {
    throw new ConfigError('No text columns', { field: 'text.columns', expected: 'at least one text column' });
  }
  checkMaxTokens(settings.maxTokens);
  const dir = options.modelDir ?? textModelDir();
  const model = lazyModel(async () => {
    const encoder = await SentenceEncoder.load({ dir, maxTokens: settings.maxTokens, threads: options.threads });
    return {
      dim: encoder.dim,
      encode: async (texts: string[]) => ({ features: await encoder.encode(texts), failed: [] }),
      release: () => encoder.dispose(),
    };
  });
  return {
    modality: 'text',
    identity: {
      encoder: TEXT_MODEL.name,
      ...(await textModelChecksums(dir)),
      pooling: 'mean, L2-normalised',
      ...settings,
    },
    async prepare(items, i): Promise<PreparedItem<string>> {
      const text = itemText(items, i, settings);
      return { hash: createHash('sha256').update(text).digest('hex'), input: text };
    },
    load: model.load,
    get loaded() {
      return model.loaded;
    },
    dispose: model.dispose,
  };
}

/** sha256 of the model and the tokenizer in `dir`: pinned for the machine's cache, hashed for any other. */
async function textModelChecksums(dir: string): Promise<{ modelSha256: string; tokenizerSha256: string }> {
  const pinnedDir = textModelDir({ ...process.env, SGFD_TEXT_MODEL_DIR: '' });
  if (resolve(dir) === resolve(pinnedDir)) {
    return { modelSha256: TEXT_MODEL.files.model.sha256, tokenizerSha256: TEXT_MODEL.files.tokenizer.sha256 };
  }
  const hash = async (name: string) => {
    const file = join(dir, name);
    try {
      return await sha256OfFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError('Missing text model file', {
        file,
        expected: `the text model's ${name} (see SGFD_TEXT_MODEL_DIR)`,
        found: code === 'ENOENT' ? 'no such file' : String(code ?? err),
      });
    }
  };
  return { modelSha256: await hash(TEXT_MODEL_FILES.model), tokenizerSha256: await hash(TEXT_MODEL_FILES.tokenizer) };
}
