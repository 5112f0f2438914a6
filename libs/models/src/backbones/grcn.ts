import type { ScoringRepresentations } from '@sgfd/contracts';
import {
  edgeDots,
  segmentSoftmax,
  SparseMatrix,
  sparsePatternFromCoo,
  tf,
  weightedSpmm,
  xavierNormal,
} from '@sgfd/tensor';
import { z } from 'zod';
import type { BackboneContext, BackboneLoss, ProjectedRows, Scorer, TrainBatch } from '../backbone';
import { BaseBackbone } from '../base-backbone';
import { userItemEdges } from '../graph/adjacency';
import { splitNodes } from '../graph/lightgcn';
import { l2NormalizeRows, sumOfSquares, tidyObject } from '../ops';
import { createVariable, type NamedVariables } from '../params';
import { LinearProjection } from '../projection';
import type { BackboneDefinition } from '../registry';
import type { PerModality } from '../model-types';
import { DistinctItems } from './batch-items';
import { bprSoftplusTerms, dotRepresentations, dotScorer, presentModalities, rowsWithLazyRaw } from './shared';

/**
 * MMRec's GRCN.yaml: embedding_size 64, latent_embedding 64, n_layers (routing iterations) 3, reg_weight
 * searched over [0.1, 0.01, 1e-3, 1e-4, 1e-5] and learning_rate over [1, 0.1, 0.01, 1e-3, 1e-4].
 */
export const GrcnParamsSchema = z
  .object({
    /** Width of the id embeddings propagated over the refined graph (MMRec's embedding_size). */
    embeddingSize: z
      .number()
      .int()
      .positive()
      .default(64)
      .meta({ description: 'id embeddings propagated over the refined graph' }),
    /** Width of the content features and user preferences (MMRec's latent_embedding); the projection output. */
    latentDim: z
      .number()
      .int()
      .positive()
      .default(64)
      .meta({ description: 'content features and user preferences (projection output)' }),
    /** Routing iterations that refine each modality's user preferences (MMRec's n_layers). */
    nRouting: z
      .number()
      .int()
      .nonnegative()
      .default(3)
      .meta({ description: "routing iterations (MMRec's `n_layers`)" }),
    regWeight: z
      .number()
      .nonnegative()
      .default(1e-3)
      .meta({ grid: '0.1, 0.01, 1e-3, 1e-4, 1e-5 (x learning rate 1, 0.1, 0.01, 1e-3, 1e-4)' }),
    /** Negative slope of the LeakyReLU on the content features (torch's F.leaky_relu default). */
    leakySlope: z
      .number()
      .nonnegative()
      .default(0.01)
      .meta({ description: 'LeakyReLU on the content features (torch default)' }),
  })
  .strict();
export type GrcnParams = z.infer<typeof GrcnParamsSchema>;

/** Each node's representation [users + items, embeddingSize + M latentDim] and what the slots produced. */
interface GrcnForward {
  nodes: tf.Tensor2D;
  /** Slot outputs for every item, by modality. */
  content: PerModality<tf.Tensor2D>;
}

/**
 * GRCN (Wei et al., MM'20) as MMRec and the paper. Per modality: content c = norm(leaky(MLP(x))) for every
 * item and a learned user preference p; `nRouting` routing iterations p <- norm(p + sum_i softmax_i(<p, c_i>)
 * c_i) over each user's items; then one attention layer over the bipartite graph (both directions), whose
 * weights alpha_{j->i} (softmax over i's neighbours) also weight the edges. Edge weight = ReLU(max over
 * modalities of alpha times the source node's learned confidence for that modality). The id embeddings
 * (L2-normalised) run two propagation steps over this refined graph: id = x + A x + A^2 x. Representation =
 * [id; content rep per modality]; BPR + reg_weight * (mean squared id rows of the batch + mean squared
 * preference rows). The content MLPs are the SGFD slots (SGFD's students feed GRCN's LeakyReLU and norm,
 * as in the authors' code).
 *
 * Routing follows the paper: users gather from their items. (In MMRec's and the authors' torch_geometric
 * code the routing messages flow to the item nodes, so the preference update is a no-op there.)
 */
export class Grcn extends BaseBackbone {
  readonly name = 'grcn';
  readonly usesNegatives = true;
  readonly projectionDim: number;
  private readonly idEmbedding: tf.Variable;
  private readonly preference: PerModality<tf.Variable> = {};
  /** Per node and modality: the confidence that scales the node's outgoing attention weights. */
  private readonly confidence: tf.Variable;
  /** users x items: the training edges, for routing (a user's row holds its items). */
  private readonly userItems: SparseMatrix;
  /** (users + items)^2, both directions: row = target node, column = source node. */
  private readonly graph: SparseMatrix;
  private readonly graphSources: tf.Tensor1D;
  /** The training edge (index in `userItems`) of each entry of `graph`. */
  private readonly graphEdges: tf.Tensor1D;
  private readonly distinct: DistinctItems;
  private readonly nUsers: number;

  constructor(context: BackboneContext<GrcnParams>) {
    super(context.features, context.params);
    const { data, params, rng } = context;
    this.projectionDim = params.latentDim;
    this.nUsers = data.nUsers;
    const modalities = presentModalities(data, 'GRCN');
    const nNodes = data.nUsers + data.nItems;
    this.idEmbedding = createVariable(xavierNormal(rng, [nNodes, params.embeddingSize]));
    for (const m of modalities) {
      this.preference[m] = createVariable(xavierNormal(rng, [data.nUsers, params.latentDim]));
      this.slots[m] = new LinearProjection(data.featureDims[m]!, params.latentDim, rng, {
        kernelInit: 'xavierNormal',
        biasInit: 'torchDefault',
      });
    }
    this.confidence = createVariable(xavierNormal(rng, [nNodes, modalities.length]));
    const edges = userItemEdges(data.trainCsr, data.nUsers, data.nItems);
    this.userItems = SparseMatrix.fromCsr({
      indptr: Int32Array.from(data.trainCsr.indptr),
      indices: edges.items,
      nRows: data.nUsers,
      nCols: data.nItems,
    });
    const n = edges.users.length;
    const rows = new Int32Array(2 * n);
    const cols = new Int32Array(2 * n);
    for (let e = 0; e < n; e++) {
      rows[e] = cols[n + e] = edges.users[e];
      cols[e] = rows[n + e] = data.nUsers + edges.items[e];
    }
    const { pattern, slotOf } = sparsePatternFromCoo(rows, cols, nNodes, nNodes);
    this.graph = pattern;
    this.graphSources = tf.tensor1d(pattern.indices, 'int32');
    const edgeOf = new Int32Array(pattern.nnz);
    for (let k = 0; k < 2 * n; k++) edgeOf[slotOf[k]] = k % n;
    this.graphEdges = tf.tensor1d(edgeOf, 'int32');
    this.distinct = new DistinctItems(data.nItems);
  }

  private get p(): GrcnParams {
    return this.params as GrcnParams;
  }

  protected ownWeights(): NamedVariables {
    const out: NamedVariables = { 'id.embedding': this.idEmbedding, confidence: this.confidence };
    for (const m of this.projectionSlots) out[`preference.${m}`] = this.preference[m]!;
    return out;
  }

  /** One modality's content graph: refined user preferences, the attention layer, and its edge weights. */
  private contentGraph(content: tf.Tensor2D, preference: tf.Tensor2D): { rep: tf.Tensor2D; attention: tf.Tensor1D } {
    const c = l2NormalizeRows(tf.leakyRelu(content, this.p.leakySlope));
    let p = l2NormalizeRows(preference);
    for (let t = 0; t < this.p.nRouting; t++) {
      const weights = segmentSoftmax(this.userItems, edgeDots(this.userItems, p, c));
      p = l2NormalizeRows(tf.add(p, weightedSpmm(this.userItems, weights, c)));
    }
    const x = tf.concat([p, c], 0) as tf.Tensor2D;
    // <x_u, x_i> is the same in both directions: computed once per edge, then spread to both entries.
    const attention = segmentSoftmax(this.graph, tf.gather(edgeDots(this.userItems, p, c), this.graphEdges));
    return { rep: tf.add(x, weightedSpmm(this.graph, attention, x)) as tf.Tensor2D, attention };
  }

  private forward(): GrcnForward {
    return tidyObject(() => {
      const content: PerModality<tf.Tensor2D> = {};
      const reps: tf.Tensor2D[] = [];
      const weights: tf.Tensor1D[] = [];
      const slots = this.projectionSlots;
      for (let k = 0; k < slots.length; k++) {
        const m = slots[k];
        content[m] = this.slots[m]!.apply(this.features[m]!);
        const { rep, attention } = this.contentGraph(content[m]!, this.preference[m]! as tf.Tensor2D);
        reps.push(rep);
        const sourceConfidence = tf.gather(
          tf.reshape(tf.slice(this.confidence, [0, k], [-1, 1]), [-1]),
          this.graphSources,
        );
        weights.push(tf.mul(attention, sourceConfidence) as tf.Tensor1D);
      }
      const edgeWeight = tf.relu(weights.reduce((a, b) => tf.maximum(a, b))) as tf.Tensor1D;
      const x = l2NormalizeRows(this.idEmbedding as tf.Tensor2D);
      const h1 = weightedSpmm(this.graph, edgeWeight, x);
      const h2 = weightedSpmm(this.graph, edgeWeight, h1);
      const id = tf.addN([x, h1, h2]) as tf.Tensor2D;
      return { nodes: tf.concat([id, ...reps], 1) as tf.Tensor2D, content };
    });
  }

  loss(batch: TrainBatch): BackboneLoss {
    if (!batch.negItems) throw new Error('GRCN needs negative items in every batch');
    const { distinct } = this.distinct.index(batch.items, batch.negItems);
    return tidyObject(() => {
      const { nodes, content } = this.forward();
      const userIds = tf.tensor1d(batch.users, 'int32');
      const offset = (items: Int32Array) => Int32Array.from(items, (i) => i + this.nUsers);
      const nodeIds = (items: Int32Array) => tf.tensor1d(offset(items), 'int32');
      const posIds = nodeIds(batch.items);
      const negIds = nodeIds(batch.negItems!);
      // Users and items are rows of one node table.
      const nodeRows = { users: batch.users, items: offset(batch.items), negItems: offset(batch.negItems!) };
      const bpr = bprSoftplusTerms(nodes, nodes, nodeRows).bpr;
      // MMRec: mean over [2B, d] of id[user]^2 + id[item]^2, each user counted once per item of its pair.
      const sq = (v: tf.Tensor, ids: tf.Tensor1D) => sumOfSquares(tf.gather(v, ids));
      const b = batch.users.length;
      const idReg = tf.div(
        tf.addN([tf.mul(sq(this.idEmbedding, userIds), 2), sq(this.idEmbedding, posIds), sq(this.idEmbedding, negIds)]),
        2 * b * this.p.embeddingSize,
      );
      const prefReg = this.projectionSlots.map((m) => tf.div(sq(this.preference[m]!, userIds), b * this.p.latentDim));
      const reg = tf.addN([idReg, ...prefReg]) as tf.Scalar;
      const itemIds = tf.tensor1d(distinct, 'int32');
      const projected: PerModality<ProjectedRows> = {};
      for (const m of this.projectionSlots) {
        projected[m] = rowsWithLazyRaw(itemIds, tf.gather(content[m]!, itemIds) as tf.Tensor2D, this.features[m]!);
      }
      const total = tf.add(bpr, tf.mul(reg, this.p.regWeight)) as tf.Scalar;
      return { total, parts: { 'grcn.bpr': bpr, 'grcn.reg': reg }, projected };
    });
  }

  private userAndItemRows(): { users: tf.Tensor2D; items: tf.Tensor2D } {
    return tidyObject(() => splitNodes(this.forward().nodes, this.nUsers));
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
    tf.dispose([this.graphSources, this.graphEdges]);
  }
}

export const grcnDefinition: BackboneDefinition<GrcnParams> = {
  name: 'grcn',
  paramsSchema: GrcnParamsSchema,
  create: (context) => new Grcn(context),
  slots: {
    title: 'GRCN',
    slot: 'the content MLP of each modality',
    consumedBy: '`norm(leaky(slot(x)))` for routing, attention and the content representation',
  },
  gradientCheck: { params: { embeddingSize: 2, latentDim: 2, nRouting: 2, regWeight: 0.5, leakySlope: 0.1 } },
};
