// Decode benchmark: generate() (KV-cache prefill, then one token per step for
// the whole batch, sampling on the GPU) at batch 1, 8 and 32 on the tiny and
// small models with random weights, 16-token prompts and 32 new tokens, greedy
// and at temperature 1. Per run: time per decode step (from the arrival of the
// first to the last token, so prefill is excluded), decode tokens/s, GPU
// dispatches / submits / readbacks per decode step (the target is one
// readback), and, from a profiled run, the kernel time per decode step and the
// share of wall time spent outside kernels. Stop tokens are disabled so every
// sequence runs the full length. With torch installed, the same prompts go
// through bench/torch_reference.py (KV cache, 2 threads) for a side-by-side
// time per step and a check of the greedy tokens. Each run is repeated with an f16 KV cache
// (GenerateOptions.kvCacheDtype) and with the layer matrices in bf16 (Bf16MatricesQwen3, eval.js
// --weights bf16): each one's time per step and the share of sequences whose tokens are those of
// the f32 run.
//
//   npm run build && node bench/decode.js [--quick]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/gpu/runtime.js';
import { generate, type Generation } from '../../src/model/generate.js';
import type { KvCacheDtype } from '../../src/ops/decode-attention.js';
import { Bf16MatricesQwen3 } from '../../src/model/bf16-matrices.js';
import { Qwen3 } from '../../src/model/qwen3.js';
import { initRandomWeights } from '../../src/model/weights.js';
import {
  describeMachine, diffTotals, exportModel, fmtRatio, kernelTable, profileTotals, randomInts, removeDir, runHeader, runTorchReference,
  smallSpec, sumMs, tempDir, tinySpec, torchAvailable, torchBlas, type KernelTime, type ModelSpec,
} from './common.js';
import { appendResult, benchFlags, formatTable, loadAverages, workCpuMs } from './report.js';

const USAGE = `usage: node bench/decode.js [--quick]   (after npm run build)
  Full run: batch 1, 8 and 32, greedy and temperature 1, 32 new tokens, on the tiny and the small
  model, with profiled runs and PyTorch's same generation when /usr/bin/python3 has torch.
  --quick  6 new tokens, greedy only, batch 1 and 32 only; the small model without the profiled
           runs and without PyTorch`;

const SEED = 4321;
const PROMPT = 16;
type Mode = 'greedy' | 'sample';

interface RunResult {
  model: string;
  batch: number;
  mode: Mode;
  newTokens: number;
  wallMs: number;
  prefillMs: number;
  /** Time per decode step: (last token's arrival - first token's arrival) / (newTokens - 1). */
  stepMs: number;
  cpuMsPerStep: number;
  decodeTokensPerSecond: number;
  /** All generated tokens / wall time of the call (prefill included). */
  tokensPerSecond: number;
  perStep: { dispatches: number; submits: number; readbacks: number };
  /**
   * From profiled runs (every dispatch in its own timed pass): kernel time per decode step, the
   * wall time per step of the same profiled run, and (wall - kernels) / wall.
   */
  profile?: {
    kernelMsPerStep: number; profiledStepMs: number; outsideKernelsShare: number;
    /** (unprofiled ms/step - profiled kernel ms) / unprofiled ms/step: negative when profiling inflates kernel times. */
    outsideVsUnprofiled: number;
    top: KernelTime[];
  };
  /** The same run with an f16 KV cache: time per decode step, and sequences whose tokens equal the f32 cache's. */
  kvF16?: { stepMs: number; sameTokens: number };
  /** The same run with the layer matrices in bf16 (widened before each matmul), likewise. */
  bf16Weights?: { stepMs: number; sameTokens: number };
  /** PyTorch's mean time per decode step (the engine's stepMs is a mean too), and the BLAS it ran on. */
  torch?: { stepMs: number; prefillMs: number; decodeTokensPerSecond: number; engineOverTorchTime: number; blas: string; greedyAgreement?: number; firstTokenAgreement?: number };
}

/** Share of sequences whose tokens are exactly those of `reference`. */
function sameTokenShare(gens: readonly Generation[], reference: readonly Generation[]): number {
  return gens.filter((g, b) => g.tokens.length === reference[b]!.tokens.length && g.tokens.every((id, i) => id === reference[b]!.tokens[i])).length / gens.length;
}

function prompts(B: number, V: number): Int32Array[] {
  const ids = randomInts(B * PROMPT, SEED, V);
  return Array.from({ length: B }, (_, b) => ids.slice(b * PROMPT, (b + 1) * PROMPT));
}

function sampling(mode: Mode) {
  return { temperature: mode === 'greedy' ? 0 : 1, topK: 0, topP: 1, minP: 0, seed: 99 };
}

interface Timed {
  gens: Generation[];
  wallMs: number;
  prefillMs: number;
  stepMs: number;
  cpuMsPerStep: number;
  perStep: RunResult['perStep'];
}

/** One generate() call, with the time and counters at the arrival of each step's tokens (sequence 0's token marks a step). */
async function timedGenerate(model: Qwen3, ps: Int32Array[], n: number, mode: Mode, kvCacheDtype: KvCacheDtype = 'f32'): Promise<Timed> {
  const { rt } = model;
  const marks: { t: number; cpu: number; s: { dispatches: number; submits: number; readbacks: number } }[] = [];
  const t0 = performance.now();
  const gens = await generate(model, ps, {
    maxNewTokens: n, stopIds: [], sampling: sampling(mode), kvCacheDtype,
    onToken: (seq) => {
      if (seq !== 0) return;
      marks.push({ t: performance.now(), cpu: workCpuMs(), s: { ...rt.stats } });
    },
  });
  const wallMs = performance.now() - t0;
  const first = marks[0]!, last = marks[marks.length - 1]!;
  const steps = Math.max(1, marks.length - 1);
  return {
    gens, wallMs, prefillMs: first.t - t0,
    stepMs: (last.t - first.t) / steps,
    cpuMsPerStep: (last.cpu - first.cpu) / steps,
    perStep: {
      dispatches: (last.s.dispatches - first.s.dispatches) / steps,
      submits: (last.s.submits - first.s.submits) / steps,
      readbacks: (last.s.readbacks - first.s.readbacks) / steps,
    },
  };
}

async function benchModel(spec: ModelSpec, batches: number[], modes: Mode[], n: number, torch: boolean, profile: boolean): Promise<RunResult[]> {
  const { cfg } = spec;
  const maxB = Math.max(...batches);
  const ps = prompts(maxB, cfg.vocabSize);
  const results: RunResult[] = [];

  const rt = await Runtime.create();
  const model = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, SEED));
  let dir: string | null = null;
  if (torch) {
    dir = tempDir(`decode-${spec.name}`);
    await exportModel(rt, cfg, model.params, join(dir, 'model'));
  }
  for (const kvCacheDtype of ['f32', 'f16'] as const) {
    await generate(model, ps.slice(0, 1), { maxNewTokens: 2, stopIds: [], sampling: sampling('greedy'), kvCacheDtype }); // compiles every pipeline
  }
  const greedy = new Map<number, Generation[]>();
  for (const B of batches) {
    for (const mode of modes) {
      const r = await timedGenerate(model, ps.slice(0, B), n, mode);
      if (mode === 'greedy') greedy.set(B, r.gens);
      const half = await timedGenerate(model, ps.slice(0, B), n, mode, 'f16');
      results.push({
        model: spec.name, batch: B, mode, newTokens: n, wallMs: r.wallMs, prefillMs: r.prefillMs, stepMs: r.stepMs, cpuMsPerStep: r.cpuMsPerStep,
        decodeTokensPerSecond: B / (r.stepMs / 1000), tokensPerSecond: (B * n) / (r.wallMs / 1000), perStep: r.perStep,
        kvF16: { stepMs: half.stepMs, sameTokens: sameTokenShare(half.gens, r.gens) },
      });
    }
  }
  // The same weights with the layer matrices in bf16, loaded as eval.js --weights bf16 loads them.
  const bf16Dir = tempDir(`decode-bf16-${spec.name}`);
  await exportModel(rt, cfg, model.params, bf16Dir);
  model.dispose();
  rt.pool.trim();
  const bf16 = await Bf16MatricesQwen3.fromFolder(rt, bf16Dir);
  removeDir(bf16Dir);
  await generate(bf16, ps.slice(0, 1), { maxNewTokens: 2, stopIds: [], sampling: sampling('greedy') }); // compiles the unpack kernel
  for (const r of results) {
    const t = await timedGenerate(bf16, ps.slice(0, r.batch), n, r.mode);
    const f32 = r.mode === 'greedy' ? greedy.get(r.batch) : undefined;
    r.bf16Weights = { stepMs: t.stepMs, sameTokens: f32 ? sameTokenShare(t.gens, f32) : NaN };
  }
  bf16.dispose();
  rt.pool.trim();

  // Kernel time per decode step: profiled generate(n) minus profiled generate(1) (same prefill), per step,
  // against the wall time per step of the same profiled generate(n).
  if (profile && !rt.gpu.hasTimestamps) console.log(`  ${spec.name}: no kernel profile: the adapter has no timestamp queries`);
  if (profile && rt.gpu.hasTimestamps) {
    const rtp = await Runtime.create({ profile: true });
    const pmodel = new Qwen3(rtp, cfg, initRandomWeights(rtp, cfg, SEED));
    const run = async (B: number, tokens: number, mode: Mode) => {
      await rtp.sync();
      rtp.profiler.totals.clear();
      const t = await timedGenerate(pmodel, ps.slice(0, B), tokens, mode);
      await rtp.sync();
      return { totals: profileTotals(rtp), stepMs: t.stepMs };
    };
    await run(1, 2, 'greedy'); // compiles every pipeline
    for (const r of results) {
      const full = await run(r.batch, n, r.mode), one = await run(r.batch, 1, r.mode);
      const perStep = diffTotals(full.totals, one.totals, 1 / (n - 1));
      const kernelMsPerStep = sumMs(perStep);
      r.profile = {
        kernelMsPerStep, profiledStepMs: full.stepMs, outsideKernelsShare: (full.stepMs - kernelMsPerStep) / full.stepMs,
        outsideVsUnprofiled: (r.stepMs - kernelMsPerStep) / r.stepMs, top: kernelTable(perStep, 6),
      };
    }
    pmodel.dispose();
    rtp.pool.trim();
  }

  if (dir) {
    try {
      const promptFile = join(dir, 'prompts.json');
      writeFileSync(promptFile, JSON.stringify({ prompts: ps.map((p) => [...p]) }));
      const out = runTorchReference(['decode', '--model', join(dir, 'model'), '--prompts', promptFile, '--batches', batches.join(','),
        '--modes', modes.join(','), '--new-tokens', String(n)]);
      const rows = out.decode as { batch: number; mode: Mode; stepMsMean: number; prefillMs: number; tokens: number[][] | null }[];
      const blas = torchBlas(out);
      for (const t of rows) {
        const r = results.find((x) => x.batch === t.batch && x.mode === t.mode);
        if (!r) continue;
        r.torch = {
          stepMs: t.stepMsMean, prefillMs: t.prefillMs, decodeTokensPerSecond: t.batch / (t.stepMsMean / 1000), engineOverTorchTime: r.stepMs / t.stepMsMean, blas,
        };
        const mine = greedy.get(t.batch);
        if (t.tokens && mine) {
          // share of sequences whose whole greedy continuation equals PyTorch's
          let same = 0, firstSame = 0;
          t.tokens.forEach((seq, b) => {
            const g = mine[b]!.tokens;
            if (seq.length === g.length && seq.every((id, i) => id === g[i])) same++;
            if (seq[0] === g[0]) firstSame++;
          });
          r.torch.greedyAgreement = same / t.tokens.length;
          r.torch.firstTokenAgreement = firstSame / t.tokens.length;
        }
      }
    } finally {
      removeDir(dir);
    }
  }
  return results;
}

async function main(): Promise<void> {
  const quick = benchFlags(USAGE, ['quick']).has('quick');
  const rt = await Runtime.create();
  const header = runHeader(rt, 'decode', quick);
  console.log(describeMachine(rt));
  const torch = torchAvailable();
  if (!torch.ok) console.log(torch.note);
  const modes: Mode[] = quick ? ['greedy'] : ['greedy', 'sample'];
  const n = quick ? 6 : 32;

  const results: RunResult[] = [];
  const specs = [tinySpec(), smallSpec()];
  for (const spec of specs) {
    const batches = quick ? [1, 32] : [1, 8, 32];
    const small = spec.name === 'small';
    const rs = await benchModel(spec, batches, modes, n, torch.ok && !(quick && small), !(quick && small));
    results.push(...rs);
    for (const r of rs) console.log(`  ${r.model} batch ${r.batch} ${r.mode}: ${r.stepMs.toFixed(2)} ms/step, ${r.decodeTokensPerSecond.toFixed(1)} tokens/s`);
  }

  console.log();
  console.log(formatTable(
    ['model', 'batch', 'mode', 'ms/step', 'cpu ms', 'tokens/s', 'e2e tok/s', 'prefill ms', 'disp', 'subm', 'readb', 'prof ms', 'kernel ms', 'outside', 'vs unprof', 'f16 KV ms', 'f16 =f32', 'bf16 W ms', 'bf16 =f32', 'torch ms', 'torch tok/s', 'engine/torch', 'greedy =torch'],
    results.map((r) => [
      r.model, r.batch, r.mode, r.stepMs, r.cpuMsPerStep, r.decodeTokensPerSecond, r.tokensPerSecond, r.prefillMs,
      r.perStep.dispatches, r.perStep.submits, r.perStep.readbacks,
      r.profile?.profiledStepMs ?? '-', r.profile?.kernelMsPerStep ?? '-', r.profile ? `${(100 * r.profile.outsideKernelsShare).toFixed(1)}%` : '-',
      r.profile ? `${(100 * r.profile.outsideVsUnprofiled).toFixed(1)}%` : '-',
      r.kvF16?.stepMs ?? '-', r.kvF16 ? `${(100 * r.kvF16.sameTokens).toFixed(0)}%` : '-',
      r.bf16Weights?.stepMs ?? '-', r.bf16Weights && !Number.isNaN(r.bf16Weights.sameTokens) ? `${(100 * r.bf16Weights.sameTokens).toFixed(0)}%` : '-',
      r.torch?.stepMs ?? '-', r.torch?.decodeTokensPerSecond ?? '-', fmtRatio(r.torch?.engineOverTorchTime),
      r.torch?.greedyAgreement !== undefined ? `${(100 * r.torch.greedyAgreement).toFixed(0)}%` : '-',
    ]),
  ));
  console.log('\nms/step: one decode step of the whole batch (prefill excluded); prof ms: the same in a profiled run (one pass per dispatch);');
  console.log('kernel ms: profiled kernel time per step; outside: (prof ms - kernel ms) / prof ms, the share of a step spent outside kernels');
  console.log('(profiler overhead included); vs unprof: (ms/step - kernel ms) / ms/step (negative when profiling inflates kernel times);');
  console.log('f16 KV ms: ms/step with an f16 KV cache; f16 =f32: sequences whose tokens are those of the f32 cache;');
  console.log('bf16 W ms: ms/step with the layer matrices in bf16 (--weights bf16); bf16 =f32: greedy sequences whose tokens are those of f32 weights;');
  console.log('torch ms: PyTorch\'s mean time per decode step, as ms/step is the engine\'s; greedy =torch: sequences whose whole greedy continuation equals PyTorch\'s.');

  const summary: Record<string, unknown>[] = [];
  for (const spec of ['tiny', 'small']) {
    for (const mode of modes) {
      const b1 = results.find((r) => r.model === spec && r.batch === 1 && r.mode === mode);
      const b32 = results.find((r) => r.model === spec && r.batch === 32 && r.mode === mode);
      if (!b1 || !b32) continue;
      const ratio = b32.stepMs / b1.stepMs;
      const maxReadbacks = Math.max(...results.filter((r) => r.model === spec && r.mode === mode).map((r) => r.perStep.readbacks));
      summary.push({ model: spec, mode, batch32OverBatch1: ratio, maxReadbacksPerStep: maxReadbacks });
      console.log(`${spec} ${mode}: step time batch 32 / batch 1 = ${ratio.toFixed(2)}x (target <= 3x: ${ratio <= 3 ? 'met' : 'missed'}); readbacks per step <= ${maxReadbacks} (target 1: ${maxReadbacks <= 1 ? 'met' : 'missed'})`);
    }
  }
  for (const spec of ['tiny', 'small']) {
    for (const B of [1, 32]) {
      const r = results.find((x) => x.model === spec && x.batch === B && x.mode === 'greedy' && x.profile);
      if (!r?.profile) continue;
      console.log(`\n${spec} batch ${B} greedy: kernel time per decode step ${r.profile.kernelMsPerStep.toFixed(2)} ms of ${r.profile.profiledStepMs.toFixed(2)} ms (profiled run)`);
      console.log(formatTable(['kernel', 'ms/step', 'calls/step', 'share'], r.profile.top.map((k) => [k.kernel, k.ms, k.calls, `${(100 * k.share).toFixed(1)}%`])));
    }
  }
  const models = Object.fromEntries(specs.map((s) => [s.name, s.cfg]));
  const path = appendResult('decode', { ...header, loadAveragesEnd: loadAverages(), models, promptTokens: PROMPT, newTokens: n, torch: torch.note, summary, results });
  console.log(`\nappended to ${path}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
