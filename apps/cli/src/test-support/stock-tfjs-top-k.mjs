// Scores an exported model with stock tools only (no code of this project): @tensorflow/tfjs loads the
// TF.js layers model from its files, hyparquet reads the Parquet representations and the score is taken
// from scoring.json's formula. Usage: node stock-tfjs-top-k.mjs <export dir> <k> <user>...; prints JSON.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parquetReadObjects } from 'hyparquet';

const [dir, kText, ...users] = process.argv.slice(2);
const k = Number(kText);
await tf.setBackend('cpu');

const manifest = JSON.parse(await readFile(join(dir, 'tfjs', 'model.json'), 'utf8'));
const weights = await readFile(join(dir, 'tfjs', manifest.weightsManifest[0].paths[0]));
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: manifest.modelTopology,
    weightSpecs: manifest.weightsManifest[0].weights,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  }),
);
const scores = model.predict(tf.tensor2d(users.map(Number), [users.length, 1]));
const { values, indices } = tf.topk(scores, k);
const fromTfjs = { items: await indices.array(), scores: await values.array() };

const spec = JSON.parse(await readFile(join(dir, 'scoring.json'), 'utf8'));
const table = async (name) => {
  const bytes = await readFile(join(dir, name));
  return parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
};
const userRows = await table(spec.files.users);
const itemRows = await table(spec.files.items);
const fromParquet = users.map((u) => {
  const vector = userRows[Number(u)].vector;
  const ranked = itemRows
    .map((row, i) => ({ i, s: row.vector.reduce((sum, x, j) => sum + x * vector[j], 0) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, k);
  return ranked.map((r) => r.i);
});
process.stdout.write(JSON.stringify({ fromTfjs, fromParquet, score: spec.score, tfjs: spec.tfjs }));
