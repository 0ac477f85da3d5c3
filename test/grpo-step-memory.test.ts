// A GRPO step's memory: with grpo.generationRows the step's rollouts are generated a few
// sequences at a time (a smaller KV cache) and are the same rollouts as in one batch, so the
// update and its metrics are the same; and a step gives back what it allocated, so generation's
// KV cache and the update's activations are never held at once (memory-plan.ts's phases).
import { describe, expect, it } from 'vitest';
import { Qwen3 } from '../src/model/qwen3.js';
import { initRandomWeights, readWeights } from '../src/model/weights.js';
import { makeSplits, SYNTH_RUBRICS } from '../src/synth/index.js';
import { loadModelConfig, type TrainConfig } from '../src/train/config.js';
import { grpoStep, type GrpoStepConfig } from '../src/train/grpo.js';
import { AdamW } from '../src/train/optimizer.js';
import { loadTokenizer } from '../src/tokenizer/index.js';
import { runtime } from './util.js';

describe('GRPO step memory', () => {
  it('generationRows gives the same update and metrics as generating every rollout at once; a step returns its memory', async () => {
    const rt = await runtime();
    const tokenizer = await loadTokenizer('models/tiny-tokenizer');
    const cfg = loadModelConfig({ model: { config: 'models/tiny-judge.json' } } as TrainConfig);
    const { train } = makeSplits({ seed: 5, train: 3, val: 0, test: 0 });
    const step = async (generationRows: number | undefined) => {
      const model = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, 7));
      const opt = new AdamW(rt, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 });

      const c: GrpoStepConfig = {
        rollouts: 3, microBatchRows: 5, generationRows, maxNewTokens: 6, maxPromptLen: 120, temperature: 1, topP: 1, topK: 0, seed: 3,
        clipEps: 0.2, klCoef: 0, lr: 1e-2, advantageEps: 1e-6, normalizeStd: true, skipUniformGroups: false,
        par: { f: { kind: 'graded', threshold: 2, high: 1, low: 0.5 }, formatPenalty: -1 },
        template: { chat: false, thinking: false, rubrics: SYNTH_RUBRICS },
      };
      await grpoStep({ model, ref: null, opt, tokenizer }, train, c);
      // The first step allocates the gradients and AdamW's moments; from then on a step gives
      // back what it took, and holds nothing for reuse: the next phase starts from the persistent state.
      expect(rt.pool.pooledBytes).toBe(0);
      const persistent = rt.pool.liveBytes;
      const m = await grpoStep({ model, ref: null, opt, tokenizer }, train, { ...c, seed: 4 });
      expect(rt.pool.liveBytes).toBe(persistent);
      expect(rt.pool.pooledBytes).toBe(0);
      const weights = await readWeights(rt, model.params);
      model.dispose();
      // Timings differ from run to run; everything else must not.
      const { genSeconds: _g, trainSeconds: _t, tokensPerSecond: _p, ...rest } = m;
      return { metrics: rest, weights };
    };
    const whole = await step(undefined);
    // 3 pairs x 2 sides x 3 rollouts = 18 sequences, generated 4 at a time (the last chunk 2).
    const chunked = await step(4);
    expect(chunked.metrics).toEqual(whole.metrics);
    expect(whole.metrics['targetTokens']).toBeGreaterThan(0);
    for (const [name, w] of whole.weights) expect(chunked.weights.get(name), name).toEqual(w);
  });
});
