import { afterAll, describe, expect, it } from 'vitest';
import {
  attentionBackward, attentionForward, attentionTiles, cpuAttentionBlockRows, cpuAttentionLanes, resolveAttentionVariant, setAttentionVariant,
  type AttentionShape, type AttentionTiles, type ResolvedAttentionVariant,
} from '../src/ops/attention.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { dot, finiteDiff, randn, relErr, runtime, sampleCoords, toF64 } from './util.js';

/** float64 reference: naive causal softmax attention per sequence, GQA head mapping. */
function refForward(q: Float64Array, k: Float64Array, v: Float64Array, s: AttentionShape): { out: Float64Array; lse: Float64Array } {
  const { B, T, Hq, Hkv, D, scale } = s;
  const out = new Float64Array(B * T * Hq * D), lse = new Float64Array(B * T * Hq);
  const group = Hq / Hkv;
  const scores = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let t = 0; t < T; t++) {
        const qi = ((b * T + t) * Hq + h) * D;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          const kj = ((b * T + j) * Hkv + Math.floor(h / group)) * D;
          let sc = 0;
          for (let d = 0; d < D; d++) sc += q[qi + d]! * k[kj + d]!;
          scores[j] = scale * sc;
          max = Math.max(max, scores[j]!);
        }
        let sum = 0;
        for (let j = 0; j <= t; j++) sum += Math.exp(scores[j]! - max);
        for (let j = 0; j <= t; j++) {
          const pj = Math.exp(scores[j]! - max) / sum;
          const vj = ((b * T + j) * Hkv + Math.floor(h / group)) * D;
          for (let d = 0; d < D; d++) out[qi + d] += pj * v[vj + d]!;
        }
        lse[(b * T + t) * Hq + h] = max + Math.log(sum);
      }
  return { out, lse };
}

/**
 * float64 analytic backward: dV_j += P_ij dO_i, dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)
 * with dP_ij = dO_i . v_j, dQ_i = scale sum_j dS_ij k_j, dK_j += scale dS_ij q_i.
 */
function refBackward(q: Float64Array, k: Float64Array, v: Float64Array, dOut: Float64Array, s: AttentionShape) {
  const { B, T, Hq, Hkv, D, scale } = s;
  const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
  const group = Hq / Hkv;
  const probs = new Float64Array(T), dProbs = new Float64Array(T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let t = 0; t < T; t++) {
        const qi = ((b * T + t) * Hq + h) * D;
        const kvRow = (j: number) => ((b * T + j) * Hkv + Math.floor(h / group)) * D;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          let sc = 0;
          for (let d = 0; d < D; d++) sc += q[qi + d]! * k[kvRow(j) + d]!;
          probs[j] = scale * sc;
          max = Math.max(max, probs[j]!);
        }
        let sum = 0;
        for (let j = 0; j <= t; j++) sum += (probs[j] = Math.exp(probs[j]! - max));
        let pdp = 0;
        for (let j = 0; j <= t; j++) {
          probs[j]! /= sum;
          let dp = 0;
          for (let d = 0; d < D; d++) dp += dOut[qi + d]! * v[kvRow(j) + d]!;
          dProbs[j] = dp;
          pdp += probs[j]! * dp;
        }
        for (let j = 0; j <= t; j++) {
          const ds = probs[j]! * (dProbs[j]! - pdp);
          const kj = kvRow(j);
          for (let d = 0; d < D; d++) {
            dq[qi + d] += scale * ds * k[kj + d]!;
            dk[kj + d] += scale * ds * q[qi + d]!;
            dv[kj + d] += probs[j]! * dOut[qi + d]!;
          }
        }
      }
  return { dq, dk, dv };
}

function shapeOf(B: number, T: number, Hq: number, Hkv: number, D: number): AttentionShape {
  return { B, T, Hq, Hkv, D, scale: 1 / Math.sqrt(D) };
}

describe('attention reference', () => {
  it('analytic backward matches central finite differences of dot(W, out)', () => {
    const s = shapeOf(2, 5, 4, 2, 6);
    const nq = s.B * s.T * s.Hq * s.D, nkv = s.B * s.T * s.Hkv * s.D;
    const q = toF64(randn(nq, 11)), k = toF64(randn(nkv, 12)), v = toF64(randn(nkv, 13));
    const w = toF64(randn(nq, 14));
    const grads = refBackward(q, k, v, w, s);
    const loss = () => dot(w, refForward(q, k, v, s).out);
    for (const [name, x, g] of [['q', q, grads.dq], ['k', k, grads.dk], ['v', v, grads.dv]] as const) {
      const coords = sampleCoords(x.length, 8, name.charCodeAt(0));
      const numeric = finiteDiff(() => loss(), x, coords);
      const analytic = coords.map((i) => g[i]!);
      expect(relErr(analytic, numeric), name).toBeLessThan(1e-6);
    }
  });

  it('causal: a query does not depend on later keys or other sequences', () => {
    const s = shapeOf(2, 4, 1, 1, 3);
    const n = s.B * s.T * s.D;
    const q = toF64(randn(n, 1)), k = toF64(randn(n, 2)), v = toF64(randn(n, 3));
    const before = refForward(q, k, v, s).out;
    // perturb key/value of token 2 of sequence 0: tokens 0-1 of seq 0 and all of seq 1 stay
    for (let d = 0; d < s.D; d++) { k[2 * s.D + d]! += 1; v[2 * s.D + d]! += 1; }
    const after = refForward(q, k, v, s).out;
    for (let i = 0; i < n; i++) {
      const token = Math.floor(i / s.D);
      const affected = token === 2 || token === 3;
      expect(after[i] !== before[i], `element ${i}`).toBe(affected);
    }
  });
});

interface Case { name: string; s: AttentionShape; budget?: number }

const cases: Case[] = [
  { name: 'T=1', s: shapeOf(1, 1, 2, 1, 16) },
  { name: 'T=5, MHA (ratio 1), D=20', s: shapeOf(1, 5, 3, 3, 20) },
  { name: 'B=2, T=37, GQA ratio 2, D=24', s: shapeOf(2, 37, 4, 2, 24) },
  { name: 'B=3, T=37, GQA ratio 3, D=20', s: shapeOf(3, 37, 3, 1, 20) },
  { name: 'B=2, T=37, ratio 3, D=20, 16 KiB of workgroup memory', s: shapeOf(2, 37, 6, 2, 20), budget: 16384 },
  { name: 'B=2, T=37, ratio 2, D=20, tiny tiles (4 KiB)', s: shapeOf(2, 37, 4, 2, 20), budget: 4096 },
  // D = 38: not a multiple of 4 or of the subgroup size (the cpu kernels' last row slice is partial).
  { name: 'B=2, T=21, ratio 2, D=38', s: shapeOf(2, 21, 2, 1, 38) },
  { name: 'B=2, T=19, ratio 2, D=6', s: shapeOf(2, 19, 4, 2, 6) },
  { name: 'T=70, D=128, Hq=4, Hkv=2 (several tiles)', s: shapeOf(1, 70, 4, 2, 128) },
  { name: 'T=9, D=256', s: shapeOf(1, 9, 2, 1, 256) },
];

interface AttentionErrors { out: number; lse: number; dq: number; dk: number; dv: number }

/** Runs forward and backward on random data and returns the relative errors against the float64 reference. */
async function errorsAgainstReference(rt: Runtime, s: AttentionShape, tiles?: AttentionTiles): Promise<AttentionErrors> {
  const N = s.B * s.T, nq = N * s.Hq * s.D, nkv = N * s.Hkv * s.D;
  const seed = s.T * 100 + s.D;
  const q = randn(nq, seed + 1), k = randn(nkv, seed + 2), v = randn(nkv, seed + 3), dOut = randn(nq, seed + 4);
  const tq = rt.upload(q, [N, s.Hq, s.D]), tk = rt.upload(k, [N, s.Hkv, s.D]), tv = rt.upload(v, [N, s.Hkv, s.D]);
  const tdOut = rt.upload(dOut, [N, s.Hq, s.D]);
  // garbage everywhere: the forward must write all of out and lse, the backward
  // must overwrite the gradients, not accumulate
  const out = rt.upload(randn(nq, 5), [N, s.Hq, s.D]), lse = rt.upload(randn(N * s.Hq, 6), [N, s.Hq]);
  const dq = rt.upload(randn(nq, 7), [N, s.Hq, s.D]);
  const dk = rt.upload(randn(nkv, 8), [N, s.Hkv, s.D]), dv = rt.upload(randn(nkv, 9), [N, s.Hkv, s.D]);

  attentionForward(rt, tq, tk, tv, out, lse, s, tiles);
  attentionBackward(rt, tq, tk, tv, out, lse, tdOut, dq, dk, dv, s, tiles);

  const ref = refForward(toF64(q), toF64(k), toF64(v), s);
  const grads = refBackward(toF64(q), toF64(k), toF64(v), toF64(dOut), s);
  const errs = {
    out: relErr(await rt.read(out), ref.out),
    lse: relErr(await rt.read(lse), ref.lse),
    dq: relErr(await rt.read(dq), grads.dq),
    dk: relErr(await rt.read(dk), grads.dk),
    dv: relErr(await rt.read(dv), grads.dv),
  };
  for (const t of [tq, tk, tv, tdOut, out, lse, dq, dk, dv]) t.dispose();
  return errs;
}

// About ten times the largest errors measured over these cases on lavapipe, both kernel sets
// (out 2.6e-7, lse 1.0e-7, dq / dk / dv 5.5e-7 at T=70, D=128).
function expectAccurate(errs: AttentionErrors): void {
  expect(errs.out).toBeLessThan(3e-6);
  expect(errs.lse).toBeLessThan(1e-6);
  expect(errs.dq).toBeLessThan(5e-6);
  expect(errs.dk).toBeLessThan(5e-6);
  expect(errs.dv).toBeLessThan(5e-6);
}

const fmtErrors = (errs: AttentionErrors) => JSON.stringify(errs, (_, x) => (typeof x === 'number' ? Number(x.toExponential(2)) : x));

const rtPromise = runtime();
const variants: ResolvedAttentionVariant[] = ['gpu'];
if ((await rtPromise).gpu.features.has('subgroups')) variants.push('cpu');

afterAll(() => setAttentionVariant('auto'));

describe('attention variant choice', () => {
  it("'auto' picks the cpu kernels on a CPU adapter with subgroups, the gpu kernels otherwise", async () => {
    const rt = await rtPromise;
    const cpu = rt.gpu.isCpuAdapter && rt.gpu.features.has('subgroups');
    expect(resolveAttentionVariant(rt, 'auto')).toBe(cpu ? 'cpu' : 'gpu');
    expect(resolveAttentionVariant(rt, 'gpu')).toBe('gpu');
    if (!rt.gpu.features.has('subgroups')) expect(() => resolveAttentionVariant(rt, 'cpu')).toThrow(/subgroups/);
  });

  it('cpu workgroups hold whole subgroups', async () => {
    const rt = await rtPromise;
    const lanes = cpuAttentionLanes(rt);
    const maxSubgroup = (rt.gpu.adapter.info as unknown as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0;
    if (maxSubgroup > 0) expect(lanes % maxSubgroup).toBe(0);
    expect(lanes).toBeLessThanOrEqual(rt.gpu.maxWorkgroupInvocations);
  });
});

for (const variant of variants) {
  describe(`attention (${variant} kernels) vs float64 reference`, () => {
    for (const { name, s, budget } of cases) {
      it(`${name}: forward (out, lse) and backward (dq, dk, dv)`, async () => {
        const rt = await rtPromise;
        setAttentionVariant(variant);
        expect(resolveAttentionVariant(rt)).toBe(variant);
        // Workgroup-memory budgets only shape the gpu kernels' tiles.
        const tiles = budget ? attentionTiles(rt, s.D, budget) : undefined;
        const errs = await errorsAgainstReference(rt, s, tiles);
        console.log(`attention (${variant}) ${name}: ${tiles ? `tiles ${JSON.stringify(tiles)} ` : ''}errors ${fmtErrors(errs)}`);
        expectAccurate(errs);
      });
    }

    it('backward is deterministic (bit-identical on a second run)', async () => {
      const rt = await rtPromise;
      setAttentionVariant(variant);
      const s = shapeOf(2, 37, 4, 2, 24);
      const N = s.B * s.T, nq = N * s.Hq * s.D, nkv = N * s.Hkv * s.D;
      const tq = rt.upload(randn(nq, 1), [nq]), tk = rt.upload(randn(nkv, 2), [nkv]), tv = rt.upload(randn(nkv, 3), [nkv]);
      const tdOut = rt.upload(randn(nq, 4), [nq]);
      const out = rt.empty([nq]), lse = rt.empty([N * s.Hq]);
      attentionForward(rt, tq, tk, tv, out, lse, s);
      const runs: Float32Array[][] = [];
      for (let r = 0; r < 2; r++) {
        const dq = rt.empty([nq]), dk = rt.empty([nkv]), dv = rt.empty([nkv]);
        attentionBackward(rt, tq, tk, tv, out, lse, tdOut, dq, dk, dv, s);
        runs.push([await rt.read(dq), await rt.read(dk), await rt.read(dv)]);
        for (const t of [dq, dk, dv]) t.dispose();
      }
      for (let i = 0; i < 3; i++) expect(Buffer.from(runs[1]![i]!.buffer).equals(Buffer.from(runs[0]![i]!.buffer))).toBe(true);
      for (const t of [tq, tk, tv, tdOut, out, lse]) t.dispose();
    });

    it('rejects mismatched shapes', async () => {
      const rt = await rtPromise;
      setAttentionVariant(variant);
      const s = shapeOf(1, 4, 3, 2, 8);
      const t = rt.empty([4 * 3 * 8]);
      expect(() => attentionForward(rt, t, t, t, t, t, s)).toThrow(/not a multiple/);
      const ok = shapeOf(1, 4, 3, 3, 8);
      const lse = rt.empty([4 * 3]), out = rt.empty([4 * 3 * 8]), short = rt.empty([4 * 3 * 8 - 1]);
      expect(() => attentionForward(rt, t, t, short, out, lse, ok)).toThrow(/expected 96/);
      if (variant === 'gpu') {
        expect(() => attentionForward(rt, t, t, t, out, lse, ok, { ...attentionTiles(rt, 8), forwardKeys: 1 << 20 })).toThrow(/workgroup memory/);
      }
      for (const x of [t, lse, out, short]) x.dispose();
    });
  });
}

describe('attention (cpu kernels) on a 2-D grid', () => {
  it.runIf(variants.includes('cpu'))('spreads workgroups over two grid dimensions when one would exceed the limit', async () => {
    const rt = await rtPromise;
    setAttentionVariant('cpu');
    // The same runtime, claiming only 4 workgroups per grid dimension; records the grids it is given.
    const limit = 4;
    const grids: (number | undefined)[][] = [];
    const small = new Proxy(rt, {
      get(target, prop) {
        if (prop === 'gpu') return { ...target.gpu, maxWorkgroupsPerDim: limit };
        if (prop === 'grid') return (n: number): [number, number] => (n <= limit ? [n, 1] : [Math.ceil(n / Math.ceil(n / limit)), Math.ceil(n / limit)]);
        if (prop === 'dispatch') {
          return (...args: Parameters<Runtime['dispatch']>) => {
            grids.push([...args[3]]);
            target.dispatch(...args);
          };
        }
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    // 7 query blocks: forward and dQ need 14 workgroups (4 x 4, two of them padding), dK/dV 7 (4 x 2).
    const s = shapeOf(1, 6 * cpuAttentionBlockRows(rt) + 3, 2, 1, 8);
    const errs = await errorsAgainstReference(small, s);
    console.log(`attention (cpu, 2-D grid) T=${s.T}: grids ${JSON.stringify(grids)} errors ${fmtErrors(errs)}`);
    expect(grids).toEqual([[4, 4], [4, 4], [4, 2]]);
    expectAccurate(errs);
  });
});
