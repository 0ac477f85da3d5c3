import { describe, expect, it } from 'vitest';
import type { Runtime } from '../src/gpu/runtime.js';
import { decodeSamples, samplerThreadsPerRow, sampleTokensWith, type SamplingParams } from '../src/ops/sample.js';
import { randn, runtime } from './util.js';

// ---- float64 references ----------------------------------------------------

/** Philox4x32-10 (Salmon et al. 2011), the generator the kernel uses. */
function philox4x32_10(counter: readonly number[], key: readonly number[]): number[] {
  const mulHiLo = (a: number, b: number): [number, number] => {
    const prod = BigInt(a) * BigInt(b);
    return [Number(prod >> 32n), Number(prod & 0xffffffffn)];
  };
  let [c0, c1, c2, c3] = counter as [number, number, number, number];
  let [k0, k1] = key as [number, number];
  for (let i = 0; i < 10; i++) {
    const [hi0, lo0] = mulHiLo(0xd2511f53, c0);
    const [hi1, lo1] = mulHiLo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** log softmax(l / T) in float64. */
function logSoftmax(l: ArrayLike<number>, T: number): Float64Array {
  const z = Float64Array.from(l as ArrayLike<number>, (x) => x / T);
  const m = z.reduce((a, x) => Math.max(a, x), -Infinity);
  const lse = m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
  return z.map((x) => x - lse);
}

interface Target {
  /** The distribution sampling must follow: softmax(l / T) on the kept set, renormalised. */
  q: Float64Array;
  kept: boolean[];
  /** Distance of the top-p / min-p decisions from their boundaries (the test data must not be borderline for f32). */
  margin: number;
}

/**
 * Kept set and target distribution: top-k keeps logits >= the k-th largest;
 * top-p, on the top-k renormalised distribution, keeps logits >= the value at
 * which the descending cumulative mass first reaches topP (ties kept); min-p
 * keeps p >= minP * p_max.
 */
function target(l: ArrayLike<number>, p: SamplingParams): Target {
  const V = l.length, T = p.temperature;
  const lp = logSoftmax(l, T);
  const values = [...new Set(Array.from(l as ArrayLike<number>))].sort((a, b) => b - a); // distinct, descending
  const sortedAll = Array.from(l as ArrayLike<number>).sort((a, b) => b - a);
  const kth = p.topK > 0 && p.topK < V ? sortedAll[p.topK - 1]! : -Infinity;
  let margin = Infinity;
  let pThreshold = -Infinity;
  if (p.topP < 1) {
    let massK = 0;
    for (let v = 0; v < V; v++) if (l[v]! >= kth) massK += Math.exp(lp[v]!);
    let cum = 0;
    for (const x of values) {
      if (x < kth) break;
      let m = 0;
      for (let v = 0; v < V; v++) if (l[v] === x) m += Math.exp(lp[v]!) / massK;
      margin = Math.min(margin, Math.abs(cum + m - p.topP));
      cum += m;
      if (cum >= p.topP) { pThreshold = x; break; }
    }
  }
  const lpMax = lp.reduce((a, x) => Math.max(a, x), -Infinity);
  const kept = Array.from({ length: V }, (_, v) => {
    const ratio = Math.exp(lp[v]! - lpMax);
    if (p.minP > 0) margin = Math.min(margin, Math.abs(ratio - p.minP));
    return l[v]! >= kth && l[v]! >= pThreshold && ratio >= p.minP;
  });
  let z = 0;
  for (let v = 0; v < V; v++) if (kept[v]) z += Math.exp(lp[v]!);
  const q = Float64Array.from({ length: V }, (_, v) => (kept[v] ? Math.exp(lp[v]!) / z : 0));
  return { q, kept, margin };
}

/** Index of the largest value, lowest on ties. */
function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

function totalVariation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / 2;
}

/**
 * A bound TV(empirical, q) stays below except with probability 1e-6 for n
 * draws from q: E[TV] <= 1/2 sum_v sqrt(q_v (1 - q_v) / n) (Jensen per token),
 * and TV moves by at most 1/n per draw, so McDiarmid gives
 * P(TV > E[TV] + t) <= exp(-2 n t^2) = 1e-6 for t = sqrt(ln(1e6) / (2n)).
 */
function tvBound(q: ArrayLike<number>, n: number): number {
  let e = 0;
  for (let i = 0; i < q.length; i++) e += Math.sqrt((q[i]! * (1 - q[i]!)) / n);
  return e / 2 + Math.sqrt(Math.log(1e6) / (2 * n));
}

// ---- GPU helpers ---------------------------------------------------------------

interface Draws { ids: Int32Array; logprobs: Float32Array }

/** Samples `steps` times from M rows (row i uses stream rowSeeds[i]); draws are step-major. */
async function sample(
  rt: Runtime, rows: Float32Array, M: number, V: number, rowSeeds: Uint32Array, p: SamplingParams, steps: number[], threads = samplerThreadsPerRow(rt),
): Promise<Draws> {
  const logits = rt.upload(rows, [M, V]);
  const seeds = rt.upload(rowSeeds, [M]);
  const out = rt.empty([M, 2], 'i32');
  const ids = new Int32Array(M * steps.length), logprobs = new Float32Array(M * steps.length);
  for (const [s, step] of steps.entries()) {
    sampleTokensWith(rt, logits, seeds, out, M, V, step, p, threads);
    const d = decodeSamples(await rt.readBytes(out), M);
    ids.set(d.ids, s * M);
    logprobs.set(d.logprobs, s * M);
  }
  logits.dispose(); seeds.dispose(); out.dispose();
  return { ids, logprobs };
}

function repeatRow(row: Float32Array, M: number): Float32Array {
  const out = new Float32Array(M * row.length);
  for (let i = 0; i < M; i++) out.set(row, i * row.length);
  return out;
}

const seq = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const off: Omit<SamplingParams, 'temperature' | 'seed'> = { topK: 0, topP: 1, minP: 0 };

// ---- tests ------------------------------------------------------------------------

describe('sampleTokens', () => {
  it('the reference Philox4x32-10 matches the Random123 known-answer vectors', () => {
    const hex = (xs: number[]) => xs.map((x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox4x32_10([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const f = 0xffffffff;
    expect(hex(philox4x32_10([f, f, f, f], [f, f]))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  it('draws the noise of token v in row i from Philox at (seed, rowSeeds[i], step, v), on both workgroup sizes', async () => {
    // With equal logits the Gumbel-max pick is the token with the largest uniform.
    const rt = await runtime();
    const V = 50, M = 300, seed = 2 ** 32 + 12345, step = 17;
    const rowSeeds = Uint32Array.from(seq(M), (i) => (i * 2654435761) >>> 0);
    for (const threads of [8, 128]) {
      const { ids } = await sample(rt, new Float32Array(M * V).fill(0.25), M, V, rowSeeds, { temperature: 1, ...off, seed }, [step], threads);
      let checked = 0;
      for (let i = 0; i < M; i++) {
        const u = seq(V).map((v) => philox4x32_10([v, step, 1, 0], [12345, rowSeeds[i]!])[0]! >>> 9);
        const order = seq(V).sort((a, b) => u[b]! - u[a]! || a - b);
        if (u[order[0]!]! - u[order[1]!]! < 512) continue; // too close for f32 -log(-log(u)) to order reliably
        checked++;
        expect(ids[i]).toBe(order[0]);
      }
      expect(checked).toBeGreaterThan(0.95 * M);
    }
  });

  // The distribution tests: 40000 draws (2000 rows x 20 steps) of one fixed 50-token row.
  const V = 50;
  const row = randn(V, 7, 1.5);
  const M = 2000, steps = 20, n = M * steps;
  const configs: { name: string; p: SamplingParams; alt: SamplingParams }[] = [];
  for (const T of [0.7, 1.0, 1.5]) {
    const plain = { temperature: T, ...off, seed: 100 + T * 10 };
    configs.push({ name: `T ${T}`, p: plain, alt: { ...plain, temperature: T === 1 ? 0.7 : 1 } });
    configs.push({ name: `T ${T}, topK 5`, p: { ...plain, topK: 5 }, alt: plain });
    configs.push({ name: `T ${T}, topP 0.8`, p: { ...plain, topP: 0.8 }, alt: plain });
    configs.push({ name: `T ${T}, minP 0.1`, p: { ...plain, minP: 0.1 }, alt: plain });
    configs.push({ name: `T ${T}, topK 5 + topP 0.8 + minP 0.1`, p: { ...plain, topK: 5, topP: 0.8, minP: 0.1 }, alt: { ...plain, topK: 5 } });
  }
  for (const { name, p, alt } of configs) {
    it(`${name}: ${n} draws follow the renormalised kept distribution; log-probs are the full softmax's`, async () => {
      const rt = await runtime();
      const ref = target(row, p);
      expect(ref.margin).toBeGreaterThan(1e-5); // f32 errors (~1e-6) cannot flip a boundary decision
      const { ids, logprobs } = await sample(rt, repeatRow(row, M), M, V, Uint32Array.from(seq(M)), p, seq(steps));
      const counts = new Float64Array(V);
      const lpRef = logSoftmax(row, p.temperature);
      let lpErr = 0;
      for (let i = 0; i < n; i++) {
        counts[ids[i]!]!++;
        lpErr = Math.max(lpErr, Math.abs(logprobs[i]! - lpRef[ids[i]!]!));
      }
      const outside = seq(V).filter((v) => !ref.kept[v] && counts[v]! > 0);
      expect(outside).toEqual([]); // never a token outside the kept set
      const tv = totalVariation(counts.map((c) => c / n), ref.q);
      const bound = tvBound(ref.q, n);
      const altTv = totalVariation(target(row, alt).q, ref.q);
      console.log(`${name}: kept ${ref.kept.filter((k) => k).length}, TV ${tv.toFixed(4)} < bound ${bound.toFixed(4)} (a wrong filter/temperature would be at ${altTv.toFixed(3)}), log-prob err ${lpErr.toExponential(1)}`);
      expect(bound).toBeLessThan(0.03);
      expect(tv).toBeLessThan(bound);
      expect(altTv).toBeGreaterThan(2 * bound); // the test can tell the neighbouring wrong distribution apart
      expect(lpErr).toBeLessThan(1e-5);
    });
  }

  it('refuses a workgroup size that is not a power of two <= 128', async () => {
    const rt = await runtime();
    const logits = rt.zeros([2, 5]), seeds = rt.zeros([2], 'i32'), out = rt.zeros([4]);
    const p: SamplingParams = { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 0 };
    for (const threads of [3, 256]) expect(() => sampleTokensWith(rt, logits, seeds, out, 2, 5, 0, p, threads)).toThrow(/power-of-two lane count <= 128/);
  });

  it('keeps every token tied at a top-k or top-p threshold', async () => {
    const rt = await runtime();
    const M = 400;
    // top-k 2: the 2nd largest logit (2) is shared by tokens 2, 3, 4, so all four top tokens stay
    const tiedK = Float32Array.from([1, 3, 2, 2, 2, 0.5, -1, 0, 1.5, 1.9]);
    const k = await sample(rt, repeatRow(tiedK, M), M, 10, Uint32Array.from(seq(M)), { temperature: 1, topK: 2, topP: 1, minP: 0, seed: 5 }, [0]);
    expect([...new Set(k.ids)].sort()).toEqual([1, 2, 3, 4]);
    // top-p 0.5: token 0 alone has ~0.42 of the mass, and the next logit value is shared by 1, 2, 3
    const tiedP = Float32Array.from([2, 1, 1, 1, -1, -1, -2, -3]);
    const ref = target(tiedP, { temperature: 1, topK: 0, topP: 0.5, minP: 0, seed: 0 });
    expect(ref.kept).toEqual([true, true, true, true, false, false, false, false]);
    const pp = await sample(rt, repeatRow(tiedP, M), M, 8, Uint32Array.from(seq(M)), { temperature: 1, topK: 0, topP: 0.5, minP: 0, seed: 5 }, [0]);
    expect([...new Set(pp.ids)].sort()).toEqual([0, 1, 2, 3]);
  });

  it('is reproducible: same seed same tokens, whatever the batch composition; another seed or step differs', async () => {
    const rt = await runtime();
    const V = 37, M = 64;
    const rows = randn(M * V, 3, 2);
    const rowSeeds = Uint32Array.from(seq(M), (i) => 1000 + i);
    const p: SamplingParams = { temperature: 1.2, topK: 20, topP: 0.95, minP: 0.01, seed: 42 };
    const a = await sample(rt, rows, M, V, rowSeeds, p, [3]);
    const again = await sample(rt, rows, M, V, rowSeeds, p, [3]);
    expect(Array.from(again.ids)).toEqual(Array.from(a.ids));
    expect(Array.from(again.logprobs)).toEqual(Array.from(a.logprobs));

    // The same sequences in another order, interleaved with other sequences: each keeps its token.
    const B = 2 * M, perm = seq(M).reverse();
    const mixed = new Float32Array(B * V), mixedSeeds = new Uint32Array(B);
    const others = randn(M * V, 4, 2);
    perm.forEach((src, j) => {
      mixed.set(rows.subarray(src * V, (src + 1) * V), 2 * j * V);
      mixedSeeds[2 * j] = rowSeeds[src]!;
      mixed.set(others.subarray(j * V, (j + 1) * V), (2 * j + 1) * V);
      mixedSeeds[2 * j + 1] = 7 + j;
    });
    const b = await sample(rt, mixed, B, V, mixedSeeds, p, [3]);
    perm.forEach((src, j) => expect(b.ids[2 * j]).toBe(a.ids[src]));

    const differs = (x: Int32Array) => x.filter((id, i) => id !== a.ids[i]).length;
    expect(differs((await sample(rt, rows, M, V, rowSeeds, { ...p, seed: 43 }, [3])).ids)).toBeGreaterThan(M / 4);
    expect(differs((await sample(rt, rows, M, V, rowSeeds, p, [4])).ids)).toBeGreaterThan(M / 4);
  });

  it('samples nothing from a row with a NaN: its argmax without the NaNs and a NaN log-prob, on every workgroup size', async () => {
    const rt = await runtime();
    const V = 300, M = 4;
    const rows = new Float32Array(M * V);
    const bits = new Uint32Array(rows.buffer);
    // row 0: a NaN before the maximum (it used to hide a thread's tokens: 8 threads gave 40, 128 gave 11)
    rows[3] = NaN; rows[11] = 9; rows[40] = 8;
    // row 1: every logit a NaN, some with the sign bit set; row 2: -inf and one negative NaN
    rows.fill(NaN, V, 2 * V);
    for (let v = V; v < 2 * V; v += 2) bits[v] = 0xffc00001;
    rows.fill(-Infinity, 2 * V, 3 * V);
    bits[2 * V + 3] = 0xfff00000;
    // row 3: finite, so the NaN signal is per row
    rows.set(randn(V, 5, 2), 3 * V);
    for (const temperature of [0, 1]) {
      for (const threads of [8, 128]) {
        const { ids, logprobs } = await sample(rt, rows, M, V, Uint32Array.from(seq(M)), { ...off, temperature, seed: 3 }, [0], threads);
        const where = `temperature ${temperature}, ${threads} threads`;
        expect(ids[0], where).toBe(11);
        expect(ids[1]! >= 0 && ids[1]! < V, where).toBe(true);
        expect(ids[2], where).toBe(0); // all -inf but the NaN: the lowest index
        for (const r of [0, 1, 2]) expect(Number.isNaN(logprobs[r]), `${where}, row ${r}`).toBe(true);
        expect(Number.isFinite(logprobs[3]), where).toBe(true);
      }
    }
  });

  it('gives an infinite logit all the probability, samples a row of -inf uniformly, and ties -0 with +0', async () => {
    const rt = await runtime();
    const V = 5, M = 3;
    const rows = Float32Array.from([
      1, 5, Infinity, 2, 0, // row 0: token 2 always, log-prob 0
      Infinity, 5, Infinity, 2, 0, // row 1: tokens 0 and 2, half each
      ...new Array<number>(V).fill(-Infinity), // row 2: uniform, log-prob -log 5
    ]);
    const steps = seq(200);
    const { ids, logprobs } = await sample(rt, rows, M, V, Uint32Array.from(seq(M)), { ...off, temperature: 1, seed: 5 }, steps);
    const row = (r: number) => steps.map((s) => ids[s * M + r]!);
    expect(new Set(row(0))).toEqual(new Set([2]));
    for (const s of steps) expect(logprobs[s * M]).toBe(0);
    const ones = row(1).filter((id) => id === 0).length;
    expect(new Set(row(1))).toEqual(new Set([0, 2]));
    expect(ones).toBeGreaterThan(70); // binomial(200, 1/2): 100 +- 7
    expect(ones).toBeLessThan(130);
    const counts = seq(V).map((v) => row(2).filter((id) => id === v).length);
    for (const c of counts) expect(c).toBeGreaterThan(20); // binomial(200, 1/5): 40 +- 5.7
    for (const s of steps) expect(logprobs[s * M + 2]).toBeCloseTo(-Math.log(V), 5);

    // top-k 1 keeps every token equal to the largest logit: -0 and +0 are equal (key order split them).
    const zeros = Float32Array.from([0, -0, -1]);
    const z = await sample(rt, zeros, 1, 3, Uint32Array.from([0]), { temperature: 1, topK: 1, topP: 1, minP: 0, seed: 2 }, seq(100));
    expect(new Set(z.ids)).toEqual(new Set([0, 1]));
  });

  it('greedy is argmax (lowest index on ties) with the log-prob of softmax(logits)', async () => {
    const rt = await runtime();
    const V = 1000, M = 5;
    const rows = randn(M * V, 9, 3);
    rows[1 * V + 7] = rows[1 * V + 900] = 20; // a tie at the maximum in row 1
    rows[3 * V + V - 1] = 50; // the maximum at the last token
    const { ids, logprobs } = await sample(rt, rows, M, V, Uint32Array.from(seq(M)), { temperature: 0, topK: 3, topP: 0.5, minP: 0.5, seed: 1 }, [0]);
    for (let i = 0; i < M; i++) {
      const r = rows.subarray(i * V, (i + 1) * V);
      expect(ids[i]).toBe(argmax(r));
      expect(Math.abs(logprobs[i]! - logSoftmax(r, 1)[argmax(r)]!)).toBeLessThan(1e-5);
    }
    expect(ids[1]).toBe(7);
    expect(ids[3]).toBe(V - 1);
  });

  it("Qwen3's vocabulary (151936): kept tokens only, exact log-probs, same tokens on both workgroup sizes", async () => {
    const rt = await runtime();
    const V = 151936, M = 3;
    const rows = randn(M * V, 11, 3);
    const rowSeeds = Uint32Array.from([5, 6, 7]);
    for (const p of [
      { temperature: 0.6, topK: 20, topP: 0.95, minP: 0, seed: 9 }, // Qwen3's suggestion for thinking mode
      { temperature: 1, topK: 0, topP: 0.9, minP: 0, seed: 9 }, // a kept set of many thousand tokens
      { temperature: 0, topK: 0, topP: 1, minP: 0, seed: 9 },
    ]) {
      const small = await sample(rt, rows, M, V, rowSeeds, p, [0, 1], 8);
      const wide = await sample(rt, rows, M, V, rowSeeds, p, [0, 1], 128);
      expect(Array.from(wide.ids)).toEqual(Array.from(small.ids));
      for (let i = 0; i < M; i++) {
        const r = rows.subarray(i * V, (i + 1) * V);
        const ref = target(r, p.temperature === 0 ? { ...p, temperature: 1 } : p);
        const lp = logSoftmax(r, p.temperature || 1);
        for (const s of [0, 1]) {
          const id = small.ids[s * M + i]!;
          if (p.temperature === 0) expect(id).toBe(argmax(r));
          else expect(ref.kept[id]).toBe(true);
          expect(Math.abs(small.logprobs[s * M + i]! - lp[id]!)).toBeLessThan(1e-5);
          expect(Math.abs(wide.logprobs[s * M + i]! - lp[id]!)).toBeLessThan(1e-5);
        }
      }
    }
  });
});
