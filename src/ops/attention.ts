// Causal grouped-query attention, flash style: forward keeps a running max and
// sum per query row (no [T, T] score matrix in memory) and saves the row's
// log-sum-exp; backward rebuilds the probabilities from it.
//
// Two kernel families compute the same thing:
//   'gpu'  kernels/attention_forward.wgsl, attention_backward_{delta,dkdv,dq}.wgsl:
//          K/V (or Q/dOut) tiles in workgroup memory shared by a workgroup of
//          rows, for real GPUs. Backward: delta = rowsum(dOut * out), dK/dV per
//          key block (looping over queries and the query heads of the group, so
//          no atomics), dQ per query block.
//   'cpu'  kernels/attention_cpu_forward.wgsl, attention_cpu_backward_{dq,dkdv}.wgsl:
//          each invocation owns two rows in registers, no workgroup memory or
//          barriers, the rows every lane needs are shared across a subgroup by
//          subgroupShuffle; for CPU adapters (lavapipe), where the 'gpu' kernels
//          run at well under 0.1 GFLOP/s. Needs the 'subgroups' feature.
//          Backward: dQ and delta per query row, then dK/dV per key row.
// 'auto' picks 'cpu' on a CPU adapter when it can run and 'gpu' otherwise; the
// choice can be forced with setAttentionVariant() or PATARM_ATTENTION=cpu|gpu.
import { hasKnownSubgroups } from '../gpu/device.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

export interface AttentionShape { B: number; T: number; Hq: number; Hkv: number; D: number; scale: number }

export type AttentionVariant = 'auto' | 'cpu' | 'gpu';
export type ResolvedAttentionVariant = Exclude<AttentionVariant, 'auto'>;

const VARIANTS: readonly AttentionVariant[] = ['auto', 'cpu', 'gpu'];

function variantFromEnv(): AttentionVariant {
  const v = process.env.PATARM_ATTENTION;
  if (v === undefined || v === '') return 'auto';
  if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`PATARM_ATTENTION=${v}: expected one of ${VARIANTS.join(', ')}`);
  return v as AttentionVariant;
}

let chosen: AttentionVariant = variantFromEnv();

/** Forces a kernel family for every later attention call ('auto' restores the default choice). */
export function setAttentionVariant(v: AttentionVariant): void {
  if (!VARIANTS.includes(v)) throw new Error(`unknown attention variant '${v}'`);
  chosen = v;
}

export function getAttentionVariant(): AttentionVariant {
  return chosen;
}

/** The family that attentionForward/attentionBackward run on this runtime under the current setting. */
export function resolveAttentionVariant(rt: Runtime, v: AttentionVariant = chosen): ResolvedAttentionVariant {
  const subgroups = hasKnownSubgroups(rt.gpu);
  if (v === 'auto') return rt.gpu.isCpuAdapter && subgroups ? 'cpu' : 'gpu';
  if (v === 'cpu' && !subgroups) throw new Error("attention variant 'cpu' needs the 'subgroups' feature and a reported subgroup size, which this adapter lacks");
  return v;
}

/** Invocations per workgroup of the 'cpu' kernels, before rounding up to whole subgroups. */
const CPU_MIN_LANES = 16;
/** Rows (queries, or keys for dK/dV) each invocation of the 'cpu' kernels owns: their ROWS constant. */
const CPU_ROWS_PER_LANE = 2;

/**
 * Workgroup size of the 'cpu' kernels: they share rows across a subgroup by
 * shuffles, so every subgroup must be full; a multiple of the largest
 * subgroup size guarantees that (128 when the adapter does not say).
 */
export function cpuAttentionLanes(rt: Runtime): number {
  const maxSubgroup = rt.gpu.subgroupMaxSize || 128;
  const lanes = Math.max(CPU_MIN_LANES, maxSubgroup);
  if (lanes > rt.gpu.maxWorkgroupInvocations) throw new Error(`attention 'cpu': ${lanes} invocations per workgroup exceed the device limit ${rt.gpu.maxWorkgroupInvocations}`);
  return lanes;
}

/** Query (or key) rows per workgroup of the 'cpu' kernels. */
export function cpuAttentionBlockRows(rt: Runtime): number {
  return CPU_ROWS_PER_LANE * cpuAttentionLanes(rt);
}

/** Workgroup tile sizes of the three tiled kernels (see the kernels' header comments). */
export interface AttentionTiles {
  /** Threads sharing one query (or key) row; each owns at most 8 of its head dims. */
  threadsPerRow: number;
  forwardQueries: number;
  forwardKeys: number;
  dkdvKeys: number;
  dkdvQueries: number;
  dqQueries: number;
  dqKeys: number;
}

const MAX_HEAD_DIM = 256;
const MAX_DIMS_PER_THREAD = 8; // matches the register arrays in the kernels
const MAX_THREADS = 256; // every adapter allows 256 invocations per workgroup
const MAX_ROWS = 32; // query (or key) rows per workgroup
const TILE_TARGET = 32; // keys (or queries) per inner tile, before fitting memory

// Workgroup-memory floats of each kernel for (rows, other) tiles, from its
// var<workgroup> declarations; tile rows are padded to D + 1 floats.
const workgroupFloats = {
  forward: (D: number, queries: number, keys: number) => (queries + keys) * (D + 1) + 2 * queries * keys,
  dkdv: (D: number, keys: number, queries: number) => 2 * (keys + queries) * (D + 1) + 2 * queries + 2 * keys * queries,
  dq: (D: number, queries: number, keys: number) => 2 * (queries + keys) * (D + 1) + 2 * queries + queries * keys,
};

/**
 * Tile sizes for head dim D that fit `workgroupBytes` of workgroup memory
 * (default: the device's limit). Smaller budgets give smaller, slower tiles,
 * never wrong ones; tests pass small budgets to exercise many tiles.
 */
export function attentionTiles(rt: Runtime, D: number, workgroupBytes = rt.device.limits.maxComputeWorkgroupStorageSize): AttentionTiles {
  if (!Number.isInteger(D) || D < 1 || D > MAX_HEAD_DIM) throw new Error(`attention: head dim ${D} is not in 1..${MAX_HEAD_DIM}`);
  const threadsPerRow = nextPow2(Math.ceil(D / MAX_DIMS_PER_THREAD));
  const rows = Math.min(MAX_ROWS, Math.max(1, Math.floor(Math.min(MAX_THREADS, rt.gpu.maxWorkgroupInvocations) / threadsPerRow)));
  const budget = workgroupBytes / 4;
  const [forwardQueries, forwardKeys] = fitTiles(rows, TILE_TARGET, (r, o) => workgroupFloats.forward(D, r, o), budget);
  const [dkdvKeys, dkdvQueries] = fitTiles(rows, TILE_TARGET, (r, o) => workgroupFloats.dkdv(D, r, o), budget);
  const [dqQueries, dqKeys] = fitTiles(rows, TILE_TARGET, (r, o) => workgroupFloats.dq(D, r, o), budget);
  return { threadsPerRow, forwardQueries, forwardKeys, dkdvKeys, dkdvQueries, dqQueries, dqKeys };
}

/** Rejects hand-made tiles the kernels cannot run with on this device. */
function checkTiles(rt: Runtime, D: number, t: AttentionTiles): void {
  if (t.threadsPerRow * MAX_DIMS_PER_THREAD < D) throw new Error(`attention: ${t.threadsPerRow} threads per row cannot hold head dim ${D}`);
  const maxFloats = rt.device.limits.maxComputeWorkgroupStorageSize / 4;
  const kernels: [string, number, number][] = [
    ['forward', t.forwardQueries, workgroupFloats.forward(D, t.forwardQueries, t.forwardKeys)],
    ['dkdv', t.dkdvKeys, workgroupFloats.dkdv(D, t.dkdvKeys, t.dkdvQueries)],
    ['dq', t.dqQueries, workgroupFloats.dq(D, t.dqQueries, t.dqKeys)],
  ];
  for (const [name, rows, floats] of kernels) {
    if (rows * t.threadsPerRow > rt.gpu.maxWorkgroupInvocations) throw new Error(`attention ${name}: ${rows} x ${t.threadsPerRow} threads exceed the workgroup limit`);
    if (floats > maxFloats) throw new Error(`attention ${name}: tiles need ${floats * 4} bytes of workgroup memory, more than ${maxFloats * 4}`);
  }
}

/** Halves the larger of (rows, other) until the kernel's workgroup memory fits. */
function fitTiles(rows: number, other: number, floats: (r: number, o: number) => number, budget: number): [number, number] {
  let r = rows, o = other;
  while (floats(r, o) > budget) {
    if (o >= r && o > 1) o /= 2;
    else if (r > 1) r /= 2;
    else throw new Error(`attention: even 1x1 tiles need ${floats(1, 1) * 4} bytes of workgroup memory, more than ${budget * 4}`);
  }
  return [r, o];
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function checkShape(s: AttentionShape, tensors: Record<string, [Tensor, number]>): void {
  const { B, T, Hq, Hkv, D } = s;
  for (const [name, n] of Object.entries({ B, T, Hq, Hkv, D })) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`attention: ${name} = ${n} must be a positive integer`);
  }
  if (D > MAX_HEAD_DIM) throw new Error(`attention: head dim ${D} exceeds ${MAX_HEAD_DIM}`);
  if (Hq % Hkv !== 0) throw new Error(`attention: Hq = ${Hq} is not a multiple of Hkv = ${Hkv}`);
  if (!Number.isFinite(s.scale)) throw new Error(`attention: scale ${s.scale} is not finite`);
  for (const [name, [t, size]] of Object.entries(tensors)) {
    if (t.size !== size) throw new Error(`attention: ${name} '${t.label}' has ${t.size} elements, expected ${size} for [${B}*${T}, ...]`);
  }
}

function tileConstants(D: number, tpr: number, rows: number, other: [string, number]): Record<string, number> {
  return { HEAD_DIM: D, THREADS_PER_ROW: tpr, ROWS: rows, [other[0]]: other[1] };
}

/**
 * A 'cpu' kernel over the rows of `heads` heads: one block of rows of one head
 * and one sequence per workgroup, B * heads * ceil(T / block) workgroups on a
 * 2-D grid (the kernels skip the grid's padding).
 */
function dispatchCpu(rt: Runtime, file: string, bindings: Record<string, Tensor>, s: AttentionShape, heads: number): void {
  const groups = rt.grid(Math.ceil(s.T / cpuAttentionBlockRows(rt)) * s.B * heads);
  const kernel = rt.kernel(file, 'main', { WG: cpuAttentionLanes(rt) });
  rt.dispatch(kernel, bindings, { T: s.T, B: s.B, Hq: s.Hq, Hkv: s.Hkv, D: s.D, gridX: groups[0], scale: s.scale }, groups);
}

/**
 * q [B*T, Hq, D], k and v [B*T, Hkv, D] (token n = b*T + t); writes out [B*T, Hq, D]
 * and lse [B*T, Hq] (log-sum-exp of the scaled scores of each query row, for backward).
 * `tiles` only shape the 'gpu' kernels.
 */
export function attentionForward(
  rt: Runtime, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, s: AttentionShape, tiles?: AttentionTiles,
): void {
  const { B, T, Hq, Hkv, D } = s;
  const N = B * T;
  checkShape(s, { q: [q, N * Hq * D], k: [k, N * Hkv * D], v: [v, N * Hkv * D], out: [out, N * Hq * D], lse: [lse, N * Hq] });
  if (resolveAttentionVariant(rt) === 'cpu') {
    dispatchCpu(rt, 'attention_cpu_forward', { q, k, v, out, lse }, s, Hq);
    return;
  }
  const t = tiles ?? attentionTiles(rt, D);
  checkTiles(rt, D, t);
  const kernel = rt.kernel('attention_forward', 'main', tileConstants(D, t.threadsPerRow, t.forwardQueries, ['KEYS', t.forwardKeys]));
  rt.dispatch(kernel, { q, k, v, out, lse }, { T, Hq, Hkv, scale: s.scale }, [Math.ceil(T / t.forwardQueries), Hq, B]);
}

/**
 * Given dOut [B*T, Hq, D], writes (overwrites) dq [B*T, Hq, D], dk and dv [B*T, Hkv, D].
 * `out` and `lse` are the forward's outputs for the same q, k, v. dk and dv must
 * be distinct buffers (one dispatch writes both). `tiles` only shape the 'gpu' kernels.
 */
export function attentionBackward(
  rt: Runtime, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, dOut: Tensor, dq: Tensor, dk: Tensor, dv: Tensor,
  s: AttentionShape, tiles?: AttentionTiles,
): void {
  const { B, T, Hq, Hkv, D } = s;
  const N = B * T;
  const qSize = N * Hq * D, kvSize = N * Hkv * D;
  checkShape(s, {
    q: [q, qSize], k: [k, kvSize], v: [v, kvSize], out: [out, qSize], lse: [lse, N * Hq],
    dOut: [dOut, qSize], dq: [dq, qSize], dk: [dk, kvSize], dv: [dv, kvSize],
  });
  const delta = rt.empty([N, Hq], 'f32', 'attention.delta');
  if (resolveAttentionVariant(rt) === 'cpu') {
    // dQ first: it computes delta = rowsum(dOut * out), which dK/dV read.
    dispatchCpu(rt, 'attention_cpu_backward_dq', { q, k, v, out, dOut, lse, delta, dq }, s, Hq);
    dispatchCpu(rt, 'attention_cpu_backward_dkdv', { q, k, v, dOut, lse, delta, dk, dv }, s, Hkv);
    delta.dispose();
    return;
  }
  const t = tiles ?? attentionTiles(rt, D);
  checkTiles(rt, D, t);
  const params = { T, Hq, Hkv, scale: s.scale };

  const rows = N * Hq;
  const groups = rt.grid(Math.ceil(rows / 256));
  rt.dispatch(rt.kernel('attention_backward_delta'), { out, dOut, delta }, { rows, rowStride: groups[0] * 256, D }, groups);

  const tpr = t.threadsPerRow;
  const dkdv = rt.kernel('attention_backward_dkdv', 'main', tileConstants(D, tpr, t.dkdvKeys, ['QUERIES', t.dkdvQueries]));
  rt.dispatch(dkdv, { q, k, v, dOut, lse, delta, dk, dv }, params, [Math.ceil(T / t.dkdvKeys), Hkv, B]);

  const dqKernel = rt.kernel('attention_backward_dq', 'main', tileConstants(D, tpr, t.dqQueries, ['KEYS', t.dqKeys]));
  rt.dispatch(dqKernel, { q, k, v, dOut, lse, delta, dq }, params, [Math.ceil(T / t.dqQueries), Hq, B]);
  delta.dispose();
}
