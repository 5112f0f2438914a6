import type { ScoringRepresentations } from '@sgfd/contracts';
import { tf, xavierUniform, type Rng, type SparseMatrix } from '@sgfd/tensor';
import { z } from 'zod';
import type { BackboneContext, BackboneData, BackboneLoss, ProjectedRows, Scorer, TrainBatch } from '../backbone';
import { BaseBackbone } from '../base-backbone';
import { bipartiteAdjacency, symmetricEdgeWeights, userItemEdges, type UserItemEdges } from '../graph/adjacency';
import { weightedSampleWithoutReplacement } from '../graph/edge-sampling';
import { normalizedKnnAdjacency } from '../graph/knn';
import { resolveKnnGraph, type KnnGraphSpec } from '../graph/knn-source';
import { lightGcnMeanOfBlocks, propagate } from '../graph/lightgcn';
import { weightedSparseSum } from '../graph/sparse-sum';
import { tidyObject } from '../ops';
import { createVariable, type NamedVariables } from '../params';
import { LinearProjection } from '../projection';
import type { BackboneDefinition } from '../registry';
import type { PerModality } from '../model-types';
import { DistinctItems } from './batch-items';
import {
  bprLoss,
  bprSoftplusTerms,
  dotRepresentations,
  dotScorer,
  presentModalities,
  projectItemRows,
  torchLinearInit,
} from './shared';

/**
 * MMRec's FREEDOM.yaml: embedding_size 64, knn_k 10, n_mm_layers 1, n_ui_layers 2, mm_image_weight 0.1,
 * dropout searched over [0.8, 0.9], reg_weight over [0, 1e-5, 1e-4, 1e-3] (see docs/backbones.md).
 */
export const FreedomParamsSchema = z
  .object({
    embeddingSize: z
      .number()
      .int()
      .positive()
      .default(64)
      .meta({ description: "also the projection output (MMRec's `feat_embed_dim`, which must equal it)" }),
    /** Neighbours per item in the frozen item-item graph. */
    knnK: z.number().int().positive().default(10).meta({ description: 'neighbours in the frozen item graph' }),
    /** Propagation steps over the item-item graph. */
    nMmLayers: z.number().int().nonnegative().default(1).meta({ description: 'item-graph propagation steps' }),
    /** LightGCN layers over the user-item graph. */
    nUiLayers: z.number().int().nonnegative().default(2).meta({ description: 'LightGCN layers' }),
    /** Weight of the image kNN graph in the item-item graph (text gets 1 - it). */
    mmImageWeight: z.number().min(0).max(1).default(0.1).meta({ description: 'image graph weight (text 0.9)' }),
    /** Fraction of user-item edges pruned each epoch (degree-sensitive). */
    dropout: z
      .number()
      .min(0)
      .lt(1)
      .default(0.8)
      .meta({ description: 'share of user-item edges pruned each epoch', grid: '0.8, 0.9' }),
    /** Weight of the BPR losses on the projected text and image features. */
    regWeight: z
      .number()
      .nonnegative()
      .default(1e-3)
      .meta({ description: 'weight of the BPR losses on the projected features', grid: '0, 1e-5, 1e-4, 1e-3' }),
  })
  .strict();
export type FreedomParams = z.infer<typeof FreedomParamsSchema>;

function knnSpecs(params: FreedomParams, data: BackboneData): KnnGraphSpec[] {
  return presentModalities(data, 'FREEDOM').map((modality) => ({ modality, k: params.knnK, similarity: 'cosine' }));
}

/**
 * FREEDOM (Zhou et al., MM'23) as MMRec: an item-item graph built once from the raw features (cosine kNN
 * per modality, D^-1/2 A D^-1/2 of the unweighted kNN adjacency, image 0.1 / text 0.9) and frozen; every
 * epoch the user-item graph loses `dropout` of its edges, the kept ones drawn without replacement with
 * probability proportional to 1/sqrt(d_u d_i) and renormalised; LightGCN with layer mean over it; item =
 * LightGCN item + item ids propagated over the item graph; loss BPR + reg_weight * (BPR with the projected
 * text + BPR with the projected image as items); the full graph at inference. The text/image projections
 * (MMRec's text_trs / image_trs) are the SGFD slots. Raw features stay fixed (MMRec fine-tunes them).
 */
export class Freedom extends BaseBackbone {
  readonly name = 'freedom';
  readonly usesNegatives = true;
  readonly projectionDim: number;
  private readonly userEmbedding: tf.Variable;
  private readonly itemEmbedding: tf.Variable;
  private readonly edges: UserItemEdges;
  /** 1/sqrt(d_u d_i) of every training edge: the sampling weights of the pruning. */
  private readonly edgeWeights: Float32Array;
  private readonly fullAdjacency: SparseMatrix;
  /** The user-item graph of the current epoch (the full one until the first epoch starts). */
  private trainAdjacency: SparseMatrix;
  private readonly itemGraph: SparseMatrix;
  private readonly distinct: DistinctItems;
  private readonly nUsers: number;

  constructor(context: BackboneContext<FreedomParams>) {
    super(context.features, context.params);
    const { data, params, rng, features } = context;
    const d = params.embeddingSize;
    this.projectionDim = d;
    this.nUsers = data.nUsers;
    const modalities = presentModalities(data, 'FREEDOM');
    this.userEmbedding = createVariable(xavierUniform(rng, [data.nUsers, d]));
    this.itemEmbedding = createVariable(xavierUniform(rng, [data.nItems, d]));
    for (const m of modalities)
      this.slots[m] = new LinearProjection(data.featureDims[m]!, d, rng, torchLinearInit(data.featureDims[m]!));
    this.edges = userItemEdges(data.trainCsr, data.nUsers, data.nItems);
    this.edgeWeights = symmetricEdgeWeights(this.edges);
    this.fullAdjacency = bipartiteAdjacency(this.edges, this.edgeWeights);
    this.trainAdjacency = this.fullAdjacency;
    const graphs = knnSpecs(params, data).map((spec) => ({
      modality: spec.modality,
      matrix: normalizedKnnAdjacency(resolveKnnGraph(context.knnGraphs, features, spec), 'ones'),
    }));
    this.itemGraph =
      graphs.length === 1
        ? graphs[0].matrix
        : weightedSparseSum(
            graphs.map((g) => ({
              matrix: g.matrix,
              weight: g.modality === 'image' ? params.mmImageWeight : 1 - params.mmImageWeight,
            })),
          );
    this.distinct = new DistinctItems(data.nItems);
  }

  private get p(): FreedomParams {
    return this.params as FreedomParams;
  }

  protected ownWeights(): NamedVariables {
    return { 'user.embedding': this.userEmbedding, 'item.embedding': this.itemEmbedding };
  }

  /** Degree-sensitive edge pruning: the training graph of this epoch. */
  onEpochStart(_epoch: number, rng: Rng): void {
    if (this.p.dropout <= 0) {
      this.trainAdjacency = this.fullAdjacency;
      return;
    }
    const keep = weightedSampleWithoutReplacement(
      this.edgeWeights,
      Math.floor(this.edgeWeights.length * (1 - this.p.dropout)),
      rng,
    );
    const kept: UserItemEdges = {
      users: Int32Array.from(keep, (e) => this.edges.users[e]),
      items: Int32Array.from(keep, (e) => this.edges.items[e]),
      nUsers: this.edges.nUsers,
      nItems: this.edges.nItems,
    };
    this.trainAdjacency = bipartiteAdjacency(kept, symmetricEdgeWeights(kept));
  }

  /** Users and items after LightGCN over `adjacency`, items plus their ids propagated over the item graph. */
  private forward(adjacency: SparseMatrix): { users: tf.Tensor2D; items: tf.Tensor2D } {
    return tidyObject(() => {
      const h = propagate(this.itemGraph, this.itemEmbedding as tf.Tensor2D, this.p.nMmLayers);
      const { users, items } = lightGcnMeanOfBlocks(
        adjacency,
        this.userEmbedding as tf.Tensor2D,
        this.itemEmbedding as tf.Tensor2D,
        this.p.nUiLayers,
      );
      return { users, items: tf.add(items, h) as tf.Tensor2D };
    });
  }

  loss(batch: TrainBatch): BackboneLoss {
    if (!batch.negItems) throw new Error('FREEDOM needs negative items in every batch');
    const { distinct, positions } = this.distinct.index(batch.items, batch.negItems);
    return tidyObject(() => {
      const { users, items } = this.forward(this.trainAdjacency);
      const ids = { users: batch.users, items: batch.items, negItems: batch.negItems! };
      const mf = bprSoftplusTerms(users, items, ids).bpr;
      const u = tf.gather(users, tf.tensor1d(batch.users, 'int32')) as tf.Tensor2D;
      const itemIds = tf.tensor1d(distinct, 'int32');
      const posAt = tf.tensor1d(positions[0], 'int32');
      const negAt = tf.tensor1d(positions[1], 'int32');
      const projected: PerModality<ProjectedRows> = {};
      const modal: tf.Scalar[] = [];
      for (const m of this.projectionSlots) {
        projected[m] = projectItemRows(this.slots[m]!, this.features[m]!, itemIds);
        const features = projected[m]!.features;
        modal.push(bprLoss(u, tf.gather(features, posAt), tf.gather(features, negAt)));
      }
      const modalBpr = tf.addN(modal) as tf.Scalar;
      const total = tf.add(mf, tf.mul(modalBpr, this.p.regWeight)) as tf.Scalar;
      return { total, parts: { 'freedom.bpr': mf, 'freedom.modalBpr': modalBpr }, projected };
    });
  }

  scorer(): Scorer {
    const { users, items } = this.forward(this.fullAdjacency);
    return dotScorer(users, items);
  }

  representations(): ScoringRepresentations {
    const { users, items } = this.forward(this.fullAdjacency);
    try {
      return dotRepresentations(users, items);
    } finally {
      tf.dispose([users, items]);
    }
  }
}

export const freedomDefinition: BackboneDefinition<FreedomParams> = {
  name: 'freedom',
  paramsSchema: FreedomParamsSchema,
  create: (context) => new Freedom(context),
  slots: { title: 'FREEDOM', slot: '`image_trs`, `text_trs`', consumedBy: 'the BPR losses on the projected features' },
  knnGraphs: knnSpecs,
  gradientCheck: {
    params: { embeddingSize: 2, knnK: 3, nMmLayers: 1, nUiLayers: 2, mmImageWeight: 0.1, dropout: 0.5, regWeight: 0.3 },
  },
};
