import type { Modality, ScoringRepresentations } from '@sgfd/contracts';
import type { CsrStructure, Rng, tf } from '@sgfd/tensor';
import type { KnnGraphSource } from './graph/knn-source';
import type { NamedVariables } from './params';
import type { Projection } from './projection';
import type { FeatureTensors, LossTerms, PerModality } from './model-types';

/** What a backbone is built from: the dataset's sizes, feature widths and training graph. */
export interface BackboneData {
  nUsers: number;
  nItems: number;
  /** Width of each modality present. */
  featureDims: PerModality<number>;
  /** Training items of each user (graph backbones build their adjacency from it). */
  trainCsr: CsrStructure;
}

export type { FeatureTensors };

export interface BackboneContext<P = unknown> {
  data: BackboneData;
  features: FeatureTensors;
  /** Hyperparameters, already validated by the backbone's schema (see the registry). */
  params: P;
  /** Seeded randomness for initialisation and, later, dropout; its state is checkpointed by the trainer. */
  rng: Rng;
  /** Precomputed item kNN graphs (stored beside the snapshot); backbones that need one compute it when absent. */
  knnGraphs?: KnnGraphSource;
}

/** One batch of training interactions; negatives only for backbones that use them. */
export interface TrainBatch {
  users: Int32Array;
  items: Int32Array;
  negItems: Int32Array | null;
}

/** The rows a backbone passed through a projection slot in one loss evaluation. */
export interface ProjectedRows {
  /** Item ids of the rows (int32). */
  items: tf.Tensor1D;
  /** The raw feature rows that went in. */
  raw: tf.Tensor2D;
  /** What the slot made of them: the student's f^S when SGFD fills the slot. */
  features: tf.Tensor2D;
}

/**
 * A backbone's loss on one batch, its named parts (for progress curves), and the projected rows, so that
 * SGFD can add its losses on exactly the student outputs the backbone used, without running them again.
 */
export interface BackboneLoss extends LossTerms {
  projected: PerModality<ProjectedRows>;
}

/** Scores with the current weights; holds precomputed item representations until disposed. */
export interface Scorer {
  /** Row-major [users.length, nItems] scores. */
  scoreUsers(users: Int32Array): Float32Array;
  dispose(): void;
}

/**
 * A multimodal recommender. It owns its variables and its projection slots (one per modality present);
 * SGFD replaces what fills a slot by its student. `loss` runs inside the caller's gradient scope.
 */
export interface Backbone {
  readonly name: string;
  /** Whether batches need sampled negatives (BPR) or not (BM3). */
  readonly usesNegatives: boolean;
  /** Negatives per positive (MAML's hinge over the closest of several); `negItems` then holds them pair by pair. 1 when absent. */
  readonly negativesPerPositive?: number;
  /** Modalities whose projection can be replaced, in MODALITIES order. */
  readonly projectionSlots: readonly Modality[];
  /** Width a projection must output. */
  readonly projectionDim: number;
  /** Fills a slot (the backbone takes ownership and disposes the previous filler). */
  setProjection(modality: Modality, projection: Projection): void;
  projection(modality: Modality): Projection;
  loss(batch: TrainBatch): BackboneLoss;
  /** Called by the trainer before each epoch's batches (FREEDOM prunes edges, LATTICE rebuilds its learned graph). */
  onEpochStart?(epoch: number, rng: Rng): void;
  /** Called by the trainer after every optimiser step (MAML keeps its embeddings in the unit ball). */
  afterStep?(): void;
  scorer(): Scorer;
  /**
   * The user and item representations the scorer computes with, read back as typed arrays with how a score
   * is formed from them (what serving and the export use without this code).
   */
  representations(): ScoringRepresentations;
  /** Every variable, the slots' included, by stable name. */
  readonly weights: NamedVariables;
  readonly variables: tf.Variable[];
  /** Weights as a binary file + JSON index in `dir` (written atomically). */
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
  dispose(): void;
}
