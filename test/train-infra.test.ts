import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseQwen3Config, qwen3WeightShapes, type Qwen3Config } from '../src/io/hf-model.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { sineWeights } from './host-weights.js';
import {
  checkpointName,
  CheckpointError,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  openCheckpoint,
  readCheckpoint,
  recoverInterruptedWrites,
  setAsideNewerCheckpoints,
  writeCheckpoint,
  type CheckpointContent,
  type TrainerState,
} from '../src/train/checkpoint.js';
import { loadTrainConfig } from '../src/train/config.js';
import { allocatedBytes, formatPlan, largestMicroBatch, layerActivationFloats, paramCount, parseBytes, planMemory, trainShapeForStage, type MemoryPlan, type MemoryPlanTrain } from '../src/train/memory-plan.js';
import { MetricsLog, readMetrics, roundMetric, type MetricsRow } from '../src/train/metrics.js';
import { formatDuration, formatNumber, ProgressReporter } from '../src/train/progress.js';
import { lineChartSvg, niceTicks, renderHtmlReport, writeHtmlReport } from '../src/train/report-html.js';
import { learningRate } from '../src/train/schedule.js';
import { StopFlag } from '../src/train/signals.js';

const dir = mkdtempSync(join(tmpdir(), 'patarm-infra-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024, GiB = 1024 * MiB;
const modelConfig = (name: string): Qwen3Config => parseQwen3Config(JSON.parse(readFileSync(`models/qwen3-${name}.json`, 'utf8')), name);

// ---------------------------------------------------------------------------

describe('learningRate', () => {
  const base = { lr: 1e-3, minLr: 1e-4, warmupSteps: 2 };

  it('warms up linearly from 0, then decays to minLr at the last step (hand-computed)', () => {
    // warmup: lr * step / 2
    expect(learningRate(1, 12, { ...base, schedule: 'cosine' })).toBeCloseTo(5e-4, 15);
    expect(learningRate(2, 12, { ...base, schedule: 'cosine' })).toBeCloseTo(1e-3, 15);
    // step 4: progress (4 - 2) / (12 - 2) = 0.2
    expect(learningRate(4, 12, { ...base, schedule: 'linear' })).toBeCloseTo(1e-4 + 9e-4 * 0.8, 15); // 8.2e-4
    expect(learningRate(4, 12, { ...base, schedule: 'cosine' })).toBeCloseTo(9.140576474687264e-4, 15); // 1e-4 + 4.5e-4 * (1 + cos 36deg)
    // step 7: progress 0.5, both decays at the midpoint
    expect(learningRate(7, 12, { ...base, schedule: 'linear' })).toBeCloseTo(5.5e-4, 15);
    expect(learningRate(7, 12, { ...base, schedule: 'cosine' })).toBeCloseTo(5.5e-4, 15);
    for (const schedule of ['linear', 'cosine'] as const) expect(learningRate(12, 12, { ...base, schedule })).toBeCloseTo(1e-4, 15);
    expect(learningRate(12, 12, { ...base, schedule: 'constant' })).toBe(1e-3);
    expect(learningRate(1, 5, { ...base, warmupSteps: 0, schedule: 'constant' })).toBe(1e-3);
  });

  it('rejects steps outside 1..totalSteps and inconsistent settings', () => {
    expect(() => learningRate(0, 10, { ...base, schedule: 'constant' })).toThrow(/step must be an integer in 1\.\.10 \(1-based\), got 0/);
    expect(() => learningRate(11, 10, { ...base, schedule: 'constant' })).toThrow(/got 11/);
    expect(() => learningRate(1, 10, { ...base, minLr: 1, schedule: 'cosine' })).toThrow(/minLr <= lr/);
  });
});

// ---------------------------------------------------------------------------

describe('planMemory', () => {
  const bigAdapter = { maxBufferBytes: 2 ** 31, maxStorageBindingBytes: 2 ** 30 };
  const sft = (microBatchRows: number, seqLen: number): MemoryPlanTrain => ({
    stages: ['sft'], microBatchRows, seqLen, rollouts: 1, batchRows: 16, maxNewTokens: 0, refModel: 'none',
  });

  it('parses byte sizes with decimal and binary units', () => {
    expect(parseBytes('24GB')).toBe(24e9);
    expect(parseBytes('80GiB')).toBe(80 * 2 ** 30);
    expect(parseBytes('512MiB')).toBe(512 * MiB);
    expect(parseBytes('1.5G')).toBe(1.5 * 2 ** 30);
    expect(parseBytes('4096')).toBe(4096);
    expect(() => parseBytes('24 XB')).toThrow("invalid byte size '24 XB': expected a number with a unit such as 24GB, 80GiB or 512MiB");
    expect(() => parseBytes('lots')).toThrow(/invalid byte size 'lots'/);
  });

  it('Qwen3-8B does not fit 24 GB nor 80 GB in f32 training: 16 bytes/param x 8.19e9', () => {
    const m = modelConfig('8b');
    expect(paramCount(m)).toBe(8190735360);
    for (const gpu of ['24GB', '80GB']) {
      const plan = planMemory(m, sft(1, 2048), { ...bigAdapter, totalBytes: parseBytes(gpu) });
      expect(plan.fits, gpu).toBe(false);
      expect(plan.reasons, gpu).toHaveLength(1);
      expect(plan.reasons[0]).toContain('weights + gradients + AdamW m and v alone need 16 bytes/param x 8.19e9 params = 122.05 GiB');
      expect(plan.reasons[0]).toContain(`more than the device's ${gpu === '24GB' ? '22.35' : '74.51'} GiB`);
      // Every one of the four f32 copies is at least 4 bytes/param.
      for (const item of plan.items.slice(0, 4)) expect(item.bytes).toBeGreaterThanOrEqual(8190735360 * 4);
    }
  });

  // Qwen3-0.6B, hand-computed: weights, gradients and moments in buffers of their own size
  // (BufferPool.acquireExact), activations in the pool's size classes (powers of two up to 64 MiB,
  // then 16 MiB steps).
  const embedding = 151936 * 1024 * 4; // one part: a 1 GiB binding holds it
  const layerWeights = (8 + 4 + 4 + 8 + 12 + 12 + 12) * MiB + 2 * 512 + 2 * 4096; // q k v o, gate up down, q/k norms, layer norms
  const weights06 = embedding + 28 * layerWeights + 4096;
  const floatsPerTokenPerLayer = 4 * 1024 + 3 * 2048 + 3 * 1024 + 3 * 3072 + 2 + 2 * 16 + 8; // 22570

  it('Qwen3-0.6B with a micro-batch of 4 x 2048 tokens: the items, and why it does not fit 24 GB', () => {
    const plan = planMemory(modelConfig('0.6b'), sft(4, 2048), { ...bigAdapter, totalBytes: parseBytes('24GB') });
    const bytes = Object.fromEntries(plan.items.map((i) => [i.name, i.bytes]));
    expect(bytes['weights (f32)']).toBe(weights06);
    expect(bytes['gradients (f32)']).toBe(weights06);
    expect(bytes['AdamW m (f32)']).toBe(weights06);
    expect(bytes['AdamW v (f32)']).toBe(weights06);
    expect(bytes['RoPE table']).toBe(20 * MiB); // 40960 x 128 x 4 B
    const N = 8192; // at this N every activation is a size class already
    expect(bytes['activations kept by forward']).toBe(28 * N * 4 * floatsPerTokenPerLayer + N * 4 * (2 * 1024 + 7));
    // dx, dH, dNormed, then gate/up/act gradients and the attention's (q, o: 2048 wide; k, v, kN: 1024)
    expect(bytes['backward working set']).toBe(3 * 32 * MiB + 3 * 96 * MiB + 2 * 64 * MiB + 3 * 32 * MiB);
    // 441 rows x 151936 x 4 B, rounded to 16 MiB, and the chunk's h and dh copies (441 x 1024 x 4 B: 2 MiB each)
    expect(bytes['LM head logits chunk']).toBe(256 * MiB + 2 * 2 * MiB);
    expect(bytes['KV cache']).toBeUndefined();
    expect(weights06).toBe(596049920 * 4); // every part's size a multiple of 4 bytes: no rounding
    expect(plan.persistentBytes).toBe(4 * weights06 + 20 * MiB);
    expect(plan.totalBytes).toBe(plan.persistentBytes + plan.trainingBytes);
    expect(plan.fits).toBe(false);
    expect(plan.reasons).toEqual([
      'a micro-batch of 4 x 2048 tokens needs 20.20 GiB of activations; with 8.90 GiB of persistent state that is 29.10 GiB > 22.35 GiB: ' +
        'lower microBatchRows or the sequence length, or recompute activations in backward (model.gradientCheckpointing true)',
    ]);
  });

  it('Qwen3-0.6B with a micro-batch of 4 x 2048 tokens fits 24 GB when backward recomputes the activations', () => {
    const plan = planMemory(modelConfig('0.6b'), { ...sft(4, 2048), recompute: true }, { ...bigAdapter, totalBytes: parseBytes('24GB') });
    const bytes = Object.fromEntries(plan.items.map((i) => [i.name, i.bytes]));
    const N = 8192;
    expect(bytes['activations kept by forward']).toBeUndefined();
    expect(bytes['layer inputs kept by forward']).toBe(28 * N * 4 * 1024 + N * 4 * (2 * 1024 + 7));
    // One layer's 22570 floats a token; its input is the kept one, and the attention projection
    // (as wide) sits beside them while backward recomputes them.
    expect(bytes["one layer's activations, recomputed"]).toBe(N * 4 * floatsPerTokenPerLayer);
    expect(bytes['backward working set']).toBe(3 * 32 * MiB + 3 * 96 * MiB + 2 * 64 * MiB + 3 * 32 * MiB);
    expect(plan.fits).toBe(true);
    expect(plan.reasons).toEqual([]);
    expect(plan.trainingBytes).toBeLessThan(2.5 * 2 ** 30); // from 20.20 GiB
  });

  it('Qwen3-0.6B with a micro-batch of 1 x 2048 tokens fits 24 GB', () => {
    const plan = planMemory(modelConfig('0.6b'), sft(1, 2048), { ...bigAdapter, totalBytes: parseBytes('24GB') });
    const activations = plan.items.find((i) => i.name === 'activations kept by forward')!.bytes;
    // [2048, 3072] f32 is 24 MiB, allocated as 32 MiB: gate, up and act of each layer.
    expect(activations).toBe(28 * (2048 * 4 * floatsPerTokenPerLayer + 3 * 8 * MiB) + 2048 * 4 * (2 * 1024 + 7));
    expect(plan.fits).toBe(true);
    expect(plan.reasons).toEqual([]);
    expect(plan.totalBytes).toBeLessThan(24e9);
  });

  it('Qwen3-4B GRPO on an 80 GB card: the f32 KL reference does not fit beside the f32 state, the bf16 one does', () => {
    const gb80 = { ...bigAdapter, totalBytes: parseBytes('80GB') };
    const shape = (refModel: 'f32' | 'bf16'): MemoryPlanTrain => ({
      stages: ['grpo'], microBatchRows: 1, seqLen: 2048, rollouts: 4, batchRows: 4, maxNewTokens: 1024, refModel, generationRows: 8, recompute: true,
    });
    const f32 = planMemory(modelConfig('4b'), shape('f32'), gb80);
    const bf16 = planMemory(modelConfig('4b'), shape('bf16'), gb80);
    expect(f32.fits).toBe(false);
    expect(f32.reasons).toEqual([expect.stringMatching(/^the persistent state needs 74\.96 GiB \(weights, gradients and AdamW m and v: 16 bytes\/param x 4\.02e9 params = 59\.94 GiB, and the KL reference\), more than the device's 74\.51 GiB; grpo\.referenceDtype bf16/)]);
    expect(bf16.fits).toBe(true);
    const item = (p: MemoryPlan, name: string) => p.items.find((i) => i.name === name)?.bytes;
    // 3.63e9 layer-matrix params at 2 B and 0.39e9 others at 4 B, against 4 B each
    expect(item(bf16, 'reference model (bf16 layer matrices)')! / item(f32, 'reference model (f32)')!).toBeCloseTo((3.63 * 2 + 0.39 * 4) / (4.02 * 4), 2);
    expect(f32.persistentBytes - bf16.persistentBytes).toBeGreaterThan(6 * 2 ** 30);
  });

  it('largestMicroBatch: the largest micro-batch whose plan fits, larger with recomputation, none when the state alone does not fit', () => {
    const gb24 = { ...bigAdapter, totalBytes: parseBytes('24GB') };
    const shape = { ...sft(1, 2048), batchRows: 32 };
    const fitsWith = (rows: number, recompute: boolean) => planMemory(modelConfig('0.6b'), { ...shape, microBatchRows: rows, recompute }, gb24).fits;
    const plain = largestMicroBatch(modelConfig('0.6b'), shape, gb24);
    const recomputing = largestMicroBatch(modelConfig('0.6b'), { ...shape, recompute: true }, gb24);
    // 4 x 2048 tokens need 20.2 GiB of activations (above); one sequence 5.8 GiB.
    expect(plain).toBeGreaterThanOrEqual(1);
    expect(plain).toBeLessThan(4);
    expect(fitsWith(plain, false)).toBe(true);
    expect(fitsWith(plain + 1, false)).toBe(false);
    expect(recomputing).toBeGreaterThan(2 * plain);
    expect(recomputing === 32 || !fitsWith(recomputing + 1, true)).toBe(true);
    expect(fitsWith(recomputing, true)).toBe(true);
    // Qwen3-8B's f32 state is 128 GB: nothing fits 80 GB.
    expect(largestMicroBatch(modelConfig('8b'), { ...shape, recompute: true }, { ...bigAdapter, totalBytes: parseBytes('80GB') })).toBe(0);
    expect(() => largestMicroBatch(modelConfig('0.6b'), shape, bigAdapter)).toThrow(/device memory/);
  });

  it('GRPO adds the reference model, the KV cache and the prefill, and checks the binding limit', () => {
    const adapter = { maxBufferBytes: 256 * MiB, maxStorageBindingBytes: 128 * MiB, totalBytes: parseBytes('24GB') };
    const grpo = (rollouts: number, batchRows: number, generationRows?: number, seqLen = 2048, maxNewTokens = 1024): MemoryPlanTrain => ({
      stages: ['grpo'], microBatchRows: 1, seqLen, rollouts, batchRows, maxNewTokens, refModel: 'f32',
      ...(generationRows !== undefined && { generationRows }),
    });
    const bytesOf = (p: MemoryPlan, name: string) => p.items.find((i) => i.name === name)!.bytes;
    const plan = planMemory(modelConfig('0.6b'), grpo(4, 4), adapter);
    expect(bytesOf(plan, 'KV cache')).toBe(2 * 28 * 16 * 2048 * 8 * 128 * 4); // 16 sequences, 128 MiB per layer tensor
    expect(plan.items.find((i) => i.name === 'KV cache')!.phase).toBe('generation');
    // The trainer keeps the KL reference as a second f32 copy of the weights, so it costs what they do.
    expect(bytesOf(plan, 'reference model (f32)')).toBe(bytesOf(plan, 'weights (f32)'));
    expect(bytesOf(plan, 'reference model (f32)')).toBeGreaterThanOrEqual(596049920 * 4);
    // Prefill: the 4 rollouts of a row share its prompt, which runs once: one layer's activations
    // (plus its output and short-lived tensors) for 4 prompts of up to 1024 tokens.
    expect(bytesOf(plan, 'prefill working set (one layer)')).toBeGreaterThanOrEqual(4096 * (22570 + 2 * 1024 + 1024) * 4);
    expect(plan.largestTensor).toEqual({ name: 'KV cache of one layer (16 seqs x 2048 positions)', bytes: 128 * MiB });
    expect(plan.fits).toBe(true);

    // 16 rows of 2 rollouts with 768-token prompts: 16 distinct prompts, whose [12288, 3072] MLP
    // tensors (144 MiB) would not fit a 128 MiB binding in one pass; the KV session prefills them
    // in passes of 10922 tokens (128 MiB / 3072 floats), and the plan counts one such pass and the
    // last of 1366: its tensors of smaller size classes find no free buffer of theirs in the pool.
    const wide = planMemory(modelConfig('0.6b'), grpo(2, 16, undefined, 784, 16), adapter);
    expect(wide.largestTensor).toEqual({ name: 'KV cache of one layer (32 seqs x 784 positions)', bytes: 32 * 784 * 1024 * 4 });
    expect(wide.fits).toBe(true);
    const widePrefill = wide.items.find((i) => i.name === 'prefill working set (one layer)')!;
    // Real prompts may be shorter than 768 tokens, so the last pass may hold anything up to 1366.
    expect(widePrefill.detail).toBe('passes of 10922 of up to 12288 prompt tokens, and a last of up to 1366, x 25642 floats, as allocated');
    // The full pass and a last pass beside it: more than the full pass alone, less than two.
    const pooled = (tokens: number, floats: number) => allocatedBytes(tokens * floats * 4, adapter.maxBufferBytes);
    const prefillFloats = [...layerActivationFloats(modelConfig('0.6b')), 1024, 1024, 1024];
    const fullPass = prefillFloats.reduce((a, f) => a + pooled(10922, f), 0);
    expect(widePrefill.bytes).toBeGreaterThan(fullPass);
    expect(widePrefill.bytes).toBeLessThanOrEqual(fullPass + prefillFloats.reduce((a, f) => a + pooled(1366, f), 0));
    // 10 prompts of up to 2185 tokens: 21850 tokens padded, two full passes and 6 over; but real
    // prompts may be shorter, so the last pass may hold up to 10921 (a total of 21843, say).
    const ragged = planMemory(modelConfig('0.6b'), grpo(1, 10, undefined, 2185 + 16, 16), adapter);
    expect(ragged.items.find((i) => i.name === 'prefill working set (one layer)')!.detail).toBe('passes of 10922 of up to 21850 prompt tokens, and a last of up to 10921, x 25642 floats, as allocated');
    const onePass = planMemory(modelConfig('0.6b'), grpo(2, 16, undefined, 784, 16), { ...adapter, maxBufferBytes: 4 * 1024 * MiB, maxStorageBindingBytes: 4 * 1024 * MiB - 4 });
    expect(onePass.items.find((i) => i.name === 'prefill working set (one layer)')!.detail).toBe('16 distinct prompts x 768 tokens x 25642 floats, as allocated');
    // grpo.generationRows: the same step's rollouts generated 8 at a time (4 prompts a call), in one pass.
    const chunked = planMemory(modelConfig('0.6b'), grpo(2, 16, 8, 784, 16), adapter);
    expect(bytesOf(chunked, 'KV cache')).toBe(2 * 28 * 32 * MiB); // 8 seqs x 784 positions x 4 KiB = 24.5 MiB a layer tensor, as 32 MiB
    expect(chunked.items.find((i) => i.name === 'prefill working set (one layer)')!.detail).toBe('4 distinct prompts x 768 tokens x 25642 floats, as allocated');
    expect(chunked.fits).toBe(true);
    // Calls that cut a row's rollouts: 8 rows of 3 rollouts 4 at a time hold 2 prompts each
    // (rollouts 0-3, 4-7, ...), 5 at a time up to 3 (rollouts 5-9 are of rows 1, 2 and 3).
    const prefillDetail = (perCall: number) => planMemory(modelConfig('0.6b'), grpo(3, 8, perCall), adapter).items.find((i) => i.name === 'prefill working set (one layer)')!.detail;
    expect(prefillDetail(4)).toMatch(/^2 distinct prompts x 1024 tokens/);
    expect(prefillDetail(5)).toMatch(/^3 distinct prompts x 1024 tokens/);
    expect(prefillDetail(24)).toMatch(/^8 distinct prompts x 1024 tokens/);
    // A cache larger than a binding goes in parts of whole sequences, each counted as allocated: 64
    // sequences of 2048 positions, 8 MiB each a layer, are 4 parts of 16 (128 MiB) a layer tensor.
    const split = planMemory(modelConfig('0.6b'), grpo(4, 16), adapter);
    expect(bytesOf(split, 'KV cache')).toBe(2 * 28 * 4 * 128 * MiB);
    expect(split.items.find((i) => i.name === 'KV cache')!.detail).toBe("2 x 28 layers x 64 seqs x 2048 positions x 1024 x 4 B (f32), each layer's in 4 parts of up to 16 seqs");
    expect(split.largestTensor).toEqual({ name: 'KV cache part of one layer (16 of 64 seqs x 2048 positions)', bytes: 128 * MiB });
    // grpo.kvCacheDtype f16: half the cache, and the advice names it while the cache is f32.
    const half = planMemory(modelConfig('0.6b'), { ...grpo(4, 4), kvCacheDtype: 'f16' }, adapter);
    expect(bytesOf(half, 'KV cache')).toBe(bytesOf(plan, 'KV cache') / 2);
    expect(half.items.find((i) => i.name === 'KV cache')!.detail).toBe('2 x 28 layers x 16 seqs x 2048 positions x 1024 x 2 B (f16)');
    const tight = { ...adapter, totalBytes: parseBytes('12GB') };
    expect(planMemory(modelConfig('0.6b'), grpo(4, 4), tight).reasons.join('\n')).toMatch(/generation needs .*or set grpo\.kvCacheDtype f16 \(half the KV cache\)/);
    expect(planMemory(modelConfig('0.6b'), { ...grpo(4, 4), kvCacheDtype: 'f16' }, tight).reasons.join('\n')).not.toMatch(/kvCacheDtype/);
    // grpo.updatesPerBatch above 1: each of the 16 micro-batches keeps 5 [2048] f32 tensors.
    expect(plan.items.map((i) => i.name)).not.toContain('loss inputs kept between updates');
    const kept = planMemory(modelConfig('0.6b'), { ...grpo(4, 4), updatesPerBatch: 2 }, adapter);
    expect(bytesOf(kept, 'loss inputs kept between updates')).toBe(16 * 5 * 2048 * 4);
    // The micro-batch in flight no longer has vectors of its own for those five: they are kept ones.
    expect(kept.trainingBytes - plan.trainingBytes).toBe((16 - 1) * 5 * 2048 * 4);
  });

  it('the 0.6B workstation config fits 24 GB in both stages; unknown device memory is a note', () => {
    const cfg = loadTrainConfig('models/patarm-0.6b.yaml', [], { checkPaths: false });
    expect(cfg.grpo.klCoef).toBeGreaterThan(0);
    expect(trainShapeForStage(cfg, 'grpo').refModel).toBe('f32'); // what the trainer allocates
    expect(trainShapeForStage(cfg, 'grpo').generationRows).toBeUndefined();
    const withRows = loadTrainConfig('models/patarm-0.6b.yaml', ['--grpo.generationRows', '8', '--grpo.updatesPerBatch', '3'], { checkPaths: false });
    expect(trainShapeForStage(withRows, 'grpo').generationRows).toBe(8);
    expect(trainShapeForStage(withRows, 'grpo').updatesPerBatch).toBe(3);
    expect(trainShapeForStage(cfg, 'grpo').updatesPerBatch).toBeUndefined();
    expect(trainShapeForStage(cfg, 'grpo').kvCacheDtype).toBeUndefined();
    const halfCache = loadTrainConfig('models/patarm-0.6b.yaml', ['--grpo.kvCacheDtype', 'f16'], { checkPaths: false });
    expect(trainShapeForStage(halfCache, 'grpo').kvCacheDtype).toBe('f16');
    for (const stage of cfg.stages) {
      const plan = planMemory(modelConfig('0.6b'), trainShapeForStage(cfg, stage), { maxBufferBytes: 2 ** 31, maxStorageBindingBytes: 2 ** 30, totalBytes: parseBytes('24GB') });
      expect(plan.reasons, stage).toEqual([]);
    }
    const unknown = planMemory(modelConfig('0.6b'), sft(1, 2048), bigAdapter);
    expect(unknown.fits).toBe(true);
    expect(unknown.notes[0]).toMatch(/device memory unknown .*--gpu-memory/);
  });

  it('evaluation during training is a phase of its own: bounded by the data when known, and refused with advice when it does not fit', () => {
    const evaluation = { judgments: 2 * 64, maxNewTokens: 512, maxRows: 256, kvBudgetBytes: 4 * GiB };
    const base = sft(1, 256);
    const plain = planMemory(modelConfig('0.6b'), base, bigAdapter);
    expect(plain.evaluationBytes).toBe(0);
    expect(plain.evaluationAt).toBeUndefined();
    // Any prompt the context allows: the longest whose one-sequence cache fits a binding, decoded alone.
    const open = planMemory(modelConfig('0.6b'), { ...base, evaluation }, bigAdapter);
    const kvBytes = (p: MemoryPlan) => p.items.find((i) => i.name === 'evaluation KV cache')!.bytes;
    expect(open.evaluationAt!.judgments).toBe(1);
    expect(open.evaluationAt!.promptLen).toBeGreaterThan(30_000);
    expect(kvBytes(open)).toBeGreaterThan(4 * GiB); // one judgment past the budget decodes by itself
    expect(open.items.filter((i) => i.phase === 'evaluation').map((i) => i.name)).toEqual(['evaluation KV cache', 'evaluation sampling logits', 'evaluation prefill (one layer)', 'evaluation decode step (one layer)']);
    expect(open.items.find((i) => i.name === 'evaluation KV cache')!.detail).toMatch(/, any prompt the context allows\)$/);
    // The data's longest prompt, 1000 tokens: chunks hold as many judgments as 4 GiB of cache does,
    // at 224 KiB a position (2 x 28 layers x 1024 x 4 B). 12 of 1000 + 512 positions hold 18144
    // positions; 15 of up to 736 + 512 (4 GiB / 15 = 1248.3 positions each) hold 18720, the most.
    const known = planMemory(modelConfig('0.6b'), { ...base, evaluation: { ...evaluation, longestPrompt: 1000 } }, bigAdapter);
    expect(known.evaluationAt).toEqual({ promptLen: 736, judgments: 15 });
    expect(kvBytes(known)).toBe(15 * 1248 * 2 * 28 * 1024 * 4);
    expect(known.evaluationBytes).toBeLessThan(open.evaluationBytes);
    expect(known.totalBytes).toBe(known.persistentBytes + Math.max(known.trainingBytes, known.evaluationBytes));
    // Few judgments: the chunk holds them all.
    const few = planMemory(modelConfig('0.6b'), { ...base, evaluation: { ...evaluation, judgments: 4, longestPrompt: 1000 } }, bigAdapter);
    expect(few.evaluationAt).toEqual({ promptLen: 1000, judgments: 4 });
    expect(kvBytes(few)).toBe(4 * 1512 * 2 * 28 * 1024 * 4);
    const text = formatPlan(known);
    expect(text).toMatch(/evaluation phase \(at most\)\s+\d/);
    // On a device where training fits and evaluation does not, the plan says which and what lowers it.
    const device = known.persistentBytes + known.trainingBytes + 1;
    expect(known.evaluationBytes).toBeGreaterThan(known.trainingBytes);
    const tight = planMemory(modelConfig('0.6b'), { ...base, evaluation: { ...evaluation, longestPrompt: 1000 } }, { ...bigAdapter, totalBytes: device });
    expect(tight.reasons).toEqual([expect.stringMatching(/^evaluation during training \(eval\.every\) needs up to .* \(15 judgments of 736-token prompts decoded together\).*lower eval\.kvMemoryBytes \(now 4\.00 GiB of KV cache a chunk\) or eval\.maxNewTokens/)]);
    // eval.kvMemoryBytes 1 GiB: 3 judgments of 1000 + 512 positions a chunk (1 GiB / 1512 / 224 KiB = 3.1), the worst here.
    const smaller = planMemory(modelConfig('0.6b'), { ...base, evaluation: { ...evaluation, longestPrompt: 1000, kvBudgetBytes: GiB } }, bigAdapter);
    expect(smaller.evaluationAt).toEqual({ promptLen: 1000, judgments: 3 });
    expect(smaller.evaluationBytes).toBeLessThan(known.evaluationBytes);
    // Prompts whose one-sequence cache passes a binding (1 GiB here: 262144 positions of 4 KiB) fail
    // at every evaluation: the plan refuses them, naming the first such length.
    const long = planMemory({ ...modelConfig('0.6b'), maxPositionEmbeddings: 300_000 }, { ...base, evaluation: { ...evaluation, longestPrompt: 299_000 } }, bigAdapter);
    expect(long.reasons).toEqual([expect.stringMatching(/^evaluation during training: a judgment of a 261633-token prompt and up to 512 new tokens needs a one-layer KV cache of 1\.00 GiB, more than one storage binding holds \(1\.00 GiB\), and prompts of up to 299000 tokens are planned/)]);
  });

  it('formats an aligned table with the verdict', () => {
    const text = formatPlan(planMemory(modelConfig('0.6b'), sft(4, 2048), { ...bigAdapter, totalBytes: parseBytes('24GB') }));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^item\s+phase\s+size\s+how$/);
    // The size column ends at the same place on every item and total line.
    const sizeEnds = lines.slice(1, 13).map((l) => /\d (GiB|MiB|KiB|B)\b/.exec(l)!.index + /\d (GiB|MiB|KiB|B)\b/.exec(l)![0].length);
    expect(new Set(sizeEnds).size).toBe(1);
    expect(text).toContain('weights (f32)');
    expect(text).toContain('peak (persistent + largest phase)');
    expect(text).toMatch(/fits: NO\n  - a micro-batch of 4 x 2048 tokens/);
  });
});

// ---------------------------------------------------------------------------

describe('MetricsLog and readMetrics', () => {
  const clock = () => {
    let t = 1000;
    return () => (t += 0.25);
  };

  it('writes one rounded, key-ordered JSON line per step, flushed at once', () => {
    const out = join(dir, 'metrics-a');
    const log = MetricsLog.create(out, { now: clock() });
    log.append(1, 'sft', { loss: 1 / 3, lr: 1.5e-6, tokensPerSecond: 12345 });
    // Readable before close: a killed run keeps every finished line.
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe('{"step":1,"stage":"sft","time":0.25,"loss":0.333333,"lr":0.0000015,"tokensPerSecond":12345}\n');
    log.append(2, 'grpo', { rewardMean: 2 / 3, kl: NaN, parAccuracy: 0.5 });
    log.close();
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n');
    expect(lines[1]).toBe('{"step":2,"stage":"grpo","time":0.5,"kl":"NaN","parAccuracy":0.5,"rewardMean":0.666667}');
    const { rows, truncatedLastLine } = readMetrics(join(out, 'metrics.jsonl'));
    expect(truncatedLastLine).toBeUndefined();
    expect(rows).toHaveLength(2);
    expect(rows[1]!.kl).toBeNaN();
    expect(rows[0]!.loss).toBe(0.333333);
  });

  it('identical runs write identical files', () => {
    const write = (name: string) => {
      const log = MetricsLog.create(join(dir, name), { now: clock() });
      for (let s = 1; s <= 5; s++) log.append(s, 'sft', { loss: Math.exp(-s / 7), lr: learningRate(s, 5, { lr: 1e-5, minLr: 1e-6, schedule: 'cosine', warmupSteps: 1 }) });
      log.close();
      return readFileSync(join(dir, name, 'metrics.jsonl'), 'utf8');
    };
    expect(write('run-1')).toBe(write('run-2'));
    expect(roundMetric(123456789)).toBe(123456789);
    expect(roundMetric(0.1234567891)).toBe(0.123457);
    expect(roundMetric(-Infinity)).toBe('-Infinity');
  });

  it('reports a truncated last line and rejects a broken line elsewhere', () => {
    const out = join(dir, 'metrics-b');
    const log = MetricsLog.create(out, { now: clock() });
    log.append(1, 'sft', { loss: 1 });
    log.append(2, 'sft', { loss: 0.5 });
    log.close();
    const path = join(out, 'metrics.jsonl');
    appendFileSync(path, '{"step":3,"stage":"sft","lo');
    const result = readMetrics(path);
    expect(result.rows.map((r) => r.step)).toEqual([1, 2]);
    expect(result.truncatedLastLine).toEqual({ line: 3, text: '{"step":3,"stage":"sft","lo' });
    writeFileSync(path, '{"step":1,"stage":"sft"}\n{oops\n{"step":3,"stage":"sft"}\n');
    expect(() => readMetrics(path)).toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 2: not valid JSON`));
  });

  it('keeps the first rows of an earlier run when resuming', () => {
    const out = join(dir, 'metrics-c');
    const first = MetricsLog.create(out, { now: clock() });
    for (let s = 1; s <= 3; s++) first.append(s, 'sft', { loss: s });
    first.close();
    appendFileSync(join(out, 'metrics.jsonl'), '{"step":4,"st'); // killed mid-line after the checkpoint at step 2
    const resumed = MetricsLog.create(out, { keepRows: 2, now: clock() });
    expect(resumed.rows).toBe(2);
    expect(resumed.keptRows.map((r) => [r.step, r.loss])).toEqual([[1, 1], [2, 2]]); // what a resumed report starts from
    expect(readdirSync(out)).toEqual(['metrics.jsonl']); // rewritten through a temporary file, none left behind
    resumed.append(3, 'sft', { loss: 30 });
    resumed.close();
    expect(readMetrics(join(out, 'metrics.jsonl')).rows.map((r) => [r.step, r.loss])).toEqual([[1, 1], [2, 2], [3, 30]]);
    expect(() => MetricsLog.create(out, { keepRows: 10 })).toThrow(/resuming needs its first 10 metrics lines, but the file has 3 complete lines/);
    expect(readMetrics(join(out, 'metrics.jsonl')).rows).toHaveLength(3); // a refused resume leaves the file as it was
  });
});

// ---------------------------------------------------------------------------

function captureStream(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean; columns?: number }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 120;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('ProgressReporter', () => {
  it('formats numbers and durations', () => {
    expect(formatNumber(1.23449)).toBe('1.234');
    expect(formatNumber(1.5e-6)).toBe('1.5e-6');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(12345.6)).toBe('12346');
    expect(formatNumber(42)).toBe('42');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(190)).toBe('3m10s');
    expect(formatDuration(7500)).toBe('2h05m');
    expect(formatDuration(NaN)).toBe('?');
  });

  it('prints plain lines every k steps (plus the first and the last) off a TTY', async () => {
    const { stream, text } = captureStream(false);
    let ms = 0;
    const p = new ProgressReporter({ stream, every: 5, now: () => ms });
    p.start('sft', 100);
    for (let step = 1; step <= 10; step++) {
      ms = step * 1000; // one step per second -> eta = remaining steps in seconds
      p.update(step, { loss: 1.23449, lr: 1.5e-6, unrelated: 7 });
    }
    p.log('checkpoint saved');
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe(
      [
        '[sft] step 1/100 loss 1.234 lr 1.5e-6 eta 1m39s',
        '[sft] step 5/100 loss 1.234 lr 1.5e-6 eta 1m35s',
        '[sft] step 10/100 loss 1.234 lr 1.5e-6 eta 1m30s',
        'checkpoint saved',
        '',
      ].join('\n'),
    );
  });

  it('measures the ETA from the steps run since a resume', () => {
    let ms = 0;
    const p = new ProgressReporter({ stream: captureStream(false).stream, now: () => ms });
    p.start('grpo', 100, 90);
    ms = 10_000;
    expect(p.eta(95)).toBe(10); // 5 steps in 10 s, 5 to go
  });

  it('is silent when quiet, except for log messages', async () => {
    const { stream, text } = captureStream(false);
    const p = new ProgressReporter({ stream, quiet: true });
    p.start('sft', 3);
    for (let s = 1; s <= 3; s++) p.update(s, { loss: 1 });
    p.log('done');
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('done\n');
  });

  it('draws a bar with metrics and ETA on a TTY', async () => {
    const { stream, text } = captureStream(true);
    let ms = 0;
    const p = new ProgressReporter({ stream, now: () => ms });
    p.start('grpo', 10);
    ms = 2000;
    p.update(4, { rewardMean: 0.75 });
    p.stop();
    await new Promise((r) => setImmediate(r));
    const out = text();
    expect(out).toContain('[grpo]');
    expect(out).toContain('4/10 reward 0.75 | eta 3s');
    expect(out).not.toContain('step 4/10'); // not the plain-line format
  });
});

// ---------------------------------------------------------------------------

describe('HTML report', () => {
  const rows: MetricsRow[] = [
    ...[1, 2, 3].map((step) => ({ step, stage: 'sft' as const, time: step, loss: 2 / step, lr: 1e-6 })),
    ...[1, 2, 3, 4].map((step) => ({ step, stage: 'grpo' as const, time: 10 + step, rewardMean: step / 8, kl: step === 2 ? NaN : 0.01 * step, custom: 5 })),
  ];

  it('picks round tick values', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(0.13, 0.87)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });

  it('draws a chart per metric per stage, self-contained, with ticks and hover titles', () => {
    const html = renderHtmlReport(rows, {
      title: 'run <x>',
      configSummary: 'seed: 0\nname: a&b',
      results: { caption: 'RewardBench', columns: ['section', 'accuracy'], rows: [['Chat', 0.8771], ['Safety', 0.5]] },
    });
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<svg /g)).toHaveLength(5); // sft: loss, lr; grpo: reward mean, KL, custom (none for step or time)
    for (const title of ['sft: loss', 'sft: learning rate', 'grpo: reward mean', 'grpo: KL to reference (1 non-finite value not drawn)', 'grpo: custom']) {
      expect(html).toContain(`<title>${title}</title>`);
    }
    expect(html).toContain('<title>step 3: 0.6667</title>'); // sft loss 2/3 hover
    expect(html).toContain('<title>step 4: 0.5</title>'); // grpo reward 4/8
    expect(html).toContain('<h1>run &lt;x&gt;</h1>');
    expect(html).toContain('name: a&amp;b');
    expect(html).toContain('<td>Chat</td><td>0.8771</td>');
    // The sft charts come before the grpo ones, and known metrics before unknown ones.
    expect(html.indexOf('sft: loss')).toBeLessThan(html.indexOf('grpo: reward mean'));
    expect(html.indexOf('grpo: KL')).toBeLessThan(html.indexOf('grpo: custom'));
  });

  it('draws the runs of a stage (seeds, ablations) as separate lines of one chart, named in a legend', () => {
    const runs: MetricsRow[] = ['seed 0 graded', 'seed 0 constant'].flatMap((run, k) =>
      [1, 2, 3].map((step) => ({ step, stage: 'grpo' as const, time: step, run, rewardMean: k + step / 10 })));
    const html = renderHtmlReport(runs, { title: 'r' });
    expect(html.match(/<svg /g)).toHaveLength(1);
    expect(html).toContain('<h2>Stage grpo (seed 0 graded: 3, seed 0 constant: 3 logged steps)</h2>');
    const polylines = [...html.matchAll(/<polyline points="([^"]+)" class="line" stroke="([^"]+)"><title>grpo: reward mean: ([^<]+)<\/title>/g)];
    expect(polylines.map((m) => m[3])).toEqual(['seed 0 graded', 'seed 0 constant']);
    expect(new Set(polylines.map((m) => m[2])).size).toBe(2);
    // Each line holds its own run's three points, left to right: no zig-zag between runs.
    for (const [, points] of polylines) {
      const xs = points!.split(' ').map((p) => Number(p.split(',')[0]));
      expect(xs).toHaveLength(3);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
    expect(html).toContain('&#9632; seed 0 constant</text>');
    expect(html).toContain('<title>seed 0 constant, step 2: 1.2</title>');
    // A metric only the second run logs: its chart keeps that run's colour and names it.
    const partial = renderHtmlReport(runs.map((r) => (r['run'] === 'seed 0 constant' ? { ...r, kl: 0.01 * r.step } : r)), { title: 'r' });
    const constantColour = polylines[1]![2];
    const kl = /<svg[^]*?<\/svg>/g;
    const klChart = [...partial.matchAll(kl)].map((m) => m[0]).find((svg) => svg.includes('grpo: KL'))!;
    expect(klChart).toContain(`stroke="${constantColour}"><title>grpo: KL to reference: seed 0 constant</title>`);
    expect(klChart).toContain('&#9632; seed 0 constant</text>');
    expect(klChart).not.toContain('seed 0 graded');
  });

  it('labels both axes with ticks and places points inside the plot', () => {
    const svg = lineChartSvg({ x: [0, 10], y: [0, 1] }, { title: 't', width: 520, height: 240 });
    // y ticks 0..1 by 0.2, x ticks 0..10 by 2
    for (const label of ['0', '0.2', '0.4', '0.6', '0.8', '1']) expect(svg).toContain(`class="l">${label}</text>`);
    for (const label of ['2', '4', '6', '8', '10']) expect(svg).toContain(`class="l">${label}</text>`);
    // plot area x 64..504, y 30..200: (0, 0) bottom-left, (10, 1) top-right
    expect(svg).toContain('<polyline points="64.0,200.0 504.0,30.0"');
  });

  it('writes report.html atomically', async () => {
    const out = join(dir, 'report');
    const path = await writeHtmlReport(out, rows, { title: 'r' });
    expect(path).toBe(join(out, 'report.html'));
    expect(readFileSync(path, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(readdirSync(out)).toEqual(['report.html']);
  });
});

// ---------------------------------------------------------------------------

const TINY: Qwen3Config = {
  vocabSize: 32, hiddenSize: 8, intermediateSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 4,
  rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, torchDtype: 'float32',
};

const tensorsFor = (cfg: Qwen3Config, offset: number) => sineWeights(cfg, offset);

const trainerState = (step: number): TrainerState => ({
  stage: 'grpo', step, epoch: 0, dataPosition: step * 8,
  sampler: { seed: 3, epoch: 0, position: step * 8, pairCount: 100 },
  rng: { seed: 3, draws: step * 16 }, configHash: 'abc123', metricsRows: step,
});

/** A checkpoint's content with every tensor in host memory (CheckpointContent also takes functions that read them). */
type HostContent = Omit<CheckpointContent, 'weights' | 'optimizer'> & { weights: Map<string, Float32Array>; optimizer: { m: Map<string, Float32Array>; v: Map<string, Float32Array>; step: number } };

function content(step: number, extra: Partial<CheckpointContent> = {}): HostContent {
  return {
    config: TINY,
    weights: tensorsFor(TINY, step),
    optimizer: { m: tensorsFor(TINY, 1000 + step), v: tensorsFor(TINY, 2000 + step), step },
    trainer: trainerState(step),
    ...extra,
  } as HostContent;
}

describe('checkpoints', () => {
  const tokenizerJson = join(dir, 'tokenizer.json');
  writeFileSync(tokenizerJson, '{"model":{"type":"BPE"}}');

  it('round-trips weights, optimizer, trainer state and tokenizer files', async () => {
    const out = join(dir, 'ckpt-a', checkpointName('grpo', 5));
    const c = content(5, { tokenizerFiles: [tokenizerJson] });
    await writeCheckpoint(out, c);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'trainer_state.json']);
    const back = await readCheckpoint(out);
    expect(back.config).toEqual(TINY);
    expect(back.weights).toEqual(c.weights);
    expect(back.optimizer).toEqual({ m: c.optimizer!.m, v: c.optimizer!.v, step: 5 });
    expect(back.trainer).toEqual(trainerState(5));
    expect(back.tokenizerFiles).toEqual([join(resolve(out), 'tokenizer.json')]);
    expect(readFileSync(back.tokenizerFiles[0]!, 'utf8')).toBe('{"model":{"type":"BPE"}}');
    expect(readdirSync(join(dir, 'ckpt-a'))).toEqual([checkpointName('grpo', 5)]); // no temporaries left
  });

  it("copies a read-only tokenizer file, also for a user its mode binds (the copy keeps the mode; it is fsynced read-only)", async () => {
    // root opens any file for writing, so the write runs in a child that drops to nobody when root.
    const run = mkdtempSync(join(tmpdir(), 'patarm-readonly-'));
    try {
      chmodSync(run, 0o777);
      const tokenizer = join(run, 'tokenizer.json');
      writeFileSync(tokenizer, '{"model":{"type":"BPE"}}');
      chmodSync(tokenizer, 0o444);
      const script = join(run, 'write-checkpoint.ts');
      writeFileSync(
        script,
        `import { writeCheckpoint } from ${JSON.stringify(resolve('src/train/checkpoint.ts'))};
import { qwen3WeightShapes } from ${JSON.stringify(resolve('src/io/hf-model.ts'))};
const [out, tokenizer] = process.argv.slice(2);
if (process.getuid?.() === 0) {
  process.setgroups([65534]);
  process.setgid(65534);
  process.setuid(65534);
}
const config = ${JSON.stringify(TINY)};
const make = () => new Map([...qwen3WeightShapes(config)].map(([n, s]) => [n, new Float32Array(s.reduce((a, b) => a * b, 1)).fill(0.5)]));
const trainer = { stage: 'sft', step: 1, epoch: 0, dataPosition: 0, sampler: null, rng: null, configHash: 'x', metricsRows: 1 };
try {
  await writeCheckpoint(out, { config, weights: make(), optimizer: { m: make(), v: make(), step: 1 }, trainer, tokenizerFiles: [tokenizer] });
  process.stdout.write(\`DONE as uid \${process.getuid?.()}\\n\`);
} catch (err) {
  process.stdout.write(\`FAILED: \${err.message}\\n\`);
}
`,
      );
      const out = join(run, checkpointName('sft', 1));
      const child = spawn(process.execPath, [resolve('node_modules/vite-node/vite-node.mjs'), script, out, tokenizer], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect({ code, stdout }, stderr).toEqual({ code: 0, stdout: `DONE as uid ${process.getuid?.() === 0 ? 65534 : process.getuid?.()}\n` });
      const back = await readCheckpoint(out);
      expect(readFileSync(back.tokenizerFiles[0]!, 'utf8')).toBe('{"model":{"type":"BPE"}}');
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });

  it('writes weights past checkpoint.maxShardBytes as shards that resume to the same values', async () => {
    const out = join(dir, 'ckpt-sharded', checkpointName('grpo', 5));
    const c = content(5, { tokenizerFiles: [tokenizerJson], maxShardBytes: 300 });
    await writeCheckpoint(out, c);
    const files = readdirSync(out).sort();
    expect(files).not.toContain('model.safetensors');
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
    const back = await readCheckpoint(out);
    expect(back.weights).toEqual(c.weights);
    expect(back.optimizer).toEqual({ m: c.optimizer.m, v: c.optimizer.v, step: 5 });
    // A tokenizer file may not take a weight file's name.
    const shardNamed = join(dir, 'model-00001-of-00002.safetensors');
    writeFileSync(shardNamed, 'x');
    await expect(writeCheckpoint(join(dir, 'ckpt-sharded', 'refused'), content(5, { tokenizerFiles: [shardNamed] }))).rejects.toThrow(
      /tokenizer file model-00001-of-00002\.safetensors would replace a checkpoint file/,
    );
  });

  it('takes weights and moments as functions read one at a time, and writes the same files', async () => {
    const eager = join(dir, 'ckpt-eager', checkpointName('grpo', 5));
    const lazy = join(dir, 'ckpt-lazy', checkpointName('grpo', 5));
    const c = content(5);
    await writeCheckpoint(eager, c);
    let pending = 0, reads = 0;
    const sources = (m: ReadonlyMap<string, Float32Array>) => new Map([...m].map(([name, t]) => [name, async () => {
      expect(++pending).toBe(1);
      await new Promise((r) => setTimeout(r, 1));
      pending--;
      reads++;
      return t;
    }]));
    await writeCheckpoint(lazy, { ...c, weights: sources(c.weights), optimizer: { m: sources(c.optimizer.m), v: sources(c.optimizer.v), step: 5 } });
    expect(reads).toBe(3 * c.weights.size);
    for (const file of ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'config.json']) {
      expect(Buffer.compare(readFileSync(join(lazy, file)), readFileSync(join(eager, file))), file).toBe(0);
    }
    // A moment that comes back the wrong size stops the write; the checkpoint there stays whole.
    const v = sources(c.optimizer.v);
    v.set('lm_head.weight', async () => new Float32Array(3));
    const messageOf = (p: Promise<unknown>) => p.then(() => 'no error', (err: Error) => err.message);
    expect(await messageOf(writeCheckpoint(lazy, { ...content(6), optimizer: { m: content(6).optimizer.m, v, step: 6 } })))
      .toBe(`writing checkpoint ${resolve(lazy)}: optimizer v.lm_head.weight has 3 values, ${c.weights.get('lm_head.weight')!.length} expected`);
    // So does a weight whose read fails (a lost device), named with the folder asked for.
    const weights = sources(content(6).weights);
    weights.set('model.norm.weight', async () => { throw new Error('device lost'); });
    expect(await messageOf(writeCheckpoint(lazy, { ...content(6), weights })))
      .toBe(`writing model folder ${resolve(lazy)}: tensor model.norm.weight could not be read (device lost)`);
    expect((await readCheckpoint(lazy)).trainer).toEqual(trainerState(5));
    expect(readdirSync(join(dir, 'ckpt-lazy'))).toEqual([checkpointName('grpo', 5)]);
  });

  it('opens a checkpoint to read it one tensor at a time, every size checked from the headers first', async () => {
    const out = join(dir, 'ckpt-open', checkpointName('grpo', 7));
    const c = content(7);
    await writeCheckpoint(out, c);
    const opened = await openCheckpoint(out);
    try {
      expect(opened.trainer).toEqual(trainerState(7));
      expect(opened.optimizerStep).toBe(7);
      expect(await opened.readWeight('model.norm.weight')).toEqual(c.weights.get('model.norm.weight'));
      expect(await opened.readMoment('v', 'lm_head.weight')).toEqual(c.optimizer.v.get('lm_head.weight'));
    } finally {
      await opened.close();
    }
    // A moment of a non-float type is refused on opening, before a resume has moved anything.
    const intMoment = join(dir, 'ckpt-open-int', checkpointName('grpo', 7));
    await writeCheckpoint(intMoment, c);
    const moments = [...qwen3WeightShapes(TINY)].flatMap(([name, shape]) => (['m', 'v'] as const).map((label) => ({
      name: `${label}.${name}`, shape: [shape.reduce((a, b) => a * b, 1)],
      ...(label === 'v' && name === 'model.norm.weight' ? { dtype: 'I32' as const, data: new Int32Array(shape[0]!) } : { dtype: 'F32' as const, data: c.optimizer[label].get(name)! }),
    })));
    await writeSafetensors(join(intMoment, 'optimizer.safetensors'), moments, { format: 'pt', step: '7' });
    await expect(openCheckpoint(intMoment)).rejects.toThrow(/optimizer\.safetensors tensor v\.model\.norm\.weight is I32, not a float type/);
    const withoutOptimizer = await openCheckpoint(out, { optimizer: false });
    expect(withoutOptimizer.optimizerStep).toBeUndefined();
    await expect(withoutOptimizer.readMoment('m', 'lm_head.weight')).rejects.toThrow(/optimizer state was not opened/);
    await withoutOptimizer.close();
  });

  it('writes bf16 weights on request', async () => {
    const out = join(dir, 'ckpt-bf16');
    const c = content(1, { dtype: 'bf16', optimizer: undefined });
    await writeCheckpoint(out, c);
    const back = await readCheckpoint(out);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    const w = back.weights.get('model.embed_tokens.weight')!;
    const orig = c.weights.get('model.embed_tokens.weight')!;
    expect(w).not.toEqual(orig);
    for (let i = 0; i < w.length; i++) expect(Math.abs(w[i]! - orig[i]!)).toBeLessThanOrEqual(Math.abs(orig[i]!) / 128);
    expect(back.optimizer).toBeUndefined();
  });

  it('names each missing or corrupt piece', async () => {
    const make = async (name: string) => {
      const out = join(dir, 'ckpt-bad', name);
      await writeCheckpoint(out, content(2, { tokenizerFiles: [tokenizerJson] }));
      return out;
    };
    const noState = await make('no-state');
    rmSync(join(noState, 'trainer_state.json'));
    await expect(readCheckpoint(noState)).rejects.toThrow(/trainer_state\.json is missing \(not a checkpoint folder, or an incomplete copy\)/);

    const noOpt = await make('no-opt');
    rmSync(join(noOpt, 'optimizer.safetensors'));
    await expect(readCheckpoint(noOpt)).rejects.toThrow(/optimizer\.safetensors is missing but trainer_state\.json says the optimizer was saved/);
    expect((await readCheckpoint(noOpt, { optimizer: false })).optimizer).toBeUndefined();

    const cut = await make('cut');
    truncateSync(join(cut, 'model.safetensors'), statSync(join(cut, 'model.safetensors')).size - 16);
    await expect(readCheckpoint(cut)).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(cut)).rejects.toThrow(/run past the end of the file/);

    const badState = await make('bad-state');
    const state = JSON.parse(readFileSync(join(badState, 'trainer_state.json'), 'utf8'));
    writeFileSync(join(badState, 'trainer_state.json'), JSON.stringify({ ...state, step: -1 }));
    await expect(readCheckpoint(badState)).rejects.toThrow(/"step" must be an integer >= 0, got -1/);

    // optimizer.safetensors rewritten: a step that is not decimal digits, then an m of the wrong size
    const optimizerFile = (step: string, shrink: string | null) => {
      const c = content(2);
      const tensors = (['m', 'v'] as const).flatMap((label) => [...c.optimizer![label]].map(([name, data]) => {
        const values = name === shrink && label === 'm' ? data.subarray(1) : data;
        return { name: `${label}.${name}`, dtype: 'F32' as const, shape: [values.length], data: values };
      }));
      return { tensors, metadata: { step } };
    };
    const hexStep = await make('hex-step');
    const hex = optimizerFile('0x10', null);
    await writeSafetensors(join(hexStep, 'optimizer.safetensors'), hex.tensors, hex.metadata);
    await expect(readCheckpoint(hexStep)).rejects.toThrow(/optimizer\.safetensors metadata has no valid "step" \(got "0x10"\)/);
    const shortM = await make('short-m');
    const short = optimizerFile('2', 'model.norm.weight');
    await writeSafetensors(join(shortM, 'optimizer.safetensors'), short.tensors, short.metadata);
    await expect(readCheckpoint(shortM)).rejects.toThrow(/optimizer\.safetensors tensor m\.model\.norm\.weight has \d+ values, the weight model\.norm\.weight \d+/);

    const noTok = await make('no-tok');
    rmSync(join(noTok, 'tokenizer.json'));
    await expect(readCheckpoint(noTok)).rejects.toThrow(/tokenizer file tokenizer\.json listed in trainer_state\.json is missing/);

    await expect(readCheckpoint(join(dir, 'ckpt-bad', 'nothing'))).rejects.toThrow(/folder not found/);
  });

  it('refuses inconsistent content before writing anything', async () => {
    const out = join(dir, 'ckpt-refused', 'x');
    const m = new Map(content(1).optimizer!.m);
    m.delete('lm_head.weight');
    await expect(writeCheckpoint(out, content(1, { optimizer: { m, v: content(1).optimizer!.v, step: 1 } }))).rejects.toThrow(
      /optimizer m has no tensor for weight lm_head\.weight/,
    );
    await expect(writeCheckpoint(out, content(1, { trainer: { ...trainerState(1), stage: 'rl' as 'grpo' } }))).rejects.toThrow(/"stage" must be one of sft, grpo/);
    expect(existsSync(join(dir, 'ckpt-refused'))).toBe(false);
  });

  it('refuses a trainer state with rng undefined, which JSON would drop and the reader then refuse', async () => {
    const out = join(dir, 'ckpt-rng', checkpointName('grpo', 1));
    const rng = (value: unknown) => content(1, { trainer: { ...trainerState(1), rng: value as TrainerState['rng'] } });
    await expect(writeCheckpoint(out, rng(undefined))).rejects.toThrow(`writing checkpoint ${resolve(out)}: "rng" is missing`);
    expect(existsSync(join(dir, 'ckpt-rng'))).toBe(false);
    // null says there is no random state, and loads.
    await writeCheckpoint(out, rng(null));
    expect((await readCheckpoint(out)).trainer.rng).toBeNull();
  });

  it("refuses a moment of the wrong size given up front beside weights read later, naming the checkpoint, before writing anything", async () => {
    const out = join(dir, 'ckpt-moment', checkpointName('grpo', 1));
    const c = content(1);
    const lazy = new Map([...c.weights].map(([name, t]) => [name, async () => t]));
    const m = new Map(c.optimizer.m);
    m.set('model.norm.weight', new Float32Array(3));
    await expect(writeCheckpoint(out, { ...c, weights: lazy, optimizer: { m, v: c.optimizer.v, step: 1 } })).rejects.toThrow(
      `writing checkpoint ${resolve(out)}: optimizer m.model.norm.weight has 3 values, the weight ${TINY.hiddenSize}`,
    );
    expect(existsSync(join(dir, 'ckpt-moment'))).toBe(false);
  });

  it('overwrites a checkpoint of the same name completely', async () => {
    const out = join(dir, 'ckpt-over');
    await writeCheckpoint(out, content(1, { tokenizerFiles: [tokenizerJson] }));
    await writeCheckpoint(out, content(2));
    const back = await readCheckpoint(out);
    expect(back.trainer.step).toBe(2);
    expect(readdirSync(out)).not.toContain('tokenizer.json');
  });

  it('lists, finds the latest and prunes the oldest checkpoints', async () => {
    const out = join(dir, 'ckpt-run');
    for (const [stage, step] of [['grpo', 20], ['sft', 100], ['grpo', 3], ['sft', 7]] as const) {
      await writeCheckpoint(join(out, checkpointName(stage, step)), content(step, { trainer: { ...trainerState(step), stage } }));
    }
    mkdirSync(join(out, 'unrelated'));
    expect((await listCheckpoints(out)).map((e) => `${e.stage}-${e.step}`)).toEqual(['sft-7', 'sft-100', 'grpo-3', 'grpo-20']);
    expect(await latestCheckpoint(out)).toBe(join(out, 'step-grpo-000020'));
    expect(await pruneCheckpoints(out, 2)).toEqual([join(out, 'step-sft-000007'), join(out, 'step-sft-000100')]);
    expect(readdirSync(out).sort()).toEqual(['step-grpo-000003', 'step-grpo-000020', 'unrelated']);
    expect(await latestCheckpoint(join(dir, 'no-such-run'))).toBeNull();
  });

  it('sets aside the checkpoints newer than a resumed one, also when the resumed one lies outside the run folder', async () => {
    const names = (d: string) => readdirSync(d).filter((n) => !n.startsWith('abandoned-')).sort();
    const run = async (name: string) => {
      const out = join(dir, 'branch', name);
      for (const [stage, step] of [['sft', 5], ['sft', 10], ['grpo', 2]] as const) {
        await writeCheckpoint(join(out, checkpointName(stage, step)), content(step, { trainer: { ...trainerState(step), stage } }));
      }
      writeFileSync(join(out, 'metrics.jsonl'), '{"step":1}\n');
      return out;
    };
    const inside = await run('inside');
    const aside = await setAsideNewerCheckpoints(inside, join(inside, 'step-sft-000005'), { copyFiles: [join(inside, 'metrics.jsonl')] });
    expect(aside!.moved).toEqual([join(inside, 'step-sft-000010'), join(inside, 'step-grpo-000002')]);
    expect(names(inside)).toEqual(['metrics.jsonl', 'step-sft-000005']);
    expect(readdirSync(aside!.folder).sort()).toEqual(['metrics.jsonl', 'step-grpo-000002', 'step-sft-000010']);
    expect(await setAsideNewerCheckpoints(inside, join(inside, 'step-sft-000005'))).toBeNull(); // nothing newer now
    // A checkpoint brought back from elsewhere is another branch than every checkpoint here, older ones too.
    const outside = await run('outside');
    const fromElsewhere = await setAsideNewerCheckpoints(outside, join(dir, 'elsewhere', 'step-sft-000008'));
    expect(fromElsewhere!.moved).toEqual([join(outside, 'step-sft-000005'), join(outside, 'step-sft-000010'), join(outside, 'step-grpo-000002')]);
    const unnamed = await run('unnamed');
    expect((await setAsideNewerCheckpoints(unnamed, join(dir, 'my-copy')))!.moved).toHaveLength(3);
    // A run folder with no checkpoint but another run's metrics and KL reference: from elsewhere,
    // those are set aside (the metrics copied, the reference moved) before the branch brings its own.
    const bare = join(dir, 'branch', 'bare');
    mkdirSync(join(bare, 'reference'), { recursive: true });
    writeFileSync(join(bare, 'metrics.jsonl'), '{"step":3}\n');
    const files = { copyFiles: [join(bare, 'metrics.jsonl')], move: [join(bare, 'reference')] };
    const bareAside = await setAsideNewerCheckpoints(bare, join(dir, 'elsewhere', 'step-sft-000008'), files);
    expect(bareAside!.moved).toEqual([join(bare, 'reference')]);
    expect(readdirSync(bareAside!.folder).sort()).toEqual(['metrics.jsonl', 'reference']);
    expect(readFileSync(join(bareAside!.folder, 'metrics.jsonl'), 'utf8')).toBe('{"step":3}\n');
    // inside the folder, with nothing newer, nothing is set aside
    await writeCheckpoint(join(bare, checkpointName('sft', 4)), content(4));
    expect(await setAsideNewerCheckpoints(bare, join(bare, 'step-sft-000004'), files)).toBeNull();
  });

  it("removes a dead writer's half-written KL reference and puts back its displaced one", async () => {
    const out = join(dir, 'ckpt-reference');
    mkdirSync(join(out, 'reference.tmp-999999999'), { recursive: true });
    mkdirSync(join(out, 'reference.old-999999998'), { recursive: true });
    expect(await recoverInterruptedWrites(out)).toEqual([join(out, 'reference.tmp-999999999')]);
    expect(readdirSync(out)).toEqual(['reference']);
  });

  it("puts back a dead writer's .old folder even when that writer had this process's pid (containers reuse pid 1)", async () => {
    const out = join(dir, 'ckpt-same-pid');
    const stranded = join(out, `${checkpointName('sft', 10)}.old-${process.pid}`);
    await writeCheckpoint(stranded, content(10));
    expect(await latestCheckpoint(out)).toBeNull();
    expect(await recoverInterruptedWrites(out)).toEqual([]); // put back, not removed
    expect(readdirSync(out)).toEqual([checkpointName('sft', 10)]);
    expect((await readCheckpoint(await latestCheckpoint(out) ?? '')).trainer).toEqual(trainerState(10));
  });

  // The child writes a large checkpoint (128 MB of weights, 256 MB of optimizer state) so that it is still busy when killed.
  const writerScript = () => {
    const script = join(dir, 'write-big-checkpoint.ts');
    writeFileSync(
      script,
      `import { writeCheckpoint } from ${JSON.stringify(resolve('src/train/checkpoint.ts'))};
const config = { vocabSize: 16384, hiddenSize: 1024, intermediateSize: 8, numLayers: 1, numHeads: 1, numKvHeads: 1, headDim: 8,
  rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, torchDtype: 'float32' };
const shapes = { 'model.embed_tokens.weight': [16384, 1024], 'model.layers.0.self_attn.q_proj.weight': [8, 1024],
  'model.layers.0.self_attn.k_proj.weight': [8, 1024], 'model.layers.0.self_attn.v_proj.weight': [8, 1024],
  'model.layers.0.self_attn.o_proj.weight': [1024, 8], 'model.layers.0.self_attn.q_norm.weight': [8],
  'model.layers.0.self_attn.k_norm.weight': [8], 'model.layers.0.mlp.gate_proj.weight': [8, 1024],
  'model.layers.0.mlp.up_proj.weight': [8, 1024], 'model.layers.0.mlp.down_proj.weight': [1024, 8],
  'model.layers.0.input_layernorm.weight': [1024], 'model.layers.0.post_attention_layernorm.weight': [1024],
  'model.norm.weight': [1024], 'lm_head.weight': [16384, 1024] };
const make = (v) => new Map(Object.entries(shapes).map(([n, s]) => [n, new Float32Array(s.reduce((a, b) => a * b, 1)).fill(v)]));
const trainer = { stage: 'sft', step: 2, epoch: 0, dataPosition: 0, sampler: null, rng: null, configHash: 'x', metricsRows: 2 };
process.stdout.write('START\\n');
await writeCheckpoint(process.argv[2], { config, weights: make(1), optimizer: { m: make(2), v: make(3), step: 2 }, trainer });
process.stdout.write('DONE\\n');
`,
    );
    return script;
  };

  /** Paths of files under `root` whose name starts with `prefix`, with their sizes. */
  const filesNamed = (root: string, prefix: string): [string, number][] => {
    const found: [string, number][] = [];
    const walk = (path: string) => {
      let names: string[];
      try {
        names = readdirSync(path);
      } catch {
        return; // renamed away while we looked
      }
      for (const name of names) {
        const child = join(path, name);
        try {
          const st = statSync(child);
          if (st.isDirectory()) walk(child);
          else if (name.startsWith(prefix)) found.push([child, st.size]);
        } catch {
          // renamed away while we looked
        }
      }
    };
    walk(root);
    return found;
  };

  for (const victim of ['model.safetensors', 'optimizer.safetensors']) {
    it(`a SIGKILL while ${victim} is being written leaves the previous checkpoint complete and no half folder`, async () => {
      const out = join(dir, `ckpt-kill-${victim}`);
      const previous = join(out, checkpointName('sft', 1));
      await writeCheckpoint(previous, content(1));
      const next = join(out, checkpointName('sft', 2));

      const child = spawn(process.execPath, [resolve('node_modules/vite-node/vite-node.mjs'), writerScript(), next], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

      // Kill once the victim file (wherever the writer puts it) holds over 1 MB but the writer has not finished.
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (filesNamed(out, victim).some(([, size]) => size > 1_000_000)) break;
        if (stdout.includes('DONE') || Date.now() > deadline || child.exitCode !== null) {
          child.kill('SIGKILL');
          throw new Error(`the child finished or failed before it could be killed mid-write\nstdout: ${stdout}\nstderr: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      await exited;
      expect(stdout).toBe('START\n');

      // No folder under the final name; the previous checkpoint is the latest and loads completely.
      expect(existsSync(next)).toBe(false);
      expect(readdirSync(out).some((n) => n.includes('.tmp-'))).toBe(true);
      expect(await latestCheckpoint(out)).toBe(previous);
      const back = await readCheckpoint(previous);
      expect(back.trainer).toEqual(trainerState(1));
      expect(back.weights).toEqual(content(1).weights);

      // The dead writer's leftovers are cleaned up.
      const removed = await recoverInterruptedWrites(out);
      expect(removed.length).toBeGreaterThan(0);
      expect(readdirSync(out)).toEqual([checkpointName('sft', 1)]);
    });
  }
});

// ---------------------------------------------------------------------------

describe('StopFlag', () => {
  it('first signal requests a stop, the second aborts', () => {
    const messages: string[] = [];
    const exits: number[] = [];
    const before = process.listenerCount('SIGINT');
    const flag = new StopFlag({ log: (m) => messages.push(m), exit: (code) => exits.push(code) }).install();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGINT', 'SIGINT');
    expect(flag.requested).toBe(true);
    expect(exits).toEqual([]);
    expect(messages).toEqual(['SIGINT: stopping at the next step boundary (Ctrl-C again to abort)']);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
    flag.requested = false;
    process.emit('SIGTERM', 'SIGTERM');
    expect(messages.at(-1)).toBe('SIGTERM: stopping at the next step boundary (SIGTERM again to abort)');
    flag.dispose();
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('works with real signals in a child process', async () => {
    const script = join(dir, 'stop-flag-child.ts');
    writeFileSync(
      script,
      `import { StopFlag } from ${JSON.stringify(resolve('src/train/signals.ts'))};
const flag = new StopFlag({ log: (m) => process.stdout.write(m + '\\n') }).install();
process.stdout.write('READY\\n');
const timer = setInterval(() => { if (flag.requested) process.stdout.write('STEP BOUNDARY\\n'); }, 20);
setTimeout(() => clearInterval(timer), 30_000);
`,
    );
    const child = spawn(process.execPath, [resolve('node_modules/vite-node/vite-node.mjs'), script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 30_000;
      while (!stdout.includes(text)) {
        if (Date.now() > deadline) throw new Error(`child never printed ${text}; got: ${stdout}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor('READY');
    child.kill('SIGINT');
    await waitFor('STEP BOUNDARY');
    expect(stdout).toContain('SIGINT: stopping at the next step boundary (Ctrl-C again to abort)');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  });
});
