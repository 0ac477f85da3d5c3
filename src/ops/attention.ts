// Causal grouped-query attention, flash style: forward keeps a running max and
// sum per query row (no [T, T] score matrix in memory) and saves the row's
// log-sum-exp; backward rebuilds the probabilities from it, tile by tile, in
// three kernels: delta = rowsum(dOut * out), dK/dV per key block (looping over
// queries and the query heads of the group, so no atomics), dQ per query block.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

export interface AttentionShape { B: number; T: number; Hq: number; Hkv: number; D: number; scale: number }

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
 * q [B*T, Hq, D], k and v [B*T, Hkv, D] (token n = b*T + t); writes out [B*T, Hq, D]
 * and lse [B*T, Hq] (log-sum-exp of the scaled scores of each query row, for backward).
 */
export function attentionForward(
  rt: Runtime, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, s: AttentionShape, tiles: AttentionTiles = attentionTiles(rt, s.D),
): void {
  const { B, T, Hq, Hkv, D } = s;
  const N = B * T;
  checkShape(s, { q: [q, N * Hq * D], k: [k, N * Hkv * D], v: [v, N * Hkv * D], out: [out, N * Hq * D], lse: [lse, N * Hq] });
  checkTiles(rt, D, tiles);
  const kernel = rt.kernel('attention_forward', 'main', tileConstants(D, tiles.threadsPerRow, tiles.forwardQueries, ['KEYS', tiles.forwardKeys]));
  rt.dispatch(kernel, { q, k, v, out, lse }, { T, Hq, Hkv, scale: s.scale }, [Math.ceil(T / tiles.forwardQueries), Hq, B]);
}

/**
 * Given dOut [B*T, Hq, D], writes (overwrites) dq [B*T, Hq, D], dk and dv [B*T, Hkv, D].
 * `out` and `lse` are the forward's outputs for the same q, k, v. dk and dv must
 * be distinct buffers (one dispatch writes both).
 */
export function attentionBackward(
  rt: Runtime, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, dOut: Tensor, dq: Tensor, dk: Tensor, dv: Tensor,
  s: AttentionShape, tiles: AttentionTiles = attentionTiles(rt, s.D),
): void {
  const { B, T, Hq, Hkv, D } = s;
  const N = B * T;
  const qSize = N * Hq * D, kvSize = N * Hkv * D;
  checkShape(s, {
    q: [q, qSize], k: [k, kvSize], v: [v, kvSize], out: [out, qSize], lse: [lse, N * Hq],
    dOut: [dOut, qSize], dq: [dq, qSize], dk: [dk, kvSize], dv: [dv, kvSize],
  });
  checkTiles(rt, D, tiles);
  const params = { T, Hq, Hkv, scale: s.scale };

  const rows = N * Hq;
  const delta = rt.empty([N, Hq], 'f32', 'attention.delta');
  const groups = rt.grid(Math.ceil(rows / 256));
  rt.dispatch(rt.kernel('attention_backward_delta'), { out, dOut, delta }, { rows, rowStride: groups[0] * 256, D }, groups);

  const tpr = tiles.threadsPerRow;
  const dkdv = rt.kernel('attention_backward_dkdv', 'main', tileConstants(D, tpr, tiles.dkdvKeys, ['QUERIES', tiles.dkdvQueries]));
  rt.dispatch(dkdv, { q, k, v, dOut, lse, delta, dk, dv }, params, [Math.ceil(T / tiles.dkdvKeys), Hkv, B]);

  const dqKernel = rt.kernel('attention_backward_dq', 'main', tileConstants(D, tpr, tiles.dqQueries, ['KEYS', tiles.dqKeys]));
  rt.dispatch(dqKernel, { q, k, v, dOut, lse, delta, dq }, params, [Math.ceil(T / tiles.dqQueries), Hq, B]);
  delta.dispose();
}
