import { describe, expect, it } from 'vitest';
import { buildRopeTable, ropeBackward, ropeForward, ropeTableData } from '../src/ops/rope.js';
import { dot, finiteDiff, maxAbsDiff, randn, relErr, rng, runtime, sampleCoords, toF64 } from './util.js';

/** The f32 angles of Hugging Face (inv_freq and pos * inv_freq rounded to f32), written with Float32Array stores. */
function f32Angles(D: number, theta: number, pos: number): Float64Array {
  const half = D / 2;
  const r = new Float32Array(1);
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    r[0] = (2 * i) / D;
    r[0] = Math.pow(theta, r[0]!);
    r[0] = 1 / r[0]!;
    r[0] = pos * r[0]!;
    out[i] = r[0]!;
  }
  return out;
}

/** float64 reference: out[i] = x1 c - x2 s, out[i+D/2] = x2 c + x1 s, with (c, s) from the table; sign -1 rotates back. */
function refRope(x: ArrayLike<number>, pos: ArrayLike<number>, table: ArrayLike<number>, N: number, heads: number, D: number, sign = 1): Float64Array {
  const half = D / 2, out = new Float64Array(N * heads * D);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < half; i++) {
        const c = table[pos[n]! * D + i]!, s = sign * table[pos[n]! * D + half + i]!;
        const a = (n * heads + h) * D + i;
        out[a] = x[a]! * c - x[a + half]! * s;
        out[a + half] = x[a + half]! * c + x[a]! * s;
      }
  return out;
}

describe('rope table', () => {
  it('is cos/sin of the f32 angles of Hugging Face, also at position 40000 with theta 1e6', () => {
    const D = 128, theta = 1e6, maxPos = 40960;
    const table = ropeTableData(D, theta, maxPos);
    let worst = 0, worstExact = 0;
    for (const pos of [0, 1, 7, 4095, 32768, 40000, 40959]) {
      const ang = f32Angles(D, theta, pos);
      const ref = new Float64Array(D);
      const exactAngles = new Float64Array(D);
      for (let i = 0; i < D / 2; i++) {
        ref[i] = Math.cos(ang[i]!);
        ref[i + D / 2] = Math.sin(ang[i]!);
        const a = pos * Math.pow(theta, (-2 * i) / D);
        exactAngles[i] = Math.cos(a);
        exactAngles[i + D / 2] = Math.sin(a);
      }
      const row = table.subarray(pos * D, (pos + 1) * D);
      worst = Math.max(worst, maxAbsDiff(row, ref));
      worstExact = Math.max(worstExact, maxAbsDiff(row, exactAngles));
    }
    expect(worst).toBeLessThan(1e-7); // only the final rounding of cos/sin to f32
    // the f32 angle matters: at position 40000 it is off the exact angle by ~1e-3 rad
    expect(worstExact).toBeGreaterThan(1e-4);
  });

  it('has inv_freq = theta^(-2i/D) up to f32 rounding', () => {
    const D = 20, theta = 1e6;
    const row1 = ropeTableData(D, theta, 2).subarray(D); // position 1: angle = inv_freq
    for (let i = 0; i < D / 2; i++) {
      const angle = Math.atan2(row1[D / 2 + i]!, row1[i]!);
      expect(Math.abs(angle / Math.pow(theta, (-2 * i) / D) - 1)).toBeLessThan(1e-6); // f32 exponent, pow, reciprocal and cos/sin roundings
    }
  });

  it('uploads as [maxPositions, D]', async () => {
    const rt = await runtime();
    const t = buildRopeTable(rt, 20, 1e4, 33);
    expect(t.shape).toEqual([33, 20]);
    expect(Array.from(await rt.read(t))).toEqual(Array.from(ropeTableData(20, 1e4, 33)));
    expect(() => ropeTableData(21, 1e4, 33)).toThrow(/even/);
  });
});

describe('rope', () => {
  it('float64 reference backward (rotation by -angle) agrees with finite differences', () => {
    const N = 4, heads = 2, D = 6;
    const table = toF64(ropeTableData(D, 1e4, 50));
    const pos = [0, 3, 49, 17];
    const x = toF64(randn(N * heads * D, 1)), R = toF64(randn(N * heads * D, 2));
    const grad = refRope(R, pos, table, N, heads, D, -1);
    const coords = sampleCoords(x.length, 20, 3);
    const fd = finiteDiff((xx) => dot(R, refRope(xx, pos, table, N, heads, D)), x, coords);
    expect(relErr(fd, coords.map((i) => grad[i]!))).toBeLessThan(1e-8);
  });

  it('forward and backward match float64 (37 tokens, 3 heads, head_dim 20, positions up to 40000)', async () => {
    const rt = await runtime();
    const N = 37, heads = 3, D = 20, maxPos = 40001;
    const u = rng(7);
    const pos = Int32Array.from({ length: N }, (_, n) => (n < 4 ? [0, 40000, 39999, 5][n]! : Math.floor(u() * maxPos)));
    const x = randn(N * heads * D, 8), dOut = randn(N * heads * D, 9);
    const table = buildRopeTable(rt, D, 1e6, maxPos);
    const tableData = ropeTableData(D, 1e6, maxPos);
    const tx = rt.upload(x, [N, heads, D]), tdOut = rt.upload(dOut, [N, heads, D]), tpos = rt.upload(pos, [N]);
    const out = rt.upload(randn(N * heads * D, 10), [N, heads, D]), dx = rt.upload(randn(N * heads * D, 11), [N, heads, D]);
    ropeForward(rt, tx, tpos, table, out, N, heads, D);
    ropeBackward(rt, tdOut, tpos, table, dx, N, heads, D);
    const errF = relErr(await rt.read(out), refRope(x, pos, tableData, N, heads, D));
    const errB = relErr(await rt.read(dx), refRope(dOut, pos, tableData, N, heads, D, -1));
    expect(errF).toBeLessThan(1e-6);
    expect(errB).toBeLessThan(1e-6);
  });

  it('rejects bad shapes', async () => {
    const rt = await runtime();
    const table = buildRopeTable(rt, 8, 1e4, 4);
    const x = rt.zeros([2, 3, 8]), out = rt.zeros([2, 3, 8]);
    expect(() => ropeForward(rt, x, rt.zeros([2], 'i32'), table, out, 2, 3, 6)).toThrow(/table/);
    expect(() => ropeForward(rt, x, rt.zeros([2], 'f32'), table, out, 2, 3, 8)).toThrow(/i32/);
    expect(() => ropeForward(rt, x, rt.zeros([2], 'i32'), table, rt.zeros([5, 8]), 2, 3, 8)).toThrow(/fewer than N\*heads\*D/);
    expect(() => ropeForward(rt, x, rt.zeros([2], 'i32'), table, x, 2, 3, 8)).toThrow(/different buffers/);
  });
});
