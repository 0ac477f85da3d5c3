// The LM head fused with log-softmax and the gather of the target token's
// log-prob. The [N, V] logits of a whole batch (N * 151936 floats) are never
// materialised: tokens go through in chunks, each chunk's logits live in one
// scratch buffer, and the backward pass recomputes them instead of storing them.
import type { RowSplitTensor } from '../gpu/row-split.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { linearBackward, linearForward } from './matmul.js';
import { checkRowLaunch } from './row-launch.js';

/** Memory the [chunk, V] logits scratch may take, besides the binding limit. */
export const LM_HEAD_SCRATCH_BUDGET_BYTES = 256 * 1024 * 1024;

export interface LmHeadOptions {
  /** [N, V]: receives the full logits (for tests and generation). */
  logits?: Tensor;
  /** [N]: receives the entropy of each token's predicted distribution. */
  entropy?: Tensor;
  /** Tokens per chunk; clamped to what one storage binding holds. */
  chunkTokens?: number;
  /** How the log-softmax kernel is laid out (default: picked for the adapter). */
  launch?: LogSoftmaxLaunch;
  /** The distribution is softmax(logits / temperature) (default 1); logits and entropy are of it too. */
  temperature?: number;
}

/** 1 / temperature, the scale of the logits; a temperature must be a positive finite number. */
function logitScale(name: string, temperature = 1): number {
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new Error(`${name}: temperature must be a positive number, got ${temperature}`);
  return 1 / temperature;
}

/**
 * The log-softmax row reduction: lanesPerRow real lanes (a power of two dividing 256)
 * share a row's fixed 256-lane reduction tree, rowsPerGroup rows per workgroup. The
 * tree does not change with the launch, so neither do the results, bit for bit.
 */
export interface LogSoftmaxLaunch {
  lanesPerRow: number;
  rowsPerGroup: number;
}

/**
 * GPUs: 256 lanes per row, one barrier per tree level. CPU adapters (lavapipe) run a
 * workgroup as a loop whose barriers are costly, so there one lane walks a row's whole
 * tree and a workgroup takes 64 rows: the default job's SFT step spent 8% of its kernel
 * time here with 256 lanes per row.
 */
export function logSoftmaxLaunchFor(rt: Runtime): LogSoftmaxLaunch {
  return rt.gpu.isCpuAdapter ? { lanesPerRow: 1, rowsPerGroup: 64 } : { lanesPerRow: 256, rowsPerGroup: 1 };
}


/**
 * Tokens per chunk: as many [V] logit rows as fit both one storage binding and
 * the scratch budget, at most N, at least 1 (`requested` is clamped likewise).
 */
export function lmHeadChunkTokens(maxBindingBytes: number, V: number, N: number, requested?: number, budgetBytes = LM_HEAD_SCRATCH_BUDGET_BYTES): number {
  const rowBytes = V * 4;
  const fit = Math.floor(maxBindingBytes / rowBytes);
  if (fit < 1) throw new Error(`lm head: one row of ${V} logits exceeds the binding limit ${maxBindingBytes}`);
  const wanted = requested ?? Math.max(1, Math.floor(budgetBytes / rowBytes));
  return Math.max(1, Math.min(wanted, fit, N));
}

function checkShapes(name: string, h: Tensor, W: RowSplitTensor, targets: Tensor, N: number, perToken: Tensor[]): void {
  const [, H] = W.shape;
  if (h.size < N * H) throw new Error(`${name}: h has ${h.size} elements, expected [${N}, ${H}]`);
  if (targets.dtype !== 'i32') throw new Error(`${name}: targets must be i32, got ${targets.dtype}`);
  for (const t of [targets, ...perToken]) {
    if (t.size < N) throw new Error(`${name}: '${t.label}' has ${t.size} elements, expected at least N = ${N}`);
  }
}

/**
 * logits = h @ W^T / temperature (W [V, H] row-split); per token n: lse[n] = logsumexp(logits[n]),
 * logprobs[n] = logits[n, targets[n]] - lse[n]; optionally entropy and full logits.
 */
export function lmHeadForward(
  rt: Runtime, h: Tensor, W: RowSplitTensor, targets: Tensor, logprobs: Tensor, lse: Tensor, N: number, opts: LmHeadOptions = {},
): void {
  const [V, H] = W.shape;
  checkShapes('lmHeadForward', h, W, targets, N, [logprobs, lse, ...(opts.entropy ? [opts.entropy] : [])]);
  if (opts.logits && opts.logits.size < N * V) throw new Error(`lmHeadForward: logits output has ${opts.logits.size} elements, expected [${N}, ${V}]`);
  const scale = logitScale('lmHeadForward', opts.temperature);
  if (N === 0) return;
  const chunk = lmHeadChunkTokens(rt.gpu.maxStorageBindingBytes, V, N, opts.chunkTokens);
  const single = chunk === N;
  const hChunk = single ? h : rt.empty([chunk, H], 'f32', 'lmhead.hChunk');
  const logits = rt.empty([chunk, V], 'f32', 'lmhead.logits');
  const entropy = opts.entropy ?? rt.empty([1], 'f32', 'lmhead.noEntropy');
  const launch = opts.launch ?? logSoftmaxLaunchFor(rt);
  checkRowLaunch(rt, 'lm head', launch, launch.lanesPerRow, 256, launch.rowsPerGroup);
  const kernel = rt.kernel('lmhead_logsoftmax', 'main', { WG: launch.lanesPerRow, ROWS: launch.rowsPerGroup });
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const rows = Math.min(chunk, N - n0);
    if (!single) rt.copy(h, hChunk, rows * H, n0 * H, 0); // a chunk's first row is not 256-byte aligned, so no view
    linearForward(rt, hChunk, W, logits, rows, scale);
    const groups = rt.grid(Math.ceil(rows / launch.rowsPerGroup));
    rt.dispatch(kernel, { logits, targets, lse, logprobs, entropy },
      { V, rowBase: n0, rows, rowStride: groups[0], withEntropy: opts.entropy ? 1 : 0 }, groups);
    if (opts.logits) rt.copy(logits, opts.logits, rows * V, 0, n0 * V);
  }
  if (!single) hChunk.dispose();
  logits.dispose();
  if (!opts.entropy) entropy.dispose();
}

/**
 * Given dLogprobs [N] = dL/dlogprobs: dlogits = dLogprobs * (onehot(target) - softmax),
 * with each chunk's logits recomputed (at the forward's temperature, which must be passed
 * again); dh = dlogits @ W / temperature (overwritten), dW += dlogits^T @ h / temperature
 * (accumulated).
 */
export function lmHeadBackward(
  rt: Runtime, h: Tensor, W: RowSplitTensor, targets: Tensor, lse: Tensor, dLogprobs: Tensor, dh: Tensor, dW: RowSplitTensor, N: number,
  opts: { chunkTokens?: number; temperature?: number } = {},
): void {
  const [V, H] = W.shape;
  checkShapes('lmHeadBackward', h, W, targets, N, [lse, dLogprobs]);
  if (dh.size < N * H) throw new Error(`lmHeadBackward: dh has ${dh.size} elements, expected [${N}, ${H}]`);
  if (dW.shape[0] !== V || dW.shape[1] !== H || dW.parts.length !== W.parts.length) throw new Error('lmHeadBackward: dW must be split like W');
  const scale = logitScale('lmHeadBackward', opts.temperature);
  if (N === 0) return;
  const chunk = lmHeadChunkTokens(rt.gpu.maxStorageBindingBytes, V, N, opts.chunkTokens);
  const single = chunk === N;
  const hChunk = single ? h : rt.empty([chunk, H], 'f32', 'lmhead.hChunk');
  const dhChunk = single ? dh : rt.empty([chunk, H], 'f32', 'lmhead.dhChunk');
  const dlogits = rt.empty([chunk, V], 'f32', 'lmhead.dlogits');
  const kernel = rt.kernel('lmhead_dlogits');
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const rows = Math.min(chunk, N - n0);
    if (!single) rt.copy(h, hChunk, rows * H, n0 * H, 0); // a chunk's first row is not 256-byte aligned, so no view
    linearForward(rt, hChunk, W, dlogits, rows, scale);
    const count = rows * V;
    const groups = rt.grid(Math.ceil(count / 256));
    rt.dispatch(kernel, { dlogits, targets, lse, dLogprobs }, { V, rowBase: n0, count, rowStride: groups[0] * 256 }, groups);
    linearBackward(rt, hChunk, W, dlogits, dhChunk, dW, rows, false, scale);
    if (!single) rt.copy(dhChunk, dh, rows * H, 0, n0 * H);
  }
  if (!single) {
    hChunk.dispose();
    dhChunk.dispose();
  }
  dlogits.dispose();
}
