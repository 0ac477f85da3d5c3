// The optimizer side of a step: AdamW (PyTorch semantics) and the global
// gradient norm for clipping, which stays on the GPU (no readback): clipScale
// writes the factor that adamwStep multiplies each gradient by.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkRowLaunch } from './row-launch.js';

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count (after this update). */
  step: number;
}

/**
 * One torch.optim.AdamW step on param (in place) with moments m, v:
 * decoupled decay lr * wd * param and the step lr * mhat / (sqrt(vhat) + eps), bias-corrected
 * moments, subtracted from param as one change (see kernels/adamw.wgsl). gradScale [1], when given,
 * multiplies the gradient first. A RowSplitTensor is updated part by part.
 */
export function adamwStep(rt: Runtime, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamWHyper, gradScale?: Tensor): void {
  const n = param.size;
  if (grad.size !== n || m.size !== n || v.size !== n) {
    throw new Error(`adamwStep '${param.label}': sizes param ${n}, grad ${grad.size}, m ${m.size}, v ${v.size} differ`);
  }
  if (!(h.step >= 1 && Number.isInteger(h.step))) throw new Error(`adamwStep: step must be a 1-based integer, got ${h.step}`);
  if (n === 0) return;
  // Bias corrections in float64, as PyTorch computes them in Python floats.
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
  const groups = rt.grid(Math.ceil(n / 256));
  rt.dispatch(
    rt.kernel('adamw'),
    // Without a scale, grad doubles as the (unread) gradScale binding: both are read-only.
    { param, grad, m, v, gradScale: gradScale ?? grad },
    {
      n, rowStride: groups[0] * 256, useScale: gradScale ? 1 : 0,
      lrWd: h.lr * h.weightDecay, beta1: h.beta1, beta2: h.beta2, eps: h.eps, stepSize, bc2Sqrt,
    },
    groups,
  );
}

/** Partial sums per tensor in the first stage: enough to fill a GPU, few enough to keep the partials small. */
const MAX_PARTIALS_PER_TENSOR = 512;

/**
 * How gradnorm_sumsq is laid out: lanesPerPartial real lanes (a power of two dividing
 * 256) share one partial's fixed 256-lane tree, partialsPerGroup partials per workgroup.
 * The tree does not change with the launch, so neither does the result, bit for bit.
 * CPU adapters (lavapipe) run a workgroup as a loop whose barriers are costly: there one
 * lane walks a whole tree (the default job's SFT step spent 8% of its kernel time here
 * with 256 lanes per partial).
 */
export interface SumSquaresLaunch {
  lanesPerPartial: number;
  partialsPerGroup: number;
}

export function sumSquaresLaunchFor(rt: Runtime): SumSquaresLaunch {
  return rt.gpu.isCpuAdapter ? { lanesPerPartial: 1, partialsPerGroup: 16 } : { lanesPerPartial: 256, partialsPerGroup: 1 };
}

/** Partial sums gradNormSquared takes for a tensor of `size` values (the memory plan counts them too). */
export function gradNormPartials(size: number): number {
  return Math.min(Math.ceil(size / 256), MAX_PARTIALS_PER_TENSOR);
}

/**
 * out[0] = sum over all tensors of sum(g^2). Two stages, no atomics: per tensor,
 * each of up to 512 partials sums a fixed share of the elements; one partial then sums
 * the partials in a fixed order, so the result is bitwise reproducible.
 */
export function gradNormSquared(rt: Runtime, grads: Tensor[], out: Tensor, launch = sumSquaresLaunchFor(rt)): void {
  const { lanesPerPartial: lanes, partialsPerGroup: perGroup } = launch;
  checkRowLaunch(rt, 'gradNormSquared', launch, lanes, 256, perGroup);
  const kernel = rt.kernel('gradnorm_sumsq', 'main', { WG: lanes, PARTS: perGroup });
  const partsPerTensor = grads.map((g) => gradNormPartials(g.size));
  const total = partsPerTensor.reduce((a, b) => a + b, 0);
  if (total === 0) {
    rt.fillZero(out);
    return;
  }
  const partials = rt.empty([total], 'f32', 'gradnorm.partials');
  let offset = 0;
  grads.forEach((x, i) => {
    const parts = partsPerTensor[i]!;
    rt.dispatch(kernel, { x, partials }, { n: x.size, outOffset: offset, square: 1, parts }, [Math.ceil(parts / perGroup)]);
    offset += parts;
  });
  rt.dispatch(kernel, { x: partials, partials: out }, { n: total, outOffset: 0, square: 0, parts: 1 }, [1]);
  partials.dispose();
}

/** scale[0] = min(1, maxNorm / (sqrt(normSquared[0]) + 1e-6)), torch clip_grad_norm_ semantics. */
export function clipScale(rt: Runtime, normSquared: Tensor, maxNorm: number, scale: Tensor): void {
  rt.dispatch(rt.kernel('gradnorm_clip'), { normSquared, scale }, { maxNorm }, [1]);
}
