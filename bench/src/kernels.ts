// Kernel benchmark at Qwen3-0.6B shapes: causal GQA attention forward and
// backward (Hq 16, Hkv 8, D 128, B 1) at T = 512 and 2048, RMSNorm forward and
// backward at [2048 x 1024], and the fused LM-head loss (logits, log-softmax,
// target log-prob; backward recomputes the logits) at the real vocabulary
// 151936 with H = 1024 and N = 256 tokens. Attention and the LM head report
// GFLOP/s, RMSNorm GB/s. Every kernel's outputs are checked on sampled rows
// against a float64 CPU computation; a wrong result aborts the run.
//
//   npm run build && node bench/kernels.js [--quick]
import { RowSplitTensor } from '../../src/gpu/row-split.js';
import { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { attentionBackward, attentionForward, type AttentionShape } from '../../src/ops/attention.js';
import { lmHeadBackward, lmHeadForward } from '../../src/ops/lm-head.js';
import { rmsnormBackward, rmsnormForward } from '../../src/ops/rmsnorm.js';
import { describeMachine, randomInts, randomUniform, runHeader, trace } from './common.js';
import { appendResult, benchFlags, formatTable, loadAverages, measure, type Timing } from './report.js';

const USAGE = `usage: node bench/kernels.js [--quick]   (after npm run build)
  Full run: attention at T 512 (one warm-up call, the median of 2 timed) and T 2048 (one timed call
  on the pipelines T 512 compiled), RMSNorm (median of 5), the LM head at N 256 (pipelines compiled
  by a warm-up at N 8, then 2 timed calls: a minute each on lavapipe).
  --quick  attention at T 128, RMSNorm [256 x 1024], LM head N 8; the attention and LM-head figures
           are single first calls (pipeline compilation included): a smoke test, not a measurement`;

/** Largest accepted |got - ref| / (sum of |terms| of ref): f32 accumulation stays far below. */
const TOLERANCE = 1e-4;

interface Result {
  kernel: string;
  shape: string;
  ms: number;
  msMin: number;
  cpuMs: number;
  reps: number;
  /** Useful FLOPs per call (matmul-equivalent), or null for bandwidth-bound kernels. */
  flops: number | null;
  gflops: number | null;
  /** Minimum bytes moved per call (each input read once, each output written once), for bandwidth-bound kernels. */
  bytes: number | null;
  gbps: number | null;
  maxErr: number;
  checked: string;
  note?: string;
}

function result(kernel: string, shape: string, t: Timing, work: { flops?: number; bytes?: number }, maxErr: number, checked: string, note?: string): Result {
  const flops = work.flops ?? null, bytes = work.bytes ?? null;
  return {
    kernel, shape, ms: t.ms, msMin: t.msMin, cpuMs: t.cpuMs, reps: t.reps,
    flops, gflops: flops === null ? null : flops / (t.ms * 1e6),
    bytes, gbps: bytes === null ? null : bytes / (t.ms * 1e6),
    maxErr, checked, ...(note ? { note } : {}),
  };
}

function check(name: string, maxErr: number): void {
  if (!(maxErr < TOLERANCE)) throw new Error(`${name}: result differs from the float64 reference (max relative error ${maxErr})`);
}

/** Tracks the worst |got - ref| / bound over many comparisons. */
class ErrorMeter {
  worst = 0;
  add(got: number, ref: number, bound: number): void {
    const e = Number.isFinite(got) ? Math.abs(got - ref) / (bound + 1e-30) : Infinity;
    if (!(e <= this.worst)) this.worst = e;
  }
}

/** Warm-up calls (pipeline compilation) and timed calls; quick runs time the first call. */
interface Plan {
  warmup: number;
  reps: number;
}

// ---- attention -------------------------------------------------------------------

const Hq = 16, Hkv = 8, D = 128;

async function benchAttention(rt: Runtime, T: number, plan: Plan): Promise<Result[]> {
  const s: AttentionShape = { B: 1, T, Hq, Hkv, D, scale: 1 / Math.sqrt(D) };
  const N = T;
  const q = randomUniform(N * Hq * D, 100 + T), k = randomUniform(N * Hkv * D, 200 + T), v = randomUniform(N * Hkv * D, 300 + T);
  const dO = randomUniform(N * Hq * D, 400 + T);
  const tq = rt.upload(q, [N, Hq * D], 'q'), tk = rt.upload(k, [N, Hkv * D], 'k'), tv = rt.upload(v, [N, Hkv * D], 'v');
  const tdO = rt.upload(dO, [N, Hq * D], 'dOut');
  const out = rt.empty([N, Hq * D], 'f32', 'out'), lse = rt.empty([N, Hq], 'f32', 'lse');
  const dq = rt.empty([N, Hq * D], 'f32', 'dq'), dk = rt.empty([N, Hkv * D], 'f32', 'dk'), dv = rt.empty([N, Hkv * D], 'f32', 'dv');
  const fwd = () => attentionForward(rt, tq, tk, tv, out, lse, s);
  const bwd = () => attentionBackward(rt, tq, tk, tv, out, lse, tdO, dq, dk, dv, s);

  // Timing first (outputs are overwritten by every call), then the check of the last call's outputs.
  trace(`attention T=${T}`);
  const tf = await measure(rt, fwd, plan);
  const tb = await measure(rt, bwd, plan);
  trace(`attention T=${T} timed`);
  const [gOut, gLse, gdq, gdk, gdv] = [await rt.read(out), await rt.read(lse), await rt.read(dq), await rt.read(dk), await rt.read(dv)];
  const group = Hq / Hkv;
  const qRow = (t: number, h: number) => (t * Hq + h) * D;
  const kRow = (t: number, g: number) => (t * Hkv + g) * D;
  const dot = (a: Float32Array, ai: number, b: Float32Array, bi: number) => {
    let x = 0;
    for (let d = 0; d < D; d++) x += a[ai + d]! * b[bi + d]!;
    return x;
  };
  // Forward + dq on sampled query rows, all in float64.
  const fwdErr = new ErrorMeter(), dqErr = new ErrorMeter();
  const queries = [0, 1, T >> 1, T - 2, T - 1].map((t, i) => [t, (i * 5 + 3) % Hq] as const);
  for (const [t, h] of queries) {
    const g = Math.floor(h / group);
    const sc = new Float64Array(t + 1);
    let max = -Infinity;
    for (let j = 0; j <= t; j++) max = Math.max(max, (sc[j] = s.scale * dot(q, qRow(t, h), k, kRow(j, g))));
    let sum = 0;
    for (let j = 0; j <= t; j++) sum += Math.exp(sc[j]! - max);
    const lseRef = max + Math.log(sum);
    fwdErr.add(gLse[t * Hq + h]!, lseRef, 1 + Math.abs(lseRef));
    const p = sc.map((x) => Math.exp(x - lseRef));
    const o = new Float64Array(D), ob = new Float64Array(D);
    for (let j = 0; j <= t; j++) for (let d = 0; d < D; d++) { o[d] += p[j]! * v[kRow(j, g) + d]!; ob[d] += Math.abs(p[j]! * v[kRow(j, g) + d]!); }
    for (let d = 0; d < D; d++) fwdErr.add(gOut[qRow(t, h) + d]!, o[d]!, ob[d]!);
    // dq_t = scale * sum_j p_j (dP_j - delta) k_j, dP_j = dO_t . v_j, delta = dO_t . o_t
    let delta = 0;
    for (let d = 0; d < D; d++) delta += dO[qRow(t, h) + d]! * o[d]!;
    const ref = new Float64Array(D), bound = new Float64Array(D);
    for (let j = 0; j <= t; j++) {
      const ds = p[j]! * (dot(dO, qRow(t, h), v, kRow(j, g)) - delta);
      for (let d = 0; d < D; d++) { ref[d] += s.scale * ds * k[kRow(j, g) + d]!; bound[d] += Math.abs(s.scale * ds * k[kRow(j, g) + d]!); }
    }
    for (let d = 0; d < D; d++) dqErr.add(gdq[qRow(t, h) + d]!, ref[d]!, bound[d]!);
  }
  // dk, dv on sampled key rows: P rebuilt from the engine's lse and delta from its
  // output (both checked above on sampled rows), everything else in float64.
  const dkvErr = new ErrorMeter();
  for (const [j, g] of [[0, 0], [1, 3], [T >> 1, 5], [T - 1, Hkv - 1]] as const) {
    const rk = new Float64Array(D), bk = new Float64Array(D), rv = new Float64Array(D), bv = new Float64Array(D);
    for (let h = g * group; h < (g + 1) * group; h++) {
      for (let t = j; t < T; t++) {
        const pj = Math.exp(s.scale * dot(q, qRow(t, h), k, kRow(j, g)) - gLse[t * Hq + h]!);
        const delta = dot(dO, qRow(t, h), gOut, qRow(t, h));
        const ds = pj * (dot(dO, qRow(t, h), v, kRow(j, g)) - delta);
        for (let d = 0; d < D; d++) {
          const a = pj * dO[qRow(t, h) + d]!, b = s.scale * ds * q[qRow(t, h) + d]!;
          rv[d] += a; bv[d] += Math.abs(a);
          rk[d] += b; bk[d] += Math.abs(b);
        }
      }
    }
    for (let d = 0; d < D; d++) {
      dkvErr.add(gdk[kRow(j, g) + d]!, rk[d]!, bk[d]!);
      dkvErr.add(gdv[kRow(j, g) + d]!, rv[d]!, bv[d]!);
    }
  }
  check(`attention forward T=${T}`, fwdErr.worst);
  check(`attention backward dq T=${T}`, dqErr.worst);
  check(`attention backward dk/dv T=${T}`, dkvErr.worst);

  const fwdFlops = 4 * Hq * D * (T * (T + 1)) / 2; // q k^T and p v over the causal half
  const shape = `B1 T${T} Hq${Hq} Hkv${Hkv} D${D}`;
  for (const t of [tq, tk, tv, tdO, out, lse, dq, dk, dv]) t.dispose();
  return [
    result('attention forward', shape, tf, { flops: fwdFlops }, fwdErr.worst, `out+lse of ${queries.length} rows`),
    result('attention backward', shape, tb, { flops: 2 * fwdFlops }, Math.max(dqErr.worst, dkvErr.worst), `dq of ${queries.length} rows, dk+dv of 4 rows`,
      'FLOPs: dV, dP, dQ, dK = 2x forward (recomputed scores not counted)'),
  ];
}

// ---- RMSNorm -----------------------------------------------------------------------

async function benchRmsnorm(rt: Runtime, rows: number, dim: number, plan: Plan): Promise<Result[]> {
  const eps = 1e-6;
  const x = randomUniform(rows * dim, 500), w = randomUniform(dim, 501).map((a) => 1 + 0.5 * a), dy = randomUniform(rows * dim, 502);
  const tx = rt.upload(x, [rows, dim], 'x'), tw = rt.upload(w, [dim], 'w'), tdy = rt.upload(dy, [rows, dim], 'dy');
  const y = rt.empty([rows, dim], 'f32', 'y'), rstd = rt.empty([rows], 'f32', 'rstd'), dx = rt.empty([rows, dim], 'f32', 'dx');
  const dw = rt.zeros([dim], 'f32', 'dw');
  const fwd = () => rmsnormForward(rt, tx, tw, y, rstd, rows, dim, eps);
  const bwd = () => rmsnormBackward(rt, tx, tw, rstd, tdy, dx, dw, rows, dim);
  const tf = await measure(rt, fwd, plan);
  const tb = await measure(rt, bwd, plan);
  const calls = plan.warmup + plan.reps; // dw accumulated over every backward call
  const [gy, gdx] = [await rt.read(y), await rt.read(dx)];
  const gdw = (await rt.read(dw)).map((x) => x / calls);
  const fErr = new ErrorMeter(), bErr = new ErrorMeter();
  const sampled = [0, 1, rows >> 1, rows - 1];
  const rstdOf = (r: number) => {
    let ss = 0;
    for (let c = 0; c < dim; c++) ss += x[r * dim + c]! ** 2;
    return 1 / Math.sqrt(ss / dim + eps);
  };
  for (const r of sampled) {
    const rs = rstdOf(r);
    let gx = 0, gxb = 0;
    for (let c = 0; c < dim; c++) { gx += w[c]! * dy[r * dim + c]! * x[r * dim + c]!; gxb += Math.abs(w[c]! * dy[r * dim + c]! * x[r * dim + c]!); }
    for (let c = 0; c < dim; c++) {
      const i = r * dim + c;
      fErr.add(gy[i]!, x[i]! * rs * w[c]!, Math.abs(x[i]! * rs * w[c]!));
      // dx = rstd * w * dy - x * rstd^3 * sum(w * dy * x) / dim
      const ref = rs * w[c]! * dy[i]! - (x[i]! * rs ** 3 * gx) / dim;
      bErr.add(gdx[i]!, ref, Math.abs(rs * w[c]! * dy[i]!) + Math.abs(x[i]! * rs ** 3 * gxb) / dim);
    }
  }
  // dw = sum over all rows of dy * x * rstd (every column, all rows).
  const rsAll = new Float64Array(rows);
  for (let r = 0; r < rows; r++) rsAll[r] = rstdOf(r);
  for (let c = 0; c < dim; c++) {
    let ref = 0, bound = 0;
    for (let r = 0; r < rows; r++) { const t = dy[r * dim + c]! * x[r * dim + c]! * rsAll[r]!; ref += t; bound += Math.abs(t); }
    bErr.add(gdw[c]!, ref, bound);
  }
  check(`rmsnorm forward [${rows} x ${dim}]`, fErr.worst);
  check(`rmsnorm backward [${rows} x ${dim}]`, bErr.worst);
  for (const t of [tx, tw, tdy, y, rstd, dx, dw]) t.dispose();
  const act = rows * dim * 4;
  const shape = `[${rows} x ${dim}]`;
  return [
    result('rmsnorm forward', shape, tf, { bytes: 2 * act + dim * 4 + rows * 4 }, fErr.worst, `${sampled.length} rows`, 'bytes: read x, write y (+ w, rstd)'),
    result('rmsnorm backward', shape, tb, { bytes: 3 * act + 2 * dim * 4 + rows * 4 }, bErr.worst, `dx of ${sampled.length} rows, all of dw`,
      'bytes: read x, dy, write dx (+ w, rstd, dw); the dw pass re-reads x and dy'),
  ];
}

// ---- LM head -------------------------------------------------------------------------

const WARM_UP_TOKENS = 8;

/**
 * One forward and backward call on the first WARM_UP_TOKENS rows, so that the timed calls of a
 * run without warm-up calls (one call at N 256 takes a minute on lavapipe) do not include pipeline
 * compilation: the kernels' pipelines depend on V and H, not on N. dW, which backward accumulates
 * into, is zeroed again.
 */
async function warmUpLmHead(
  rt: Runtime, W: RowSplitTensor, dW: RowSplitTensor, h: Tensor, targets: Tensor, dLp: Tensor, lp: Tensor, lse: Tensor, dh: Tensor,
): Promise<void> {
  const n = WARM_UP_TOKENS;
  lmHeadForward(rt, h, W, targets, lp, lse, n);
  lmHeadBackward(rt, h, W, targets, lse, dLp, dh, dW, n);
  for (const part of dW.parts) rt.fillZero(part.tensor);
  await rt.sync();
  trace('lm head: warm-up calls at N=8 done');
}

async function benchLmHead(rt: Runtime, N: number, plan: Plan): Promise<Result[]> {
  const V = 151936, H = 1024;
  const w = randomUniform(V * H, 600, 0.05), h = randomUniform(N * H, 601), dLp = randomUniform(N, 602, 1 / N);
  const targets = randomInts(N, 603, V);
  trace('lm head: random data');
  const W = RowSplitTensor.zeros(rt, V, H, 'W');
  W.write(rt, w);
  const dW = RowSplitTensor.zeros(rt, V, H, 'dW');
  const th = rt.upload(h, [N, H], 'h'), tt = rt.upload(targets, [N], 'targets'), tdLp = rt.upload(dLp, [N], 'dLogprobs');
  const lp = rt.empty([N], 'f32', 'logprobs'), lse = rt.empty([N], 'f32', 'lse'), dh = rt.empty([N, H], 'f32', 'dh');
  const fwd = () => lmHeadForward(rt, th, W, tt, lp, lse, N);
  const bwd = () => lmHeadBackward(rt, th, W, tt, lse, tdLp, dh, dW, N);
  trace('lm head: uploaded');
  if (plan.warmup === 0 && N > WARM_UP_TOKENS) await warmUpLmHead(rt, W, dW, th, tt, tdLp, lp, lse, dh);
  const tf = await measure(rt, fwd, plan);
  const tb = await measure(rt, bwd, plan);
  trace('lm head: timed');
  const calls = plan.warmup + plan.reps; // dW accumulated over every backward call
  const [glp, glse, gdh] = [await rt.read(lp), await rt.read(lse), await rt.read(dh)];
  const err = new ErrorMeter();
  const logitsOf = (n: number) => {
    const out = new Float64Array(V);
    for (let r = 0; r < V; r++) {
      let x = 0;
      const o = r * H, p = n * H;
      for (let c = 0; c < H; c++) x += w[o + c]! * h[p + c]!;
      out[r] = x;
    }
    return out;
  };
  // Sampled tokens: lse, logprob and dh in float64 over the full vocabulary.
  const sampled = N > 16 ? [0, N - 1, N >> 1] : [N - 1]; // quick: one token (each costs 2 V*H float64 passes)
  for (const n of sampled) {
    const z = logitsOf(n);
    let max = -Infinity;
    for (let r = 0; r < V; r++) max = Math.max(max, z[r]!);
    let sum = 0;
    for (let r = 0; r < V; r++) sum += Math.exp(z[r]! - max);
    const lseRef = max + Math.log(sum);
    err.add(glse[n]!, lseRef, 1 + Math.abs(lseRef));
    err.add(glp[n]!, z[targets[n]!]! - lseRef, 1 + Math.abs(lseRef));
    // dh = sum_v dLp * (onehot - softmax)_v * W[v]
    const ref = new Float64Array(H), bound = new Float64Array(H);
    for (let r = 0; r < V; r++) {
      const g = dLp[n]! * ((r === targets[n] ? 1 : 0) - Math.exp(z[r]! - lseRef));
      const o = r * H;
      for (let c = 0; c < H; c++) { ref[c] += g * w[o + c]!; bound[c] += Math.abs(g * w[o + c]!); }
    }
    for (let c = 0; c < H; c++) err.add(gdh[n * H + c]!, ref[c]!, bound[c]!);
  }
  // dW on sampled vocabulary rows (targets of two tokens and two others), softmax
  // rebuilt from the engine's lse (checked above on the sampled tokens).
  const rows = [targets[0]!, targets[N - 1]!, 7, V - 1];
  const gdW = new Map<number, Float32Array>();
  for (const part of dW.parts) {
    const mine = rows.filter((r) => r >= part.rowStart && r < part.rowStart + part.rows);
    if (mine.length === 0) continue;
    const data = await rt.read(part.tensor);
    for (const r of mine) gdW.set(r, data.slice((r - part.rowStart) * H, (r - part.rowStart + 1) * H).map((x) => x / calls));
  }
  for (const r of rows) {
    const ref = new Float64Array(H), bound = new Float64Array(H);
    for (let n = 0; n < N; n++) {
      let z = 0;
      for (let c = 0; c < H; c++) z += w[r * H + c]! * h[n * H + c]!;
      const g = dLp[n]! * ((r === targets[n] ? 1 : 0) - Math.exp(z - glse[n]!));
      for (let c = 0; c < H; c++) { ref[c] += g * h[n * H + c]!; bound[c] += Math.abs(g * h[n * H + c]!); }
    }
    const got = gdW.get(r)!;
    for (let c = 0; c < H; c++) err.add(got[c]!, ref[c]!, bound[c]!);
  }
  check(`lm head N=${N}`, err.worst);
  trace('lm head: checked');
  for (const t of [th, tt, tdLp, lp, lse, dh]) t.dispose();
  W.dispose();
  dW.dispose();
  const mm = 2 * N * V * H;
  const shape = `N${N} V${V} H${H}`;
  const checked = `lse+logprob+dh of ${sampled.length} tokens, dW of ${rows.length} rows`;
  return [
    result('lm-head loss forward', shape, tf, { flops: mm }, err.worst, checked, 'logits matmul + log-softmax + target gather, never storing [N, V]'),
    result('lm-head loss backward', shape, tb, { flops: 3 * mm }, err.worst, checked, 'FLOPs: the 3 matmuls executed (logits recompute, dh, dW)'),
    result('lm-head loss fwd+bwd', shape, { ms: tf.ms + tb.ms, msMin: tf.msMin + tb.msMin, cpuMs: tf.cpuMs + tb.cpuMs, reps: plan.reps }, { flops: 4 * mm }, err.worst, checked,
      'FLOPs: the 4 matmuls executed (8NVH); the useful work is 6NVH'),
  ];
}

async function main(): Promise<void> {
  const quick = benchFlags(USAGE, ['quick']).has('quick');
  const rt = await Runtime.create();
  const header = runHeader(rt, 'kernels', quick);
  console.log(describeMachine(rt));
  const results: Result[] = [];
  const log = (rs: Result[]) => {
    for (const r of rs) {
      results.push(r);
      const rate = r.gflops !== null ? `${r.gflops.toFixed(2)} GFLOP/s` : `${r.gbps!.toFixed(2)} GB/s`;
      console.log(`  ${r.kernel} ${r.shape}: ${r.ms.toFixed(2)} ms, ${rate} (max err ${r.maxErr.toExponential(2)})`);
    }
  };
  const once: Plan = { warmup: 0, reps: 1 };
  // T = 2048 reuses the pipelines T = 512 compiled; the LM head at N = 256 compiles its pipelines in warm-up calls at N = 8 (warmUpLmHead).
  for (const T of quick ? [128] : [512, 2048]) log(await benchAttention(rt, T, quick || T > 1024 ? once : { warmup: 1, reps: 2 }));
  log(await benchRmsnorm(rt, quick ? 256 : 2048, 1024, quick ? { warmup: 1, reps: 2 } : { warmup: 1, reps: 5 }));
  log(await benchLmHead(rt, quick ? 8 : 256, quick ? once : { warmup: 0, reps: 2 }));

  console.log();
  console.log(formatTable(
    ['kernel', 'shape', 'ms', 'min ms', 'cpu ms', 'GFLOP/s', 'GB/s', 'max err', 'checked'],
    results.map((r) => [r.kernel, r.shape, r.ms, r.msMin, r.cpuMs, r.gflops ?? '-', r.gbps ?? '-', r.maxErr, r.checked]),
  ));
  console.log('\nmax err: worst |engine - float64| / (sum of |terms|) over the checked values; the run aborts above 1e-4.');
  const path = appendResult('kernels', { ...header, loadAveragesEnd: loadAverages(), results });
  console.log(`appended to ${path}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
