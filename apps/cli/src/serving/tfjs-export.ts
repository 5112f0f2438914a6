// A real TF.js layers model of a dot-product scorer: user index -> Embedding (the user vectors) -> Dense
// without bias whose kernel is the item vectors transposed -> score of every item. Stock TF.js
// (`tf.loadLayersModel`) and its converters load it; no code of this project is needed to score.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type ScoringRepresentations } from '@sgfd/contracts';

export const TFJS_MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

function joinWeights(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

/** Writes `model.json` + `weights.bin` (TF.js's layers-model format) into `dir`. */
export async function writeTfjsLayersModel(dir: string, representations: ScoringRepresentations): Promise<void> {
  if (representations.form !== 'dot') {
    throw new ConfigError(
      "MAML's score is an attention over each (user, item) pair, not a product of two vectors: it has no TF.js " +
        'layers export here; --format parquet writes its representations and scoring.json (the formula)',
      { field: '--format', expected: 'parquet for a MAML model', found: 'tfjs-layers' },
    );
  }
  const { users, items } = representations;
  const { tf } = await import('@sgfd/tensor');
  const userVectors = tf.tensor2d(users.data, [users.rows, users.cols]);
  const itemVectorsT = tf.tidy(() => tf.transpose(tf.tensor2d(items.data, [items.rows, items.cols])));
  // The layers copy the weights into their own variables.
  const model = (() => {
    const m = tf.sequential({ name: 'sgfd_scorer' });
    m.add(
      tf.layers.embedding({
        name: 'user_vectors',
        inputDim: users.rows,
        outputDim: users.cols,
        inputLength: 1,
        weights: [userVectors],
      }),
    );
    m.add(tf.layers.flatten({ name: 'user_vector' }));
    m.add(tf.layers.dense({ name: 'item_scores', units: items.rows, useBias: false, weights: [itemVectorsT] }));
    return m;
  })();
  tf.dispose([userVectors, itemVectorsT]);
  try {
    await mkdir(dir, { recursive: true });
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const manifest = {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
        };
        await writeFile(join(dir, WEIGHTS_FILE), joinWeights(artifacts.weightData as ArrayBuffer | ArrayBuffer[]));
        await writeFile(join(dir, TFJS_MODEL_FILE), JSON.stringify(manifest));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    model.dispose();
  }
}
