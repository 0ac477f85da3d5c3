// The memory plan against what the engine really allocates, at Qwen3-0.6B and 14B shapes: the real
// training step and KV-cache generation run on a validating stand-in device (nothing computed), and
// the buffer pool's peak is the device memory the run would need. The same runs prove the launch
// paths at those shapes: tables split over several storage bindings, no grid or binding past a limit.
// Last, which kernel families an adapter the stand-in plays may run.
import { describe, expect, it } from 'vitest';
import { generate } from '../src/model/generate.js';
import { Qwen3 } from '../src/model/qwen3.js';
import { zerosLike } from '../src/model/weights.js';
import { planMemory } from '../src/train/memory-plan.js';
import { resolveAttentionVariant } from '../src/ops/attention.js';
import { resolveMatmulVariant } from '../src/ops/matmul.js';
import { AdamW } from '../src/train/optimizer.js';
import { updatePolicy, type Rollout } from '../src/train/grpo.js';
import type { Tokenizer } from '../src/tokenizer/index.js';
import { tinyGrpoStepConfig } from './tiny-grpo.js';
import { qwen3WeightShapes } from '../src/io/hf-model.js';
import { Bf16MatricesQwen3 } from '../src/model/bf16-matrices.js';
import { MiB, qwen3Shape as qwen3 } from './model-shapes.js';
import { validatingRuntime, type DeviceLog } from './validating-device.js';
import { evaluationShape, heldOutEvaluator } from '../src/eval/held-out.js';
import type { PreferencePair } from '../src/data/index.js';
import type { TrainConfig } from '../src/train/config.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Qwen3Config } from '../src/io/hf-model.js';
import type { EvaluationShape, MemoryPlanTrain } from '../src/train/memory-plan.js';


/** A model of `size`'s shapes with zero weights on a validating stand-in device with 128 MiB bindings. */
function zeroWeightModel(size: Parameters<typeof qwen3>[0]) {
  const { rt, log } = validatingRuntime({ bindingBytes: 128 * MiB });
  const cfg = qwen3(size);
  return { rt, log, cfg, model: new Qwen3(rt, cfg, zerosLike(rt, cfg, 'w')) };
}

/** The plan covers the measured peak, and by less than 2%. */
function expectCovers(planned: number, peak: number): void {
  expect(planned).toBeGreaterThanOrEqual(peak);
  expect(planned).toBeLessThan(peak * 1.02);
}

/** GRPO's generation prompts: `rollouts` copies of each row's prompt, row r of lengths[r] tokens. */
function rowPrompts(cfg: Qwen3Config, rollouts: number, lengths: readonly number[]): Int32Array[] {
  return Array.from({ length: lengths.length * rollouts }, (_, g) => {
    const row = Math.floor(g / rollouts);
    return Int32Array.from({ length: lengths[row]! }, (_, i) => (i * 31 + row) % cfg.vocabSize);
  });
}

/** The memory plan of a GRPO-only run on the runtime's adapter. */
function grpoPlan(rt: Runtime, cfg: Qwen3Config, shape: Omit<MemoryPlanTrain, 'stages' | 'microBatchRows' | 'refModel'>) {
  return planMemory(cfg, { stages: ['grpo'], microBatchRows: 1, refModel: 'none', ...shape },
    { maxBufferBytes: rt.gpu.maxBufferBytes, maxStorageBindingBytes: rt.gpu.maxStorageBindingBytes });
}

/** The pool's peak while `run` generates, beyond what was live before it (the pool emptied first); no device error. */
async function generationPeak(rt: Runtime, log: DeviceLog, run: () => Promise<unknown>): Promise<number> {
  rt.pool.trim();
  const before = rt.pool.liveBytes;
  rt.pool.peakBytes = 0;
  await run();
  expect(log.errors).toEqual([]);
  return rt.pool.peakBytes - before;
}

const SAMPLING = { temperature: 1, topP: 1, topK: 0, minP: 0, seed: 1 };

describe('memory plan vs the allocations of a real step (validating stand-in device)', () => {
  for (const [size, cpuAdapter, B, T] of [['0.6B', true, 4, 1024], ['0.6B', false, 4, 1024], ['14B', true, 1, 100], ['14B', false, 2, 300]] as const) {
    it(`${size} training step, B ${B} x T ${T}, ${cpuAdapter ? 'CPU-adapter' : 'GPU'} kernels: no limit crossed, and the plan covers the pool's peak, with and without recomputation`, () => {
      const cfg = qwen3(size);
      const steps: Record<string, number> = {};
      for (const recompute of [false, true]) {
        const { rt, log } = validatingRuntime({ bindingBytes: 128 * MiB, cpuAdapter });
        const model = new Qwen3(rt, cfg, zerosLike(rt, cfg, 'w'));
        const opt = new AdamW(rt, cfg, { lr: 1e-5, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
        model.zeroGrads();
        const state = model.forward({ B, T, ids: new Int32Array(B * T).map((_, i) => (i * 7919) % cfg.vocabSize) }, { recompute });
        const dLogprobs = rt.empty([B * T]);
        model.backward(state, dLogprobs);
        state.dispose();
        dLogprobs.dispose();
        opt.step(model.params, model.grads!, 1e-5);
        rt.submit();
        expect(log.errors).toEqual([]);
        expect(model.params.get('model.embed_tokens.weight')!.parts.length).toBeGreaterThan(1); // a table split over bindings
        if (cpuAdapter) {
          // Every dimension is a multiple of 4, so no matmul falls back to the scalar kernel: split
          // weight blocks keep the row alignment of the vec4 one.
          const scalar = [...log.kernels].filter(([k]) => k.startsWith('matmul_cpu:'));
          expect(scalar).toEqual([]);
        }
        const plan = planMemory(cfg, { stages: ['sft'], microBatchRows: B, seqLen: T, rollouts: 1, batchRows: B, maxNewTokens: 0, refModel: 'none', recompute },
          { maxBufferBytes: rt.gpu.maxBufferBytes, maxStorageBindingBytes: rt.gpu.maxStorageBindingBytes });
        const peak = rt.pool.peakBytes;
        // Weights, gradients and AdamW's moments are counted exactly; the rest is the step's.
        const step = peak - plan.persistentBytes;
        console.log(`${size} B ${B} T ${T} ${cpuAdapter ? 'CPU-adapter' : 'GPU'}${recompute ? ' recomputing' : ''}: pool peak ${(peak / MiB).toFixed(0)} MiB, beyond the persistent state ${(step / MiB).toFixed(0)} MiB; plan ${(plan.totalBytes / MiB).toFixed(0)} / ${(plan.trainingBytes / MiB).toFixed(0)} MiB; ${log.dispatches} dispatches, largest grid [${log.maxGrid}]`);
        expect(plan.totalBytes).toBeGreaterThanOrEqual(peak);
        expect(plan.totalBytes).toBeLessThan(peak * 1.01);
        expect(plan.trainingBytes).toBeGreaterThanOrEqual(step);
        expect(plan.trainingBytes).toBeLessThan(step * 1.02);
        steps[String(recompute)] = step;
      }
      // Recomputation: at these shapes a layer keeps ~22 times its input, so most of the step's memory goes.
      expect(steps.true!).toBeLessThan(steps.false! / 4);
    }, 120_000);
  }

  for (const kvCacheDtype of ['f32', 'f16'] as const) it(`0.6B GRPO generation, ${kvCacheDtype} KV cache: rollouts share their prompt in the prefill, and the plan covers the pool's peak without refusing it`, async () => {
    const { rt, log, cfg, model } = zeroWeightModel('0.6B');
    const rollouts = 8, rows = 4, promptLen = 512, maxNewTokens = 4;
    const prompts = rowPrompts(cfg, rollouts, Array(rows).fill(promptLen));
    const peak = await generationPeak(rt, log, () => generate(model, prompts, { maxNewTokens, stopIds: [], sampling: SAMPLING, kvCacheDtype }));
    const plan = grpoPlan(rt, cfg, { seqLen: promptLen + maxNewTokens, rollouts, batchRows: rows, maxNewTokens, kvCacheDtype });
    console.log(`0.6B generation of ${rows} x ${rollouts} rollouts, ${kvCacheDtype} cache: pool peak ${(peak / MiB).toFixed(0)} MiB, plan ${(plan.generationBytes / MiB).toFixed(0)} MiB`);
    // Counted for every rollout, the prefill's [16384 tokens, 3072] activation would pass the
    // 128 MiB binding and the plan would refuse a run that works.
    expect(plan.fits === false && plan.reasons.some((r) => r.includes('prefill'))).toBe(false);
    expectCovers(plan.generationBytes, peak);
  }, 60_000);
});

describe('memory plan vs the allocations of generation whose decode steps outweigh its prefill (validating stand-in device)', () => {
  it('0.6B, 64 rollouts of one 16-token prompt: the decode step, wider than the prefill, is counted beyond it, at every batch size as the rollouts finish', async () => {
    const { rt, log, cfg, model } = zeroWeightModel('0.6B');
    const rollouts = 64, promptLen = 16, maxNewTokens = 70, stop = 7;
    const prompts = Array.from({ length: rollouts }, () => Int32Array.from({ length: promptLen }, (_, i) => (i * 31 + 5) % cfg.vocabSize));
    const plan = grpoPlan(rt, cfg, { seqLen: promptLen + maxNewTokens, rollouts, batchRows: 1, maxNewTokens });
    const peakOf = async (finishing: 'together' | 'one a step') => {
      // The stand-in device samples nothing: its readbacks are ours. One active sequence a step
      // samples the stop token, so the batch shrinks by one each step (64, 63, ..., 1).
      const read = rt.readBytes.bind(rt);
      rt.readBytes = async (t) => {
        const bytes = await read(t);
        if (finishing === 'one a step') new Int32Array(bytes)[0] = stop;
        return bytes;
      };
      const peak = await generationPeak(rt, log, async () => {
        const gens = await generate(model, prompts, { maxNewTokens, stopIds: [stop], sampling: SAMPLING });
        if (finishing === 'one a step') expect(gens.map((g) => g.tokens.length)).toEqual(Array.from({ length: rollouts }, (_, i) => i + 1));
      });
      rt.readBytes = read;
      return peak;
    };
    const together = await peakOf('together'), staggered = await peakOf('one a step');
    expect(log.errors).toEqual([]);
    const decode = plan.items.find((i) => i.name === 'decode step working set (one layer)')!;
    console.log(`0.6B generation of ${rollouts} rollouts of one ${promptLen}-token prompt: pool peak ${(together / MiB).toFixed(1)} MiB, ${(staggered / MiB).toFixed(1)} MiB finishing one a step; ` +
      `plan ${(plan.generationBytes / MiB).toFixed(1)} MiB (decode beyond prefill ${(decode.bytes / MiB).toFixed(1)})`);
    expect(decode.bytes).toBeGreaterThan(0);
    expect(staggered).toBeGreaterThan(together);
    expectCovers(plan.generationBytes, staggered);
  }, 60_000);
});

describe('memory plan vs the allocations of a GRPO step generated in several calls (validating stand-in device)', () => {
  it('0.6B, grpo.generationRows 32 of 64 rollouts: the second call, of shorter prompts, does not allocate beside the first one\'s cache', async () => {
    const { rt, log, cfg, model } = zeroWeightModel('0.6B');
    const rollouts = 8, maxNewTokens = 4;
    const peak = await generationPeak(rt, log, async () => {
      for (const promptLen of [512, 300]) await generate(model, rowPrompts(cfg, rollouts, [promptLen, promptLen, promptLen, promptLen]), { maxNewTokens, stopIds: [], sampling: SAMPLING });
    });
    // Rows of 8 rollouts, 32 generated at a time: 4 distinct prompts of up to 512 tokens a call.
    const plan = grpoPlan(rt, cfg, { seqLen: 512 + maxNewTokens, rollouts, batchRows: 8, maxNewTokens, generationRows: 32 });
    console.log(`0.6B generation in two calls of 32 rollouts (512- then 300-token prompts): pool peak ${(peak / MiB).toFixed(0)} MiB, plan ${(plan.generationBytes / MiB).toFixed(0)} MiB`);
    expectCovers(plan.generationBytes, peak);
  }, 60_000);
});

describe('memory plan vs the allocations of a GRPO prefill in several passes (validating stand-in device)', () => {
  it('0.6B, 2 prompts shorter than grpo.maxPromptLen: a last pass longer than the padded prompts\' remainder is counted', async () => {
    const { rt, log, cfg, model } = zeroWeightModel('0.6B');
    const rollouts = 4, rows = 2, maxPromptLen = 10972, maxNewTokens = 4;
    const plan = grpoPlan(rt, cfg, { seqLen: maxPromptLen + maxNewTokens, rollouts, batchRows: rows, maxNewTokens });
    // A prefill pass holds 10922 tokens here. Two prompts of the longest allowed length leave a
    // last pass of 100 tokens; these, 10972 + 9507 (a cache as long as the plan's), one of 9557,
    // whose MLP-wide tensors take the size class just below a full pass's.
    const lengths = [maxPromptLen, 9507];
    const peak = await generationPeak(rt, log, () => generate(model, rowPrompts(cfg, rollouts, lengths), { maxNewTokens, stopIds: [], sampling: SAMPLING }));
    console.log(`0.6B generation of ${rows} x ${rollouts} rollouts of ${lengths.join(' and ')}-token prompts: pool peak ${(peak / MiB).toFixed(0)} MiB, plan ${(plan.generationBytes / MiB).toFixed(0)} MiB`);
    expectCovers(plan.generationBytes, peak);
  }, 60_000);
});

describe('memory plan vs the allocations of a real GRPO update (validating stand-in device)', () => {
  // The update of a step's rollouts (updatePolicy): the reference's forward, the policy's forward and
  // backward per micro-batch, AdamW; with the loss inputs kept between updates when there are two.
  const cases = [[false, 1, 'f32'], [true, 1, 'f32'], [false, 2, 'f32'], [true, 2, 'f32'], [false, 1, 'bf16'], [true, 2, 'bf16']] as const;
  for (const [recompute, updatesPerBatch, refDtype] of cases) {
    it(`0.6B, 2 pairs x 2 rollouts of 256 tokens, micro-batches of 2${recompute ? ', recomputing' : ''}, ${updatesPerBatch} update(s), ${refDtype} reference: the plan covers the pool's peak`, async () => {
      const { rt, log, cfg, model } = zeroWeightModel('0.6B');
      // The bf16 reference packs host weights: zeros, one tensor at a time.
      const shapes = qwen3WeightShapes(cfg);
      const hostZeros = async (name: string) => new Float32Array(shapes.get(name)!.reduce((a, b) => a * b, 1));
      const ref = refDtype === 'bf16' ? await Bf16MatricesQwen3.fromReader(rt, cfg, hostZeros) : new Qwen3(rt, cfg, zerosLike(rt, cfg, 'ref'));
      const opt = new AdamW(rt, cfg, { lr: 1e-5, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
      const pairs = 2, rollouts = 2, promptLen = 200, maxNewTokens = 56, microBatchRows = 2;
      const rows: Rollout[] = Array.from({ length: 2 * pairs * rollouts }, (_, i) => ({
        prompt: Int32Array.from({ length: promptLen }, (_, t) => (t * 31 + i) % cfg.vocabSize),
        completion: Int32Array.from({ length: maxNewTokens }, (_, t) => (t * 17 + i) % cfg.vocabSize),
        pairIndex: Math.floor(i / (2 * rollouts)), side: Math.floor(i / rollouts) % 2 === 0 ? 'chosen' : 'rejected',
        samplerLogprobs: new Float32Array(maxNewTokens), text: '', advantage: i % 2 === 0 ? 0.5 : -0.5,
      }));
      const c = tinyGrpoStepConfig({ rollouts, microBatchRows, maxNewTokens, maxPromptLen: promptLen, klCoef: 0.001, lr: 1e-5, recompute, updatesPerBatch });
      await updatePolicy({ model, ref, opt, tokenizer: { padId: 0 } as Tokenizer }, rows, c);
      expect(log.errors).toEqual([]);
      const plan = planMemory(cfg, {
        stages: ['grpo'], microBatchRows, seqLen: promptLen + maxNewTokens, rollouts, batchRows: 2 * pairs, maxNewTokens, refModel: refDtype, recompute, updatesPerBatch,
      }, { maxBufferBytes: rt.gpu.maxBufferBytes, maxStorageBindingBytes: rt.gpu.maxStorageBindingBytes });
      const peak = rt.pool.peakBytes;
      const update = peak - plan.persistentBytes; // weights, gradients, moments, the reference: counted exactly
      console.log(`0.6B GRPO update${recompute ? ' recomputing' : ''}, ${updatesPerBatch} update(s), ${refDtype} reference: pool peak ${(peak / MiB).toFixed(0)} MiB, beyond the persistent state ${(update / MiB).toFixed(0)} MiB; plan's training phase ${(plan.trainingBytes / MiB).toFixed(0)} MiB`);
      expect(plan.persistentBytes + plan.trainingBytes).toBeGreaterThanOrEqual(peak);
      expect(update).toBeGreaterThan(0); // the persistent items are not over-counted into the step's share
      expect(plan.trainingBytes).toBeLessThan(update * 1.02);
    }, 60_000);
  }
});

describe('memory plan vs the allocations of evaluation during training (validating stand-in device)', () => {
  /** The pool's peak of one evaluation (heldOutEvaluator) whose judge prompts have these token lengths, in order (chosen, rejected, ...). */
  const evaluationPeak = async (rt: Runtime, model: Qwen3, lengths: readonly number[], o: { maxNewTokens: number; kvBudgetBytes: number }, spread = false) => {
    let calls = 0;
    const stop = 7;
    const tokenizer = {
      // Each prompt of its own (no shared prefill), of the length its turn asks.
      encode: async () => { const c = calls++; return Int32Array.from({ length: lengths[c]! }, (_, i) => (i * 31 + c * 7 + 1) % model.cfg.vocabSize); },
      decode: () => '', stopIds: [stop],
    } as unknown as Tokenizer;
    const pairs: PreferencePair[] = Array.from({ length: lengths.length / 2 }, (_, i) => ({ id: `p${i}`, prompt: `q${i}`, chosen: 'a', rejected: 'b' }));
    // The stand-in device samples nothing: its readbacks are ours. Spread, the judgments finish a
    // few a step (the rest at the last), so the decode steps take every batch size on the way.
    const read = rt.readBytes.bind(rt);
    let step = 0;
    if (spread) {
      rt.readBytes = async (t) => {
        const bytes = await read(t);
        const ids = new Int32Array(bytes);
        const active = ids.length / 2, left = o.maxNewTokens - step++;
        for (let i = 0; i < Math.ceil(active / left); i++) ids[2 * i] = stop;
        return bytes;
      };
    }
    rt.pool.trim();
    const before = rt.pool.liveBytes;
    rt.pool.peakBytes = 0;
    try {
      const scores = await heldOutEvaluator(pairs, tokenizer, { chat: false, thinking: false }, { seed: 1, ...o })(model);
      expect(scores.evalFormatErrors).toBe(1); // the stand-in device computes nothing: no judgment parses
    } finally {
      rt.readBytes = read;
    }
    return rt.pool.peakBytes - before;
  };
  const planFor = (rt: Runtime, cfg: Qwen3Config, evaluation: EvaluationShape) =>
    planMemory(cfg, { stages: ['sft'], microBatchRows: 1, seqLen: 64, rollouts: 1, batchRows: 1, maxNewTokens: 0, refModel: 'none', evaluation },
      { maxBufferBytes: rt.gpu.maxBufferBytes, maxStorageBindingBytes: rt.gpu.maxStorageBindingBytes });
  const evalConfig = (limit: number, maxNewTokens: number) => ({ eval: { every: 1, limit, maxNewTokens }, grpo: { maxNewTokens: 99, maxPromptLen: 99 } }) as Pick<TrainConfig, 'eval' | 'grpo'>;

  it("0.6B, 8 held-out pairs of any length: the evaluator's peak stays under the plan's bound at the length it names, at others and with mixed lengths", async () => {
    const { rt, log, cfg, model } = zeroWeightModel('0.6B');
    const limit = 8, maxNewTokens = 4;
    const evaluation = evaluationShape(evalConfig(limit, maxNewTokens), { pairs: limit, longestPrompt: cfg.maxPositionEmbeddings - 1 })!;
    expect(evaluation).toMatchObject({ judgments: 2 * limit, maxNewTokens, kvBudgetBytes: 4 * 1024 * MiB, longestPrompt: cfg.maxPositionEmbeddings - 1 });
    const withBudget = { ...evalConfig(limit, maxNewTokens), eval: { ...evalConfig(limit, maxNewTokens).eval, kvMemoryBytes: 123 * MiB } };
    expect(evaluationShape(withBudget)).toMatchObject({ kvBudgetBytes: 123 * MiB, longestPrompt: 99 }); // eval.kvMemoryBytes; no data: grpo.maxPromptLen
    const plan = planFor(rt, cfg, evaluation);
    const at = plan.evaluationAt!;
    const o = { maxNewTokens, kvBudgetBytes: evaluation.kvBudgetBytes };
    const uniform = (n: number) => Array<number>(2 * limit).fill(n);
    const peaks: Record<string, number> = {
      [`${at.promptLen} (the plan's)`]: await evaluationPeak(rt, model, uniform(at.promptLen), o),
      // Shorter; one judgment's cache past the 4 GiB budget (decoded alone); the longest a binding allows.
      '300': await evaluationPeak(rt, model, uniform(300), o),
      '20000': await evaluationPeak(rt, model, uniform(20_000), o),
      '32000': await evaluationPeak(rt, model, uniform(32_000), o),
      // Chunks of several judgments prefilled in passes, with last passes of other sizes.
      '1100 and 300 mixed': await evaluationPeak(rt, model, Array.from({ length: 2 * limit }, (_, i) => (i % 3 ? 300 : 1100)), o),
      '1200 and 13 mixed': await evaluationPeak(rt, model, Array.from({ length: 2 * limit }, (_, i) => (i % 5 ? 1200 : 13)), o),
    };
    expect(log.errors).toEqual([]);
    console.log(`0.6B evaluation of ${limit} pairs: plan ${(plan.evaluationBytes / MiB).toFixed(0)} MiB at ${at.judgments} judgment(s) of ${at.promptLen} tokens; ` +
      `pool peaks ${Object.entries(peaks).map(([k, b]) => `${k}: ${(b / MiB).toFixed(0)}`).join(', ')} MiB`);
    for (const [k, peak] of Object.entries(peaks)) expect(peak, k).toBeLessThanOrEqual(plan.evaluationBytes);
    expect(plan.evaluationBytes).toBeLessThan(Math.max(...Object.values(peaks)) * 1.02);
    expect(plan.totalBytes).toBe(plan.persistentBytes + Math.max(plan.trainingBytes, plan.evaluationBytes));
  }, 120_000);

  it('14B, judge prompts of up to 27 tokens: a chunk of mixed lengths whose last prefill pass is of another size class stays under the bound', async () => {
    const { rt, log, cfg, model } = zeroWeightModel('14B');
    const maxNewTokens = 64;
    // 144 judgments in one chunk (144 x 91 positions x 320 KiB = 4.0 GiB): 3373 prompt tokens,
    // passes of 1927 (a 128 MiB binding of 17408-float MLP rows) and a last of 1446.
    const lengths = [27, ...Array<number>(57).fill(24), ...Array<number>(86).fill(23)];
    const evaluation = evaluationShape(evalConfig(100, maxNewTokens), { pairs: lengths.length / 2, longestPrompt: 27 })!;
    const plan = planFor(rt, cfg, evaluation);
    const o = { maxNewTokens, kvBudgetBytes: evaluation.kvBudgetBytes };
    const peaks = [await evaluationPeak(rt, model, lengths, o), await evaluationPeak(rt, model, Array<number>(lengths.length).fill(27), o),
      await evaluationPeak(rt, model, lengths, o, true)];
    expect(log.errors).toEqual([]);
    console.log(`14B evaluation of ${lengths.length} judgments: plan ${(plan.evaluationBytes / MiB).toFixed(0)} MiB at ${plan.evaluationAt!.judgments} of ${plan.evaluationAt!.promptLen} tokens; ` +
      `pool peaks mixed ${(peaks[0]! / MiB).toFixed(0)}, all 27 ${(peaks[1]! / MiB).toFixed(0)}, mixed and finishing a few a step ${(peaks[2]! / MiB).toFixed(0)} MiB`);
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(plan.evaluationBytes);
    expect(plan.evaluationBytes).toBeLessThan(Math.max(...peaks) * 1.02);
  }, 120_000);
});

describe('kernel families on adapters the stand-in device plays', () => {
  it("keeps the subgroup-shuffling 'cpu' kernels off an adapter that does not report its subgroup size, and the 'cpu' matmul off one whose subgroups pass its workgroup", () => {
    // They shuffle across whole subgroups; sized for an unknown width, half a 128-wide subgroup
    // could be inactive and its shuffles undefined.
    const unknown = validatingRuntime({ bindingBytes: 128 * MiB, cpuAdapter: true, subgroupMaxSize: 0 }).rt;
    expect(resolveMatmulVariant(unknown, 'auto')).toBe('gpu');
    expect(resolveAttentionVariant(unknown, 'auto')).toBe('gpu');
    expect(() => resolveMatmulVariant(unknown, 'cpu')).toThrow(/needs the 'subgroups' feature and a reported subgroup size/);
    expect(() => resolveAttentionVariant(unknown, 'cpu')).toThrow(/needs the 'subgroups' feature and a reported subgroup size/);
    const known = validatingRuntime({ bindingBytes: 128 * MiB, cpuAdapter: true }).rt;
    expect([resolveMatmulVariant(known, 'auto'), resolveAttentionVariant(known, 'auto')]).toEqual(['cpu', 'cpu']);
    // A 128-wide subgroup does not fit the matmul's 64-lane workgroups; attention sizes its own.
    const wide = validatingRuntime({ bindingBytes: 128 * MiB, cpuAdapter: true, subgroupMaxSize: 128 }).rt;
    expect([resolveMatmulVariant(wide, 'auto'), resolveAttentionVariant(wide, 'auto')]).toEqual(['gpu', 'cpu']);
    expect(() => resolveMatmulVariant(wide, 'cpu')).toThrow(/subgroup size dividing 64, and this adapter's is 128/);
  });
});
