// Token-level training losses on per-token log-probs (from lmHeadForward):
// each writes the scalar loss and dL/dlogprobs for lmHeadBackward. Masks come
// from the CPU, so the caller passes invCount = 1 / sum(mask) as a number.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

function checkSizes(name: string, N: number, perToken: Tensor[], scalars: [Tensor, number][]): void {
  for (const t of perToken) if (t.size < N) throw new Error(`${name}: '${t.label}' has ${t.size} elements, expected at least N = ${N}`);
  for (const [t, n] of scalars) if (t.size < n) throw new Error(`${name}: '${t.label}' has ${t.size} elements, expected ${n}`);
}

/** SFT: loss[0] = -sum(logprobs * mask) * invCount; dLogprobs = -mask * invCount. */
export function sftLoss(rt: Runtime, logprobs: Tensor, mask: Tensor, invCount: number, loss: Tensor, dLogprobs: Tensor, N: number): void {
  checkSizes('sftLoss', N, [logprobs, mask, dLogprobs], [[loss, 1]]);
  rt.dispatch(rt.kernel('loss_sft'), { logprobs, mask, loss, dLogprobs }, { N, invCount }, [1]);
}

/** The KL estimate to the reference (Schulman's k1 / k2 / k3; verl's "kl" / "mse" / "low_var_kl"). */
export type KlEstimator = 'k1' | 'k2' | 'k3';

export interface GrpoLossOptions {
  clipEps: number;
  klCoef: number;
  /** Default 'k3', verl's low_var_kl with its clamps. */
  klEstimator?: KlEstimator;
  /**
   * verl's dual clip (clip_ratio_c, > 1): for A < 0 the policy term is at most -A * clipRatioC.
   * Default null, off; the trainer's config defaults to verl's 3. It binds only when an earlier
   * update of the same batch moved the policy (updates per batch > 1).
   */
  clipRatioC?: number | null;
}

const KL_KIND: Record<KlEstimator, number> = { k1: 1, k2: 2, k3: 3 };

/**
 * GRPO: ratio = exp(clamp(lp - old, -20, 20)), pg = max(-A * ratio, -A * clip(ratio, 1 - eps, 1 + eps)),
 * for A < 0 then at most -A * clipRatioC (verl's dual clip, when set),
 * kl the chosen estimate (k3: exp(ref - lp) - (ref - lp) - 1, clamped as verl);
 * loss[0] = sum((pg + klCoef * kl) * weights) * invCount, dLogprobs its derivative (PyTorch
 * semantics at ties: torch.maximum splits the gradient in half, torch.clamp passes it at the
 * bounds; see kernels/loss_grpo.wgsl). weights [N] ("mask") is 0 off the response tokens.
 * stats [4] = sums of [clipped indicator, kl, ratio, pg] over the tokens with a nonzero weight,
 * each counted once; divide by their number for means.
 * advantages [N] holds each token's copy of its sequence's advantage.
 */
export function grpoLoss(
  rt: Runtime, logprobs: Tensor, oldLogprobs: Tensor, refLogprobs: Tensor, advantages: Tensor, mask: Tensor, invCount: number,
  o: GrpoLossOptions, loss: Tensor, dLogprobs: Tensor, stats: Tensor, N: number,
): void {
  checkSizes('grpoLoss', N, [logprobs, oldLogprobs, refLogprobs, advantages, mask, dLogprobs], [[loss, 1], [stats, 4]]);
  const clipC = o.clipRatioC ?? 0; // 0: off, in the kernel
  if (o.clipRatioC != null && !(o.clipRatioC > 1)) throw new Error(`grpoLoss: clipRatioC must be more than 1 (verl's dual clip), got ${o.clipRatioC}`);
  rt.dispatch(
    rt.kernel('loss_grpo'),
    { logprobs, oldLogprobs, refLogprobs, advantages, mask, loss, dLogprobs, stats },
    { N, invCount, clipEps: o.clipEps, klCoef: o.klCoef, klKind: KL_KIND[o.klEstimator ?? 'k3'], clipC },
    [1],
  );
}
