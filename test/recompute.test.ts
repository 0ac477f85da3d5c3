// Activation recomputation (model.gradientCheckpointing): the forward keeps only each layer's
// input and backward runs the layer's forward again. The same kernels on the same inputs, so the
// gradients must be bit for bit those of the plain path (which golden.test.ts holds to PyTorch);
// the point is memory, checked at Qwen3-0.6B and 14B shapes against the buffer pool's peak on the
// validating stand-in device, as memory-plan-shapes.test.ts does for the plain path.
import { describe, expect, it } from 'vitest';
import { Qwen3, type TokenBatch } from '../src/model/qwen3.js';
import { initRandomWeights, readWeights, zerosLike } from '../src/model/weights.js';
import { planMemory, type MemoryPlanTrain } from '../src/train/memory-plan.js';
import { ConfigError, configHash, defaultTrainConfig, loadTrainConfig } from '../src/train/config.js';
import { AdamW } from '../src/train/optimizer.js';
import { makeSplits } from '../src/synth/index.js';
import { grpoStep } from '../src/train/grpo.js';
import { tinyGrpoContext, tinyGrpoStepConfig } from './tiny-grpo.js';
import { randn, runtime } from './util.js';
import { MiB, qwen3Shape as qwen3, tinyOddQwen3 } from './model-shapes.js';
import { validatingRuntime } from './validating-device.js';

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


describe('memory of a recomputing step vs the plan (validating stand-in device)', () => {
  for (const [size, cpuAdapter, B, T] of [['0.6B', true, 4, 1024], ['0.6B', false, 4, 1024], ['14B', false, 2, 300], ['14B', true, 1, 100]] as const) {
    it(`${size}, B ${B} x T ${T}, ${cpuAdapter ? 'CPU-adapter' : 'GPU'} kernels: the plan covers the pool's peak, and the activations shrink as planned`, () => {
      const cfg = qwen3(size);
      const peaks: Record<string, number> = {};
      for (const recompute of [false, true]) {
        const { rt, log } = validatingRuntime({ bindingBytes: 128 * MiB, cpuAdapter });
        const model = new Qwen3(rt, cfg, zerosLike(rt, cfg, 'w'));
        const opt = new AdamW(rt, cfg, { lr: 1e-5, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
        model.zeroGrads();
        const st = model.forward({ B, T, ids: new Int32Array(B * T).map((_, i) => (i * 7919) % cfg.vocabSize) }, { recompute });
        const dLogprobs = rt.empty([B * T]);
        model.backward(st, dLogprobs);
        st.dispose();
        dLogprobs.dispose();
        opt.step(model.params, model.grads!, 1e-5);
        rt.submit();
        expect(log.errors).toEqual([]);
        const shape: MemoryPlanTrain = { stages: ['sft'], microBatchRows: B, seqLen: T, rollouts: 1, batchRows: B, maxNewTokens: 0, refModel: 'none', recompute };
        const plan = planMemory(cfg, shape, { maxBufferBytes: rt.gpu.maxBufferBytes, maxStorageBindingBytes: rt.gpu.maxStorageBindingBytes });
        const peak = rt.pool.peakBytes;
        // Weights, gradients and AdamW's moments are counted exactly; the rest is the step's.
        const step = peak - plan.persistentBytes;
        console.log(`${size} B ${B} T ${T} ${cpuAdapter ? 'CPU-adapter' : 'GPU'}${recompute ? ' recomputing' : ''}: pool peak ${(peak / MiB).toFixed(0)} MiB, beyond the persistent state ${(step / MiB).toFixed(0)} MiB; plan ${(plan.totalBytes / MiB).toFixed(0)} / ${(plan.trainingBytes / MiB).toFixed(0)} MiB`);
        expect(plan.totalBytes).toBeGreaterThanOrEqual(peak);
        expect(plan.totalBytes).toBeLessThan(peak * 1.01);
        expect(plan.trainingBytes).toBeGreaterThanOrEqual(step);
        expect(plan.trainingBytes).toBeLessThan(step * 1.02);
        peaks[String(recompute)] = step;
      }
      // At these shapes a layer keeps ~22 times its input: most of the step's memory goes.
      expect(peaks.true!).toBeLessThan(peaks.false! / 4);
    }, 120_000);
  }
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
