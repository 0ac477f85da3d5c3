// Matmul benchmark: nt / nn / tn per kernel variant at 1024^3 and at the
// Qwen3-0.6B projection shapes with 512 tokens, each kind in its training role
// (nt: y = x W^T, nn: dx = dy W, tn: dW = dy^T x). Every measurement is
// checked against a float64 CPU reference on sampled outputs; a wrong result
// aborts the run.
//
//   npm run build && node bench/matmul.js [--quick] [--all-variants]
import { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { hasKnownSubgroups } from '../../src/gpu/device.js';
import { matmul, resolveMatmulVariant, setMatmulVariant, vec4Aligned, type MatmulKind, type MatRef, type ResolvedMatmulVariant } from '../../src/ops/matmul.js';
import { runHeader } from './common.js';
import { appendResult, benchFlags, formatTable, loadAverages, machineInfo, measure } from './report.js';

const USAGE = `usage: node bench/matmul.js [--quick] [--all-variants]   (after npm run build)
  --quick         1024^3 for every variant, two projection shapes for the default variant only,
                  2 repetitions (well under a minute on lavapipe)
  --all-variants  also time the naive kernel on the projection shapes (slow)`;

interface Shape {
  name: string;
  /** Forward linear layer y[T, out] = x[T, in] @ W[out, in]^T, or a cube. */
  tokens: number;
  out: number;
  in: number;
}

const TOKENS = 512;
const CUBE: Shape = { name: '1024^3', tokens: 1024, out: 1024, in: 1024 };
const QWEN3_06B: Shape[] = [
  { name: 'q_proj', tokens: TOKENS, out: 2048, in: 1024 },
  { name: 'k/v_proj', tokens: TOKENS, out: 1024, in: 1024 },
  { name: 'o_proj', tokens: TOKENS, out: 1024, in: 2048 },
  { name: 'gate/up', tokens: TOKENS, out: 3072, in: 1024 },
  { name: 'down', tokens: TOKENS, out: 1024, in: 3072 },
  { name: 'lm_head[8192]', tokens: TOKENS, out: 8192, in: 1024 },
];

/** M, N, K of each kind in its role for a linear layer. */
function dims(kind: MatmulKind, s: Shape): [number, number, number] {
  if (kind === 'nt') return [s.tokens, s.out, s.in]; // y = x @ W^T
  if (kind === 'nn') return [s.tokens, s.in, s.out]; // dx = dy @ W
  return [s.out, s.in, s.tokens]; // dW = dy^T @ x
}

interface Result {
  shape: string;
  kind: MatmulKind;
  variant: ResolvedMatmulVariant;
  path: string;
  M: number;
  N: number;
  K: number;
  ms: number;
  msMin: number;
  cpuMs: number;
  gflops: number;
  reps: number;
  maxErr: number;
}

function randomUniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/**
 * Largest |got - ref| / sum_k |a_k b_k| over sampled outputs, with the
 * reference in float64. f32 accumulation stays far below 1e-4 of that bound.
 */
function sampledError(kind: MatmulKind, M: number, N: number, K: number, a: Float32Array, b: Float32Array, c: Float32Array, samples = 24): number {
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    const m = (s * 7919 + 13) % M, n = (s * 104729 + 7) % N;
    let ref = 0, bound = 0;
    for (let k = 0; k < K; k++) {
      const av = kind === 'tn' ? a[k * M + m]! : a[m * K + k]!;
      const bv = kind === 'nt' ? b[n * K + k]! : b[k * N + n]!;
      ref += av * bv;
      bound += Math.abs(av * bv);
    }
    const got = c[m * N + n]!;
    const err = Number.isFinite(got) ? Math.abs(got - ref) / (bound + 1e-30) : Infinity;
    worst = Math.max(worst, err);
  }
  return worst;
}

async function benchOne(rt: Runtime, shape: Shape, kind: MatmulKind, variant: ResolvedMatmulVariant, reps: number): Promise<Result> {
  const [M, N, K] = dims(kind, shape);
  const a = randomUniform(M * K, 1 + M + K), b = randomUniform(N * K, 2 + N + K);
  const ta = rt.upload(a, [a.length], 'A'), tb = rt.upload(b, [b.length], 'B');
  const tc: Tensor = rt.empty([M * N], 'f32', 'C');
  rt.fillZero(tc);
  const A: MatRef = { t: ta, ld: kind === 'tn' ? M : K };
  const B: MatRef = { t: tb, ld: kind === 'nt' ? K : N };
  setMatmulVariant(variant);
  const timing = await measure(rt, () => matmul(rt, kind, M, N, K, A, B, { t: tc, ld: N }), { warmup: 1, reps });
  const maxErr = sampledError(kind, M, N, K, a, b, await rt.read(tc));
  ta.dispose(); tb.dispose(); tc.dispose();
  const path = variant === 'cpu' ? (vec4Aligned(kind, M, N, K, A, B) ? 'vec4' : 'scalar') : '-';
  const result: Result = {
    shape: shape.name, kind, variant, path, M, N, K,
    ms: timing.ms, msMin: timing.msMin, cpuMs: timing.cpuMs,
    gflops: (2 * M * N * K) / (timing.ms * 1e6),
    reps, maxErr,
  };
  if (!(maxErr < 1e-4)) {
    throw new Error(`${shape.name} ${kind} ${variant}: result differs from the float64 reference (max relative error ${maxErr})`);
  }
  return result;
}

async function main(): Promise<void> {
  const flags = benchFlags(USAGE, ['quick', 'all-variants']);
  const quick = flags.has('quick');
  const allVariants = flags.has('all-variants');
  const rt = await Runtime.create();
  const machine = machineInfo(rt);
  const header = runHeader(rt, 'matmul', quick); // date, git commit, machine, load averages at the start
  const auto = resolveMatmulVariant(rt, 'auto');
  const available: ResolvedMatmulVariant[] = hasKnownSubgroups(rt.gpu) ? ['cpu', 'gpu', 'naive'] : ['gpu', 'naive'];
  const reps = quick ? 2 : 5;
  const plan: [Shape, ResolvedMatmulVariant[]][] = [[CUBE, available]];
  const projectionVariants = allVariants ? available : available.filter((v) => v !== 'naive');
  for (const s of quick ? [QWEN3_06B[0]!, QWEN3_06B[5]!] : QWEN3_06B) plan.push([s, quick ? [auto] : projectionVariants]);

  console.log(`adapter: ${machine.adapter} (default matmul variant: ${auto}); ${machine.cpuModel} x ${machine.cpuCount}; load ${machine.loadAverage}`);
  const results: Result[] = [];
  for (const [shape, variants] of plan) {
    for (const kind of ['nt', 'nn', 'tn'] as const) {
      for (const variant of variants) {
        const r = await benchOne(rt, shape, kind, variant, reps);
        results.push(r);
        console.log(`  ${r.shape} ${r.kind} ${r.variant}: ${r.ms.toFixed(1)} ms, ${r.gflops.toFixed(2)} GFLOP/s`);
      }
    }
  }
  setMatmulVariant('auto');

  console.log();
  console.log(formatTable(
    ['shape', 'kind', 'variant', 'path', 'M', 'N', 'K', 'ms', 'min ms', 'cpu ms', 'GFLOP/s', 'max err'],
    results.map((r) => [r.shape, r.kind, r.variant, r.path, r.M, r.N, r.K, r.ms, r.msMin, r.cpuMs, r.gflops, r.maxErr]),
  ));
  const path = appendResult('matmul', { ...header, loadAveragesEnd: loadAverages(), defaultVariant: auto, results });
  console.log(`\nappended to ${path}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
