import { MODALITIES, type ScoringRepresentations } from '@sgfd/contracts';
import { dropoutMask, spmm, tf, xavierUniform, type CsrStructure, type Rng, type SparseMatrix } from '@sgfd/tensor';
import { z } from 'zod';
import type { BackboneContext, BackboneLoss, ProjectedRows, Scorer, TrainBatch } from '../backbone';
import { BaseBackbone } from '../base-backbone';
import { bipartiteAdjacency, symmetricEdgeWeights, userItemEdges } from '../graph/adjacency';
import { Dense } from '../layers';
import { cosineSimilarityRows, frobeniusNorm, readAndDispose, stopGradient, tidyObject } from '../ops';
import { createVariable, prefixed, type NamedVariables } from '../params';
import { LinearProjection } from '../projection';
import type { BackboneDefinition } from '../registry';
import type { PerModality } from '../model-types';
import { dotRepresentations, projectItemRows } from './shared';

/** MMRec's BM3.yaml: embedding 64, n_layers [1, 2], dropout [0.3, 0.5], reg_weight [0.1, 0.01], cl_weight 2. */
export const Bm3ParamsSchema = z
  .object({
    embeddingSize: z.number().int().positive().default(64),
    /** LightGCN layers over the user-item graph. */
    nLayers: z.number().int().nonnegative().default(1).meta({ description: 'LightGCN layers', grid: '1, 2' }),
    /** Dropout that makes the target views. */
    dropout: z.number().min(0).lt(1).default(0.5).meta({ description: 'target-view dropout', grid: '0.3, 0.5' }),
    /** Weight of EmbLoss on the propagated embeddings. */
    regWeight: z.number().nonnegative().default(0.1).meta({ description: 'EmbLoss weight', grid: '0.1, 0.01' }),
    /** Weight of the modality alignment losses. */
    clWeight: z.number().nonnegative().default(2).meta({ description: 'modality alignment losses' }),
  })
  .strict();
export type Bm3Params = z.infer<typeof Bm3ParamsSchema>;

/**
 * The symmetric normalised adjacency D^-1/2 A D^-1/2 of the user-item training graph (users first, then
 * items), degrees + 1e-7 as MMRec.
 */
export function normalizedAdjacency(trainCsr: CsrStructure, nUsers: number, nItems: number): SparseMatrix {
  const edges = userItemEdges(trainCsr, nUsers, nItems);
  return bipartiteAdjacency(edges, symmetricEdgeWeights(edges));
}

/**
 * BM3 (Zhou et al., WWW'23) as MMRec: LightGCN over the id embeddings (mean of the layers, plus the item
 * id embedding as a residual), one shared predictor, target views made by dropout with stop-gradient,
 * and cosine losses between online and target views of users, items and each modality's projection; no
 * negatives. The modality projections (MMRec's image_trs / text_trs) are the SGFD slots. Raw features stay
 * fixed, as in the SGFD authors' BM3 (MMRec fine-tunes them), so control and SGFD arms differ only in
 * the extractor.
 */
export class Bm3 extends BaseBackbone {
  readonly name = 'bm3';
  readonly usesNegatives = false;
  readonly projectionDim: number;
  private readonly userEmbedding: tf.Variable;
  private readonly itemEmbedding: tf.Variable;
  private readonly predictor: Dense;
  private readonly adjacency: SparseMatrix;
  private readonly rng: Rng;
  private readonly nUsers: number;
  private readonly nItems: number;

  constructor(context: BackboneContext<Bm3Params>) {
    super(context.features, context.params);
    const { data, params, rng } = context;
    const d = params.embeddingSize;
    this.projectionDim = d;
    this.nUsers = data.nUsers;
    this.nItems = data.nItems;
    this.rng = rng;
    this.userEmbedding = createVariable(xavierUniform(rng, [data.nUsers, d]));
    this.itemEmbedding = createVariable(xavierUniform(rng, [data.nItems, d]));
    this.predictor = new Dense(d, d, rng, { kernelInit: 'xavierNormal', biasInit: 'torchDefault' });
    for (const m of MODALITIES) {
      const dim = data.featureDims[m];
      if (dim !== undefined)
        this.slots[m] = new LinearProjection(dim, d, rng, { kernelInit: 'xavierNormal', biasInit: 'torchDefault' });
    }
    this.adjacency = normalizedAdjacency(data.trainCsr, data.nUsers, data.nItems);
  }

  private get p(): Bm3Params {
    return this.params as Bm3Params;
  }

  protected ownWeights(): NamedVariables {
    return {
      'user.embedding': this.userEmbedding,
      'item.embedding': this.itemEmbedding,
      ...prefixed('predictor', this.predictor.weights),
    };
  }

  /** LightGCN: mean over layers 0..L of A^l [U; I]; items get their id embedding added back. */
  private propagate(): { users: tf.Tensor2D; items: tf.Tensor2D } {
    return tidyObject(() => {
      let ego = tf.concat([this.userEmbedding, this.itemEmbedding], 0) as tf.Tensor2D;
      const layers = [ego];
      for (let l = 0; l < this.p.nLayers; l++) {
        ego = spmm(this.adjacency, ego);
        layers.push(ego);
      }
      const mean = layers.length === 1 ? ego : (tf.div(tf.addN(layers), layers.length) as tf.Tensor2D);
      const d = this.projectionDim;
      const users = tf.slice(mean, [0, 0], [this.nUsers, d]);
      const items = tf.add(tf.slice(mean, [this.nUsers, 0], [this.nItems, d]), this.itemEmbedding) as tf.Tensor2D;
      return { users, items };
    });
  }

  /** A detached, dropped-out copy: BM3's target view. */
  private target(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(stopGradient(x), dropoutMask(this.rng, x.shape, this.p.dropout)) as tf.Tensor2D;
  }

  loss(batch: TrainBatch): BackboneLoss {
    return tidyObject(() => {
      const { users: allUsers, items: allItems } = this.propagate();
      const userIds = tf.tensor1d(batch.users, 'int32');
      const itemIds = tf.tensor1d(batch.items, 'int32');
      const u = tf.gather(allUsers, userIds) as tf.Tensor2D;
      const i = tf.gather(allItems, itemIds) as tf.Tensor2D;
      const uTarget = this.target(u);
      const iTarget = this.target(i);
      const one = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.sub(1, tf.mean(cosineSimilarityRows(a, b))) as tf.Scalar;
      const ui = tf.add(one(this.predictor.apply(u), iTarget), one(this.predictor.apply(i), uTarget)) as tf.Scalar;

      const projected: PerModality<ProjectedRows> = {};
      const alignment: tf.Scalar[] = [];
      for (const m of this.projectionSlots) {
        projected[m] = projectItemRows(this.slots[m]!, this.features[m]!, itemIds);
        const features = projected[m]!.features;
        const online = this.predictor.apply(features);
        alignment.push(one(online, iTarget), one(online, this.target(features)));
      }
      const cl = alignment.length ? (tf.addN(alignment) as tf.Scalar) : tf.scalar(0);
      // MMRec's EmbLoss on the full propagated matrices, over the item count.
      const reg = tf.div(tf.add(frobeniusNorm(allUsers), frobeniusNorm(allItems)), this.nItems) as tf.Scalar;
      const total = tf.addN([ui, tf.mul(reg, this.p.regWeight), tf.mul(cl, this.p.clWeight)]) as tf.Scalar;
      return { total, parts: { 'bm3.ui': ui, 'bm3.cl': cl, 'bm3.reg': reg }, projected };
    });
  }

  scorer(): Scorer {
    const { users, itemsT } = tidyObject(() => {
      const { users: u, items: i } = this.propagate();
      return { users: this.predictor.apply(u), itemsT: tf.transpose(this.predictor.apply(i)) };
    });
    return {
      scoreUsers: (ids: Int32Array) =>
        readAndDispose(tf.tidy(() => tf.matMul(tf.gather(users, tf.tensor1d(ids, 'int32')), itemsT))),
      dispose: () => tf.dispose([users, itemsT]),
    };
  }

  representations(): ScoringRepresentations {
    const { users, items } = tidyObject(() => {
      const { users: u, items: i } = this.propagate();
      return { users: this.predictor.apply(u), items: this.predictor.apply(i) };
    });
    try {
      return dotRepresentations(users, items);
    } finally {
      tf.dispose([users, items]);
    }
  }
}

export const bm3Definition: BackboneDefinition<Bm3Params> = {
  name: 'bm3',
  paramsSchema: Bm3ParamsSchema,
  create: (context) => new Bm3(context),
  slots: { title: 'BM3', slot: '`image_trs`, `text_trs`', consumedBy: 'the shared predictor and the alignment losses' },
  // Stop-gradient targets and dropout: the regulariser checks the graph path, without dropout.
  gradientCheck: { params: { embeddingSize: 2, nLayers: 2, dropout: 0 }, part: 'bm3.reg' },
};
