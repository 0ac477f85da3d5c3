import { describe, expect, it } from 'vitest';
import { rmsnormBackward, rmsnormForward, rmsnormLaunchFor, type RmsnormLaunch } from '../src/ops/rmsnorm.js';
import { dot, finiteDiff, randn, relErr, runtime, sampleCoords, toF64 } from './util.js';

/** float64 reference: y = w * x / sqrt(mean(x^2) + eps) per row, and rstd. */
function refForward(x: ArrayLike<number>, w: ArrayLike<number>, rows: number, dim: number, eps: number): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(rows * dim), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += x[r * dim + j]! ** 2;
    const s = 1 / Math.sqrt(ss / dim + eps);
    rstd[r] = s;
    for (let j = 0; j < dim; j++) y[r * dim + j] = w[j]! * x[r * dim + j]! * s;
  }
  return { y, rstd };
}

/** float64 reference backward: dx = r*g - x*r^3*sum(g*x)/dim with g = dy*w; dw = sum_rows dy*x*r. */
function refBackward(x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>, rows: number, dim: number, eps: number): { dx: Float64Array; dw: Float64Array } {
  const { rstd } = refForward(x, w, rows, dim, eps);
  const dx = new Float64Array(rows * dim), dw = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const s = rstd[r]!;
    let c = 0;
    for (let j = 0; j < dim; j++) c += dy[r * dim + j]! * w[j]! * x[r * dim + j]!;
    for (let j = 0; j < dim; j++) {
      const i = r * dim + j;
      dx[i] = s * dy[i]! * w[j]! - x[i]! * s * s * s * c / dim;
      dw[j] += dy[i]! * x[i]! * s;
    }
  }
  return { dx, dw };
}

describe('rmsnorm', () => {
  it('float64 reference backward agrees with finite differences', () => {
    const rows = 5, dim = 7, eps = 1e-6;
    const x = toF64(randn(rows * dim, 1)), w = toF64(randn(dim, 2)), R = toF64(randn(rows * dim, 3));
    const { dx, dw } = refBackward(x, w, R, rows, dim, eps);
    const xc = sampleCoords(rows * dim, 12, 4), wc = sampleCoords(dim, dim, 5);
    const fdx = finiteDiff((xx) => dot(R, refForward(xx, w, rows, dim, eps).y), x, xc);
    const fdw = finiteDiff((ww) => dot(R, refForward(x, ww, rows, dim, eps).y), w, wc);
    expect(relErr(fdx, xc.map((i) => dx[i]!))).toBeLessThan(1e-6);
    expect(relErr(fdw, wc.map((i) => dw[i]!))).toBeLessThan(1e-6);
  });

  // Every launch layout is tested here, not only the one this adapter picks: GPUs use
  // 32..256 threads per row, CPU adapters 8 partials per row in one invocation x 64 rows.
  const launches: (RmsnormLaunch | 'default')[] = [
    'default',
    { partialsPerRow: 256, lanesPerRow: 256, rowsPerGroup: 1 },
    { partialsPerRow: 32, lanesPerRow: 32, rowsPerGroup: 8 },
    { partialsPerRow: 8, lanesPerRow: 8, rowsPerGroup: 32 },
    { partialsPerRow: 8, lanesPerRow: 1, rowsPerGroup: 64 },
    { partialsPerRow: 32, lanesPerRow: 4, rowsPerGroup: 7 },
    { partialsPerRow: 1, lanesPerRow: 1, rowsPerGroup: 7 },
  ];
  // 37 tokens x hidden 20; the per-head form (37 tokens * 3 heads, head_dim 20); a row wider than 4 x 256 threads.
  for (const [rows, dim] of [[37, 20], [37 * 3, 20], [5, 1100], [1, 33]] as const) {
    for (const launch of launches) {
      it(`forward and backward match float64 for rows ${rows}, dim ${dim}, launch ${JSON.stringify(launch)}`, async () => {
        const rt = await runtime();
        const l = launch === 'default' ? rmsnormLaunchFor(rt, dim) : launch;
        const eps = 1e-6;
        const x = randn(rows * dim, 10 + dim), w = randn(dim, 11), dy = randn(rows * dim, 12), dw0 = randn(dim, 13);
        const tx = rt.upload(x, [rows, dim]), tw = rt.upload(w, [dim]), tdy = rt.upload(dy, [rows, dim]);
        const y = rt.upload(randn(rows * dim, 14), [rows, dim]), rstd = rt.upload(randn(rows, 15), [rows]);
        const dx = rt.upload(randn(rows * dim, 16), [rows, dim]), dw = rt.upload(dw0, [dim]);
        rmsnormForward(rt, tx, tw, y, rstd, rows, dim, eps, l);
        rmsnormBackward(rt, tx, tw, rstd, tdy, dx, dw, rows, dim, l);
        const ref = refForward(x, w, rows, dim, eps), refB = refBackward(x, w, dy, rows, dim, eps);
        expect(relErr(await rt.read(y), ref.y)).toBeLessThan(1e-6);
        expect(relErr(await rt.read(rstd), ref.rstd)).toBeLessThan(1e-6);
        expect(relErr(await rt.read(dx), refB.dx)).toBeLessThan(1e-5);
        // dw accumulates onto what was there; compare the added part.
        const added = Array.from(await rt.read(dw), (v, j) => v - dw0[j]!);
        expect(relErr(added, refB.dw)).toBeLessThan(1e-5);
      });
    }
  }

  it('gives the same bits however many invocations compute a row\'s partial sums', async () => {
    const rt = await runtime();
    const rows = 37 * 3, dim = 1100, eps = 1e-6; // several columns per partial, rows past the last full workgroup
    const x = randn(rows * dim, 30), w = randn(dim, 31), dy = randn(rows * dim, 32);
    const tx = rt.upload(x, [rows, dim]), tw = rt.upload(w, [dim]), tdy = rt.upload(dy, [rows, dim]);
    const run = async (l: RmsnormLaunch) => {
      const y = rt.empty([rows, dim]), rstd = rt.empty([rows]), dx = rt.empty([rows, dim]), dw = rt.zeros([dim]);
      rmsnormForward(rt, tx, tw, y, rstd, rows, dim, eps, l);
      rmsnormBackward(rt, tx, tw, rstd, tdy, dx, dw, rows, dim, l);
      return [await rt.read(y), await rt.read(rstd), await rt.read(dx)].map((a) => Array.from(a));
    };
    for (const partials of [8, 32]) {
      const wide = await run({ partialsPerRow: partials, lanesPerRow: partials, rowsPerGroup: 1 });
      for (const lanes of [1, 4]) expect(await run({ partialsPerRow: partials, lanesPerRow: lanes, rowsPerGroup: 5 })).toEqual(wide);
    }
  });

  it('handles 70001 rows (2-D grid) and its weight gradient is deterministic', async () => {
    const rt = await runtime();
    const rows = 70_001, dim = 3, eps = 1e-5;
    const launch = { partialsPerRow: 4, lanesPerRow: 4, rowsPerGroup: 1 }; // one row per workgroup: 70001 workgroups
    expect(rows).toBeGreaterThan(rt.gpu.maxWorkgroupsPerDim); // otherwise the 2-D path is not exercised
    const x = randn(rows * dim, 20), w = randn(dim, 21), dy = randn(rows * dim, 22);
    const tx = rt.upload(x, [rows, dim]), tw = rt.upload(w, [dim]), tdy = rt.upload(dy, [rows, dim]);
    const y = rt.empty([rows, dim]), rstd = rt.empty([rows]), dx = rt.empty([rows, dim]);
    const dwA = rt.zeros([dim]), dwB = rt.zeros([dim]);
    rmsnormForward(rt, tx, tw, y, rstd, rows, dim, eps, launch);
    rmsnormBackward(rt, tx, tw, rstd, tdy, dx, dwA, rows, dim, launch);
    const dx2 = rt.empty([rows, dim]);
    rmsnormBackward(rt, tx, tw, rstd, tdy, dx2, dwB, rows, dim); // the adapter's own launch: same dw, same dx
    const ref = refForward(x, w, rows, dim, eps), refB = refBackward(x, w, dy, rows, dim, eps);
    const gotY = await rt.read(y), gotDx = await rt.read(dx);
    expect(relErr(gotY, ref.y)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(rstd), ref.rstd)).toBeLessThan(1e-6);
    expect(relErr(gotDx, refB.dx)).toBeLessThan(1e-5);
    // the last rows live in the second grid row: check them on their own too
    const tail = (rows - 10) * dim;
    expect(relErr(gotY.subarray(tail), ref.y.subarray(tail))).toBeLessThan(1e-6);
    expect(relErr(gotDx.subarray(tail), refB.dx.subarray(tail))).toBeLessThan(1e-5);
    expect(relErr(await rt.read(dx2), refB.dx)).toBeLessThan(1e-5);
    const a = await rt.read(dwA), b = await rt.read(dwB);
    expect(relErr(a, refB.dw)).toBeLessThan(1e-5);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('rejects mismatched sizes', async () => {
    const rt = await runtime();
    const x = rt.zeros([4, 8]), y = rt.zeros([4, 8]), rstd = rt.zeros([4]);
    expect(() => rmsnormForward(rt, x, rt.zeros([7]), y, rstd, 4, 8, 1e-6)).toThrow(/expected dim = 8/);
    expect(() => rmsnormForward(rt, x, rt.zeros([8]), rt.zeros([3, 8]), rstd, 4, 8, 1e-6)).toThrow(/fewer than rows\*dim/);
    expect(() => rmsnormForward(rt, x, rt.zeros([8]), y, rt.zeros([3]), 4, 8, 1e-6)).toThrow(/rstd/);
    expect(() => rmsnormForward(rt, x, rt.zeros([8]), y, rstd, 4, 8, 1e-6, { partialsPerRow: 24, lanesPerRow: 24, rowsPerGroup: 1 })).toThrow(/power-of-two/);
    expect(() => rmsnormForward(rt, x, rt.zeros([8]), y, rstd, 4, 8, 1e-6, { partialsPerRow: 8, lanesPerRow: 16, rowsPerGroup: 1 })).toThrow(/lane count <= 8/);
  });
});
