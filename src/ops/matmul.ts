// General matrix multiply on strided views, and the weight-side helpers that
// loop over the row blocks of a RowSplitTensor.
//
// Three kernel families compute the same thing:
//   'cpu'   kernels/matmul_cpu4.wgsl (vec4 loads) or matmul_cpu.wgsl (scalar
//           fallback): tuned for CPU adapters (lavapipe), needs subgroups;
//   'gpu'   kernels/matmul.wgsl: workgroup-memory tiles for real GPUs;
//   'naive' kernels/matmul_naive.wgsl: the reference, one output per thread.
// 'auto' picks 'cpu' on a CPU adapter whose subgroups fit its 64-lane workgroups
// (a reported size dividing 64) and 'gpu' otherwise. The
// choice can be forced with setMatmulVariant() or PATARM_MATMUL=cpu|gpu|naive.
import { hasKnownSubgroups } from '../gpu/device.js';
import type { RowSplitTensor } from '../gpu/row-split.js';
import type { Kernel, Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

/** A matrix inside a tensor: element (r, c) is t[offset + r * ld + c]. */
export interface MatRef {
  t: Tensor;
  offset?: number;
  ld: number;
}

/**
 * nt: C = alpha * A[M,K] @ B[N,K]^T (+ C when accumulate)
 * nn: C = alpha * A[M,K] @ B[K,N]
 * tn: C = alpha * A[K,M]^T @ B[K,N]
 */
export type MatmulKind = 'nt' | 'nn' | 'tn';

export interface MatmulOptions {
  accumulate?: boolean;
  alpha?: number;
}

export type MatmulVariant = 'auto' | 'cpu' | 'gpu' | 'naive';
export type ResolvedMatmulVariant = Exclude<MatmulVariant, 'auto'>;

const VARIANTS: readonly MatmulVariant[] = ['auto', 'cpu', 'gpu', 'naive'];

function variantFromEnv(): MatmulVariant {
  const v = process.env.PATARM_MATMUL;
  if (v === undefined || v === '') return 'auto';
  if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`PATARM_MATMUL=${v}: expected one of ${VARIANTS.join(', ')}`);
  return v as MatmulVariant;
}

let chosen: MatmulVariant = variantFromEnv();

/** Forces a kernel family for every later matmul ('auto' restores the default choice). */
export function setMatmulVariant(v: MatmulVariant): void {
  if (!VARIANTS.includes(v)) throw new Error(`unknown matmul variant '${v}'`);
  chosen = v;
}

export function getMatmulVariant(): MatmulVariant {
  return chosen;
}

/** The family that `matmul` dispatches on this runtime under the current setting. */
export function resolveMatmulVariant(rt: Runtime, v: MatmulVariant = chosen): ResolvedMatmulVariant {
  const known = hasKnownSubgroups(rt.gpu);
  // The 'cpu' kernels' workgroups are whole subgroups of at most CPU_MAX_LANES lanes (cpuMatmulLanes).
  const fits = known && CPU_MAX_LANES % rt.gpu.subgroupMaxSize === 0;
  if (v === 'auto') return rt.gpu.isCpuAdapter && fits ? 'cpu' : 'gpu';
  if (v === 'cpu' && !known) throw new Error("matmul variant 'cpu' needs the 'subgroups' feature and a reported subgroup size, which this adapter lacks");
  if (v === 'cpu' && !fits) throw new Error(`matmul variant 'cpu' needs a subgroup size dividing ${CPU_MAX_LANES}, and this adapter's is ${rt.gpu.subgroupMaxSize}`);
  return v;
}

/** Rows of C per workgroup of each family (see the kernel headers). */
const TILE_ROWS: Record<ResolvedMatmulVariant, number> = { cpu: 16, gpu: 64, naive: 16 };
/** Columns of C per workgroup of the fixed-size families; 'cpu' sizes its workgroups to N (cpuMatmulLanes). */
const TILE_COLS: Record<Exclude<ResolvedMatmulVariant, 'cpu'>, number> = { gpu: 64, naive: 16 };

/** The 'cpu' kernels' tuned workgroup size, the most lanes a workgroup gets. */
const CPU_MAX_LANES = 64;

/**
 * Workgroup size (the kernels' WG) and workgroups across N of a 'cpu' matmul: as few workgroups
 * as CPU_MAX_LANES lanes of 4 columns allow, each with just enough whole subgroups for its share
 * of the columns. A lane past N computes as much as one inside it (the subgroup shuffles need every
 * lane), so a fixed 64 lanes over N = 64 (a small model's projections) did 4x the work and over
 * N = 32 (its K and V projections) 8x. Every output is still summed in the same order, so the
 * lane count does not change a result.
 */
export function cpuMatmulLanes(N: number, subgroupMaxSize: number): { lanes: number; groupsX: number } {
  const subgroup = subgroupMaxSize || CPU_MAX_LANES; // unknown: one workgroup's worth, as before
  if (CPU_MAX_LANES % subgroup !== 0) throw new Error(`matmul 'cpu': subgroup size ${subgroup} does not divide ${CPU_MAX_LANES} lanes`);
  const groupsX = Math.ceil(N / (4 * CPU_MAX_LANES));
  const lanes = Math.ceil(Math.ceil(N / (4 * groupsX)) / subgroup) * subgroup;
  return { lanes, groupsX };
}

export function matmul(rt: Runtime, kind: MatmulKind, M: number, N: number, K: number, A: MatRef, B: MatRef, C: MatRef, opts: MatmulOptions = {}): void {
  if (M === 0 || N === 0) return;
  checkBounds(kind, M, N, K, A, B, C);
  const variant = resolveMatmulVariant(rt);
  const file = variant === 'cpu' ? (vec4Aligned(kind, M, N, K, A, B) ? 'matmul_cpu4' : 'matmul_cpu') : variant === 'gpu' ? 'matmul' : 'matmul_naive';
  let kernel: Kernel, gx: number;
  if (variant === 'cpu') {
    const { lanes, groupsX } = cpuMatmulLanes(N, rt.gpu.subgroupMaxSize);
    kernel = rt.kernel(file, kind, { WG: lanes });
    gx = groupsX;
  } else {
    kernel = rt.kernel(file, kind);
    gx = Math.ceil(N / TILE_COLS[variant]);
  }
  if (gx > rt.gpu.maxWorkgroupsPerDim) throw new Error(`matmul ${kind}: N = ${N} needs ${gx} workgroups in x, more than ${rt.gpu.maxWorkgroupsPerDim}`);
  // Rows beyond one grid's reach go in further dispatches on shifted views
  // (a multiple of the row tile, which keeps vec4 offsets aligned).
  const rowsPerDispatch = TILE_ROWS[variant] * rt.gpu.maxWorkgroupsPerDim;
  const aRowStep = kind === 'tn' ? 1 : A.ld; // moving one row of C moves A by this many elements
  for (let m = 0; m < M; m += rowsPerDispatch) {
    const rows = Math.min(rowsPerDispatch, M - m);
    const params = {
      M: rows, N, K,
      lda: A.ld, ldb: B.ld, ldc: C.ld,
      aOff: (A.offset ?? 0) + m * aRowStep, bOff: B.offset ?? 0, cOff: (C.offset ?? 0) + m * C.ld,
      alpha: opts.alpha ?? 1,
      beta: opts.accumulate ? 1 : 0,
    };
    rt.dispatch(kernel, { A: A.t, B: B.t, C: C.t }, params, [gx, Math.ceil(rows / TILE_ROWS[variant])]);
  }
}

/**
 * Whether A and B can be read as vec4 arrays: element offsets and leading
 * dimensions multiples of 4, and so the contiguous extent of each operand
 * (so that no vec4 straddles the end of a row or of the buffer).
 */
export function vec4Aligned(kind: MatmulKind, M: number, N: number, K: number, A: MatRef, B: MatRef): boolean {
  const aCols = kind === 'tn' ? M : K;
  const bCols = kind === 'nt' ? K : N;
  const ok = (r: MatRef, cols: number) => (r.offset ?? 0) % 4 === 0 && r.ld % 4 === 0 && cols % 4 === 0;
  return ok(A, aCols) && ok(B, bCols);
}

function checkBounds(kind: MatmulKind, M: number, N: number, K: number, A: MatRef, B: MatRef, C: MatRef): void {
  const [aRows, aCols] = kind === 'tn' ? [K, M] : [M, K];
  const [bRows, bCols] = kind === 'nt' ? [N, K] : [K, N];
  const check = (name: string, r: MatRef, rows: number, cols: number) => {
    const last = (r.offset ?? 0) + (rows - 1) * r.ld + cols;
    if (cols > r.ld || last > r.t.size) {
      throw new Error(`matmul ${kind}: ${name} view [${rows}x${cols}, ld ${r.ld}, offset ${r.offset ?? 0}] exceeds tensor '${r.t.label}' of ${r.t.size} elements`);
    }
  };
  check('A', A, aRows, aCols);
  check('B', B, bRows, bCols);
  check('C', C, M, N);
}

/**
 * The strided views of matmul only have to fit their tensors; a linear layer's operands must also
 * have W's widths as their last dimension (x [.., 8] against W [3, 4] would read x's rows in halves),
 * and a gradient must be split into W's row blocks.
 */
function checkLinear(name: string, W: RowSplitTensor, operands: Record<string, [Tensor | null, number]>, dW: RowSplitTensor | null = null): void {
  for (const [what, [t, width]] of Object.entries(operands)) {
    if (t && t.shape[t.shape.length - 1] !== width) throw new Error(`${name}: ${what} '${t.label}' of shape [${t.shape}] does not end in ${width} (W is [${W.shape}])`);
  }
  if (dW && (dW.parts.length !== W.parts.length || dW.parts.some((p, i) => p.rows !== W.parts[i]!.rows))) {
    throw new Error(`${name}: dW is split into row blocks [${dW.parts.map((p) => p.rows)}], W into [${W.parts.map((p) => p.rows)}]`);
  }
}

/** y[M, N] = alpha * x[M, K] @ W[N, K]^T, writing each row block of W into its output columns. */
export function linearForward(rt: Runtime, x: Tensor, W: RowSplitTensor, y: Tensor, M: number, alpha = 1): void {
  const [N, K] = W.shape;
  checkLinear('linearForward', W, { x: [x, K], y: [y, N] });
  for (const part of W.parts) {
    matmul(rt, 'nt', M, part.rows, K, { t: x, ld: K }, { t: part.tensor, ld: K }, { t: y, ld: N, offset: part.rowStart }, { alpha });
  }
}

/**
 * Given dy[M, N] for y = alpha * x @ W^T: dx = alpha * dy @ W (overwritten, or added to when
 * `accumulateDx`), dW += alpha * dy^T @ x (always accumulated, so micro-batches add up).
 */
export function linearBackward(
  rt: Runtime, x: Tensor, W: RowSplitTensor, dy: Tensor, dx: Tensor | null, dW: RowSplitTensor | null, M: number, accumulateDx = false, alpha = 1,
): void {
  const [N, K] = W.shape;
  checkLinear('linearBackward', W, { x: [x, K], dy: [dy, N], dx: [dx, K] }, dW);
  W.parts.forEach((part, i) => {
    if (dx) {
      matmul(rt, 'nn', M, K, part.rows, { t: dy, ld: N, offset: part.rowStart }, { t: part.tensor, ld: K }, { t: dx, ld: K }, { accumulate: accumulateDx || i > 0, alpha });
    }
    if (dW) {
      const g = dW.parts[i]!;
      matmul(rt, 'tn', part.rows, K, M, { t: dy, ld: N, offset: part.rowStart }, { t: x, ld: K }, { t: g.tensor, ld: K }, { accumulate: true, alpha });
    }
  });
}
