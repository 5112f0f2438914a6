import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { ConfigError } from '@sgfd/contracts';
import { openOnnxSession } from '../onnx-session';
import { TEXT_MODEL_FILES } from './text-model';

// The tokenizer JSON carries no tokenizer_config.json: without the special tokens padding fails.
const BERT_TOKENIZER_CONFIG = {
  model_max_length: 512,
  do_lower_case: true,
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
};

export interface SentenceEncoderOptions {
  /** Directory with model.onnx and tokenizer.json (see textModelDir). */
  dir: string;
  /** Longest input in tokens, [CLS] and [SEP] included; longer texts are cut (sentence-transformers: 256). */
  maxTokens: number;
  /** Texts per forward pass. */
  batchSize?: number;
  /** ONNX Runtime threads per op (default: ONNX Runtime's choice, every core). */
  threads?: number;
}

/** A ConfigError unless `maxTokens` is a truncation the model takes. */
export function checkMaxTokens(maxTokens: number): void {
  if (!(Number.isInteger(maxTokens) && maxTokens >= 3 && maxTokens <= 512)) {
    throw new ConfigError('Invalid text truncation', {
      field: 'text.maxTokens',
      expected: 'an integer in [3, 512] (tokens, [CLS] and [SEP] included)',
      found: String(maxTokens),
    });
  }
}

/**
 * A BERT-style sentence encoder on ONNX Runtime: token embeddings averaged over the attention mask, then
 * L2-normalised (what sentence-transformers does for all-MiniLM-L6-v2).
 */
export class SentenceEncoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly padId: number,
    readonly dim: number,
    private readonly options: SentenceEncoderOptions,
  ) {}

  static async load(options: SentenceEncoderOptions): Promise<SentenceEncoder> {
    const modelPath = join(options.dir, TEXT_MODEL_FILES.model);
    const tokenizerPath = join(options.dir, TEXT_MODEL_FILES.tokenizer);
    checkMaxTokens(options.maxTokens);
    let json: object;
    try {
      json = JSON.parse(await readFile(tokenizerPath, 'utf8')) as object;
    } catch (err) {
      throw new ConfigError('Unreadable tokenizer', {
        file: tokenizerPath,
        expected: 'a Hugging Face tokenizer.json',
        found: (err as Error).message,
      });
    }
    const tokenizer = new Tokenizer(json, BERT_TOKENIZER_CONFIG);
    const session = await openOnnxSession(modelPath, {
      inputs: ['input_ids', 'attention_mask'],
      output: 'last_hidden_state',
      threads: options.threads,
    });
    const padId = tokenizer.encode('[PAD]', { add_special_tokens: false }).ids[0] ?? 0;
    const probe = await new SentenceEncoder(session, tokenizer, padId, 0, options).run(['probe']);
    return new SentenceEncoder(session, tokenizer, padId, probe.dim, options);
  }

  /** Row-major [texts.length, dim] unit vectors. */
  async encode(texts: string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    const batch = this.options.batchSize ?? 32;
    for (let start = 0; start < texts.length; start += batch) {
      const { data } = await this.run(texts.slice(start, start + batch));
      out.set(data, start * this.dim);
    }
    return out;
  }

  /** Token ids of a text as the model sees it: with [CLS] ... [SEP], cut to maxTokens. */
  tokenIds(text: string): number[] {
    const ids = this.tokenizer.encode(text).ids;
    const max = this.options.maxTokens;
    return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]!];
  }

  private async run(texts: string[]): Promise<{ data: Float32Array; dim: number }> {
    const encoded = texts.map((t) => this.tokenIds(t));
    const n = texts.length;
    const length = Math.max(...encoded.map((ids) => ids.length));
    const ids = new BigInt64Array(n * length).fill(BigInt(this.padId));
    const mask = new BigInt64Array(n * length);
    encoded.forEach((row, r) =>
      row.forEach((id, j) => {
        ids[r * length + j] = BigInt(id);
        mask[r * length + j] = 1n;
      }),
    );
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [n, length]),
      attention_mask: new ort.Tensor('int64', mask, [n, length]),
    };
    if (this.session.inputNames.includes('token_type_ids'))
      feeds['token_type_ids'] = new ort.Tensor('int64', new BigInt64Array(n * length), [n, length]);
    const result = await this.session.run(feeds);
    const hidden = result['last_hidden_state']!;
    try {
      const dim = hidden.dims[2]!;
      return { data: meanPoolNormalized(hidden.data as Float32Array, encoded, length, dim), dim };
    } finally {
      for (const tensor of Object.values(result)) tensor.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Mean of each row's unpadded token vectors, scaled to unit length. */
export function meanPoolNormalized(hidden: Float32Array, rows: number[][], length: number, dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((tokens, r) => {
    const target = out.subarray(r * dim, (r + 1) * dim);
    for (let j = 0; j < tokens.length; j++) {
      const offset = (r * length + j) * dim;
      for (let d = 0; d < dim; d++) target[d] += hidden[offset + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      target[d] /= tokens.length;
      norm += target[d]! * target[d]!;
    }
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < dim; d++) target[d] *= scale;
  });
  return out;
}
