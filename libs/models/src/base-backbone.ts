import { ConfigError, DatasetError, MODALITIES, type Modality, type ScoringRepresentations } from '@sgfd/contracts';
import type { tf } from '@sgfd/tensor';
import type { Backbone, BackboneLoss, FeatureTensors, Scorer, TrainBatch } from './backbone';
import { hasTensorFile, readTensorFile, tensorIndexPath } from './io/tensor-file';
import { assignVariables, saveVariables } from './io/variables-file';
import { disposeAll, prefixed, type NamedVariables } from './params';
import type { Projection } from './projection';
import type { PerModality } from './model-types';

export const MODEL_FILE_BASE = 'weights';
/** The base name of model folders written before the index was renamed (`model.json` + `model-<hash>.bin`). */
const LEGACY_MODEL_FILE_BASE = 'model';

/** Slot handling, weight naming, save/load and disposal shared by every backbone. */
export abstract class BaseBackbone implements Backbone {
  abstract readonly name: string;
  abstract readonly usesNegatives: boolean;
  abstract readonly projectionDim: number;
  protected readonly slots: PerModality<Projection> = {};

  constructor(
    protected readonly features: FeatureTensors,
    protected readonly params: unknown,
  ) {}

  abstract loss(batch: TrainBatch): BackboneLoss;
  abstract scorer(): Scorer;
  abstract representations(): ScoringRepresentations;
  /** The backbone's own variables (not the slots'). */
  protected abstract ownWeights(): NamedVariables;

  get projectionSlots(): Modality[] {
    return MODALITIES.filter((m) => this.slots[m] !== undefined);
  }

  projection(modality: Modality): Projection {
    const p = this.slots[modality];
    if (!p) throw new ConfigError(`${this.name} has no ${modality} projection slot`, { field: 'modality' });
    return p;
  }

  setProjection(modality: Modality, projection: Projection): void {
    const current = this.projection(modality);
    if (projection.inDim !== current.inDim || projection.outDim !== this.projectionDim) {
      throw new ConfigError(
        `A ${modality} projection for ${this.name} must map ${current.inDim} -> ${this.projectionDim}`,
        {
          field: 'sgfd.latentDim',
          expected: `${current.inDim} -> ${this.projectionDim}`,
          found: `${projection.inDim} -> ${projection.outDim}`,
        },
      );
    }
    current.dispose();
    this.slots[modality] = projection;
  }

  get weights(): NamedVariables {
    let out = this.ownWeights();
    for (const m of this.projectionSlots) out = { ...out, ...prefixed(`projection.${m}`, this.slots[m]!.weights) };
    return out;
  }

  get variables(): tf.Variable[] {
    return Object.values(this.weights);
  }

  protected slotKinds(): PerModality<string> {
    return Object.fromEntries(this.projectionSlots.map((m) => [m, this.slots[m]!.kind]));
  }

  async save(dir: string): Promise<void> {
    await saveVariables(dir, MODEL_FILE_BASE, this.weights, {
      backbone: this.name,
      params: this.params,
      projections: this.slotKinds(),
    });
  }

  async load(dir: string): Promise<void> {
    const base =
      !hasTensorFile(dir, MODEL_FILE_BASE) && hasTensorFile(dir, LEGACY_MODEL_FILE_BASE)
        ? LEGACY_MODEL_FILE_BASE
        : MODEL_FILE_BASE;
    const { arrays, meta } = await readTensorFile(dir, base);
    const file = tensorIndexPath(dir, base);
    const saved = meta as { backbone?: string; projections?: PerModality<string> } | null;
    if (saved?.backbone !== this.name) {
      throw new DatasetError('Saved model is of another backbone', {
        file,
        field: 'meta.backbone',
        expected: this.name,
        found: String(saved?.backbone),
      });
    }
    const kinds = this.slotKinds();
    for (const m of MODALITIES) {
      if (saved.projections?.[m] !== kinds[m]) {
        throw new DatasetError(`Saved model's ${m} projection differs from this model's`, {
          file,
          field: `meta.projections.${m}`,
          expected: String(kinds[m]),
          found: String(saved.projections?.[m]),
        });
      }
    }
    assignVariables(this.weights, arrays, file);
  }

  dispose(): void {
    disposeAll(this.ownWeights());
    for (const m of this.projectionSlots) this.slots[m]!.dispose();
  }
}
