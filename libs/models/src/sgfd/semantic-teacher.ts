import { MODALITIES, type Modality, type SgfdConfig } from '@sgfd/contracts';
import type { PerModality } from '../model-types';
import { tf, type Rng } from '@sgfd/tensor';
import { Dense } from '../layers';
import { prefixed, type NamedVariables } from '../params';
import { TeacherTower } from './teacher';

/** The SGFD settings the modules read. */
export type SgfdModuleOptions = Pick<SgfdConfig, 'latentDim' | 'leakySlope' | 'teacherActivation'>;

/** Fusion branch: h = leaky(W_f [f_image; f_text]), then C_f. */
export class FusionHead {
  readonly transfer: Dense;
  readonly classifier: Dense;

  constructor(
    inDim: number,
    latentDim: number,
    nCategories: number,
    private readonly leakySlope: number,
    rng: Rng,
  ) {
    this.transfer = new Dense(inDim, latentDim, rng);
    this.classifier = new Dense(latentDim, nCategories, rng);
  }

  apply(concatenated: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.classifier.apply(this.hidden(concatenated)));
  }

  /** h, the classifier's input. */
  hidden(concatenated: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.leakyRelu(this.transfer.apply(concatenated), this.leakySlope) as tf.Tensor2D);
  }

  get weights(): NamedVariables {
    return { ...prefixed('transfer', this.transfer.weights), ...prefixed('classifier', this.classifier.weights) };
  }

  dispose(): void {
    this.transfer.dispose();
    this.classifier.dispose();
  }
}

export interface TeacherForward {
  features: PerModality<tf.Tensor2D>;
  logits: PerModality<tf.Tensor2D>;
  /** Null with a single modality. */
  fusionLogits: tf.Tensor2D | null;
}

/**
 * Everything SGFD trains with category labels: teacher towers T_m, classifiers C_m (shared with the
 * students), and the fusion branch. With a single modality there is no complementary information to
 * fuse, so the fusion branch (and L_fuse) is absent.
 */
export class SemanticTeacher {
  readonly modalities: Modality[];
  readonly towers: PerModality<TeacherTower> = {};
  readonly classifiers: PerModality<Dense> = {};
  readonly fusion: FusionHead | null;

  constructor(
    featureDims: PerModality<number>,
    readonly nCategories: number,
    options: SgfdModuleOptions,
    rng: Rng,
  ) {
    this.modalities = MODALITIES.filter((m) => featureDims[m] !== undefined);
    if (this.modalities.length === 0) throw new Error('SemanticTeacher needs at least one modality');
    const tower = {
      latentDim: options.latentDim,
      activation: options.teacherActivation,
      leakySlope: options.leakySlope,
    };
    for (const m of this.modalities) {
      this.towers[m] = new TeacherTower(featureDims[m]!, tower, rng);
      this.classifiers[m] = new Dense(options.latentDim, nCategories, rng);
    }
    this.fusion =
      this.modalities.length > 1
        ? new FusionHead(
            this.modalities.length * options.latentDim,
            options.latentDim,
            nCategories,
            options.leakySlope,
            rng,
          )
        : null;
  }

  /** Teacher features and logits for raw feature rows of the same items in every modality. */
  forward(raw: PerModality<tf.Tensor2D>): TeacherForward {
    return this.head(this.features(raw));
  }

  /** `features` from each tower's first-layer product x W_1 (see TeacherTower.applyFromFirstProduct). */
  featuresFromFirstProducts(firstProducts: PerModality<tf.Tensor2D>): PerModality<tf.Tensor2D> {
    const features: PerModality<tf.Tensor2D> = {};
    for (const m of this.modalities) {
      const product = firstProducts[m];
      if (!product) throw new Error(`SemanticTeacher.featuresFromFirstProducts: missing ${m} products`);
      features[m] = this.towers[m]!.applyFromFirstProduct(product);
    }
    return features;
  }

  /** Each tower's features f^T_m for raw feature rows of the same items in every modality. */
  features(raw: PerModality<tf.Tensor2D>): PerModality<tf.Tensor2D> {
    const features: PerModality<tf.Tensor2D> = {};
    for (const m of this.modalities) {
      const x = raw[m];
      if (!x) throw new Error(`SemanticTeacher.features: missing ${m} rows`);
      features[m] = this.towers[m]!.apply(x);
    }
    return features;
  }

  /** The fusion branch's logits from the towers' features; null with a single modality. */
  fusionLogits(features: PerModality<tf.Tensor2D>): tf.Tensor2D | null {
    const fusion = this.fusion;
    return fusion && tf.tidy(() => fusion.apply(this.concatenated(features)));
  }

  /** The fusion branch's hidden rows h (its classifier's input); null with a single modality. */
  fusionHidden(features: PerModality<tf.Tensor2D>): tf.Tensor2D | null {
    const fusion = this.fusion;
    return fusion && tf.tidy(() => fusion.hidden(this.concatenated(features)));
  }

  /** [f_image; f_text]: the fusion branch's input. */
  private concatenated(features: PerModality<tf.Tensor2D>): tf.Tensor2D {
    return tf.concat(
      this.modalities.map((m) => features[m]!),
      1,
    );
  }

  private head(features: PerModality<tf.Tensor2D>): TeacherForward {
    const logits: PerModality<tf.Tensor2D> = {};
    for (const m of this.modalities) logits[m] = this.classifiers[m]!.apply(features[m]!);
    return { features, logits, fusionLogits: this.fusionLogits(features) };
  }

  get weights(): NamedVariables {
    let out: NamedVariables = {};
    for (const m of this.modalities) {
      out = {
        ...out,
        ...prefixed(`teacher.${m}`, this.towers[m]!.weights),
        ...prefixed(`classifier.${m}`, this.classifiers[m]!.weights),
      };
    }
    return this.fusion ? { ...out, ...prefixed('fusion', this.fusion.weights) } : out;
  }

  dispose(): void {
    for (const m of this.modalities) {
      this.towers[m]!.dispose();
      this.classifiers[m]!.dispose();
    }
    this.fusion?.dispose();
  }
}
