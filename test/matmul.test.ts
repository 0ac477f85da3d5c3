import { describe, expect, it } from 'vitest';
import { matmul, linearForward, linearBackward, type MatmulKind } from '../src/ops/matmul.js';
import { RowSplitTensor } from '../src/gpu/row-split.js';
import { randn, relErr, runtime } from './util.js';

/** float64 reference of the three GEMM forms on dense row-major matrices. */
function refMatmul(kind: MatmulKind, M: number, N: number, K: number, a: Float32Array, b: Float32Array): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = kind === 'tn' ? a[k * M + m]! : a[m * K + k]!;
        const bv = kind === 'nt' ? b[n * K + k]! : b[k * N + n]!;
        s += av * bv;
      }
      c[m * N + n] = s;
    }
  return c;
}

describe('matmul', () => {
  for (const kind of ['nt', 'nn', 'tn'] as const) {
    for (const [M, N, K] of [[1, 1, 1], [7, 13, 5], [37, 29, 67], [65, 131, 33], [3, 258, 130]]) {
      it(`${kind} ${M}x${N}x${K} matches float64 (and accumulates)`, async () => {
        const rt = await runtime();
        const a = randn(M * K, 1 + M), b = randn(N * K, 2 + N), c0 = randn(M * N, 3);
        const ta = rt.upload(a, [a.length]), tb = rt.upload(b, [b.length]);
        const tc = rt.upload(c0, [M * N]);
        const lda = kind === 'tn' ? M : K, ldb = kind === 'nt' ? K : N;
        matmul(rt, kind, M, N, K, { t: ta, ld: lda }, { t: tb, ld: ldb }, { t: tc, ld: N }, { accumulate: true, alpha: 0.5 });
        const got = await rt.read(tc);
        const ref = refMatmul(kind, M, N, K, a, b).map((v, i) => 0.5 * v + c0[i]!);
        expect(relErr(got, ref)).toBeLessThan(1e-5);
      });
    }
  }

  it('linear forward/backward over a row-split weight equals the dense result', async () => {
    const rt = await runtime();
    const M = 9, N = 23, K = 12;
    const x = randn(M * K, 4), w = randn(N * K, 5), dy = randn(M * N, 6);
    const W = RowSplitTensor.zeros(rt, N, K, 'W', 5 * K * 4); // parts of 5 rows
    W.write(rt, w);
    const dW = RowSplitTensor.zeros(rt, N, K, 'dW', 5 * K * 4);
    const tx = rt.upload(x, [M, K]), tdy = rt.upload(dy, [M, N]);
    const y = rt.empty([M, N]), dx = rt.empty([M, K]);
    linearForward(rt, tx, W, y, M);
    linearBackward(rt, tx, W, tdy, dx, dW, M);
    expect(relErr(await rt.read(y), refMatmul('nt', M, N, K, x, w))).toBeLessThan(1e-5);
    expect(relErr(await rt.read(dx), refMatmul('nn', M, K, N, dy, w))).toBeLessThan(1e-5);
    expect(relErr(await dW.read(rt), refMatmul('tn', N, K, M, dy, x))).toBeLessThan(1e-5);
  });
});
