// Activation recomputation (model.gradientCheckpointing): the forward keeps only each layer's
// input and backward runs the layer's forward again. The same kernels on the same inputs, so the
// gradients must be bit for bit those of the plain path (which golden.test.ts holds to PyTorch).
// The point is memory: memory-plan-shapes.test.ts checks it at Qwen3-0.6B and 14B shapes against
// the buffer pool's peak on the validating stand-in device, with and without it.
import { describe, expect, it } from 'vitest';
import { Qwen3, type TokenBatch } from '../src/model/qwen3.js';
import { initRandomWeights, readWeights } from '../src/model/weights.js';
import { ConfigError, configHash, defaultTrainConfig, loadTrainConfig } from '../src/train/config.js';
import { makeSplits } from '../src/synth/index.js';
import { grpoStep } from '../src/train/grpo.js';
import { tinyGrpoContext, tinyGrpoStepConfig } from './tiny-grpo.js';
import { randn, runtime } from './util.js';
import { tinyOddQwen3 } from './model-shapes.js';

const tiny = tinyOddQwen3;

describe('activation recomputation on the GPU', () => {
  it('gives the same log-probs and every gradient bit for bit, and keeps only the layer inputs', async () => {
    const rt = await runtime();
    const model = new Qwen3(rt, tiny, initRandomWeights(rt, tiny, 11, 0.2));
    const B = 3, T = 13;
    const batch: TokenBatch = { B, T, ids: Int32Array.from({ length: B * T }, (_, i) => (i * 37 + 5) % tiny.vocabSize) };
    const upstream = randn(B * T, 3);
    const run = async (recompute: boolean) => {
      model.zeroGrads();
      const liveBefore = rt.pool.liveBytes;
      const st = model.forward(batch, { recompute, temperature: 0.7 });
      const kept = rt.pool.liveBytes - liveBefore;
      const dLogprobs = rt.upload(upstream, [B * T]);
      model.backward(st, dLogprobs);
      const logprobs = await rt.read(st.logprobs);
      const layersKept = st.layers.filter((a) => a !== null).length;
      st.dispose();
      dLogprobs.dispose();
      return { logprobs, grads: await readWeights(rt, model.grads!), kept, layersKept };
    };
    const plain = await run(false);
    const recomputed = await run(true);
    expect(plain.layersKept).toBe(tiny.numLayers);
    expect(recomputed.layersKept).toBe(0);
    // A layer keeps 18 tensors for backward; with recomputation only its input stays.
    expect(recomputed.kept).toBeLessThan(plain.kept / 3);
    expect(recomputed.logprobs).toEqual(plain.logprobs);
    expect([...recomputed.grads.keys()].sort()).toEqual([...plain.grads.keys()].sort());
    let nonZero = 0;
    for (const [name, g] of plain.grads) {
      expect(recomputed.grads.get(name), name).toEqual(g);
      if (g.some((v) => v !== 0)) nonZero++;
    }
    expect(nonZero).toBe(plain.grads.size); // every weight got a gradient, so each comparison counts
    model.dispose();
  });
});

describe('a GRPO step with recomputation', () => {
  it('updates the policy exactly as without it, the KL reference included, in less memory', async () => {
    const rt = await runtime();
    const { train } = makeSplits({ seed: 5, train: 3, val: 0, test: 0 });
    const step = async (recompute: boolean) => {
      const ctx = await tinyGrpoContext(rt, 7);
      const ref = await tinyGrpoContext(rt, 7); // the same initial weights: the KL reference
      ref.opt.dispose();
      const withRef = { ...ctx, ref: ref.model };
      const c = tinyGrpoStepConfig({ klCoef: 0.05, recompute });
      await grpoStep(withRef, train, c); // allocates gradients and moments
      rt.pool.peakBytes = 0;
      const persistent = rt.pool.liveBytes;
      const m = await grpoStep(withRef, train, { ...c, seed: 4 });
      const stepPeak = rt.pool.peakBytes - persistent;
      const weights = await readWeights(rt, ctx.model.params);
      ctx.model.dispose();
      ctx.opt.dispose();
      ref.model.dispose();
      const { genSeconds: _g, trainSeconds: _t, tokensPerSecond: _p, ...rest } = m;
      return { metrics: rest, weights, stepPeak };
    };
    const plain = await step(false);
    const recomputed = await step(true);
    expect(plain.metrics['kl']).toBeGreaterThan(0); // the reference's forward took part
    expect(recomputed.metrics).toEqual(plain.metrics);
    for (const [name, w] of plain.weights) expect(recomputed.weights.get(name), name).toEqual(w);
    console.log(`tiny judge GRPO step beyond the persistent state: ${plain.stepPeak} B plain, ${recomputed.stepPeak} B recomputing`);
    expect(recomputed.stepPeak).toBeLessThan(plain.stepPeak);
  });
});


describe('model.gradientCheckpointing in the config', () => {
  it('is off by default and left out of the config hash, so a run can switch it on resume', () => {
    const cfg = defaultTrainConfig();
    expect(cfg.model.gradientCheckpointing).toBe(false);
    const on = { ...cfg, model: { ...cfg.model, gradientCheckpointing: true } };
    expect(configHash(on)).toBe(configHash(cfg));
    // A setting that does change the numbers still changes the hash.
    expect(configHash({ ...cfg, sft: { ...cfg.sft, microBatchRows: cfg.sft.microBatchRows + 1 } })).not.toBe(configHash(cfg));
  });

  it('is read from the command line, and the Hugging Face and verl spellings are pointed to it', () => {
    // The config is only loaded, so any existing file stands in for the data.
    const load = (argv: string[]) =>
      loadTrainConfig(null, ['--model.init', 'random', '--model.config', 'models/tiny-judge.json', '--stages', 'sft', '--data.sft', 'package.json', '--tokenizer', 'models/tiny-tokenizer', '--sft.maxSeqLen', '128', ...argv]);
    const problems = (argv: string[]): readonly string[] => {
      try {
        load(argv);
        return [];
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
    };
    expect(load([]).model.gradientCheckpointing).toBe(false);
    expect(load(['--model.gradientCheckpointing', 'true']).model.gradientCheckpointing).toBe(true);
    expect(problems(['--model.gradient_checkpointing', 'true'])).toContain("unknown key 'model.gradient_checkpointing': use 'model.gradientCheckpointing' (command line --model.gradient_checkpointing)");
    expect(problems(['--model.enable_gradient_checkpointing', 'true'])).toContain("unknown key 'model.enable_gradient_checkpointing': use 'model.gradientCheckpointing' (command line --model.enable_gradient_checkpointing)");
    expect(problems(['--model.gradientCheckpointing', 'yes'])).toEqual([expect.stringMatching(/^model\.gradientCheckpointing: must be true or false/)]);
  });
});
