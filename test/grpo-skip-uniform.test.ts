// grpo.skipUniformGroups: groups whose rewards are all equal carry no advantage, so leaving them
// out must leave the model exactly as it was when every group is uniform, whereas the plain
// update still moves it (AdamW's decoupled weight decay acts even on a zero gradient).
// An untrained model writes no `<answer>` in 6 tokens: every rollout is malformed, every reward -1.
import { describe, expect, it } from 'vitest';
import { Qwen3 } from '../src/model/qwen3.js';
import { initRandomWeights, readWeights } from '../src/model/weights.js';
import { makeSplits, SYNTH_RUBRICS } from '../src/synth/index.js';
import { loadModelConfig, type TrainConfig } from '../src/train/config.js';
import { grpoStep, type GrpoStepConfig } from '../src/train/grpo.js';
import { AdamW } from '../src/train/optimizer.js';
import { loadTokenizer } from '../src/tokenizer/index.js';
import { runtime } from './util.js';

describe('grpo.skipUniformGroups', () => {
  it('leaves the model untouched when every group is uniform; the plain update does not', async () => {
    const rt = await runtime();
    const tokenizer = await loadTokenizer('models/tiny-tokenizer');
    const cfg = loadModelConfig({ model: { config: 'models/tiny-judge.json' } } as TrainConfig);
    const { train } = makeSplits({ seed: 2, train: 3, val: 0, test: 0 });
    const step = async (skipUniformGroups: boolean) => {
      const model = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, 4));
      const before = await readWeights(rt, model.params);
      const opt = new AdamW(rt, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 });
      const c: GrpoStepConfig = {
        rollouts: 3, microBatchRows: 5, maxNewTokens: 6, maxPromptLen: 120, temperature: 1, topP: 1, topK: 0, seed: 9,
        clipEps: 0.2, klCoef: 0, lr: 1e-2, advantageEps: 1e-6, normalizeStd: true, skipUniformGroups,
        par: { f: { kind: 'graded', threshold: 2, high: 1, low: 0.5 }, formatPenalty: -1 },
        template: { chat: false, thinking: false, rubrics: SYNTH_RUBRICS },
      };
      const m = await grpoStep({ model, ref: null, opt, tokenizer }, train, c);
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
    for (const k of measured) expect(typeof plain.m[k], k).toBe('number');
    expect(plain.m.trainedShare).toBe(1);
    expect(plain.m.targetTokens).toBeGreaterThan(0);
    expect(plain.changed).toBeGreaterThan(0);
  });
});
