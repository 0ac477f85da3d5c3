// Random initialisation on the GPU (kernels/init_normal.wgsl): every value against a float64
// TypeScript reference of the same counter-based draw, the draw's statistics, and
// initRandomWeights' use of it (norms 1, tensors and seeds independent, deterministic).
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { parseQwen3Config } from '../src/io/hf-model.js';
import { copyParams, disposeAll, initRandomWeights, readWeights, uploadEach, zerosLike } from '../src/model/weights.js';
import { Runtime } from '../src/gpu/runtime.js';
import { RowSplitTensor } from '../src/gpu/row-split.js';
import { tinyOddQwen3 } from './model-shapes.js';
import { validatingRuntime } from './validating-device.js';
import { runtime } from './util.js';

/** The kernel's PCG hash, in u32 arithmetic. */
function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** mean + std * z for element `idx` under `seed`: Box-Muller in float64 on the same uniforms. */
function refDraw(seed: number, idx: number, mean: number, std: number): number {
  const h1 = pcg((pcg((idx ^ pcg(seed)) >>> 0) ^ pcg((seed + 0x9e3779b9) >>> 0)) >>> 0);
  const h2 = pcg((h1 ^ 0x9e3779b9) >>> 0);
  const u1 = ((h1 >>> 8) + 1) / 16777216;
  const u2 = (h2 >>> 8) / 16777216;
  return mean + std * Math.sqrt(Math.max(-2 * Math.log(u1), 0)) * Math.cos(2 * Math.PI * u2);
}

describe('init_normal', () => {
  it('draws each element as the float64 reference does, keyed by its global index', async () => {
    const rt = await runtime();
    const n = 70001, base = 123457, seed = 99;
    const out = rt.upload(new Float32Array(n).fill(NaN), [n]);
    const groups = rt.grid(Math.ceil(n / 256));
    rt.dispatch(rt.kernel('init_normal'), { out }, { n, rowStride: groups[0] * 256, seed, base, mean: 0.5, stdDev: 0.02 }, groups);
    const got = await rt.read(out);
    let worst = 0, sum = 0, sq = 0, within = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(got[i]! - refDraw(seed, base + i, 0.5, 0.02)));
      const z = (got[i]! - 0.5) / 0.02;
      sum += z;
      sq += z * z;
      if (Math.abs(z) < 1) within++;
    }
    // f32 log and cos against float64: a few ulps of z (|z| < 6), times std 0.02
    expect(worst).toBeLessThan(1e-6);
    // and the reference really is N(0, 1): mean, variance and the 1-sigma share within 4-5 s.e.
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
    expect(Math.abs(within / n - 0.6827)).toBeLessThan(0.01);
  });

  it('gives two seeds unrelated values, even seeds whose hashes differ only in low bits', async () => {
    // Two seeds whose hashes agree above bit 16: keyed by idx ^ pcg(seed), the second tensor was
    // the first's values reshuffled (out2[j] = out1[j ^ c]) when c = pcg(s1) ^ pcg(s2) < n.
    const n = 1 << 16;
    const bySeedTop = new Map<number, number>();
    let pair: [number, number] | null = null;
    for (let s = 1; pair === null; s++) {
      const top = pcg(s) >>> 16;
      const other = bySeedTop.get(top);
      if (other !== undefined) pair = [other, s];
      else bySeedTop.set(top, s);
    }
    const rt = await runtime();
    const groups = rt.grid(Math.ceil(n / 256));
    const [a, b] = await Promise.all(pair.map(async (seed) => {
      const out = rt.empty([n]);
      rt.dispatch(rt.kernel('init_normal'), { out }, { n, rowStride: groups[0] * 256, seed, base: 0, mean: 0, stdDev: 1 }, groups);
      return rt.read(out);
    }));
    const c = (pcg(pair[0]) ^ pcg(pair[1])) >>> 0;
    expect(c).toBeLessThan(n);
    let shuffled = 0;
    for (let j = 0; j < n; j++) if (b![j] === a![j ^ c]) shuffled++;
    const inA = new Set(a);
    const shared = b!.filter((v) => inA.has(v)).length;
    // Unrelated streams: no position repeats the other's shifted value (chance: n * 2^-24 or so).
    // Equal f32 values do arise by chance, more often with a device's approximate log and cos
    // (lavapipe repeats about 30 of one stream's 65536 values within it), but far from all n.
    expect(shuffled).toBeLessThan(10);
    expect(shared).toBeLessThan(n / 100);
  });
});

describe('initRandomWeights', () => {
  const cfg = parseQwen3Config(JSON.parse(readFileSync('test/fixtures/qwen3-tiny/model/config.json', 'utf8')), 'qwen3-tiny config');

  it('sets norms to 1 and draws every other tensor on its own stream, the same for the same seed', async () => {
    const rt = await runtime();
    const [a, b, c] = await Promise.all([1, 1, 2].map((seed) => readWeights(rt, initRandomWeights(rt, cfg, seed))));
    const firsts = new Set<number>();
    for (const [name, w] of a!) {
      expect(Array.from(w), name).toEqual(Array.from(b!.get(name)!));
      if (name.endsWith('norm.weight')) {
        expect(w.every((v) => v === 1), name).toBe(true);
        continue;
      }
      let sq = 0;
      for (const v of w) sq += v * v;
      expect(Math.sqrt(sq / w.length), name).toBeGreaterThan(0.015);
      expect(Math.sqrt(sq / w.length), name).toBeLessThan(0.025);
      expect(w[0], name).not.toBe(c!.get(name)![0]); // another seed, other weights
      firsts.add(w[0]!);
    }
    expect(firsts.size).toBe([...a!.keys()].filter((n) => !n.endsWith('norm.weight')).length); // no two tensors share a stream
  });
});

describe('copyParams', () => {
  it('copies every tensor on the GPU into buffers of its own, equal to the last bit', async () => {
    const rt = await runtime();
    const source = initRandomWeights(rt, tinyOddQwen3, 5);
    const copy = copyParams(rt, tinyOddQwen3, source, 'ref');
    const before = await readWeights(rt, source);
    // Overwriting the source afterwards leaves the copy as it was.
    for (const t of source.values()) t.write(rt, new Float32Array(t.size).fill(7));
    const copied = await readWeights(rt, copy);
    expect([...copied.keys()]).toEqual([...before.keys()]);
    for (const [name, w] of before) expect(Buffer.compare(Buffer.from(copied.get(name)!.buffer), Buffer.from(w.buffer)), name).toBe(0);
    disposeAll(source);
    disposeAll(copy);
  });

  it('copies matrices split over several bindings part by part (stand-in device), and refuses a set laid out otherwise', () => {
    const { rt, log } = validatingRuntime({ bindingBytes: 2048 });
    const source = zerosLike(rt, tinyOddQwen3, 'w');
    expect(Math.max(...[...source.values()].map((t) => t.parts.length))).toBeGreaterThan(2);
    const copy = copyParams(rt, tinyOddQwen3, source, 'ref');
    rt.submit();
    expect(log.errors).toEqual([]);
    for (const [name, t] of copy) expect(t.parts.map((p) => p.rows), name).toEqual(source.get(name)!.parts.map((p) => p.rows));
    const live = rt.pool.liveBytes;
    const partial = new Map(source);
    partial.delete('model.norm.weight');
    expect(() => copyParams(rt, tinyOddQwen3, partial, 'ref')).toThrow(/model\.norm\.weight is missing/);
    // A matrix split into other row blocks (a smaller binding limit) cannot be copied part for part.
    const down = 'model.layers.0.mlp.down_proj.weight';
    const [rows, cols] = source.get(down)!.shape;
    const resplit = new Map(source).set(down, RowSplitTensor.zeros(rt, rows, cols, 'resplit', 1024));
    expect(() => copyParams(rt, tinyOddQwen3, resplit, 'ref')).toThrow(/down_proj\.weight is split differently from the copy's layout/);
    resplit.get(down)!.dispose();
    expect(rt.pool.liveBytes).toBe(live); // the half-made copies were given back
  });
});

describe('uploadEach', () => {
  it('uploads one tensor at a time, waiting for each before the next read, and gives the tensors back on a failed read', async () => {
    const rt = await runtime();
    const drawn = initRandomWeights(rt, tinyOddQwen3, 9);
    const source = await readWeights(rt, drawn);
    disposeAll(drawn);
    const params = zerosLike(rt, tinyOddQwen3, 'w');
    const log: string[] = [];
    const sync = vi.spyOn(rt, 'sync');
    sync.mockImplementation(async function (this: typeof rt) {
      log.push('sync');
      return Runtime.prototype.sync.call(this);
    });
    try {
      await uploadEach(rt, params, async (name) => {
        log.push('read');
        return source.get(name)!;
      });
    } finally {
      sync.mockRestore();
    }
    expect(log).toEqual([...source.keys()].flatMap(() => ['read', 'sync']));
    const back = await readWeights(rt, params);
    for (const [name, w] of source) expect(back.get(name), name).toEqual(w);
    disposeAll(params);

    const live = rt.pool.liveBytes;
    const failing = zerosLike(rt, tinyOddQwen3, 'w');
    await expect(uploadEach(rt, failing, async (name) => {
      if (name.includes('layers.1.')) throw new Error('disk gone');
      return source.get(name)!;
    })).rejects.toThrow('disk gone');
    expect(rt.pool.liveBytes).toBe(live);
  });
});
