import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16 } from '../src/io/dtype.js';
import { attentionDecode, kvAppend, type KvCacheDtype } from '../src/ops/decode-attention.js';
import type { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { randn, relErr, rng, runtime } from './util.js';

/**
 * float64 reference: row i, head h attends to cache[slot_i, 0..pos_i] of kv head
 * h / (Hq / Hkv); out = softmax(scale * q k^T) v. Rows with slot < 0 give zeros.
 */
function refDecode(
  q: Float32Array, kc: Float32Array, vc: Float32Array, slots: Int32Array, pos: Int32Array,
  M: number, maxLen: number, Hq: number, Hkv: number, D: number, scale: number,
): Float64Array {
  const out = new Float64Array(M * Hq * D);
  for (let i = 0; i < M; i++) {
    if (slots[i]! < 0) continue;
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / (Hq / Hkv));
      const n = pos[i]! + 1;
      const keyAt = (j: number) => ((slots[i]! * maxLen + j) * Hkv + hk) * D;
      const sc = new Float64Array(n);
      let mx = -Infinity;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[(i * Hq + h) * D + d]! * kc[keyAt(j) + d]!;
        sc[j] = s * scale;
        mx = Math.max(mx, sc[j]!);
      }
      let z = 0;
      for (let j = 0; j < n; j++) z += (sc[j] = Math.exp(sc[j]! - mx));
      for (let j = 0; j < n; j++)
        for (let d = 0; d < D; d++) out[(i * Hq + h) * D + d] += (sc[j]! / z) * vc[keyAt(j) + d]!;
    }
  }
  return out;
}

function firstMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Fisher-Yates with the test generator. */
function shuffled(n: number, seed: number): number[] {
  const u = rng(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The values a cache holds: an f32 tensor as read, an f16 one's words unpacked (element 2w in the low half). */
async function cacheValues(rt: Runtime, cache: Tensor, dtype: KvCacheDtype): Promise<Float32Array> {
  if (dtype === 'f32') return rt.read(cache);
  return f16ToF32(new Uint16Array(await rt.readBytes(cache)));
}

/** Spacing of f16 values at |x| (normal range; the subnormal spacing 2^-24 below 2^-14). */
function f16Ulp(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
}

/**
 * Whether `got` holds each of `want` stored as f16: an f16 value (it survives f32 -> f16 -> f32
 * unchanged) less than one f16 spacing away, i.e. one of the two f16 neighbours, which WGSL
 * allows either of (its conversions may round either way); below f16's normal range (2^-14) also
 * zero, since WGSL lets an implementation flush subnormals.
 */
function firstF16Mismatch(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return 0;
  const roundTrip = f16ToF32(f32ToF16(got));
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    const flushed = g === 0 && Math.abs(w) < 2 ** -14;
    if (roundTrip[i] !== g || !(Math.abs(g - w) < f16Ulp(w) || flushed)) return i;
  }
  return -1;
}

interface Case { Hq: number; Hkv: number; D: number; nSlots: number; maxLen: number; rows: [slot: number, pos: number][]; qScale?: number }

// Keys are walked in chunks of 512 (128 threads x 4 keys): positions sit on both sides of chunk edges.
const cases: Case[] = [
  // ratio 2, small head (6 key groups in the output phase); a padding row (slot -1); two rows share a slot
  { Hq: 6, Hkv: 3, D: 20, nSlots: 4, maxLen: 1100, rows: [[2, 0], [0, 1099], [3, 511], [1, 512], [-1, 5], [0, 37], [3, 1024]] },
  // ratio 3, Qwen3's head_dim
  { Hq: 6, Hkv: 2, D: 128, nSlots: 3, maxLen: 600, rows: [[1, 599], [0, 1], [2, 513], [1, 64], [0, 255]] },
  // head_dim above the workgroup width: two output dims per thread, the second partial
  { Hq: 3, Hkv: 1, D: 136, nSlots: 2, maxLen: 140, rows: [[1, 139], [0, 0], [1, 70]] },
  // a long context
  { Hq: 4, Hkv: 2, D: 128, nSlots: 2, maxLen: 4097, rows: [[0, 4096], [1, 1000]] },
  // scores spread over hundreds: exp overflows unless the true running max is subtracted
  { Hq: 2, Hkv: 1, D: 20, nSlots: 2, maxLen: 700, rows: [[0, 699], [1, 300]], qScale: 40 },
];

describe('kvAppend + attentionDecode', () => {
  for (const c of cases) for (const variant of ['gpu', 'cpu'] as const) for (const cacheDtype of ['f32', 'f16'] as const) {
    const { Hq, Hkv, D, nSlots, maxLen, rows } = c;
    // f16 packs two values a word: an odd Hkv * D cannot be cached so (refused below).
    if (cacheDtype === 'f16' && (Hkv * D) % 2 !== 0) continue;
    it(`${variant} kernel, ${cacheDtype} cache: Hq ${Hq}, Hkv ${Hkv}, D ${D}, ${rows.length} ragged rows, maxLen ${maxLen}, q scale ${c.qScale ?? 2}`, async () => {
      const rt = await runtime();
      const rowWidth = Hkv * D;
      const cacheSize = nSlots * maxLen * rowWidth;
      // Fill every cache position through kvAppend, in a shuffled token order, plus
      // padding tokens (slot -1, position past maxLen) that must be skipped.
      const nTok = nSlots * maxLen;
      const order = shuffled(nTok, D + Hq);
      const pad = 3;
      const slotsAll = new Int32Array(nTok + pad), posAll = new Int32Array(nTok + pad);
      order.forEach((tok, i) => { slotsAll[i] = Math.floor(tok / maxLen); posAll[i] = tok % maxLen; });
      slotsAll.set([-1, 0, nSlots], nTok); posAll.set([0, maxLen, 0], nTok);
      const kNew = randn((nTok + pad) * rowWidth, 11 + D), vNew = randn((nTok + pad) * rowWidth, 12 + D);
      const cacheShape = cacheDtype === 'f16' ? [nSlots, maxLen, rowWidth / 2] : [nSlots, maxLen, Hkv, D];
      const cacheType = cacheDtype === 'f16' ? 'u32' : 'f32';
      const kCache = rt.zeros(cacheShape, cacheType), vCache = rt.zeros(cacheShape, cacheType);
      const tSlots = rt.upload(slotsAll, [nTok + pad]), tPos = rt.upload(posAll, [nTok + pad]);
      const tk = rt.upload(kNew, [nTok + pad, rowWidth]), tv = rt.upload(vNew, [nTok + pad, rowWidth]);
      kvAppend(rt, tk, tv, kCache, vCache, tSlots, tPos, nTok + pad, maxLen, Hkv, D, cacheDtype);

      const expK = new Float32Array(cacheSize), expV = new Float32Array(cacheSize);
      for (let i = 0; i < nTok; i++) {
        const dst = (slotsAll[i]! * maxLen + posAll[i]!) * rowWidth;
        expK.set(kNew.subarray(i * rowWidth, (i + 1) * rowWidth), dst);
        expV.set(vNew.subarray(i * rowWidth, (i + 1) * rowWidth), dst);
      }
      const gotK = await cacheValues(rt, kCache, cacheDtype), gotV = await cacheValues(rt, vCache, cacheDtype);
      // a copy (exact in f32, each value's f16 neighbour in f16), and the padding tokens wrote nothing
      const mismatch = cacheDtype === 'f32' ? firstMismatch : firstF16Mismatch;
      expect(mismatch(gotK, expK)).toBe(-1);
      expect(mismatch(gotV, expV)).toBe(-1);

      const M = rows.length;
      const slots = Int32Array.from(rows.map((r) => r[0])), pos = Int32Array.from(rows.map((r) => r[1]));
      const q = randn(M * Hq * D, 13 + D, c.qScale ?? 2);
      const scale = 1 / Math.sqrt(D);
      const out = rt.empty([M, Hq * D]);
      rt.write(out, new Float32Array(M * Hq * D).fill(7)); // the padding row must be overwritten with zeros
      attentionDecode(rt, rt.upload(q, [M, Hq * D]), kCache, vCache, rt.upload(slots, [M]), rt.upload(pos, [M]), out, { M, maxLen, Hq, Hkv, D, scale, variant, cacheDtype });
      const t0 = performance.now();
      const got = await rt.read(out);
      const gpuMs = performance.now() - t0;
      // Against the values the cache holds (the f32 copy, or the f16 values read back above), so
      // that an f16 cache is held to f32 arithmetic's bound like an f32 one.
      const ref = refDecode(q, gotK, gotV, slots, pos, M, maxLen, Hq, Hkv, D, scale);
      const err = relErr(got, ref);
      console.log(`attentionDecode ${variant} ${cacheDtype} Hq ${Hq} Hkv ${Hkv} D ${D}: relErr ${err.toExponential(2)}, ${gpuMs.toFixed(0)} ms on the GPU`);
      expect(err).toBeLessThan(1e-5);
      // per row as well, so a wrong short row is not hidden by long ones
      for (let i = 0; i < M; i++) {
        const a = got.subarray(i * Hq * D, (i + 1) * Hq * D), b = ref.subarray(i * Hq * D, (i + 1) * Hq * D);
        if (slots[i]! < 0) expect(Array.from(a).every((x) => x === 0)).toBe(true);
        else expect(relErr(a, b)).toBeLessThan(1e-5);
      }
    });
  }

  for (const variant of ['gpu', 'cpu'] as const) {
    it(`${variant} kernel on a cache in parts (slotBase): each part writes its own slots' rows and the padding rows, the others' stay, and together they equal one part`, async () => {
      const rt = await runtime();
      const Hq = 4, Hkv = 2, D = 24, maxLen = 70, nSlots = 5, rowWidth = Hkv * D;
      const rows: [number, number][] = [[4, 69], [0, 3], [2, 40], [-1, 2], [1, 0], [3, 65], [2, 7]];
      const M = rows.length;
      const kAll = randn(nSlots * maxLen * rowWidth, 31), vAll = randn(nSlots * maxLen * rowWidth, 32);
      const q = rt.upload(randn(M * Hq * D, 33, 2), [M, Hq * D]);
      const slots = rt.upload(Int32Array.from(rows.map((r) => r[0])), [M]), pos = rt.upload(Int32Array.from(rows.map((r) => r[1])), [M]);
      const shape = { M, maxLen, Hq, Hkv, D, scale: 1 / Math.sqrt(D), variant };
      const attend = async (parts: [number, number][]) => {
        const out = rt.empty([M, Hq * D]);
        rt.write(out, new Float32Array(M * Hq * D).fill(7));
        for (const [base, n] of parts) {
          const part = (all: Float32Array) => rt.upload(all.slice(base * maxLen * rowWidth, (base + n) * maxLen * rowWidth), [n, maxLen, Hkv, D]);
          attentionDecode(rt, q, part(kAll), part(vAll), slots, pos, out, { ...shape, slotBase: base });
        }
        return rt.read(out);
      };
      const whole = await attend([[0, 5]]);
      expect(await attend([[0, 2], [2, 2], [4, 1]])).toEqual(whole);
      // One part alone: the rows of its slots and the padding row written, the others left at 7.
      const only = await attend([[2, 2]]);
      rows.forEach(([slot], i) => {
        const got = only.subarray(i * Hq * D, (i + 1) * Hq * D);
        if (slot === 2 || slot === 3 || slot < 0) expect(got).toEqual(whole.subarray(i * Hq * D, (i + 1) * Hq * D));
        else expect(got.every((x) => x === 7)).toBe(true);
      });
    });
  }

  it('kvAppend into a part (slotBase) writes the tokens of its slots at their place in the part, and skips the others', async () => {
    const rt = await runtime();
    const Hkv = 1, D = 6, maxLen = 4, rowWidth = Hkv * D;
    const slotsAll = Int32Array.from([0, 3, 2, 4, -1, 2]), posAll = Int32Array.from([1, 0, 3, 2, 0, 0]);
    const k = randn(slotsAll.length * rowWidth, 41), v = randn(slotsAll.length * rowWidth, 42);
    const kPart = rt.zeros([2, maxLen, rowWidth]), vPart = rt.zeros([2, maxLen, rowWidth]); // slots 2 and 3
    kvAppend(rt, rt.upload(k, [slotsAll.length, rowWidth]), rt.upload(v, [slotsAll.length, rowWidth]), kPart, vPart,
      rt.upload(slotsAll, [slotsAll.length]), rt.upload(posAll, [slotsAll.length]), slotsAll.length, maxLen, Hkv, D, 'f32', 2);
    const want = (x: Float32Array) => {
      const out = new Float32Array(2 * maxLen * rowWidth);
      slotsAll.forEach((slot, i) => {
        if (slot === 2 || slot === 3) out.set(x.subarray(i * rowWidth, (i + 1) * rowWidth), ((slot - 2) * maxLen + posAll[i]!) * rowWidth);
      });
      return out;
    };
    expect(await rt.read(kPart)).toEqual(want(k));
    expect(await rt.read(vPart)).toEqual(want(v));
  });

  it('an f16 cache clamps values past the f16 range to +-65504, rounds within it, and refuses an odd row width or an f32 tensor', async () => {
    const rt = await runtime();
    const Hkv = 1, D = 6, maxLen = 3, rowWidth = Hkv * D;
    const k = Float32Array.from([1e6, -7e4, 65504, 1 / 3, 2 ** -20, -0]);
    const v = Float32Array.from([-1e30, 3e5, 0.1, -65519, 1e-9, 7]);
    const kCache = rt.zeros([1, maxLen, rowWidth / 2], 'u32'), vCache = rt.zeros([1, maxLen, rowWidth / 2], 'u32');
    kvAppend(rt, rt.upload(k, [1, rowWidth]), rt.upload(v, [1, rowWidth]), kCache, vCache, rt.upload(Int32Array.from([0]), [1]), rt.upload(Int32Array.from([1]), [1]), 1, maxLen, Hkv, D, 'f16');
    const gotK = (await cacheValues(rt, kCache, 'f16')).subarray(rowWidth, 2 * rowWidth);
    const gotV = (await cacheValues(rt, vCache, 'f16')).subarray(rowWidth, 2 * rowWidth);
    const clamp = (x: Float32Array) => x.map((e) => Math.max(-65504, Math.min(65504, e)));
    expect(Array.from(gotK.subarray(0, 3))).toEqual([65504, -65504, 65504]);
    expect(Array.from(gotV.subarray(0, 2))).toEqual([-65504, 65504]);
    expect(firstF16Mismatch(gotK, clamp(k))).toBe(-1);
    expect(firstF16Mismatch(gotV, clamp(v))).toBe(-1);
    // position 0 and 2 untouched
    const all = await cacheValues(rt, kCache, 'f16');
    expect([...all.subarray(0, rowWidth), ...all.subarray(2 * rowWidth)].every((x) => x === 0)).toBe(true);

    const odd = rt.zeros([1, maxLen, 3], 'u32');
    const kOdd = rt.upload(new Float32Array(5), [1, 5]);
    const one = rt.upload(Int32Array.from([0]), [1]);
    expect(() => kvAppend(rt, kOdd, kOdd, odd, odd, one, one, 1, maxLen, 1, 5, 'f16')).toThrow(/Hkv \* D must be even, got 5/);
    const f32Cache = rt.zeros([1, maxLen, rowWidth]);
    expect(() => kvAppend(rt, rt.upload(k, [1, rowWidth]), rt.upload(v, [1, rowWidth]), f32Cache, f32Cache, one, one, 1, maxLen, Hkv, D, 'f16')).toThrow(
      /an f16 cache is held in u32 tensors, got f32 and f32/,
    );
  });
});
