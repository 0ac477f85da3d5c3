// GRPO at a sampling temperature other than 1: the trainer's log-probs (policy, old, reference)
// are of softmax(logits / T), the distribution the rollouts were drawn from, as in verl. The
// sampler reports the log-prob of each token it drew, so the mean gap between the two (the
// samplerGap metric) is float noise at any T; with the trainer at T = 1 it was 0.25 nats at 0.7.
// An f16 KV cache (grpo.kvCacheDtype) opens a small gap of its own, which shows it is in use.
import { describe, expect, it } from 'vitest';
import { makeSplits } from '../src/synth/index.js';
import { grpoStep } from '../src/train/grpo.js';
import { tinyGrpoContext, tinyGrpoStepConfig } from './tiny-grpo.js';
import { runtime } from './util.js';

describe('GRPO sampling temperature', () => {
  for (const temperature of [0.7, 1.3]) {
    it(`at T = ${temperature} the trainer's log-probs are the sampler's`, async () => {
      const rt = await runtime();
      const { train } = makeSplits({ seed: 6, train: 2, val: 0, test: 0 });
      const ctx = await tinyGrpoContext(rt, 8);
      const m = await grpoStep(ctx, train, tinyGrpoStepConfig({ temperature }));
      ctx.model.dispose();
      expect(m.targetTokens).toBeGreaterThan(0);
      expect(m.samplerGap as number).toBeLessThan(1e-4);
      // No reference model: the KL was not measured, so it is not logged as a zero on the curve.
      expect(m.kl).toBeNull();
    });
  }

  it('with grpo.kvCacheDtype f16 the rollouts are drawn through the half-precision cache: the sampler drifts from the f32 trainer, a little', async () => {
    const rt = await runtime();
    const { train } = makeSplits({ seed: 6, train: 2, val: 0, test: 0 });
    const gap = async (kvCacheDtype: 'f32' | 'f16') => {
      const ctx = await tinyGrpoContext(rt, 8);
      const m = await grpoStep(ctx, train, tinyGrpoStepConfig({ kvCacheDtype }));
      ctx.model.dispose();
      return m.samplerGap as number;
    };
    const [f32, f16] = [await gap('f32'), await gap('f16')];
    console.log(`sampler vs trainer log-prob gap: f32 cache ${f32.toExponential(2)}, f16 cache ${f16.toExponential(2)}`);
    expect(f16).toBeGreaterThan(f32);
    expect(f16).toBeLessThan(1e-2);
  });

  it('measures the KL when there is a reference model', async () => {
    const rt = await runtime();
    const { train } = makeSplits({ seed: 6, train: 2, val: 0, test: 0 });
    const ctx = await tinyGrpoContext(rt, 8);
    const other = await tinyGrpoContext(rt, 9); // other weights: a KL above 0
    const m = await grpoStep({ ...ctx, ref: other.model }, train, tinyGrpoStepConfig({ klCoef: 0.05 }));
    ctx.model.dispose();
    other.model.dispose();
    other.opt.dispose();
    expect(m.kl as number).toBeGreaterThan(0);
  });
});
