// grpo.skipUniformGroups: groups whose rewards are all equal carry no advantage, so leaving them
// out must leave the model exactly as it was when every group is uniform, whereas the plain
// update still moves it (AdamW's decoupled weight decay acts even on a zero gradient).
// An untrained model writes no `<answer>` in 6 tokens: every rollout is malformed, every reward -1.
import { describe, expect, it } from 'vitest';
import { readWeights } from '../src/model/weights.js';
import { makeSplits } from '../src/synth/index.js';
import { grpoStep } from '../src/train/grpo.js';
import { tinyGrpoContext, tinyGrpoStepConfig } from './tiny-grpo.js';
import { runtime } from './util.js';

describe('grpo.skipUniformGroups', () => {
  it('leaves the model untouched when every group is uniform; the plain update does not', async () => {
    const rt = await runtime();
    const { train } = makeSplits({ seed: 2, train: 3, val: 0, test: 0 });
    const step = async (skipUniformGroups: boolean) => {
      const ctx = await tinyGrpoContext(rt, 4);
      const { model } = ctx;
      const before = await readWeights(rt, model.params);
      const m = await grpoStep(ctx, train, tinyGrpoStepConfig({ seed: 9, skipUniformGroups }));
      const after = await readWeights(rt, model.params);
      let changed = 0;
      for (const [name, w] of before) {
        const v = after.get(name)!;
        for (let i = 0; i < w.length; i++) if (v[i] !== w[i]) changed++;
      }
      model.dispose();
      return { m, changed };
    };
    const skip = await step(true);
    const plain = await step(false);
    for (const r of [skip, plain]) {
      expect(r.m.formatErrorRate).toBe(1);
      expect(r.m.rewardMean).toBe(-1);
      // Measured whether or not the groups are skipped.
      expect(r.m.uniformChosenShare).toBe(1);
      expect(r.m.uniformRejectedShare).toBe(1);
    }
    expect(skip.m.trainedShare).toBe(0);
    expect(skip.changed).toBe(0);
    // No update, so nothing the update measures: null ("not measured"), never a zero on a curve.
    const measured = ['loss', 'kl', 'clipFraction', 'entropy', 'samplerGap', 'gradNorm', 'tokensPerSecond'] as const;
    for (const k of measured) expect(skip.m[k], k).toBeNull();
    // The plain update measures all but the KL: this context has no reference model (klCoef 0).
    for (const k of measured) if (k !== 'kl') expect(typeof plain.m[k], k).toBe('number');
    expect(plain.m.kl).toBeNull();
    expect(plain.m.trainedShare).toBe(1);
    expect(plain.m.targetTokens).toBeGreaterThan(0);
    expect(plain.changed).toBeGreaterThan(0);
  });
});
