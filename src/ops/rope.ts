// Rotary position embedding (Qwen3, "rotate half"), forward and backward, and
// the cos/sin table they read.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

/**
 * cos/sin of angle = f32(pos * inv_freq[i]) for i < D/2, as [maxPositions, D]
 * rows: cos in [0, D/2), sin in [D/2, D). Computed on the CPU with the float32
 * rounding steps of PyTorch/Hugging Face (inv_freq = 1 / theta ** (arange(0, D, 2) / D)
 * in f32, angle = f32(pos * inv_freq)), then cos/sin of that f32 angle rounded
 * once to f32. On the GPU, WGSL sin/cos of arguments up to 40960 are
 * implementation-defined, and the f32 angle itself differs from the exact one
 * by up to ~2e-3 at such positions, so matching the reference needs these steps.
 */
export function ropeTableData(headDim: number, theta: number, maxPositions: number): Float32Array {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) throw new Error(`rope: head_dim ${headDim} must be a positive even integer`);
  if (!Number.isInteger(maxPositions) || maxPositions < 1) throw new Error(`rope: maxPositions ${maxPositions} must be a positive integer`);
  if (!(theta > 1)) throw new Error(`rope: theta ${theta} must be > 1`);
  const half = headDim / 2;
  const f = Math.fround;
  const invFreq = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = f(f(2 * i) / headDim); // arange(0, D, 2).float() / D
    invFreq[i] = f(1 / f(Math.pow(f(theta), exponent))); // f32 pow, then f32 reciprocal
  }
  const table = new Float32Array(maxPositions * headDim);
  for (let pos = 0; pos < maxPositions; pos++) {
    const row = pos * headDim;
    for (let i = 0; i < half; i++) {
      const angle = f(pos * invFreq[i]!); // f32 product (exact in f64, rounded once)
      table[row + i] = Math.cos(angle);
      table[row + half + i] = Math.sin(angle);
    }
  }
  return table;
}

/** Uploads ropeTableData as a [maxPositions, headDim] tensor. */
export function buildRopeTable(rt: Runtime, headDim: number, theta: number, maxPositions: number): Tensor {
  return rt.upload(ropeTableData(headDim, theta, maxPositions), [maxPositions, headDim], `rope-table-${headDim}-${theta}`, true);
}

/** out = rope(x) for x, out [N, heads, D], positions i32 [N]. */
export function ropeForward(rt: Runtime, x: Tensor, positions: Tensor, table: Tensor, out: Tensor, N: number, heads: number, D: number): void {
  rotate(rt, 'ropeForward', x, positions, table, out, N, heads, D, 1);
}

/** dx = rope^T(dOut): the rotation by -angle. Overwrites dx. */
export function ropeBackward(rt: Runtime, dOut: Tensor, positions: Tensor, table: Tensor, dx: Tensor, N: number, heads: number, D: number): void {
  rotate(rt, 'ropeBackward', dOut, positions, table, dx, N, heads, D, -1);
}

function rotate(rt: Runtime, op: string, x: Tensor, positions: Tensor, table: Tensor, out: Tensor, N: number, heads: number, D: number, sinSign: 1 | -1): void {
  for (const [name, v] of Object.entries({ N, heads, D })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${name} = ${v} must be a non-negative integer`);
  }
  if (D % 2 !== 0 || D === 0) throw new Error(`${op}: head_dim ${D} must be even`);
  if (table.shape.length !== 2 || table.shape[1] !== D) throw new Error(`${op}: table [${table.shape}] is not [maxPositions, ${D}]`);
  if (positions.dtype !== 'i32') throw new Error(`${op}: positions must be i32, is ${positions.dtype}`);
  if (positions.size < N) throw new Error(`${op}: positions holds ${positions.size} entries, fewer than N = ${N}`);
  const n = N * heads * D;
  for (const [name, t] of Object.entries({ in: x, out })) {
    if (t.dtype !== 'f32') throw new Error(`${op}: ${name} must be f32, is ${t.dtype}`);
    if (t.size < n) throw new Error(`${op}: ${name} '${t.label}' [${t.shape}] holds ${t.size} elements, fewer than N*heads*D = ${N}*${heads}*${D}`);
  }
  if (x.buffer === out.buffer) throw new Error(`${op}: input and output must be different buffers (in-place is not supported)`);
  const pairs = n / 2;
  if (pairs === 0) return;
  const groups = rt.grid(Math.ceil(pairs / 256));
  const params = { pairs, heads, D, maxPositions: table.shape[0]!, rowStride: groups[0] * 256, sinSign };
  rt.dispatch(rt.kernel('rope'), { x, positions, table, out }, params, groups);
}
