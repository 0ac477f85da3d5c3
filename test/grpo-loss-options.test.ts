// grpo.lossAggregation and grpo.klEstimator reach the update. An untrained judge writes no
// `<answer>`, so every reward is -1 and every advantage 0: the step's loss is then the KL term
// alone, klCoef * sum(kl * w) * invCount, and the logged KL is the estimate's mean over the
// tokens. The same weights and sampling seed give the same rollouts in every run.
import { describe, expect, it } from 'vitest';
import { makeSplits } from '../src/synth/index.js';
import { grpoStep, updatePolicy, type GrpoStepConfig, type Rollout } from '../src/train/grpo.js';
import { tinyGrpoContext, tinyGrpoStepConfig } from './tiny-grpo.js';
import { runtime } from './util.js';

const klCoef = 0.05;

async function stepWith(over: Partial<GrpoStepConfig>) {
  const rt = await runtime();
  const { train } = makeSplits({ seed: 6, train: 2, val: 0, test: 0 });
  const ctx = await tinyGrpoContext(rt, 8);
  const ref = await tinyGrpoContext(rt, 9); // other weights: a KL above 0
  try {
    return await grpoStep({ ...ctx, ref: ref.model }, train, tinyGrpoStepConfig({ klCoef, ...over }));
  } finally {
    for (const c of [ctx, ref]) {
      c.model.dispose();
      c.opt.dispose();
    }
  }
}

describe('GRPO loss options', () => {
  it('lossAggregation weighs the tokens as its mode says', async () => {
    const tokenMean = await stepWith({ lossAggregation: 'token-mean' });
    const seqSum = await stepWith({ lossAggregation: 'seq-mean-token-sum' });
    const seqMean = await stepWith({ lossAggregation: 'seq-mean-token-mean' });
    const rollouts = 2 * 2 * 3; // pairs * sides * rollouts
    expect(tokenMean.rewardMean).toBe(-1); // every advantage 0: the loss is the KL term
    expect(seqSum.targetTokens).toBe(tokenMean.targetTokens); // the same rollouts
    expect(tokenMean.loss!).toBeCloseTo(klCoef * tokenMean.kl!, 7);
    expect(seqSum.loss!).toBeCloseTo((tokenMean.loss! * tokenMean.targetTokens) / rollouts, 6);
    // Every judgment ran to the 6-token limit, so the mean of the per-judgment means is token-mean's
    // (a mode that dropped the weights and kept 1 / sequences would give seq-mean-token-sum's).
    expect(tokenMean.targetTokens).toBe(rollouts * 6);
    expect(seqMean.loss!).toBeCloseTo(tokenMean.loss!, 7);
    expect(Math.abs(seqSum.loss! - tokenMean.loss!)).toBeGreaterThan(1e-3 * Math.abs(tokenMean.loss!));
  });

  it('klEstimator picks the KL estimate, and the loss is klCoef times it', async () => {
    const kls: number[] = [];
    for (const klEstimator of ['k1', 'k2', 'k3'] as const) {
      const m = await stepWith({ klEstimator });
      expect(m.loss!, klEstimator).toBeCloseTo(klCoef * m.kl!, 7);
      kls.push(m.kl!);
    }
    const [, k2, k3] = kls;
    expect(k2).toBeGreaterThan(0);
    expect(k3).toBeGreaterThan(0);
    expect(new Set(kls.map((v) => v.toPrecision(4))).size).toBe(3);
  });
});

describe('grpo.updatesPerBatch', () => {
  // Hand-made rollouts with advantages of both signs (a sampled untrained judge's are all 0), so
  // the policy term moves the model. The first update is on-policy (ratio 1: nothing clipped);
  // later ones keep its log-probs as the behaviour policy's, so at a large lr the ratio leaves
  // 1 +/- eps and tokens are clipped. Old log-probs taken afresh each update would clip nothing.
  async function update(updatesPerBatch: number, clipRatioC = 3) {
    const rt = await runtime();
    const ctx = await tinyGrpoContext(rt, 8);
    const rollouts: Rollout[] = Array.from({ length: 6 }, (_, i) => ({
      prompt: Int32Array.from({ length: 5 + i }, (_, t) => 10 + ((t * 7 + i) % 50)),
      completion: Int32Array.from({ length: 3 + (i % 3) }, (_, t) => 60 + ((t * 5 + i * 3) % 40)),
      samplerLogprobs: new Float32Array(3 + (i % 3)),
      text: '', pairIndex: 0, side: i % 2 ? 'rejected' : 'chosen', advantage: i % 2 ? -1 : 1,
    }));
    try {
      const m = await updatePolicy(ctx, rollouts, tinyGrpoStepConfig({ lr: 0.05, microBatchRows: 4, updatesPerBatch, clipRatioC }));
      return { m, steps: ctx.opt.stepCount };
    } finally {
      ctx.model.dispose();
      ctx.opt.dispose();
    }
  }

  it('takes that many optimizer steps, the later ones against the first one\'s log-probs', async () => {
    const one = await update(1);
    const three = await update(3);
    expect([one.steps, three.steps]).toEqual([1, 3]);
    expect(one.m.clipFraction).toBe(0);
    expect(three.m.clipFraction!).toBeGreaterThan(0);
    // the first update is the same in both: the loss of three is the mean of three, not the first's
    expect(three.m.loss).not.toBe(one.m.loss);
    expect(three.m.entropy).toBe(one.m.entropy); // measured on the first forward only
  });

  it("verl's dual clip (clipRatioC) changes nothing on-policy, and bounds the later updates", async () => {
    // A bound just above 1 binds on any token with A < 0 that an earlier update made likelier.
    const [onPolicy, onPolicyDual] = [await update(1, 0), await update(1, 1.0001)];
    expect(onPolicyDual.m.loss).toBe(onPolicy.m.loss);
    expect(onPolicyDual.m.gradNorm).toBe(onPolicy.m.gradNorm);
    // Two updates: the first is the same with or without it (above), so the second starts from the
    // same weights, and its policy term min(pg, -A * c) <= pg is strictly lower where the clip binds.
    const [two, twoDual] = [await update(2, 0), await update(2, 1.0001)];
    expect(twoDual.m.loss!).toBeLessThan(two.m.loss!);
  });
});
