import { ConfigError, MODALITIES, type ScoringRepresentations } from '@sgfd/contracts';
import { tf, xavierUniform } from '@sgfd/tensor';
import { z } from 'zod';
import type { BackboneContext, BackboneLoss, ProjectedRows, Scorer, TrainBatch } from '../backbone';
import { BaseBackbone } from '../base-backbone';
import { readAndDispose, tidyObject } from '../ops';
import { createVariable, type NamedVariables } from '../params';
import { LinearProjection } from '../projection';
import type { BackboneDefinition } from '../registry';
import type { PerModality } from '../model-types';
import { DistinctItems } from './batch-items';
import { bprRowTerms, dotRepresentations, projectItemRows } from './shared';

/** MMRec's VBPR.yaml: embedding_size 64, reg_weight searched over [2, 1, 1e-1 ... 1e-5]. */
export const VbprParamsSchema = z
  .object({
    embeddingSize: z
      .number()
      .int()
      .positive()
      .default(64)
      .meta({ description: 'id part and feature part, each d; user 2d' }),
    /** Weight of EmbLoss (sum of Frobenius norms of the batch's user/pos/neg rows over the batch size). */
    regWeight: z
      .number()
      .nonnegative()
      .default(1e-3)
      .meta({ description: 'EmbLoss weight', grid: '2, 1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5' }),
  })
  .strict();
export type VbprParams = z.infer<typeof VbprParamsSchema>;

/**
 * VBPR as MMRec: item = [id embedding (d); Linear([text; image]) (d)], user embedding 2d, score = dot,
 * loss = BPR + reg_weight * EmbLoss. The linear layer over the concatenated features equals the sum of one
 * bias-free linear map per modality plus one bias, so each modality gets its own projection slot (what
 * SGFD's student replaces); the kernels are initialised as MMRec's single layer (xavier normal over the
 * concatenated fan-in).
 */
export class Vbpr extends BaseBackbone {
  readonly name = 'vbpr';
  readonly usesNegatives = true;
  readonly projectionDim: number;
  private readonly userEmbedding: tf.Variable;
  private readonly itemEmbedding: tf.Variable;
  private readonly featureBias: tf.Variable;
  private readonly distinct: DistinctItems;

  constructor(context: BackboneContext<VbprParams>) {
    super(context.features, context.params);
    const { data, params, rng } = context;
    const d = params.embeddingSize;
    this.projectionDim = d;
    const modalities = MODALITIES.filter((m) => data.featureDims[m] !== undefined);
    if (modalities.length === 0)
      throw new ConfigError('VBPR needs at least one feature modality', { field: 'backbone' });
    this.userEmbedding = createVariable(xavierUniform(rng, [data.nUsers, 2 * d]));
    this.itemEmbedding = createVariable(xavierUniform(rng, [data.nItems, d]));
    const fanIn = modalities.reduce((n, m) => n + data.featureDims[m]!, 0);
    const std = Math.sqrt(2 / (fanIn + d));
    for (const m of modalities) {
      this.slots[m] = new LinearProjection(data.featureDims[m]!, d, rng, {
        kernelInit: { normalStd: std },
        biasInit: 'none',
      });
    }
    this.featureBias = createVariable(tf.zeros([d]));
    this.distinct = new DistinctItems(data.nItems);
  }

  protected ownWeights(): NamedVariables {
    return {
      'user.embedding': this.userEmbedding,
      'item.embedding': this.itemEmbedding,
      'item.featureBias': this.featureBias,
    };
  }

  /** [id embedding; sum of projections + bias] for the given items, and what each slot produced. */
  private itemRepresentation(items: tf.Tensor1D | null): { rows: tf.Tensor2D; projected: PerModality<ProjectedRows> } {
    const projected: PerModality<ProjectedRows> = {};
    const parts: tf.Tensor2D[] = [];
    for (const m of this.projectionSlots) {
      if (items) projected[m] = projectItemRows(this.slots[m]!, this.features[m]!, items);
      const features = items ? projected[m]!.features : this.slots[m]!.apply(this.features[m]!);
      parts.push(features);
    }
    const visual = tf.add(parts.length === 1 ? parts[0] : tf.addN(parts), this.featureBias) as tf.Tensor2D;
    const ids = items ? tf.gather(this.itemEmbedding, items) : this.itemEmbedding;
    return { rows: tf.concat([ids as tf.Tensor2D, visual], 1), projected };
  }

  loss(batch: TrainBatch): BackboneLoss {
    if (!batch.negItems) throw new Error('VBPR needs negative items in every batch');
    const { distinct, positions } = this.distinct.index(batch.items, batch.negItems);
    return tidyObject(() => {
      const itemIds = tf.tensor1d(distinct, 'int32');
      const { rows, projected } = this.itemRepresentation(itemIds);
      const { gap, squares } = bprRowTerms(this.userEmbedding as tf.Tensor2D, rows, {
        users: batch.users,
        items: positions[0],
        negItems: positions[1],
      });
      // MMRec's BPRLoss: -mean log(1e-10 + sigmoid(pos - neg)).
      const bpr = tf.neg(tf.mean(tf.log(tf.add(tf.sigmoid(tf.neg(gap)), 1e-10)))) as tf.Scalar;
      // MMRec's EmbLoss: the Frobenius norms of the batch's user, positive and negative rows.
      const reg = tf.div(tf.addN(squares.map((s) => tf.sqrt(s))), batch.users.length) as tf.Scalar;
      const total = tf.add(bpr, tf.mul(reg, (this.params as VbprParams).regWeight)) as tf.Scalar;
      return { total, parts: { 'vbpr.bpr': bpr, 'vbpr.reg': reg }, projected };
    });
  }

  scorer(): Scorer {
    const itemsT = tf.tidy(() => tf.transpose(this.itemRepresentation(null).rows));
    const users = this.userEmbedding;
    return {
      scoreUsers: (ids: Int32Array) =>
        readAndDispose(tf.tidy(() => tf.matMul(tf.gather(users, tf.tensor1d(ids, 'int32')) as tf.Tensor2D, itemsT))),
      dispose: () => itemsT.dispose(),
    };
  }

  representations(): ScoringRepresentations {
    const items = tf.tidy(() => this.itemRepresentation(null).rows);
    try {
      return dotRepresentations(this.userEmbedding as tf.Tensor2D, items);
    } finally {
      items.dispose();
    }
  }
}

export const vbprDefinition: BackboneDefinition<VbprParams> = {
  name: 'vbpr',
  paramsSchema: VbprParamsSchema,
  create: (context) => new Vbpr(context),
  slots: {
    title: 'VBPR',
    slot: 'the per-modality parts of `Linear([text; image])`',
    consumedBy: 'item = [id; sum of slots + bias]',
  },
  gradientCheck: { params: { embeddingSize: 2, regWeight: 0.5 } },
};
