import { describe, expect, it } from 'vitest';
import { swigluBackward, swigluForward } from '../src/ops/swiglu.js';
import { dot, finiteDiff, randn, relErr, runtime, sampleCoords, toF64 } from './util.js';

const sigmoid = (g: number): number => (g >= 0 ? 1 / (1 + Math.exp(-g)) : Math.exp(g) / (1 + Math.exp(g)));

/** float64 reference: out = g * sigmoid(g) * u. */
function refForward(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: gate.length }, (_, i) => gate[i]! * sigmoid(gate[i]!) * up[i]!);
}

/** float64 reference backward: dGate = d * u * s * (1 + g (1 - s)), dUp = d * g * s. */
function refBackward(gate: ArrayLike<number>, up: ArrayLike<number>, dOut: ArrayLike<number>): { dGate: Float64Array; dUp: Float64Array } {
  const n = gate.length, dGate = new Float64Array(n), dUp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = gate[i]!, s = sigmoid(g);
    dGate[i] = dOut[i]! * up[i]! * s * (1 + g * (1 - s));
    dUp[i] = dOut[i]! * g * s;
  }
  return { dGate, dUp };
}

async function runGpu(gate: Float32Array, up: Float32Array, dOut: Float32Array) {
  const rt = await runtime();
  const n = gate.length;
  const tg = rt.upload(gate, [n]), tu = rt.upload(up, [n]), td = rt.upload(dOut, [n]);
  const out = rt.upload(randn(n, 90), [n]), dGate = rt.upload(randn(n, 91), [n]), dUp = rt.upload(randn(n, 92), [n]);
  swigluForward(rt, tg, tu, out, n);
  swigluBackward(rt, tg, tu, td, dGate, dUp, n);
  return { out: await rt.read(out), dGate: await rt.read(dGate), dUp: await rt.read(dUp) };
}

describe('swiglu', () => {
  it('float64 reference backward agrees with finite differences', () => {
    const n = 23;
    const g = toF64(randn(n, 1, 3)), u = toF64(randn(n, 2)), R = toF64(randn(n, 3));
    const { dGate, dUp } = refBackward(g, u, R);
    const coords = sampleCoords(n, 12, 4);
    const fdG = finiteDiff((gg) => dot(R, refForward(gg, u)), g, coords);
    const fdU = finiteDiff((uu) => dot(R, refForward(g, uu)), u, coords);
    expect(relErr(fdG, coords.map((i) => dGate[i]!))).toBeLessThan(1e-8);
    expect(relErr(fdU, coords.map((i) => dUp[i]!))).toBeLessThan(1e-8);
  });

  it('forward and backward match float64 (37 x 27 elements)', async () => {
    const n = 37 * 27;
    const gate = randn(n, 5, 3), up = randn(n, 6), dOut = randn(n, 7);
    const got = await runGpu(gate, up, dOut);
    const ref = refBackward(gate, up, dOut);
    expect(relErr(got.out, refForward(gate, up))).toBeLessThan(1e-6);
    expect(relErr(got.dGate, ref.dGate)).toBeLessThan(1e-6);
    expect(relErr(got.dUp, ref.dUp)).toBeLessThan(1e-6);
  });

  it('stays finite and accurate for large |gate|', async () => {
    const gate = Float32Array.from([-1e4, -100, -88, -30, -10, -1e-3, 0, 1e-3, 10, 30, 88, 100, 1e4]);
    const up = Float32Array.from(gate, (_, i) => 1 + 0.1 * i), dOut = Float32Array.from(gate, (_, i) => 2 - 0.1 * i);
    const got = await runGpu(gate, up, dOut);
    const refOut = refForward(gate, up), ref = refBackward(gate, up, dOut);
    for (const [a, b] of [[got.out, refOut], [got.dGate, ref.dGate], [got.dUp, ref.dUp]] as const) {
      for (let i = 0; i < gate.length; i++) {
        expect(Number.isFinite(a[i]!)).toBe(true);
        expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[i]!)));
      }
    }
  });

  it('rejects tensors smaller than n and aliased outputs', async () => {
    const rt = await runtime();
    const a = rt.zeros([10]), b = rt.zeros([10]), c = rt.zeros([9]);
    expect(() => swigluForward(rt, a, b, c, 10)).toThrow(/fewer than n = 10/);
    expect(() => swigluForward(rt, a, b, a, 10)).toThrow(/share a buffer/);
    // dOut may be one of the inputs (only the outputs must be distinct): the gradient is still right
    const g = Float32Array.from({ length: 10 }, (_, i) => Math.sin(i + 1)), u = Float32Array.from({ length: 10 }, (_, i) => Math.cos(i));
    const tg = rt.upload(g, [10]), dGate = rt.zeros([10]), dUp = rt.zeros([10]);
    swigluBackward(rt, tg, rt.upload(u, [10]), tg, dGate, dUp, 10);
    const ref = refBackward(g, u, g);
    expect(relErr(await rt.read(dGate), ref.dGate)).toBeLessThan(1e-6);
    expect(relErr(await rt.read(dUp), ref.dUp)).toBeLessThan(1e-6);
  });
});
