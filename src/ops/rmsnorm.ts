// RMSNorm (Qwen3's input/post-attention/final norms, and the per-head q/k norm
// with rows = tokens * heads, dim = head_dim), forward and backward.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkRowLaunch, isPowerOfTwo } from './row-launch.js';

/** Largest number of row blocks the weight gradient is split into (bounds the temporary). */
const MAX_DW_BLOCKS = 1024;
/** Fewest rows one weight-gradient invocation sums, so small batches don't make a huge temporary. */
const MIN_ROWS_PER_BLOCK = 32;

/**
 * y = x / sqrt(mean(x^2) + eps) * w in f32, row by row; rstd [rows] is saved
 * for the backward. x, y [rows, dim], w [dim].
 */
export function rmsnormForward(
  rt: Runtime, x: Tensor, w: Tensor, y: Tensor, rstd: Tensor, rows: number, dim: number, eps: number, launch = rmsnormLaunchFor(rt, dim),
): void {
  checkShapes('rmsnormForward', rows, dim, { x, y }, w, rstd);
  checkLaunch(rt, launch);
  if (!(eps >= 0)) throw new Error(`rmsnormForward: eps ${eps} must be >= 0`);
  if (x.buffer === y.buffer) throw new Error('rmsnormForward: x and y must be different buffers (one is read-only, one written)');
  if (rows === 0) return;
  const [gx, gy] = rt.grid(Math.ceil(rows / launch.rowsPerGroup));
  const kernel = rt.kernel('rmsnorm_forward', 'main', kernelConstants(launch));
  rt.dispatch(kernel, { x, w, y, rstd }, { rows, dim, gridX: gx, eps }, [gx, gy]);
}

/**
 * Given dy for y = rmsnorm(x) * w: dx is overwritten, dw ACCUMULATED (+=).
 * dw is deterministic: per-block column sums into a temporary, then a fixed-order
 * column sum adds them into dw (no atomics).
 */
export function rmsnormBackward(
  rt: Runtime, x: Tensor, w: Tensor, rstd: Tensor, dy: Tensor, dx: Tensor, dw: Tensor, rows: number, dim: number, launch = rmsnormLaunchFor(rt, dim),
): void {
  checkShapes('rmsnormBackward', rows, dim, { x, dy, dx }, w, rstd);
  checkLaunch(rt, launch);
  if (dw.size !== dim) throw new Error(`rmsnormBackward: dw has ${dw.size} elements, expected dim = ${dim}`);
  for (const [name, t] of Object.entries({ x, w, rstd, dy })) {
    if (t.buffer === dx.buffer) throw new Error(`rmsnormBackward: dx must not share a buffer with ${name}`);
  }
  if (rows === 0) return;
  const [gx, gy] = rt.grid(Math.ceil(rows / launch.rowsPerGroup));
  const kernel = rt.kernel('rmsnorm_backward_dx', 'main', kernelConstants(launch));
  rt.dispatch(kernel, { x, w, rstd, dy, dx }, { rows, dim, gridX: gx }, [gx, gy]);

  const columnGroups = Math.ceil(dim / 64);
  if (columnGroups > rt.gpu.maxWorkgroupsPerDim) throw new Error(`rmsnormBackward: dim ${dim} is too wide for one grid dimension`);
  const { blocks, rowsPerBlock } = dwPartialBlocks(rows, dim, rt.gpu);
  const partial = rt.empty([blocks, dim], 'f32', 'rmsnorm-dw-partial');
  rt.dispatch(rt.kernel('rmsnorm_dw_partial'), { x, rstd, dy, partial }, { rows, dim, rowsPerBlock }, [columnGroups, blocks]);
  rt.dispatch(rt.kernel('rmsnorm_dw_reduce'), { partial, dw }, { dim, blocks }, [columnGroups]);
  partial.dispose(); // safe: later users of the buffer are recorded after these dispatches
}

/**
 * How the row kernels are laid out: each row's reduction is a fixed tree of partialsPerRow
 * partial sums (a power of two; it alone decides the result bits), computed by lanesPerRow
 * invocations (a power of two dividing it), rowsPerGroup rows per workgroup.
 */
export interface RmsnormLaunch {
  partialsPerRow: number;
  lanesPerRow: number;
  rowsPerGroup: number;
}

/**
 * GPUs: about 4 columns per thread, 32..256 threads per row, several rows per workgroup
 * when rows are short (head_dim 128). CPU adapters (lavapipe) run a workgroup as a loop whose
 * barriers are costly: 8 partials per row (measured 2-9x faster than wide rows, 512x1024 and
 * 8192x128, when 8 threads computed them) and one invocation walking each row's tree, so no
 * barrier at all, 64 rows per workgroup.
 */
export function rmsnormLaunchFor(rt: Runtime, dim: number): RmsnormLaunch {
  if (rt.gpu.isCpuAdapter) return { partialsPerRow: 8, lanesPerRow: 1, rowsPerGroup: 64 };
  let threads = 32;
  while (threads < 256 && threads * 4 < dim) threads *= 2;
  return { partialsPerRow: threads, lanesPerRow: threads, rowsPerGroup: 256 / threads };
}

function kernelConstants(l: RmsnormLaunch): Record<string, number> {
  return { TREE: l.partialsPerRow, WG: l.lanesPerRow, ROWS: l.rowsPerGroup };
}

function checkLaunch(rt: Runtime, l: RmsnormLaunch): void {
  if (!isPowerOfTwo(l.partialsPerRow) || l.partialsPerRow > 256) throw new Error(`rmsnorm: launch ${JSON.stringify(l)} needs a power-of-two partialsPerRow <= 256`);
  checkRowLaunch(rt, 'rmsnorm', l, l.lanesPerRow, l.partialsPerRow, l.rowsPerGroup);
}

function checkShapes(op: string, rows: number, dim: number, activations: Record<string, Tensor>, w: Tensor, rstd: Tensor): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(dim) || dim < 1) throw new Error(`${op}: bad rows ${rows} / dim ${dim}`);
  for (const [name, t] of Object.entries(activations)) {
    if (t.dtype !== 'f32') throw new Error(`${op}: ${name} must be f32, is ${t.dtype}`);
    if (t.size < rows * dim) throw new Error(`${op}: ${name} '${t.label}' [${t.shape}] holds ${t.size} elements, fewer than rows*dim = ${rows}*${dim}`);
  }
  if (w.size !== dim) throw new Error(`${op}: w '${w.label}' has ${w.size} elements, expected dim = ${dim}`);
  if (rstd.size < rows) throw new Error(`${op}: rstd '${rstd.label}' holds ${rstd.size} elements, fewer than rows = ${rows}`);
}

/** How rmsnormBackward cuts the rows for dw: blocks of partial sums [blocks, dim] (the memory plan counts them too). */
export function dwPartialBlocks(rows: number, dim: number, gpu: { maxWorkgroupsPerDim: number; maxStorageBindingBytes: number }): { blocks: number; rowsPerBlock: number } {
  const maxBlocks = Math.max(1, Math.min(MAX_DW_BLOCKS, gpu.maxWorkgroupsPerDim, Math.floor(gpu.maxStorageBindingBytes / (dim * 4))));
  const rowsPerBlock = Math.max(MIN_ROWS_PER_BLOCK, Math.ceil(rows / maxBlocks));
  return { blocks: Math.ceil(rows / rowsPerBlock), rowsPerBlock };
}
