// Training-step benchmark: one SFT-style optimizer step (forward, token-masked
// NLL, backward, AdamW: src/train/sft.ts sftStep) on a tiny and a small model,
// with tokens/s, the achieved FLOP rate against the engine's best 1024^3
// matmul rate measured in the same run (the "overhead" figure), dispatches /
// submits / readbacks per step, the per-kernel time split from the profiler,
// and the same step in PyTorch on the CPU (2 threads) when torch is installed,
// whose first loss must equal the engine's within 1e-4 relative.
//
//   npm run build && node bench/model.js [--quick] [--recompute]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/gpu/runtime.js';
import { Qwen3 } from '../../src/model/qwen3.js';
import { initRandomWeights, paramCount } from '../../src/model/weights.js';
import { AdamW, type AdamWConfig } from '../../src/train/optimizer.js';
import { packSequences, type PromptCompletion } from '../../src/train/sequences.js';
import { sftStep } from '../../src/train/sft.js';
import {
  bestMatmulRate, describeMachine, exportModel, fmtRatio, kernelTable, profileTotals, randomInts, relDiff, removeDir, runHeader,
  runTorchReference, smallSpec, sumMs, tempDir, tinySpec, torchAvailable, torchBlas, trace, trainStepFlops, type KernelTime, type MatmulRate, type ModelSpec, type StepFlops,
} from './common.js';
import { appendResult, benchFlags, formatTable, loadAverages, median, workCpuMs } from './report.js';

const USAGE = `usage: node bench/model.js [--quick] [--recompute]   (after npm run build)
  Full run: 4 x 128 tokens per step on the tiny and the small model, a warm-up step and the median
  of 3 timed steps, one profiled step, and PyTorch's same step when /usr/bin/python3 has torch.
  --quick  2 x 32 tokens (small model: 1 x 16); one profiled runtime for both models, a warm-up
           step (tiny model only) and one profiled step, which also gives the timing, and one
           PyTorch step (a smoke test, not a measurement)
  --recompute  the same steps with activation recomputation (model.gradientCheckpointing): the
           layers' forward runs again in backward; run with and without it to see what it costs`;

const SEED = 1234;
const HYPER: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
const LOSS_TOLERANCE = 1e-4;

interface ModelResult {
  model: string;
  /** Activation recomputation on (--recompute): its extra forward is not in `flops`. */
  recompute: boolean;
  config: ModelSpec['cfg'];
  params: number;
  B: number;
  T: number;
  tokens: number;
  steps: number;
  /** Quick runs time the profiled step (every dispatch in its own pass: slower). */
  timedWithProfiler: boolean;
  msPerStep: number;
  msPerStepMin: number;
  cpuMsPerStep: number;
  tokensPerSecond: number;
  flops: StepFlops;
  achievedGflops: number;
  /** achieved / the engine's best 1024^3 matmul rate in this run. */
  matmulEfficiency: number;
  /** The same ratio with both rates per second of the working threads' CPU time (`workCpuMs`; robust to other processes' load). */
  matmulEfficiencyCpu: number;
  perStep: { dispatches: number; submits: number; readbacks: number };
  losses: number[];
  /** Null when the adapter has no timestamp queries. */
  profile: null | {
    wallMs: number;
    kernelMs: number;
    /** (profiled wall - kernel time) / profiled wall; profiling puts each dispatch in its own pass. */
    outsideKernelsShare: number;
    matmulShare: number;
    top: KernelTime[];
  };
  torch: null | {
    note: string;
    msPerStep?: number;
    losses?: number[];
    lossRelDiff?: number;
    lossRelDiffAfterUpdate?: number | null;
    engineOverTorchTime?: number;
    lossCheck?: 'ok' | 'FAILED';
  };
}

/** B rows of T tokens: the first half a prompt, the second half the completion (the SFT targets). */
function makeRows(B: number, T: number, V: number): PromptCompletion[] {
  const ids = randomInts(B * T, SEED, V);
  return Array.from({ length: B }, (_, b) => ({
    prompt: ids.slice(b * T, b * T + T / 2),
    completion: ids.slice(b * T + T / 2, (b + 1) * T),
  }));
}

let quickRuntime: Runtime | null = null;
let firstSpec: ModelSpec | null = null;

async function benchModel(spec: ModelSpec, B: number, T: number, reps: number, rate: MatmulRate, withTorch: boolean, quick: boolean, recompute: boolean): Promise<ModelResult> {
  firstSpec ??= spec;
  const { cfg } = spec;
  const rows = makeRows(B, T, cfg.vocabSize);
  const tokens = B * T;

  const opts = { microBatchRows: B, padId: 0, lr: HYPER.lr, recompute };
  const losses: number[] = [];
  const wall: number[] = [], cpu: number[] = [];
  let perStep = { dispatches: 0, submits: 0, readbacks: 0 };
  let nParams = 0;
  let dir: string | null = null;
  /** Runs `count` timed steps; returns the GPU counters per step. */
  const timedSteps = async (rt: Runtime, model: Qwen3, opt: AdamW, count: number, record: boolean) => {
    const s0 = { ...rt.stats };
    for (let i = 0; i < count; i++) {
      const c0 = workCpuMs();
      const t0 = performance.now();
      const r = await sftStep(model, opt, rows, opts);
      wall.push(performance.now() - t0);
      cpu.push(workCpuMs() - c0);
      if (record) losses.push(r.loss);
    }
    return {
      dispatches: (rt.stats.dispatches - s0.dispatches) / count,
      submits: (rt.stats.submits - s0.submits) / count,
      readbacks: (rt.stats.readbacks - s0.readbacks) / count,
    };
  };
  const setUp = async (rt: Runtime, warmUp: boolean) => {
    trace(`${spec.name}: set up`);
    const params = initRandomWeights(rt, cfg, SEED);
    const model = new Qwen3(rt, cfg, params);
    nParams = paramCount(params);
    if (withTorch && !dir) {
      dir = tempDir(spec.name);
      await exportModel(rt, cfg, params, join(dir, 'model'));
    }
    trace(`${spec.name}: exported`);
    const opt = new AdamW(rt, cfg, HYPER);
    if (warmUp) {
      const first = await sftStep(model, opt, rows, opts); // compiles every pipeline
      if (losses.length === 0) losses.push(first.loss); // the loss before any update, for the PyTorch check
    }
    trace(`${spec.name}: warm-up step done`);
    return { model, opt };
  };

  // ---- timed steps without profiling (quick runs time the profiled step instead) ----
  if (!quick) {
    const rt = await Runtime.create();
    const { model, opt } = await setUp(rt, true);
    perStep = await timedSteps(rt, model, opt, reps, true);
    opt.dispose();
    model.dispose();
    rt.pool.trim();
  }

  // ---- one profiled step (a separate runtime: profiling changes the pass structure) ----
  const rtp = quick ? quickRuntime! : await Runtime.create({ profile: true });
  // Quick runs share one profiled runtime whose pipelines the first model compiled: later models skip the warm-up step.
  const { model: pmodel, opt: popt } = await setUp(rtp, !quick || spec === firstSpec);
  await rtp.sync();
  rtp.profiler.totals.clear();
  const tp = performance.now();
  if (quick) perStep = await timedSteps(rtp, pmodel, popt, 1, true);
  else await sftStep(pmodel, popt, rows, opts);
  await rtp.sync();
  const profWall = performance.now() - tp;
  trace(`${spec.name}: profiled step done`);
  const profiled = rtp.profiler.enabled; // false without the timestamp-query feature
  const totals = profileTotals(rtp);
  const kernelMs = sumMs(totals);
  let matmulMs = 0;
  for (const [k, v] of totals) if (k.startsWith('matmul')) matmulMs += v.ms;
  popt.dispose();
  pmodel.dispose();
  rtp.pool.trim();

  const ms = median(wall);
  const flops = trainStepFlops(cfg, B, T);
  const achievedGflops = flops.total / (ms * 1e6);
  const result: ModelResult = {
    model: spec.name, recompute, config: cfg, params: nParams, B, T, tokens, steps: wall.length, timedWithProfiler: quick,
    msPerStep: ms, msPerStepMin: Math.min(...wall), cpuMsPerStep: median(cpu), tokensPerSecond: tokens / (ms / 1000),
    flops, achievedGflops, matmulEfficiency: achievedGflops / rate.gflops,
    matmulEfficiencyCpu: flops.total / (median(cpu) * 1e6) / rate.gflopsPerCpuSecond, perStep, losses,
    profile: profiled ? {
      wallMs: profWall, kernelMs, outsideKernelsShare: (profWall - kernelMs) / profWall, matmulShare: matmulMs / kernelMs,
      top: kernelTable(totals, 10),
    } : null,
    torch: null,
  };

  // ---- PyTorch ----
  if (dir) {
    try {
      const packed = packSequences(rows, 0);
      const batchFile = join(dir, 'batch.json');
      writeFileSync(batchFile, JSON.stringify({ B, T, ids: [...packed.batch.ids], mask: [...packed.mask], adamw: HYPER }));
      trace(`${spec.name}: PyTorch`);
      const out = runTorchReference(['train', '--model', join(dir, 'model'), '--batch', batchFile, '--steps', String(quick ? 1 : reps + 1)]);
      trace(`${spec.name}: PyTorch done`);
      const train = out.train as { losses: number[]; msMedian: number };
      const lossRelDiff = relDiff(losses[0]!, train.losses[0]!);
      result.torch = {
        note: `PyTorch ${out.torch} (${out.threads} threads, BLAS ${torchBlas(out)}, sdpa ${out.sdpa ? 'yes' : 'no: explicit softmax attention'})`,
        msPerStep: train.msMedian,
        losses: train.losses,
        lossRelDiff,
        lossRelDiffAfterUpdate: train.losses.length > 1 && losses.length > 1 ? relDiff(losses[1]!, train.losses[1]!) : null,
        engineOverTorchTime: ms / train.msMedian,
        lossCheck: lossRelDiff <= LOSS_TOLERANCE ? 'ok' : 'FAILED',
      };
    } finally {
      removeDir(dir);
    }
  } else {
    result.torch = { note: torchAvailable().note };
  }
  return result;
}

async function main(): Promise<void> {
  const flags = benchFlags(USAGE, ['quick', 'recompute']);
  const quick = flags.has('quick'), recompute = flags.has('recompute');
  const rt = await Runtime.create();
  const header = runHeader(rt, 'model', quick);
  console.log(describeMachine(rt));
  const torch = torchAvailable();
  if (!torch.ok) console.log(torch.note);

  trace('matmul rate');
  const rate = await bestMatmulRate(rt, quick ? 1 : 3);
  console.log(`engine matmul 1024^3 (${rate.variant}): ${rate.kinds.map((k) => `${k.kind} ${k.gflops.toFixed(2)}`).join(', ')} GFLOP/s; best ${rate.gflops.toFixed(2)}`);

  const reps = quick ? 1 : 3;
  if (quick) quickRuntime = await Runtime.create({ profile: true });
  const results: ModelResult[] = [];
  for (const spec of [tinySpec(), smallSpec()]) {
    const [B, T] = !quick ? [4, 128] : spec.name === 'small' ? [1, 16] : [2, 32];
    const r = await benchModel(spec, B, T, reps, rate, torch.ok, quick, recompute);
    results.push(r);
    console.log(`  ${r.model}: ${r.msPerStep.toFixed(1)} ms/step, ${r.tokensPerSecond.toFixed(0)} tokens/s, ${r.achievedGflops.toFixed(2)} GFLOP/s` +
      (r.torch?.msPerStep ? `; PyTorch ${r.torch.msPerStep.toFixed(1)} ms/step` : ''));
  }

  console.log();
  console.log(formatTable(
    ['model', 'params', 'B x T', 'ms/step', 'cpu ms', 'tokens/s', 'GFLOP/step', 'GFLOP/s', 'of matmul', 'cpu-time', 'disp', 'subm', 'readb', 'torch ms', 'engine/torch', 'loss', 'torch loss', 'rel diff'],
    results.map((r) => [
      r.model, r.params, `${r.B} x ${r.T}`, r.msPerStep, r.cpuMsPerStep, r.tokensPerSecond, r.flops.total / 1e9, r.achievedGflops,
      `${(100 * r.matmulEfficiency).toFixed(1)}%`, `${(100 * r.matmulEfficiencyCpu).toFixed(1)}%`, r.perStep.dispatches, r.perStep.submits, r.perStep.readbacks,
      r.torch?.msPerStep ?? '-', fmtRatio(r.torch?.engineOverTorchTime), r.losses[0]!, r.torch?.losses?.[0] ?? '-',
      r.torch?.lossRelDiff ?? '-',
    ]),
  ));
  if (recompute) console.log('\nwith activation recomputation: the layers\' forward runs twice a step; the FLOP figures count it once');
  console.log(`\n"of matmul": achieved FLOP/s of the step (6 * matmul weights * tokens + attention + LM head, recomputation not counted) / best 1024^3 matmul ${rate.gflops.toFixed(2)} GFLOP/s;`);
  console.log(`"cpu-time": the same ratio per second of the working threads' CPU time (matmul ${rate.gflopsPerCpuSecond.toFixed(2)} GFLOP per CPU-second), which other processes' load hardly affects.`);
  for (const r of results) {
    console.log(`\n${r.model}: FLOPs per step ${(r.flops.total / 1e9).toFixed(2)} G = layers ${(r.flops.layers / 1e9).toFixed(2)} + LM head ${(r.flops.head / 1e9).toFixed(2)} + attention ${(r.flops.attention / 1e9).toFixed(3)} (LM head recompute ${(r.flops.headRecompute / 1e9).toFixed(2)} G extra, not counted)`);
    if (r.profile) {
      console.log(`profiled step: wall ${r.profile.wallMs.toFixed(1)} ms, kernels ${r.profile.kernelMs.toFixed(1)} ms (matmul ${(100 * r.profile.matmulShare).toFixed(1)}%), outside kernels ${(100 * r.profile.outsideKernelsShare).toFixed(1)}%`);
      console.log(formatTable(['kernel', 'ms', 'calls', 'share'], r.profile.top.map((k) => [k.kernel, k.ms, k.calls, `${(100 * k.share).toFixed(1)}%`])));
    } else {
      console.log('no kernel profile: the adapter has no timestamp queries');
    }
    if (r.torch) console.log(r.torch.note + (r.torch.losses ? `; losses engine [${r.losses.map((x) => x.toFixed(6)).join(', ')}] torch [${r.torch.losses.map((x) => x.toFixed(6)).join(', ')}]` : ''));
  }
  const path = appendResult('model', { ...header, loadAveragesEnd: loadAverages(), matmul: rate, hyper: HYPER, results });
  console.log(`\nappended to ${path}`);
  const failed = results.filter((r) => r.torch?.lossCheck === 'FAILED');
  if (failed.length) {
    throw new Error(`PyTorch loss differs from the engine's by more than ${LOSS_TOLERANCE} relative: ${failed.map((r) => `${r.model} ${r.torch!.lossRelDiff!.toExponential(2)}`).join(', ')}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
