// A GRPO step's memory: with grpo.generationRows the step's rollouts are generated a few
// sequences at a time (a smaller KV cache) and are the same rollouts as in one batch, so the
// update and its metrics are the same; and a step gives back what it allocated, so generation's
// KV cache and the update's activations are never held at once (memory-plan.ts's phases).
import { describe, expect, it } from 'vitest';
import { readWeights } from '../src/model/weights.js';
import { makeSplits } from '../src/synth/index.js';
import { grpoStep } from '../src/train/grpo.js';
import { tinyGrpoContext, tinyGrpoStepConfig } from './tiny-grpo.js';
import { runtime } from './util.js';

describe('GRPO step memory', () => {
  it('generationRows gives the same update and metrics as generating every rollout at once; a step returns its memory', async () => {
    const rt = await runtime();
    const { train } = makeSplits({ seed: 5, train: 3, val: 0, test: 0 });
    const step = async (generationRows: number | undefined) => {
      const ctx = await tinyGrpoContext(rt, 7);
      const c = tinyGrpoStepConfig({ generationRows });
      await grpoStep(ctx, train, c);
      // The first step allocates the gradients and AdamW's moments; from then on a step gives
      // back what it took, and holds nothing for reuse: the next phase starts from the persistent state.
      expect(rt.pool.pooledBytes).toBe(0);
      const persistent = rt.pool.liveBytes;
      const m = await grpoStep(ctx, train, { ...c, seed: 4 });
      expect(rt.pool.liveBytes).toBe(persistent);
      expect(rt.pool.pooledBytes).toBe(0);
      const weights = await readWeights(rt, ctx.model.params);
      ctx.model.dispose();
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
