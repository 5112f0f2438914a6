import { createHash } from 'node:crypto';
import { ConfigError } from '@sgfd/contracts';
import type { CatalogueItems } from '@sgfd/data';
import { sha256OfFile } from '../file-hash';
import type { ModalityEncoder, PreparedItem } from '../modality-encoder';
import { SentenceEncoder } from './sentence-encoder';
import { TEXT_MODEL, TEXT_MODEL_FILES, textModelDir } from './text-model';
import { join } from 'node:path';

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

export async function createTextEncoder(
  settings: TextSettings,
  options: { modelDir?: string; threads?: number } = {},
): Promise<ModalityEncoder<string>> {
  if (settings.columns.length === 0) {
    throw new ConfigError('No text columns', { field: 'text.columns', expected: 'at least one text column' });
  }
  const dir = options.modelDir ?? textModelDir();
  const encoder = await SentenceEncoder.load({ dir, maxTokens: settings.maxTokens, threads: options.threads });
  const modelSha256 = await sha256OfFile(join(dir, TEXT_MODEL_FILES.model));
  return {
    modality: 'text',
    dim: encoder.dim,
    identity: { encoder: TEXT_MODEL.name, modelSha256, pooling: 'mean, L2-normalised', ...settings },
    async prepare(items, i): Promise<PreparedItem<string>> {
      const text = itemText(items, i, settings);
      return { hash: createHash('sha256').update(text).digest('hex'), input: text };
    },
    encode: async (texts) => ({ features: await encoder.encode(texts), failed: [] }),
    dispose: () => encoder.dispose(),
  };
}
