import type { ScoringRepresentations } from '@sgfd/contracts';
import {
  edgeDots,
  sparsePatternFromCoo,
  spmm,
  symmetricNormalize,
  tf,
  weightedSpmm,
  xavierUniform,
  type SparseMatrix,
} from '@sgfd/tensor';
import { z } from 'zod';
import type { BackboneContext, BackboneData, BackboneLoss, ProjectedRows, Scorer, TrainBatch } from '../backbone';
import { BaseBackbone } from '../base-backbone';
import { randomWalkAdjacencyWithSelfLoops, userItemEdges } from '../graph/adjacency';
import { knnCoo, knnGraph, normalizedKnnAdjacency } from '../graph/knn';
import { resolveKnnGraph, type KnnGraphSpec } from '../graph/knn-source';
import { lightGcnMeanOfBlocks } from '../graph/lightgcn';
import { l2NormalizeRows, tidyObject } from '../ops';
import { createVariable, type NamedVariables } from '../params';
import { LinearProjection } from '../projection';
import type { BackboneDefinition } from '../registry';
import type { PerModality } from '../model-types';
import { DistinctItems } from './batch-items';
import {
  bprSoftplusTerms,
  dotRepresentations,
  dotScorer,
  presentModalities,
  projectItemRows,
  torchLinearInit,
} from './shared';

/**
 * MMRec's LATTICE.yaml: embedding_size 64, feat_embed_dim 64, weight_size [64, 64] (two LightGCN layers),
 * knn_k 10, lambda_coeff 0.9, n_layers 1, cf_model lightgcn, reg_weight searched over [0, 1e-5, 1e-4, 1e-3]
 * and learning_rate over [1e-4, 5e-4, 1e-3, 5e-3].
 */
export const LatticeParamsSchema = z
  .object({
    embeddingSize: z.number().int().positive().default(64),
    /** Output width of the feature projections (the SGFD slots); only their cosine similarities are used. */
    featEmbedDim: z
      .number()
      .int()
      .positive()
      .default(64)
      .meta({ description: 'projection output (only its cosine similarities are used)' }),
    knnK: z
      .number()
      .int()
      .positive()
      .default(10)
      .meta({ description: 'neighbours in the original and learned item graphs' }),
    /** Weight of the original (raw-feature) graph in the mixed item graph. */
    lambdaCoeff: z
      .number()
      .min(0)
      .max(1)
      .default(0.9)
      .meta({ description: 'weight of the original graph in the mixed item graph' }),
    /** Propagation steps over the item graph. */
    nLayers: z.number().int().nonnegative().default(1).meta({ description: 'item-graph propagation steps' }),
    /** LightGCN layers over the user-item graph (the length of MMRec's weight_size). */
    nUiLayers: z
      .number()
      .int()
      .nonnegative()
      .default(2)
      .meta({ description: "LightGCN layers (MMRec's `weight_size` [64, 64])" }),
    regWeight: z
      .number()
      .nonnegative()
      .default(1e-4)
      .meta({ grid: '0, 1e-5, 1e-4, 1e-3 (x learning rate 1e-4, 5e-4, 1e-3, 5e-3)' }),
  })
  .strict();
export type LatticeParams = z.infer<typeof LatticeParamsSchema>;

function knnSpecs(params: LatticeParams, data: BackboneData): KnnGraphSpec[] {
  return presentModalities(data, 'LATTICE').map((modality) => ({ modality, k: params.knnK, similarity: 'cosine' }));
}

/** The mixed item graph of one epoch: its pattern and (learnable) values. */
interface ItemGraph {
  pattern: SparseMatrix;
  values: tf.Tensor1D;
}

/**
 * LATTICE (Zhang et al., MM'21) as MMRec with cf_model lightgcn. Per modality an original item graph from
 * the raw features (cosine kNN, k = 10, similarity-weighted, D^-1/2 A D^-1/2) and a learned one from the
 * projected features (cosine kNN of the projections, weighted by their similarity, so gradients reach
 * the projections through the kept edges); modality weights softmax(w); item graph = (1 - lambda)
 * norm(sum_m w_m learned_m) + lambda sum_m w_m original_m. The learned graph is rebuilt (with gradients)
 * in the first batch of every epoch and kept, detached, for the rest of it, as MMRec does. Items:
 * LightGCN over D^-1 (A + I) of the user-item graph (layer mean) + norm(item ids propagated over the item
 * graph); BPR + reg_weight * (1/2)(|u|^2 + |i+|^2 + |i-|^2) / batch. The feature projections (MMRec's
 * image_trs / text_trs) are the SGFD slots. Raw features stay fixed (MMRec fine-tunes them).
 */
export class Lattice extends BaseBackbone {
  readonly name = 'lattice';
  readonly usesNegatives = true;
  readonly projectionDim: number;
  private readonly userEmbedding: tf.Variable;
  private readonly itemEmbedding: tf.Variable;
  /** Softmax of it weighs the modalities (MMRec's modal_weight, initialised to 0.5 each). */
  private readonly modalWeight: tf.Variable;
  private readonly adjacency: SparseMatrix;
  /** Per modality, the normalised original graph's entries. */
  private readonly original: PerModality<{ rows: Int32Array; cols: Int32Array; values: tf.Tensor1D }> = {};
  /** The item graph of the current epoch, detached; null until its first batch builds it. */
  private itemGraph: SparseMatrix | null = null;
  private readonly distinct: DistinctItems;
  private readonly nUsers: number;
  private readonly nItems: number;

  constructor(context: BackboneContext<LatticeParams>) {
    super(context.features, context.params);
    const { data, params, rng, features } = context;
    this.projectionDim = params.featEmbedDim;
    this.nUsers = data.nUsers;
    this.nItems = data.nItems;
    const modalities = presentModalities(data, 'LATTICE');
    this.userEmbedding = createVariable(xavierUniform(rng, [data.nUsers, params.embeddingSize]));
    this.itemEmbedding = createVariable(xavierUniform(rng, [data.nItems, params.embeddingSize]));
    for (const m of modalities)
      this.slots[m] = new LinearProjection(
        data.featureDims[m]!,
        params.featEmbedDim,
        rng,
        torchLinearInit(data.featureDims[m]!),
      );
    this.modalWeight = createVariable(tf.fill([modalities.length], 0.5));
    for (const spec of knnSpecs(params, data)) {
      const graph = normalizedKnnAdjacency(resolveKnnGraph(context.knnGraphs, features, spec), 'similarity');
      this.original[spec.modality] = {
        rows: graph.rows,
        cols: graph.indices,
        values: tf.tensor1d(graph.requireValues('LATTICE')),
      };
    }
    this.adjacency = randomWalkAdjacencyWithSelfLoops(userItemEdges(data.trainCsr, data.nUsers, data.nItems));
    this.distinct = new DistinctItems(data.nItems);
  }

  private get p(): LatticeParams {
    return this.params as LatticeParams;
  }

  protected ownWeights(): NamedVariables {
    return {
      'user.embedding': this.userEmbedding,
      'item.embedding': this.itemEmbedding,
      modalWeight: this.modalWeight,
    };
  }

  /** MMRec's pre_epoch_processing: the next batch rebuilds the learned graph. */
  onEpochStart(): void {
    this.itemGraph = null;
  }

  /**
   * The mixed item graph from the current projections, differentiable in the projections and the
   * modality weights. The kNN selection itself runs in blocks and carries no gradient.
   */
  private buildItemGraph(): ItemGraph {
    const built: { pattern?: SparseMatrix } = {};
    const values = tf.tidy(() => {
      const weights = tf.unstack(tf.softmax(this.modalWeight)) as tf.Scalar[];
      // Learned graphs: cosine kNN of each modality's projections, weighted by those similarities.
      const learned = this.projectionSlots.map((m, k) => {
        const projected = l2NormalizeRows(this.slots[m]!.apply(this.features[m]!));
        const { rows, cols } = knnCoo(knnGraph(projected, this.p.knnK), 'ones');
        const own = sparsePatternFromCoo(rows, cols, this.nItems, this.nItems).pattern;
        return {
          rows: own.rows,
          cols: own.indices,
          values: tf.mul(edgeDots(own, projected, projected), weights[k]) as tf.Tensor1D,
        };
      });
      const mixed = this.merge(learned);
      const lambda = this.p.lambdaCoeff;
      const all = this.merge([
        {
          rows: mixed.pattern.rows,
          cols: mixed.pattern.indices,
          values: tf.mul(symmetricNormalize(mixed.pattern, mixed.values), 1 - lambda) as tf.Tensor1D,
        },
        ...this.projectionSlots.map((m, k) => {
          const o = this.original[m]!;
          return { rows: o.rows, cols: o.cols, values: tf.mul(o.values, tf.mul(weights[k], lambda)) as tf.Tensor1D };
        }),
      ]);
      built.pattern = all.pattern;
      return all.values;
    });
    return { pattern: built.pattern!, values };
  }

  /** The sum of sparse matrices given as entries with tensor values, on their merged pattern (call inside a tidy). */
  private merge(parts: ReadonlyArray<{ rows: Int32Array; cols: Int32Array; values: tf.Tensor1D }>): ItemGraph {
    const n = parts.reduce((s, p) => s + p.rows.length, 0);
    const rows = new Int32Array(n);
    const cols = new Int32Array(n);
    let at = 0;
    for (const p of parts) {
      rows.set(p.rows, at);
      cols.set(p.cols, at);
      at += p.rows.length;
    }
    const { pattern, slotOf } = sparsePatternFromCoo(rows, cols, this.nItems, this.nItems);
    const values = tf.unsortedSegmentSum(
      tf.concat(parts.map((p) => p.values)),
      tf.tensor1d(slotOf, 'int32'),
      pattern.nnz,
    ) as tf.Tensor1D;
    return { pattern, values };
  }

  /** Users and items: LightGCN users; LightGCN items + norm(item ids propagated over the item graph). */
  private forward(propagateItems: (x: tf.Tensor2D) => tf.Tensor2D): { users: tf.Tensor2D; items: tf.Tensor2D } {
    return tidyObject(() => {
      let h = this.itemEmbedding as tf.Tensor2D;
      for (let l = 0; l < this.p.nLayers; l++) h = propagateItems(h);
      const { users, items } = lightGcnMeanOfBlocks(
        this.adjacency,
        this.userEmbedding as tf.Tensor2D,
        this.itemEmbedding as tf.Tensor2D,
        this.p.nUiLayers,
      );
      return { users, items: tf.add(items, l2NormalizeRows(h)) as tf.Tensor2D };
    });
  }

  /** This batch's item propagation: through a freshly built graph (first batch of an epoch) or the kept one. */
  private itemPropagation(): (x: tf.Tensor2D) => tf.Tensor2D {
    if (this.itemGraph) {
      const graph = this.itemGraph;
      return (x) => spmm(graph, x);
    }
    const { pattern, values } = this.buildItemGraph();
    this.itemGraph = pattern.withValues(Float32Array.from(values.dataSync()));
    return (x) => weightedSpmm(pattern, values, x);
  }

  loss(batch: TrainBatch): BackboneLoss {
    if (!batch.negItems) throw new Error('LATTICE needs negative items in every batch');
    const { distinct } = this.distinct.index(batch.items, batch.negItems);
    return tidyObject(() => {
      const { users, items } = this.forward(this.itemPropagation());
      const { bpr, squares } = bprSoftplusTerms(users, items, {
        users: batch.users,
        items: batch.items,
        negItems: batch.negItems!,
      });
      const reg = tf.div(tf.addN(squares), 2 * batch.users.length) as tf.Scalar;
      const total = tf.add(bpr, tf.mul(reg, this.p.regWeight)) as tf.Scalar;
      return { total, parts: { 'lattice.bpr': bpr, 'lattice.reg': reg }, projected: this.lazyProjected(distinct) };
    });
  }

  /**
   * The batch's projected rows, computed only when read: LATTICE's loss does not use them (the projections
   * act through the item graph), SGFD's losses do. Non-enumerable, so tf.tidy does not compute them while
   * collecting the loss's tensors; they belong to the scope that reads them.
   */
  private lazyProjected(distinct: Int32Array): PerModality<ProjectedRows> {
    const out: PerModality<ProjectedRows> = {};
    let items: tf.Tensor1D | null = null;
    for (const m of this.projectionSlots) {
      let rows: ProjectedRows | null = null;
      Object.defineProperty(out, m, {
        enumerable: false,
        get: () => {
          if (!rows) {
            items ??= tf.tensor1d(distinct, 'int32');
            rows = projectItemRows(this.slots[m]!, this.features[m]!, items);
          }
          return rows;
        },
      });
    }
    return out;
  }

  private userAndItemRows(): { users: tf.Tensor2D; items: tf.Tensor2D } {
    const { pattern, values } = this.buildItemGraph();
    const rows = this.forward((x) => weightedSpmm(pattern, values, x));
    values.dispose();
    return rows;
  }

  scorer(): Scorer {
    const { users, items } = this.userAndItemRows();
    return dotScorer(users, items);
  }

  representations(): ScoringRepresentations {
    const { users, items } = this.userAndItemRows();
    try {
      return dotRepresentations(users, items);
    } finally {
      tf.dispose([users, items]);
    }
  }

  override dispose(): void {
    super.dispose();
    for (const o of Object.values(this.original)) o.values.dispose();
  }
}

export const latticeDefinition: BackboneDefinition<LatticeParams> = {
  name: 'lattice',
  paramsSchema: LatticeParamsSchema,
  create: (context) => new Lattice(context),
  slots: {
    title: 'LATTICE',
    slot: '`image_trs`, `text_trs`',
    consumedBy: 'the learned kNN item graphs (cosine of the projections)',
  },
  knnGraphs: knnSpecs,
  // k = every item of the contract data keeps the kNN selection fixed under the probes.
  gradientCheck: {
    params: { embeddingSize: 2, featEmbedDim: 2, knnK: 6, lambdaCoeff: 0.7, nLayers: 1, nUiLayers: 2, regWeight: 0.2 },
    epochStartPerProbe: true,
  },
};
