import { afterAll, describe, expect, it } from 'vitest';
import {
  matmul, linearForward, linearBackward, setMatmulVariant, resolveMatmulVariant, vec4Aligned, cpuMatmulLanes,
  type MatmulKind, type MatRef, type ResolvedMatmulVariant,
} from '../src/ops/matmul.js';
import { RowSplitTensor } from '../src/gpu/row-split.js';
import { dot, finiteDiff, randn, relErr, runtime, sampleCoords, toF64 } from './util.js';

/** float64 reference of the three GEMM forms on dense row-major matrices. */
function refMatmul(kind: MatmulKind, M: number, N: number, K: number, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return refStrided(kind, M, N, K, a, 0, kind === 'tn' ? M : K, b, 0, kind === 'nt' ? K : N);
}

/** float64 reference on strided views: X[r, c] = x[off + r * ld + c]. */
function refStrided(
  kind: MatmulKind, M: number, N: number, K: number,
  a: ArrayLike<number>, aOff: number, lda: number, b: ArrayLike<number>, bOff: number, ldb: number,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const av = kind === 'tn' ? a[aOff + k * lda + m]! : a[aOff + m * lda + k]!;
        const bv = kind === 'nt' ? b[bOff + n * ldb + k]! : b[bOff + k * ldb + n]!;
        s += av * bv;
      }
      c[m * N + n] = s;
    }
  return c;
}

/** Sets every element of x that is not inside the view [rows x cols, ld, offset] to NaN. */
function nanOutsideView(x: Float32Array, offset: number, rows: number, cols: number, ld: number): Float32Array {
  for (let i = 0; i < x.length; i++) {
    const r = Math.floor((i - offset) / ld), c = (i - offset) % ld;
    if (i < offset || r >= rows || c >= cols) x[i] = NaN;
  }
  return x;
}

const KINDS = ['nt', 'nn', 'tn'] as const;
// Odd shapes (no multiple of any tile: the cpu variant takes its scalar path
// on most of them) and aligned ones (multiples of 4: its vec4 path).
const ODD_SHAPES = [[1, 1, 1], [7, 13, 5], [37, 29, 67], [65, 131, 33], [3, 258, 130]] as const;
const ALIGNED_SHAPES = [[68, 132, 100], [36, 44, 20], [12, 260, 132], [4, 4, 4]] as const;
// nt reads B along K only, so N need not be a multiple of 4 for its vec4 path
// (its last column group is partial); nn and tn take the scalar path here.
const NT_ONLY_ALIGNED = [[20, 37, 24]] as const;

const rtPromise = runtime();
const variants: ResolvedMatmulVariant[] = ['naive', 'gpu'];
if ((await rtPromise).gpu.features.has('subgroups')) variants.push('cpu');

afterAll(() => setMatmulVariant('auto'));

describe('matmul variant choice', () => {
  it("'auto' picks the CPU kernels on a CPU adapter with subgroups, the GPU kernels otherwise", async () => {
    const rt = await rtPromise;
    const expected = rt.gpu.isCpuAdapter && rt.gpu.features.has('subgroups') ? 'cpu' : 'gpu';
    expect(resolveMatmulVariant(rt, 'auto')).toBe(expected);
  });

  it("the 'cpu' kernels get whole subgroups, at most 64 lanes, and no more lanes than their columns need", () => {
    for (const subgroup of [4, 8, 16]) {
      for (const N of [1, 3, 4, 5, 29, 32, 33, 64, 96, 130, 192, 256, 257, 384, 1000, 4096]) {
        const { lanes, groupsX } = cpuMatmulLanes(N, subgroup);
        expect(lanes % subgroup).toBe(0);
        expect(lanes).toBeLessThanOrEqual(64);
        expect(groupsX).toBe(Math.ceil(N / 256));
        expect(4 * lanes * groupsX).toBeGreaterThanOrEqual(N); // every column has a lane
        expect(4 * (lanes - subgroup) * groupsX).toBeLessThan(N); // one subgroup fewer would not do
      }
    }
    expect(cpuMatmulLanes(32, 8)).toEqual({ lanes: 8, groupsX: 1 }); // a small model's K/V projection: 8 lanes, not 64
    expect(cpuMatmulLanes(100, 0)).toEqual({ lanes: 64, groupsX: 1 }); // subgroup size unknown: the full workgroup
    expect(() => cpuMatmulLanes(100, 128)).toThrow(/subgroup size 128/);
  });

  it('the aligned test shapes take the vec4 path and the odd ones do not', async () => {
    const rt = await rtPromise;
    const t = rt.empty([4]);
    for (const kind of KINDS) {
      for (const [M, N, K] of ALIGNED_SHAPES) {
        expect(vec4Aligned(kind, M, N, K, { t, ld: kind === 'tn' ? M : K }, { t, ld: kind === 'nt' ? K : N })).toBe(true);
      }
      for (const [M, N, K] of ODD_SHAPES) {
        expect(vec4Aligned(kind, M, N, K, { t, ld: kind === 'tn' ? M : K }, { t, ld: kind === 'nt' ? K : N })).toBe(false);
      }
      for (const [M, N, K] of NT_ONLY_ALIGNED) {
        expect(vec4Aligned(kind, M, N, K, { t, ld: kind === 'tn' ? M : K }, { t, ld: kind === 'nt' ? K : N })).toBe(kind === 'nt');
      }
    }
    t.dispose();
  });
});

for (const variant of variants) {
  describe(`matmul (${variant} kernels)`, () => {
    for (const kind of KINDS) {
      for (const [M, N, K] of [...ODD_SHAPES, ...ALIGNED_SHAPES, ...NT_ONLY_ALIGNED]) {
        it(`${kind} ${M}x${N}x${K} matches float64 (alpha 0.5, accumulating)`, async () => {
          const rt = await rtPromise;
          setMatmulVariant(variant);
          const a = randn(M * K, 1 + M), b = randn(N * K, 2 + N), c0 = randn(M * N, 3);
          const ta = rt.upload(a, [a.length]), tb = rt.upload(b, [b.length]);
          const tc = rt.upload(c0, [M * N]);
          const lda = kind === 'tn' ? M : K, ldb = kind === 'nt' ? K : N;
          matmul(rt, kind, M, N, K, { t: ta, ld: lda }, { t: tb, ld: ldb }, { t: tc, ld: N }, { accumulate: true, alpha: 0.5 });
          const got = await rt.read(tc);
          const ref = refMatmul(kind, M, N, K, a, b).map((v, i) => 0.5 * v + c0[i]!);
          expect(relErr(got, ref)).toBeLessThan(1e-5);
          ta.dispose(); tb.dispose(); tc.dispose();
        });
      }

      // Views inside larger tensors: element offsets, ld > cols, C prefilled
      // with huge values that must be overwritten inside the view and kept
      // outside it. Aligned offsets/lds exercise the cpu vec4 path, odd ones
      // the scalar path.
      for (const [label, M, N, K, offs, pad] of [
        ['aligned', 20, 36, 28, [8, 4, 12], 4],
        ['odd', 19, 37, 29, [3, 5, 7], 3],
      ] as const) {
        it(`${kind} on strided views (${label} offsets/ld) overwrites exactly the C view`, async () => {
          const rt = await rtPromise;
          setMatmulVariant(variant);
          const [aRows, aCols] = kind === 'tn' ? [K, M] : [M, K];
          const [bRows, bCols] = kind === 'nt' ? [N, K] : [K, N];
          const lda = aCols + pad, ldb = bCols + pad, ldc = N + pad;
          const [aOff, bOff, cOff] = offs;
          // Everything outside the A and B views is NaN: a kernel that reads
          // padding (even to multiply it by zero) poisons its result.
          const a = nanOutsideView(randn(aOff + aRows * lda, 11), aOff, aRows, aCols, lda);
          const b = nanOutsideView(randn(bOff + bRows * ldb, 12), bOff, bRows, bCols, ldb);
          const cSize = cOff + M * ldc;
          const FILL = Math.fround(1e30);
          const c0 = new Float32Array(cSize).fill(FILL);
          const ta = rt.upload(a, [a.length]), tb = rt.upload(b, [b.length]), tc = rt.upload(c0, [cSize]);
          const A: MatRef = { t: ta, ld: lda, offset: aOff }, B: MatRef = { t: tb, ld: ldb, offset: bOff };
          expect(vec4Aligned(kind, M, N, K, A, B)).toBe(label === 'aligned');
          matmul(rt, kind, M, N, K, A, B, { t: tc, ld: ldc, offset: cOff }, { alpha: -2 });
          const got = await rt.read(tc);
          const ref = refStrided(kind, M, N, K, a, aOff, lda, b, bOff, ldb);
          const view = new Float64Array(M * N);
          let outsideKept = true;
          for (let i = 0; i < cSize; i++) {
            const r = Math.floor((i - cOff) / ldc), col = (i - cOff) % ldc;
            if (i >= cOff && r < M && col < N) view[r * N + col] = got[i]!;
            else if (got[i] !== FILL) outsideKept = false;
          }
          expect(outsideKept).toBe(true);
          expect(relErr(view, ref.map((v) => -2 * v))).toBeLessThan(1e-5);
          ta.dispose(); tb.dispose(); tc.dispose();
        });
      }
    }

    it('splits M over several dispatches when the grid would exceed the per-dimension limit', async () => {
      const rt = await rtPromise;
      setMatmulVariant(variant);
      // The same runtime, claiming only 3 workgroups per grid dimension.
      const small = new Proxy(rt, {
        get(target, prop) {
          if (prop === 'gpu') return { ...target.gpu, maxWorkgroupsPerDim: 3 };
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const M = 200, N = 40, K = 24;
      for (const kind of KINDS) {
        const a = randn(M * K, 21), b = randn(N * K, 22);
        const ta = rt.upload(a, [a.length]), tb = rt.upload(b, [b.length]), tc = rt.zeros([M * N]);
        const before = rt.stats.dispatches;
        matmul(small, kind, M, N, K, { t: ta, ld: kind === 'tn' ? M : K }, { t: tb, ld: kind === 'nt' ? K : N }, { t: tc, ld: N });
        expect(rt.stats.dispatches - before).toBeGreaterThan(1);
        expect(relErr(await rt.read(tc), refMatmul(kind, M, N, K, a, b))).toBeLessThan(1e-5);
        ta.dispose(); tb.dispose(); tc.dispose();
      }
    });

    for (const [label, N, K, partRows] of [['odd', 23, 12, 5], ['aligned', 24, 16, 8]] as const) {
      it(`linear forward/backward over a row-split weight equals the dense result (${label} parts)`, async () => {
        const rt = await rtPromise;
        setMatmulVariant(variant);
        const M = 9;
        const x = randn(M * K, 4), w = randn(N * K, 5), dy = randn(M * N, 6);
        const W = RowSplitTensor.zeros(rt, N, K, 'W', partRows * K * 4);
        W.write(rt, w);
        const dW = RowSplitTensor.zeros(rt, N, K, 'dW', partRows * K * 4);
        const g0 = randn(N * K, 7);
        dW.write(rt, g0);
        const tx = rt.upload(x, [M, K]), tdy = rt.upload(dy, [M, N]);
        const y = rt.empty([M, N]), dx = rt.empty([M, K]);
        linearForward(rt, tx, W, y, M);
        linearBackward(rt, tx, W, tdy, dx, dW, M);
        expect(W.parts.length).toBe(Math.ceil(N / partRows));
        expect(relErr(await rt.read(y), refMatmul('nt', M, N, K, x, w))).toBeLessThan(1e-5);
        expect(relErr(await rt.read(dx), refMatmul('nn', M, K, N, dy, w))).toBeLessThan(1e-5);
        // dW accumulates onto what it held.
        const dWref = refMatmul('tn', N, K, M, dy, x).map((v, i) => v + g0[i]!);
        // the references' dx and dW are the gradients of sum(dy * (x @ W^T)): finite differences
        const loss = (xs: Float64Array, ws: Float64Array) => dot(dy, refMatmul('nt', M, N, K, xs, ws));
        const x64 = toF64(x), w64 = toF64(w);
        const xc = sampleCoords(M * K, 12, 8), wc = sampleCoords(N * K, 12, 9);
        const dxRef = refMatmul('nn', M, K, N, dy, w), dWplain = refMatmul('tn', N, K, M, dy, x);
        expect(relErr(finiteDiff((xs) => loss(xs, w64), x64, xc), xc.map((i) => dxRef[i]!))).toBeLessThan(1e-7);
        expect(relErr(finiteDiff((ws) => loss(x64, ws), w64, wc), wc.map((i) => dWplain[i]!))).toBeLessThan(1e-7);
        expect(relErr(await dW.read(rt), dWref)).toBeLessThan(1e-5);
        W.dispose(); dW.dispose(); tx.dispose(); tdy.dispose(); y.dispose(); dx.dispose();
      });
    }

    it('refuses operands whose last dimension is not W\'s width, and a dW split unlike W', async () => {
      const rt = await rtPromise;
      setMatmulVariant(variant);
      const W = RowSplitTensor.zeros(rt, 3, 4, 'W', 2 * 4 * 4); // rows 2 + 1
      const x = rt.zeros([2, 8], 'f32', 'x'), y = rt.zeros([4, 3], 'f32', 'y');
      // [2, 8] holds the 16 values of a [4, 4] x, so only its shape tells it apart
      expect(() => linearForward(rt, x, W, y, 4)).toThrow("linearForward: x 'x' of shape [2,8] does not end in 4 (W is [3,4])");
      const x4 = rt.zeros([4, 4], 'f32', 'x4'), dx = rt.zeros([4, 4]);
      const dWwhole = RowSplitTensor.zeros(rt, 3, 4, 'dW');
      expect(() => linearBackward(rt, x4, W, y, dx, dWwhole, 4)).toThrow('linearBackward: dW is split into row blocks [3], W into [2,1]');
      for (const t of [x, y, x4, dx]) t.dispose();
      W.dispose(); dWwhole.dispose();
    });
  });
}
