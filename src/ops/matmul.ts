// General matrix multiply on strided views, and the weight-side helpers that
// loop over the row blocks of a RowSplitTensor.
import type { RowSplitTensor } from '../gpu/row-split.js';
import type { Runtime } from '../gpu/runtime.js';
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

export function matmul(rt: Runtime, kind: MatmulKind, M: number, N: number, K: number, A: MatRef, B: MatRef, C: MatRef, opts: MatmulOptions = {}): void {
  if (M === 0 || N === 0) return;
  const params = {
    M, N, K,
    lda: A.ld, ldb: B.ld, ldc: C.ld,
    aOff: A.offset ?? 0, bOff: B.offset ?? 0, cOff: C.offset ?? 0,
    alpha: opts.alpha ?? 1,
    beta: opts.accumulate ? 1 : 0,
  };
  checkBounds(kind, M, N, K, A, B, C);
  rt.dispatch(rt.kernel('matmul_naive', kind), { A: A.t, B: B.t, C: C.t }, params, [Math.ceil(N / 16), Math.ceil(M / 16)]);
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

/** y[M, N] = x[M, K] @ W[N, K]^T, writing each row block of W into its output columns. */
export function linearForward(rt: Runtime, x: Tensor, W: RowSplitTensor, y: Tensor, M: number): void {
  const [N, K] = W.shape;
  for (const part of W.parts) {
    matmul(rt, 'nt', M, part.rows, K, { t: x, ld: K }, { t: part.tensor, ld: K }, { t: y, ld: N, offset: part.rowStart });
  }
}

/**
 * Given dy[M, N] for y = x @ W^T: dx = dy @ W (overwritten, or added to when
 * `accumulateDx`), dW += dy^T @ x (always accumulated, so micro-batches add up).
 */
export function linearBackward(
  rt: Runtime, x: Tensor, W: RowSplitTensor, dy: Tensor, dx: Tensor | null, dW: RowSplitTensor | null, M: number, accumulateDx = false,
): void {
  const [N, K] = W.shape;
  W.parts.forEach((part, i) => {
    if (dx) {
      matmul(rt, 'nn', M, K, part.rows, { t: dy, ld: N, offset: part.rowStart }, { t: part.tensor, ld: K }, { t: dx, ld: K }, { accumulate: accumulateDx || i > 0 });
    }
    if (dW) {
      const g = dW.parts[i]!;
      matmul(rt, 'tn', part.rows, K, M, { t: dy, ld: N, offset: part.rowStart }, { t: x, ld: K }, { t: g.tensor, ld: K }, { accumulate: true });
    }
  });
}
