// One GRPO step with the Preference-Aware Reward:
//   pairs -> 2 pointwise rows each -> n rollouts per row (KV-cache sampling)
//   -> parse -> PAR + format rewards per pair -> advantages per row group
//   -> clipped surrogate + KL to the reference (default k3, verl's clamped low_var_kl), token-mean
//      over the batch by default (grpo.lossAggregation), micro-batched -> AdamW.
// One update per batch by default (grpo.updatesPerBatch), so the behaviour policy is the
// current policy: the "old" log-probs are the first forward's (ratio 1), as in verl with one
// PPO epoch; later updates on the same batch keep them. The sampler's own log-probs are kept to
// report their gap from the trainer's (a check on the KV-cache decode path).
import type { Tensor } from '../gpu/tensor.js';
import { absDiff, axpy, maskedSumInto } from '../ops/elementwise.js';
import { grpoLoss, type KlEstimator } from '../ops/losses.js';
import { generate } from '../model/generate.js';
import type { Qwen3 } from '../model/qwen3.js';
import { isUniformGroup, pairAdvantages, parRewards, uniformGroupShares, type ParOptions } from '../patarm/index.js';
import { pairsToPointwiseRows, type PreferencePair } from '../data/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { lossWeights, type LossAggregation } from './loss-aggregation.js';
import type { AdamW } from './optimizer.js';
import { encodeJudgePrompt, type JudgeTemplateOptions } from './prompts.js';
import type { KvCacheDtype } from '../ops/decode-attention.js';
import { chunks, packSequences, perRowValues, perTargetValues, type PromptCompletion } from './sequences.js';

export interface GrpoStepConfig {
  rollouts: number;
  microBatchRows: number;
  /** Sequences generated together (KV-cache batch); default all rollouts of the step. */
  generationRows?: number;
  /** Precision of the rollouts' KV cache (GenerateOptions.kvCacheDtype). Default 'f32'. */
  kvCacheDtype?: KvCacheDtype;
  maxNewTokens: number;
  maxPromptLen: number;
  temperature: number;
  topP: number;
  topK: number;
  minP?: number;
  /** Sampling seed of this step (derive it from the run seed and the step for resumability). */
  seed: number;
  clipEps: number;
  /** verl's dual clip for A < 0 (GrpoConfig.clipRatioC); 0 or absent: none. */
  clipRatioC?: number;
  klCoef: number;
  /** The KL estimate (default 'k3', verl's low_var_kl). */
  klEstimator?: KlEstimator;
  /** How the per-token losses make the batch's (default 'token-mean', verl's). */
  lossAggregation?: LossAggregation;
  /** Optimizer steps on each batch of rollouts (verl's ppo_epochs; default 1, the paper's). */
  updatesPerBatch?: number;
  lr: number;
  advantageEps: number;
  normalizeStd: boolean;
  /** The group std with n - 1 (default) or n. */
  unbiasedStd?: boolean;
  /** Leave groups whose rewards are all equal out of the update (see GrpoConfig.skipUniformGroups). */
  skipUniformGroups?: boolean;
  /** Recompute each layer's activations in backward (ForwardOptions.recompute); default false. */
  recompute?: boolean;
  par: ParOptions;
  template: JudgeTemplateOptions;
}

export interface GrpoContext {
  model: Qwen3;
  /** Frozen reference policy for the KL term; null when klCoef is 0. */
  ref: Qwen3 | null;
  opt: AdamW;
  tokenizer: Tokenizer;
}

export interface GrpoStepMetrics {
  rewardMean: number;
  parReward: number;
  formatErrorRate: number;
  /** Share of pairs whose mean chosen score beats the mean rejected score. */
  parAccuracy: number;
  scoreChosen: number | null;
  scoreRejected: number | null;
  responseLength: number;
  // The update's own measurements are null for a step that took no update (every group uniform
  // under skipUniformGroups): "not measured", which a curve must not show as a zero.
  loss: number | null;
  kl: number | null;
  clipFraction: number | null;
  entropy: number | null;
  /** Mean |log p_sampler - log p_trainer| over response tokens. */
  samplerGap: number | null;
  gradNorm: number | null;
  targetTokens: number;
  genSeconds: number;
  trainSeconds: number;
  /**
   * Token positions (prompt + response, padded to each micro-batch's longest row) through the
   * update's forward and backward passes, per second of trainSeconds (which also covers decoding
   * and scoring the rollouts): a throughput figure, not a count of real tokens.
   */
  tokensPerSecond: number | null;
  /** Share of the rollouts that went into the update (1 unless skipUniformGroups drops some). */
  trainedShare: number;
  /** Share of pairs whose chosen / rejected group has equal rewards (measured with or without skipping). */
  uniformChosenShare: number;
  uniformRejectedShare: number;
}

/** A sampled judgment with what the update needs of it. */
export interface Rollout extends PromptCompletion {
  pairIndex: number;
  side: 'chosen' | 'rejected';
  samplerLogprobs: Float32Array;
  text: string;
  advantage: number;
}

export async function grpoStep(ctx: GrpoContext, pairs: readonly PreferencePair[], c: GrpoStepConfig): Promise<GrpoStepMetrics> {
  const { model, tokenizer } = ctx;
  const t0 = performance.now();
  const rows = pairsToPointwiseRows([...pairs]);
  const prompts = await Promise.all(rows.map((r) => encodeJudgePrompt(tokenizer, r, c.template)));
  prompts.forEach((p, i) => {
    if (p.length > c.maxPromptLen) throw new Error(`pair ${rows[i]!.pairId} (${rows[i]!.side}): prompt of ${p.length} tokens exceeds grpo.maxPromptLen ${c.maxPromptLen}`);
  });

  // 1. Rollouts: n per row, generated in KV-cache batches with per-sequence random streams.
  const rolloutPrompts: Int32Array[] = [];
  const rowOf: number[] = [];
  prompts.forEach((p, r) => { for (let k = 0; k < c.rollouts; k++) { rolloutPrompts.push(p); rowOf.push(r); } });
  const genBatch = c.generationRows ?? rolloutPrompts.length;
  const generations = [];
  for (let s = 0; s < rolloutPrompts.length; s += genBatch) {
    const part = rolloutPrompts.slice(s, s + genBatch);
    generations.push(...await generate(model, part, {
      maxNewTokens: c.maxNewTokens,
      stopIds: tokenizer.stopIds,
      sampling: { temperature: c.temperature, topP: c.topP, topK: c.topK, minP: c.minP ?? 0, seed: c.seed },
      streamIds: part.map((_, i) => s + i),
      kvCacheDtype: c.kvCacheDtype,
    }));
  }
  // generate() gave its KV cache back to the device, so the update's activations, of other sizes,
  // do not allocate beside it (memory-plan.ts counts generation and update as phases that do not overlap).
  const t1 = performance.now();

  // 2. Rewards per pair (grouped by pair, never by position), advantages per row group.
  const rollouts: Rollout[] = generations.map((g, i) => {
    const row = rows[rowOf[i]!]!;
    return {
      prompt: rolloutPrompts[i]!, completion: g.tokens, samplerLogprobs: g.logprobs,
      text: tokenizer.decode(g.tokens, { outOfVocabulary: 'replace' }), pairIndex: Math.floor(rowOf[i]! / 2), side: row.side, advantage: 0,
    };
  });
  const skipped = new Set<Rollout>();
  const groupRewards: { chosen: number[]; rejected: number[] }[] = [];
  let rewardSum = 0, parSum = 0, formatErrors = 0, accurate = 0, lengthSum = 0;
  let chosenScoreSum = 0, chosenScoreN = 0, rejectedScoreSum = 0, rejectedScoreN = 0;
  for (let p = 0; p < pairs.length; p++) {
    const mine = rollouts.filter((r) => r.pairIndex === p);
    const chosen = mine.filter((r) => r.side === 'chosen'), rejected = mine.filter((r) => r.side === 'rejected');
    const res = parRewards(chosen.map((r) => r.text), rejected.map((r) => r.text), { ...c.par, parse: { thinking: c.template.thinking } });
    const adv = pairAdvantages(res, { eps: c.advantageEps, normalizeStd: c.normalizeStd, unbiasedStd: c.unbiasedStd });
    chosen.forEach((r, i) => (r.advantage = adv.chosen[i]!));
    rejected.forEach((r, i) => (r.advantage = adv.rejected[i]!));
    groupRewards.push({ chosen: res.chosen.rewards, rejected: res.rejected.rewards });
    if (c.skipUniformGroups) {
      if (isUniformGroup(res.chosen.rewards)) chosen.forEach((r) => skipped.add(r));
      if (isUniformGroup(res.rejected.rewards)) rejected.forEach((r) => skipped.add(r));
    }
    for (const side of [res.chosen, res.rejected]) {
      rewardSum += side.rewards.reduce((a, b) => a + b, 0);
      parSum += side.parRewards.reduce((a, b) => a + b, 0);
      formatErrors += side.scores.filter((s) => s === null).length;
    }
    if (res.meanChosen !== null) { chosenScoreSum += res.meanChosen; chosenScoreN++; }
    if (res.meanRejected !== null) { rejectedScoreSum += res.meanRejected; rejectedScoreN++; }
    if (res.meanChosen !== null && res.meanRejected !== null && res.meanChosen > res.meanRejected) accurate++;
  }
  for (const r of rollouts) lengthSum += r.completion.length;

  // 3. Policy update: token-mean over every response token of the trained rollouts. A batch with
  // no informative group leaves the model as it is (no optimizer step, so no decay or moments).
  const trained = rollouts.filter((r) => !skipped.has(r));
  const uniformShares = uniformGroupShares(groupRewards);
  const train = trained.length > 0 ? await updatePolicy(ctx, trained, c) : NO_UPDATE;
  model.rt.trimPool(); // likewise the update's activations before the next step's generation
  const t2 = performance.now();
  const nRollouts = rollouts.length;
  return {
    loss: train.loss,
    rewardMean: rewardSum / nRollouts,
    parReward: parSum / nRollouts,
    formatErrorRate: formatErrors / nRollouts,
    parAccuracy: accurate / pairs.length,
    scoreChosen: chosenScoreN ? chosenScoreSum / chosenScoreN : null,
    scoreRejected: rejectedScoreN ? rejectedScoreSum / rejectedScoreN : null,
    responseLength: lengthSum / nRollouts,
    kl: train.kl,
    clipFraction: train.clipFraction,
    entropy: train.entropy,
    samplerGap: train.samplerGap,
    gradNorm: train.gradNorm,
    targetTokens: train.targetTokens,
    genSeconds: (t1 - t0) / 1000,
    trainSeconds: (t2 - t1) / 1000,
    tokensPerSecond: train === NO_UPDATE ? null : train.tokens / ((t2 - t1) / 1000),
    trainedShare: trained.length / nRollouts,
    uniformChosenShare: uniformShares.chosen,
    uniformRejectedShare: uniformShares.rejected,
  };
}

const NO_UPDATE = { loss: null, clipFraction: null, kl: null, entropy: null, samplerGap: null, gradNorm: null, targetTokens: 0, tokens: 0 } as const;

/** A micro-batch's inputs to the loss, kept from the first update for the later ones. */
interface MicroBatchInputs {
  batch: ReturnType<typeof packSequences>['batch'];
  N: number;
  mask: Tensor;
  weights: Tensor;
  invCount: number;
  adv: Tensor;
  /** The behaviour policy's log-probs: the policy's before the step's first update. */
  old: Tensor;
  ref: Tensor | null;
}

/** A micro-batch packed and uploaded: mask, loss weights, advantages, the reference's log-probs. */
function microBatchInputs(ctx: GrpoContext, mb: readonly Rollout[], c: GrpoStepConfig, batch: { tokens: number; sequences: number }): MicroBatchInputs {
  const { rt } = ctx.model;
  const packed = packSequences(mb, ctx.tokenizer.padId);
  const { B, T } = packed.batch;
  const N = B * T;
  const mask = rt.upload(packed.mask, [N], 'mask');
  const { weights, invCount } = lossWeights(packed.mask, B, T, c.lossAggregation ?? 'token-mean', batch);
  let ref: Tensor | null = null;
  if (ctx.ref && c.klCoef !== 0) {
    // With recomputation the reference's forward keeps no more than the policy's: its buffers are
    // the ones the policy's forward reuses next.
    const rst = ctx.ref.forward(packed.batch, { temperature: c.temperature, recompute: c.recompute });
    ref = rt.empty([N], 'f32', 'ref');
    rt.copy(rst.logprobs, ref, N);
    rst.dispose();
  }
  return {
    batch: packed.batch, N, mask, invCount, ref,
    weights: weights === packed.mask ? mask : rt.upload(weights, [N], 'loss-weights'),
    adv: rt.upload(perRowValues(Float32Array.from(mb, (r) => r.advantage), T), [N], 'adv'),
    old: rt.empty([N], 'f32', 'old'),
  };
}

function disposeInputs(k: MicroBatchInputs): void {
  for (const t of new Set([k.mask, k.weights, k.adv, k.old])) t.dispose();
  k.ref?.dispose();
}

/**
 * `updatesPerBatch` optimizer steps on the step's rollouts (verl's ppo_epochs; 1 by default).
 * The first is on-policy (ratio 1); the later ones reuse its log-probs as the behaviour policy's,
 * so the ratio and its clip come into play. Loss, clip fraction, KL and gradient norm are means
 * over the updates; entropy and the sampler gap are the first forward's (the sampled policy).
 */
export async function updatePolicy(ctx: GrpoContext, rollouts: readonly Rollout[], c: GrpoStepConfig) {
  const { model, ref, opt } = ctx;
  const { rt } = model;
  const updates = c.updatesPerBatch ?? 1;
  const total = rollouts.reduce((s, r) => s + r.completion.length, 0);
  if (total === 0) throw new Error('GRPO batch has no response tokens');
  // Batch sums kept on the GPU, read once at the end of the step.
  const lossSum = rt.zeros([1]), statsSum = rt.zeros([4]), metricSums = rt.zeros([2]); // [entropy, sampler gap]
  const gradNormSqSum = rt.zeros([1]);
  const loss = rt.empty([1]), stats = rt.empty([4]);
  const refMeasured = ref !== null && c.klCoef !== 0;
  const lossOptions = { clipEps: c.clipEps, klCoef: c.klCoef, klEstimator: c.klEstimator, clipRatioC: c.clipRatioC || null };
  const microBatches = chunks(rollouts, c.microBatchRows);
  const kept: MicroBatchInputs[] = []; // with more than one update: each micro-batch's, from the first
  let tokens = 0;
  try {
    for (let update = 0; update < updates; update++) {
      model.zeroGrads();
      for (const [i, mb] of microBatches.entries()) {
        const inputs = kept[i] ?? microBatchInputs(ctx, mb, c, { tokens: total, sequences: rollouts.length });
        if (updates > 1) kept[i] = inputs;
        const { N } = inputs;
        tokens += N;
        // At the sampling temperature, as verl: the ratio, the KL and the sampler gap then all compare
        // log-probs of the distribution the rollouts were drawn from.
        const st = model.forward(inputs.batch, { entropy: update === 0, temperature: c.temperature, recompute: c.recompute });
        if (update === 0) {
          rt.copy(st.logprobs, inputs.old, N); // the behaviour policy is the policy before any update
          const sampler = rt.upload(perTargetValues(mb, inputs.batch.T, mb.map((r) => r.samplerLogprobs)), [N], 'sampler-lp');
          maskedSumInto(rt, st.entropy!, inputs.mask, metricSums, 0, N);
          const gap = rt.empty([N]);
          absDiff(rt, st.logprobs, sampler, gap);
          maskedSumInto(rt, gap, inputs.mask, metricSums, 1, N);
          gap.dispose();
          sampler.dispose();
        }
        const dLogprobs = rt.empty([N]);
        grpoLoss(rt, st.logprobs, inputs.old, inputs.ref ?? inputs.old, inputs.adv, inputs.weights, inputs.invCount, lossOptions, loss, dLogprobs, stats, N);
        axpy(rt, 1, loss, lossSum);
        axpy(rt, 1, stats, statsSum);
        model.backward(st, dLogprobs);
        dLogprobs.dispose();
        st.dispose();
        if (updates === 1) disposeInputs(inputs); // nothing to keep: free it as the batch goes
      }
      opt.step(model.params, model.grads!, c.lr);
      axpy(rt, 1, opt.gradNormSq, gradNormSqSum);
    }
  } finally {
    for (const k of kept) disposeInputs(k);
  }
  // one readback: [loss, clipped, kl, ratio, pg, entropy, gap, sum of grad norm^2]
  const packedSums = rt.empty([8]);
  rt.copy(lossSum, packedSums, 1, 0, 0);
  rt.copy(statsSum, packedSums, 4, 0, 1);
  rt.copy(metricSums, packedSums, 2, 0, 5);
  rt.copy(gradNormSqSum, packedSums, 1, 0, 7);
  const s = await rt.read(packedSums);
  for (const t of [lossSum, statsSum, metricSums, gradNormSqSum, loss, stats, packedSums]) t.dispose();
  const perUpdate = (x: number) => x / updates;
  return {
    // Without a reference model the kernel compared the policy with itself: the KL was not measured.
    loss: perUpdate(s[0]!), clipFraction: perUpdate(s[1]! / total), kl: refMeasured ? perUpdate(s[2]! / total) : null,
    entropy: s[5]! / total, samplerGap: s[6]! / total,
    // the root of the mean squared norm (one update: the update's norm)
    gradNorm: Math.sqrt(perUpdate(s[7]!)), targetTokens: total, tokens,
  };
}
