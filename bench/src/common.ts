// Helpers shared by the model-level benchmarks (kernels, model, decode, grpo):
// the benchmark model configs, seeded random data, the engine's best 1024^3
// matmul rate, FLOP counts of a training step, the profiler's top kernels, the
// header of every results record and the PyTorch side-by-side harness
// (bench/torch_reference.py, run as a child process when torch is installed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../../src/gpu/runtime.js';
import { parseQwen3Config, writeHfModelFolder, type Qwen3Config } from '../../src/io/hf-model.js';
import { weightSources, type ParamSet } from '../../src/model/weights.js';
import { matmul, resolveMatmulVariant, type MatmulKind } from '../../src/ops/matmul.js';
import { buildState, gitCommit, loadAverages, machineInfo, measure, packageRoot } from './report.js';

// ---- model configs -----------------------------------------------------------

export interface ModelSpec {
  name: string;
  cfg: Qwen3Config;
}

/**
 * The test fixture's shapes (test/fixtures/qwen3-tiny: hidden 64, 2 layers, 4/2 heads of 16,
 * intermediate 96, vocab 384, tied) with max_position_embeddings raised from 64 to 256 so that
 * 4 x 128 training batches and judge prompts (about 100 tokens with the tiny tokenizer) fit.
 * The context length only sizes the RoPE table; it changes no weight.
 */
export function tinySpec(): ModelSpec {
  const path = join(packageRoot(), 'test', 'fixtures', 'qwen3-tiny', 'model', 'config.json');
  const cfg = parseQwen3Config(JSON.parse(readFileSync(path, 'utf8')), path);
  return { name: 'tiny', cfg: { ...cfg, maxPositionEmbeddings: 256 } };
}

/** hidden 256, 4 layers, 4 heads / 2 KV heads of 64, intermediate 768, the real Qwen3 vocabulary, tied. */
export function smallSpec(): ModelSpec {
  return {
    name: 'small',
    cfg: {
      vocabSize: 151936, hiddenSize: 256, intermediateSize: 768, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 64,
      rmsNormEps: 1e-6, ropeTheta: 1e6, maxPositionEmbeddings: 256, tieWordEmbeddings: true, torchDtype: 'float32',
    },
  };
}

/** models/tiny-judge.json: the default job's judge (hidden 64, 3 layers, vocab 384, context 256). */
export function tinyJudgeSpec(): ModelSpec {
  const path = join(packageRoot(), 'models', 'tiny-judge.json');
  return { name: 'tiny-judge', cfg: parseQwen3Config(JSON.parse(readFileSync(path, 'utf8')), path) };
}

/** Weights of the linear layers of one decoder layer (q, k, v, o, gate, up, down). */
export function layerMatmulParams(cfg: Qwen3Config): number {
  const H = cfg.hiddenSize, q = cfg.numHeads * cfg.headDim, kv = cfg.numKvHeads * cfg.headDim, I = cfg.intermediateSize;
  return H * q + 2 * H * kv + q * H + 3 * H * I;
}

export interface StepFlops {
  /** 6 * (layer matmul weights) * tokens. */
  layers: number;
  /** 6 * V * H * tokens (LM head forward, dh and dW). */
  head: number;
  /** Causal attention scores and values: forward 4 * B * Hq * D * T(T+1)/2 per layer, backward twice that. */
  attention: number;
  total: number;
  /** Executed but not counted: the LM head recomputes its logits in backward (2 * V * H * tokens). */
  headRecompute: number;
}

/** Useful FLOPs of one forward + backward over B x T tokens (the standard count; recomputation excluded). */
export function trainStepFlops(cfg: Qwen3Config, B: number, T: number): StepFlops {
  const N = B * T;
  const layers = 6 * cfg.numLayers * layerMatmulParams(cfg) * N;
  const head = 6 * cfg.vocabSize * cfg.hiddenSize * N;
  const attnForward = 4 * B * cfg.numHeads * cfg.headDim * (T * (T + 1)) / 2;
  const attention = 3 * attnForward * cfg.numLayers;
  return { layers, head, attention, total: layers + head + attention, headRecompute: 2 * cfg.vocabSize * cfg.hiddenSize * N };
}

// ---- random data -------------------------------------------------------------

/** Uniform in [-scale, scale), from a 32-bit LCG: the same on every machine. */
export function randomUniform(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2147483648 - 1) * scale;
  }
  return out;
}

/** Integers in [0, max). */
export function randomInts(n: number, seed: number, max: number): Int32Array {
  const out = new Int32Array(n);
  let s = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.floor((s / 4294967296) * max);
  }
  return out;
}

// ---- records -----------------------------------------------------------------

/** The fields every results line starts with; warns when dist/ is older than the sources. */
export function runHeader(rt: Runtime, bench: string, quick: boolean): Record<string, unknown> {
  const build = buildState();
  if (!build.upToDate) console.warn(`warning: dist/ is older than ${build.newerSources.join(', ')}: this run measures the old build (npm run build)`);
  return { bench, date: new Date().toISOString(), quick, git: gitCommit(), build, machine: machineInfo(rt), loadAverages: loadAverages() };
}

export function describeMachine(rt: Runtime): string {
  const m = machineInfo(rt);
  return `adapter: ${m.adapter}\n${m.cpuModel} x ${m.cpuCount}; load averages ${loadAverages().join(' ')} (1/5/15 min)`;
}

// ---- the engine's matmul rate --------------------------------------------------

export interface MatmulRate {
  variant: string;
  /** Best of nt / nn / tn at 1024^3 (wall time). */
  gflops: number;
  /**
   * Best of the three per second of the working threads' CPU time (`workCpuMs`). On a CPU
   * adapter the driver's threads run in this process, so this rate hardly depends on how busy
   * other processes keep the cores (wall-time rates do).
   */
  gflopsPerCpuSecond: number;
  kinds: { kind: MatmulKind; ms: number; cpuMs: number; gflops: number; maxErr: number }[];
}

/**
 * The engine's 1024^3 matmul rate with the default variant, each kind checked
 * on sampled outputs against a float64 reference (relative to sum |a*b|).
 */
export async function bestMatmulRate(rt: Runtime, reps: number): Promise<MatmulRate> {
  const n = 1024;
  const a = randomUniform(n * n, 11), b = randomUniform(n * n, 12);
  const ta = rt.upload(a, [n * n], 'A'), tb = rt.upload(b, [n * n], 'B');
  const tc = rt.empty([n * n], 'f32', 'C');
  const kinds: MatmulRate['kinds'] = [];
  for (const kind of ['nt', 'nn', 'tn'] as const) {
    const timing = await measure(rt, () => matmul(rt, kind, n, n, n, { t: ta, ld: n }, { t: tb, ld: n }, { t: tc, ld: n }), { warmup: 1, reps });
    const c = await rt.read(tc);
    let maxErr = 0;
    for (let s = 0; s < 16; s++) {
      const i = (s * 7919 + 13) % n, j = (s * 104729 + 7) % n;
      let ref = 0, bound = 0;
      for (let k = 0; k < n; k++) {
        const av = kind === 'tn' ? a[k * n + i]! : a[i * n + k]!;
        const bv = kind === 'nt' ? b[j * n + k]! : b[k * n + j]!;
        ref += av * bv;
        bound += Math.abs(av * bv);
      }
      const got = c[i * n + j]!;
      maxErr = Math.max(maxErr, Number.isFinite(got) ? Math.abs(got - ref) / bound : Infinity);
    }
    if (!(maxErr < 1e-4)) throw new Error(`matmul ${kind} 1024^3 differs from the float64 reference (max relative error ${maxErr})`);
    kinds.push({ kind, ms: timing.ms, cpuMs: timing.cpuMs, gflops: (2 * n * n * n) / (timing.ms * 1e6), maxErr });
  }
  ta.dispose(); tb.dispose(); tc.dispose();
  return {
    variant: resolveMatmulVariant(rt), gflops: Math.max(...kinds.map((k) => k.gflops)),
    gflopsPerCpuSecond: Math.max(...kinds.map((k) => (2 * n * n * n) / (k.cpuMs * 1e6))), kinds,
  };
}

// ---- profiler ------------------------------------------------------------------

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
  /** Share of all profiled kernel time. */
  share: number;
}

/** Kernel-time table from per-kernel totals (e.g. a difference of two profiles), largest first. */
export function kernelTable(totals: ReadonlyMap<string, { ms: number; calls: number }>, top = Infinity): KernelTime[] {
  const all = [...totals.entries()].map(([kernel, t]) => ({ kernel, ms: t.ms, calls: t.calls }));
  const sum = all.reduce((s, k) => s + k.ms, 0);
  return all.sort((a, b) => b.ms - a.ms).slice(0, top).map((k) => ({ ...k, share: sum > 0 ? k.ms / sum : 0 }));
}

/** The profiler's per-kernel totals so far (call after `await rt.sync()`). */
export function profileTotals(rt: Runtime): Map<string, { ms: number; calls: number }> {
  return new Map(rt.profiler.table().map((r) => [r.kernel, { ms: r.ms, calls: r.count }]));
}

export function diffTotals(
  a: ReadonlyMap<string, { ms: number; calls: number }>, b: ReadonlyMap<string, { ms: number; calls: number }>, scale = 1,
): Map<string, { ms: number; calls: number }> {
  const out = new Map<string, { ms: number; calls: number }>();
  for (const [k, v] of a) {
    const w = b.get(k) ?? { ms: 0, calls: 0 };
    const ms = (v.ms - w.ms) * scale, calls = (v.calls - w.calls) * scale;
    if (calls > 0) out.set(k, { ms: Math.max(0, ms), calls }); // equal call counts: noise of kernels outside the difference
  }
  return out;
}

export function sumMs(totals: ReadonlyMap<string, { ms: number }>): number {
  let s = 0;
  for (const v of totals.values()) s += v.ms;
  return s;
}

// ---- PyTorch side by side ------------------------------------------------------

const PYTHON = '/usr/bin/python3';
let torchCheck: { ok: boolean; note: string } | null = null;

/** Whether `/usr/bin/python3 -c 'import torch'` works (checked once). */
export function torchAvailable(): { ok: boolean; note: string } {
  if (torchCheck) return torchCheck;
  // run-all.js checks once and passes the answer down.
  const known = process.env.BENCH_TORCH_CHECK;
  if (known) return (torchCheck = JSON.parse(known) as { ok: boolean; note: string });
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  torchCheck = r.status === 0
    ? { ok: true, note: `PyTorch ${r.stdout.trim()}` }
    : { ok: false, note: `PyTorch comparison skipped: ${PYTHON} -c 'import torch' failed (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()})` };
  return torchCheck;
}

/**
 * The BLAS the PyTorch reference ran on (torch_reference.py reads its loaded libraries), with a
 * warning on stderr for netlib's reference BLAS, which makes PyTorch several times slower than
 * with OpenBLAS and so the engine look faster (Debian's alternatives pick one or the other).
 */
export function torchBlas(out: Record<string, unknown>): string {
  const blas = typeof out.blas === 'string' ? out.blas : 'unknown';
  if (blas === 'reference') {
    console.warn('warning: PyTorch ran on the reference (netlib) BLAS, several times slower than OpenBLAS; engine/torch ratios flatter the engine (apt install libopenblas0-pthread)');
  }
  return blas;
}

/** Runs bench/torch_reference.py with 2 threads and returns the JSON it prints last. */
export function runTorchReference(args: readonly string[], timeoutMs = 900_000): Record<string, unknown> {
  const script = join(packageRoot(), 'bench', 'torch_reference.py');
  const env = { ...process.env, OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' };
  const r = spawnSync(PYTHON, [script, '--threads', '2', ...args], { encoding: 'utf8', timeout: timeoutMs, env, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    throw new Error(`torch_reference.py ${args[0]} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stderr ?? '').slice(-3000)}`);
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true }); // also after a failed run
});

/** A fresh temporary folder, removed by `removeDir` or at the latest when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), `patarm-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Writes the model's current weights as a Hugging Face folder (f32 safetensors) for the PyTorch reference. */
export async function exportModel(rt: Runtime, cfg: Qwen3Config, params: ParamSet, dir: string): Promise<void> {
  await writeHfModelFolder(dir, cfg, weightSources(rt, params), { dtype: 'F32' });
}

/** Relative difference |a - b| / max(|b|, tiny). */
export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

export function fmtRatio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`;
}

const traceStart = performance.now();
/** With BENCH_TRACE=1, prints the seconds since start and a phase name to stderr (where does a benchmark's time go). */
export function trace(what: string): void {
  if (process.env.BENCH_TRACE) process.stderr.write(`[${((performance.now() - traceStart) / 1000).toFixed(2)} s] ${what}\n`);
}
