import { describe, expect, it } from 'vitest';
import { RowSplitTensor } from '../src/gpu/row-split.js';
import { embeddingBackward, embeddingForward } from '../src/ops/embedding.js';
import { dot, finiteDiff, randn, relErr, rng, runtime, sampleCoords, toF64 } from './util.js';

/** float64 reference gather: out[n, :] = W[ids[n], :]. */
function refForward(ids: ArrayLike<number>, W: ArrayLike<number>, H: number): Float64Array {
  const out = new Float64Array(ids.length * H);
  for (let n = 0; n < ids.length; n++) for (let c = 0; c < H; c++) out[n * H + c] = W[ids[n]! * H + c]!;
  return out;
}

/** float64 reference backward: dW[ids[n], :] += dOut[n, :]. */
function refBackward(ids: ArrayLike<number>, dOut: ArrayLike<number>, V: number, H: number): Float64Array {
  const dW = new Float64Array(V * H);
  for (let n = 0; n < ids.length; n++) for (let c = 0; c < H; c++) dW[ids[n]! * H + c] += dOut[n * H + c]!;
  return dW;
}

const V = 29, H = 20, N = 37;
/** Repeated ids, both ends of the vocabulary, both sides of each part boundary (parts of 8 rows), one row never used. */
function testIds(): Int32Array {
  const u = rng(3);
  const fixed = [0, 28, 7, 8, 15, 16, 23, 24, 5, 5, 5, 28, 0];
  return Int32Array.from({ length: N }, (_, n) => {
    if (n < fixed.length) return fixed[n]!;
    const id = 1 + Math.floor(u() * (V - 2));
    return id === 11 ? 12 : id; // row 11 stays unused
  });
}

describe('embedding', () => {
  it('float64 reference backward agrees with finite differences', () => {
    const ids = testIds();
    const W = toF64(randn(V * H, 1)), R = toF64(randn(N * H, 2));
    const grad = refBackward(ids, R, V, H);
    const coords = [...sampleCoords(V * H, 25, 3), 0, 28 * H + 19, 5 * H + 3];
    const fd = finiteDiff((w) => dot(R, refForward(ids, w, H)), W, coords);
    expect(relErr(fd, coords.map((i) => grad[i]!))).toBeLessThan(1e-8);
  });

  it('forward gathers across row-split parts and backward scatter-adds repeated ids deterministically', async () => {
    const rt = await runtime();
    const ids = testIds();
    const w = randn(V * H, 4), dOut = randn(N * H, 5), dW0 = randn(V * H, 6);
    const W = RowSplitTensor.zeros(rt, V, H, 'W', 8 * H * 4);
    expect(W.parts.map((p) => p.rows)).toEqual([8, 8, 8, 5]);
    W.write(rt, w);
    const dWa = RowSplitTensor.zeros(rt, V, H, 'dWa', 8 * H * 4), dWb = RowSplitTensor.zeros(rt, V, H, 'dWb', 8 * H * 4);
    dWa.write(rt, dW0);
    const tids = rt.upload(ids, [N]), tdOut = rt.upload(dOut, [N, H]);
    const out = rt.upload(randn(N * H, 7), [N, H]);
    embeddingForward(rt, tids, W, out, N);
    embeddingBackward(rt, ids, tdOut, dWa);
    embeddingBackward(rt, ids, tdOut, dWb);
    expect(relErr(await rt.read(out), refForward(ids, w, H))).toBe(0); // a gather is exact
    const ref = refBackward(ids, dOut, V, H);
    const added = Array.from(await dWa.read(rt), (v, i) => v - dW0[i]!);
    expect(relErr(added, ref)).toBeLessThan(1e-6);
    const b = await dWb.read(rt);
    expect(relErr(b, ref)).toBeLessThan(1e-6);
    expect(Array.from(b.subarray(11 * H, 12 * H)).every((v) => v === 0)).toBe(true); // an unused row stays untouched
    // same ids, same order of summation: bit-identical on a second run
    const dWc = RowSplitTensor.zeros(rt, V, H, 'dWc', 8 * H * 4);
    embeddingBackward(rt, ids, tdOut, dWc);
    expect(Array.from(await dWc.read(rt))).toEqual(Array.from(b));
  });

  it('writes zero rows for out-of-range ids in the forward and rejects them in the backward', async () => {
    const rt = await runtime();
    const W = RowSplitTensor.zeros(rt, V, H, 'W', 8 * H * 4);
    W.write(rt, randn(V * H, 8));
    const ids = Int32Array.from([3, -1, 29, 28]);
    const out = rt.upload(randn(4 * H, 9), [4, H]);
    embeddingForward(rt, rt.upload(ids, [4]), W, out, 4);
    // rows 0 and 3 gathered exactly, rows 1 and 2 (ids -1 and 29 = V) zero
    const want = refForward([3, 0, 0, 28], await W.read(rt), H);
    want.fill(0, H, 3 * H);
    expect(Array.from(await rt.read(out))).toEqual(Array.from(want));
    const dW = RowSplitTensor.zeros(rt, V, H, 'dW', 8 * H * 4);
    expect(() => embeddingBackward(rt, ids, rt.zeros([4, H]), dW)).toThrow(/ids\[1\] = -1 is outside the vocabulary \[0, 29\)/);
    expect(() => embeddingBackward(rt, Int32Array.from([0, 1]), rt.zeros([1, H]), dW)).toThrow(/cannot hold/);
    expect(() => embeddingForward(rt, rt.zeros([4], 'f32'), W, out, 4)).toThrow(/i32/);
  });
});
