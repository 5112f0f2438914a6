import { adamGroupStep, customOpsAvailable, FusedAdamSlot, isNativeBackend, tf } from '@sgfd/tensor';
import { createVariable, type NamedVariables, type StoredArrays } from '@sgfd/models';

/**
 * The gradient of a weight W that enters the loss only through a product rows W: rows^T productGrad, with
 * productGrad the gradient of that product. Adam forms it inside its update where it can (one fused pass on
 * the tensorflow backend), so the weight-sized gradient is never materialised.
 */
export interface OuterProductGradient {
  name: string;
  rows: tf.Tensor2D;
  productGrad: tf.Tensor2D;
}

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam as torch.optim.Adam (MMRec's learner): per variable
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps),  eps = 1e-8,
 * with t counted per variable (a variable without a gradient in a step is left alone, as torch does).
 * Its state is keyed by the model's stable variable names, so checkpoints survive a new process. On the
 * tensorflow backend each large variable's step is one fused TensorFlow op (`FusedAdamSlot`) and the small
 * ones (at most GROUPED_ADAM_MAX_SIZE values) are stepped together by one op (`adamGroupStep`); elsewhere it
 * is tfjs element-wise ops on moment variables.
 */
/**
 * Largest variable stepped in the small variables' group on the tensorflow backend: below about this size
 * the three resource ops around each variable's fused update cost more than the update itself (SGFD's
 * biases, classifiers, fusion layers and small tower layers: some twenty variables a joint step).
 */
export const GROUPED_ADAM_MAX_SIZE = 65_536;

export class Adam {
  readonly learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly fused = new Map<string, FusedAdamSlot>();
  /** The variables stepped together by one op (their moments in `m` and `v`). */
  private readonly grouped = new Set<string>();
  private readonly steps = new Map<string, number>();

  constructor(
    private readonly vars: NamedVariables,
    options: AdamOptions,
  ) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    const native = isNativeBackend();
    const grouping = native && customOpsAvailable();
    for (const [name, variable] of Object.entries(vars)) {
      if (grouping && variable.size <= GROUPED_ADAM_MAX_SIZE) this.grouped.add(name);
      if (native && !this.grouped.has(name)) this.fused.set(name, new FusedAdamSlot(variable.shape));
      else {
        this.m.set(name, createVariable(tf.zerosLike(variable), false));
        this.v.set(name, createVariable(tf.zerosLike(variable), false));
      }
      this.steps.set(name, 0);
    }
  }

  /** Applies one update from gradients keyed by the model's variable names. */
  apply(grads: Record<string, tf.Tensor | undefined>, outerProducts: OuterProductGradient[] = []): void {
    // The fused update's scalar inputs, made once per step count (every variable shares one in practice).
    const stepInputs = new Map<number, tf.Scalar[]>();
    const inputsFor = (t: number) => {
      if (!stepInputs.has(t))
        stepInputs.set(
          t,
          FusedAdamSlot.stepInputs({
            learningRate: this.learningRate,
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: this.epsilon,
            step: t,
          }),
        );
      return stepInputs.get(t)!;
    };
    const formed: Record<string, tf.Tensor> = {};
    try {
      // Outer-product gradients that no fused slot forms are made here: a grouped (small) variable's joins
      // the group's one op rather than taking a step of its own.
      for (const { name, rows, productGrad } of outerProducts) {
        if (!this.vars[name]) throw new Error(`Adam: no variable ${name} for an outer-product gradient`);
        if (!(this.fused.has(name) && customOpsAvailable())) formed[name] = tf.matMul(rows, productGrad, true, false);
      }
      const all: Record<string, tf.Tensor | undefined> = { ...grads, ...formed };
      const group: string[] = [];
      for (const [name, variable] of Object.entries(this.vars)) {
        const g = all[name];
        if (!g) continue;
        if (this.grouped.has(name)) group.push(name);
        else this.applyOne(name, variable, g, inputsFor);
      }
      if (group.length > 0) this.applyGroup(group, all as Record<string, tf.Tensor>);
      for (const { name, rows, productGrad } of outerProducts) {
        if (formed[name]) continue;
        this.fused
          .get(name)!
          .updateFromOuterProduct(this.vars[name], rows, productGrad, inputsFor(this.nextStep(name)));
      }
    } finally {
      for (const inputs of stepInputs.values()) tf.dispose(inputs);
      tf.dispose(Object.values(formed));
    }
  }

  private applyGroup(names: string[], grads: Record<string, tf.Tensor>): void {
    const entries = names.map((name) => ({
      param: this.vars[name] as tf.Tensor,
      grad: grads[name],
      m: this.m.get(name)! as tf.Tensor,
      v: this.v.get(name)! as tf.Tensor,
      step: this.nextStep(name),
    }));
    const updated = adamGroupStep(entries, {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    });
    names.forEach((name, i) => {
      const { param, m, v } = updated[i];
      this.vars[name].assign(param);
      this.m.get(name)!.assign(m);
      this.v.get(name)!.assign(v);
      tf.dispose([param, m, v]);
    });
  }

  private nextStep(name: string): number {
    const t = this.steps.get(name)! + 1;
    this.steps.set(name, t);
    return t;
  }

  private applyOne(name: string, variable: tf.Variable, g: tf.Tensor, inputsFor: (step: number) => tf.Scalar[]): void {
    const t = this.nextStep(name);
    const slot = this.fused.get(name);
    if (slot) {
      slot.update(variable, g, inputsFor(t));
      return;
    }
    const { beta1: b1, beta2: b2, epsilon } = this;
    const m = this.m.get(name)!;
    const v = this.v.get(name)!;
    const stepSize = this.learningRate / (1 - b1 ** t);
    const biasCorrection2 = Math.sqrt(1 - b2 ** t);
    tf.tidy(() => {
      const mNext = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
      const vNext = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
      const denom = tf.add(tf.div(tf.sqrt(vNext), biasCorrection2), epsilon);
      variable.assign(tf.sub(variable, tf.mul(tf.div(mNext, denom), stepSize)));
      m.assign(mNext);
      v.assign(vNext);
    });
  }

  /** Moments as stored arrays (`m/<name>`, `v/<name>`) and step counts, for checkpoints. */
  getState(): { arrays: StoredArrays; steps: Record<string, number> } {
    const arrays: StoredArrays = {};
    for (const [name, variable] of Object.entries(this.vars)) {
      const slot = this.fused.get(name);
      // readMoments returns copies; dataSync returns the backend's own array, which must not be kept.
      const { m, v } = slot
        ? slot.readMoments()
        : {
            m: (this.m.get(name)!.dataSync() as Float32Array).slice(),
            v: (this.v.get(name)!.dataSync() as Float32Array).slice(),
          };
      arrays[`m/${name}`] = { shape: [...variable.shape], data: m };
      arrays[`v/${name}`] = { shape: [...variable.shape], data: v };
    }
    return { arrays, steps: Object.fromEntries(this.steps) };
  }

  setState(state: { arrays: StoredArrays; steps: Record<string, number> }): void {
    for (const name of Object.keys(this.vars)) {
      const [m, v] = (['m', 'v'] as const).map((key) => {
        const stored = state.arrays[`${key}/${name}`];
        if (!stored) throw new Error(`optimizer state lacks ${key}/${name}`);
        return stored;
      });
      tf.tidy(() => {
        const [mt, vt] = [tf.tensor(m.data, m.shape), tf.tensor(v.data, v.shape)];
        const slot = this.fused.get(name);
        if (slot) slot.writeMoments(mt, vt);
        else {
          this.m.get(name)!.assign(mt);
          this.v.get(name)!.assign(vt);
        }
      });
      this.steps.set(name, state.steps[name] ?? 0);
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    for (const slot of this.fused.values()) slot.dispose();
  }
}
