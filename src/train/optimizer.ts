// AdamW over a ParamSet (PyTorch semantics), with optional global gradient-norm
// clipping computed on the GPU so that a step needs no readback.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Qwen3Config } from '../io/hf-model.js';
import { adamwStep, clipScale, gradNormSquared } from '../ops/adamw.js';
import { zerosLike, type ParamSet } from '../model/weights.js';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global L2 norm of the gradients to this value; 0 or undefined: no clipping. */
  maxGradNorm?: number;
}

export class AdamW {
  readonly m: ParamSet;
  readonly v: ParamSet;
  stepCount = 0;
  /** Squared global gradient norm of the last step (before clipping), on the GPU. */
  readonly gradNormSq: Tensor;
  private readonly scale: Tensor;

  constructor(private readonly rt: Runtime, cfg: Qwen3Config, readonly hyper: AdamWConfig) {
    this.m = zerosLike(rt, cfg, 'adam_m');
    this.v = zerosLike(rt, cfg, 'adam_v');
    this.gradNormSq = rt.zeros([1], 'f32', 'grad_norm_sq');
    this.scale = rt.zeros([1], 'f32', 'grad_scale');
  }

  /** One update of every parameter; `lr` overrides the configured rate (schedules). */
  step(params: ParamSet, grads: ParamSet, lr = this.hyper.lr): void {
    const { rt, hyper } = this;
    this.stepCount++;
    const allGrads: Tensor[] = [];
    for (const g of grads.values()) for (const part of g.parts) allGrads.push(part.tensor);
    gradNormSquared(rt, allGrads, this.gradNormSq);
    const clip = hyper.maxGradNorm && hyper.maxGradNorm > 0;
    if (clip) clipScale(rt, this.gradNormSq, hyper.maxGradNorm!, this.scale);
    const h = { lr, beta1: hyper.beta1, beta2: hyper.beta2, eps: hyper.eps, weightDecay: hyper.weightDecay, step: this.stepCount };
    for (const [name, p] of params) {
      const g = grads.get(name)!, m = this.m.get(name)!, v = this.v.get(name)!;
      p.parts.forEach((part, i) => {
        adamwStep(rt, part.tensor, g.parts[i]!.tensor, m.parts[i]!.tensor, v.parts[i]!.tensor, h, clip ? this.scale : undefined);
      });
    }
  }

  async gradNorm(): Promise<number> {
    return Math.sqrt((await this.rt.read(this.gradNormSq))[0]!);
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.gradNormSq.dispose();
    this.scale.dispose();
  }
}
