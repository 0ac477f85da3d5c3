import { describe, expect, it } from 'vitest';
import { adamwStep, clipScale, gradNormSquared, type AdamWHyper } from '../src/ops/adamw.js';
import { randn, relErr, runtime } from './util.js';

/** float64 torch.optim.AdamW (amsgrad off), one step on flat arrays, in place. */
function refAdamW(w: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, h: AdamWHyper, scale = 1): void {
  const bc1 = 1 - h.beta1 ** h.step, bc2 = 1 - h.beta2 ** h.step;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]! * scale;
    w[i] = w[i]! * (1 - h.lr * h.weightDecay);
    m[i] = h.beta1 * m[i]! + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i]! + (1 - h.beta2) * gi * gi;
    w[i] = w[i]! - (h.lr / bc1) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + h.eps);
  }
}

const sumSq = (tensors: Float32Array[]) => tensors.reduce((s, t) => s + t.reduce((a, x) => a + x * x, 0), 0);
const clipRef = (normSq: number, maxNorm: number) => Math.min(1, maxNorm / (Math.sqrt(normSq) + 1e-6));

describe('AdamW', () => {
  const n = 1000; // not a multiple of the workgroup size
  const base = { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

  for (const withScale of [false, true]) {
    it(`5 steps match float64 torch.optim.AdamW${withScale ? ' with a gradient scale tensor' : ''}`, async () => {
      const rt = await runtime();
      const w0 = randn(n, 1);
      // Gradients over several magnitudes, down to where eps matters.
      const grads = [0, 1, 2, 3, 4].map((s) => randn(n, 10 + s).map((x, i) => x * 10 ** -(i % 9)));
      const scales = [0.5, 1, 0.25, 0.8, 0.1];
      const param = rt.upload(w0, [n], 'w'), m = rt.zeros([n]), v = rt.zeros([n]);
      const w = Float64Array.from(w0), mr = new Float64Array(n), vr = new Float64Array(n);
      for (let s = 0; s < 5; s++) {
        const h: AdamWHyper = { ...base, step: s + 1 };
        const grad = rt.upload(grads[s]!, [n], 'g');
        const scale = withScale ? rt.upload(new Float32Array([scales[s]!]), [1], 'scale') : undefined;
        adamwStep(rt, param, grad, m, v, h, scale);
        refAdamW(w, grads[s]!, mr, vr, h, withScale ? Math.fround(scales[s]!) : 1);
        grad.dispose();
        scale?.dispose();
      }
      const got = await rt.read(param);
      const errs = [
        relErr(got.map((x, i) => x - w0[i]!), w.map((x, i) => x - w0[i]!)), // the accumulated update, not the weights
        relErr(await rt.read(m), mr),
        relErr(await rt.read(v), vr),
        relErr(got, w),
      ];
      console.log(`AdamW${withScale ? ' (scaled)' : ''} rel errors after 5 steps (update, m, v, weights):`, errs.map((e) => e.toExponential(2)).join(' '));
      expect(errs[0]).toBeLessThan(1e-4);
      expect(errs[1]).toBeLessThan(1e-5);
      expect(errs[2]).toBeLessThan(1e-5);
      expect(errs[3]).toBeLessThan(1e-6);
    });
  }

  it("keeps the weight decay at the paper's learning rates, where alone it is below half an f32 ulp", async () => {
    // lr 1.5e-6 (SFT, 8B) and 5e-7 (RL) with wd 0.01: lr * wd * w is under half the spacing of
    // f32 around w, so decaying before the Adam step (w *= 1 - lr * wd) rounds the decay away on
    // every step, and the run ends bit for bit where one without decay does. The same gradients
    // with and without decay must instead end apart by the decay: over the weights, the
    // difference regressed on w0 has the float64 runs' slope (about -steps * lr * wd).
    const rt = await runtime();
    const n = 501, steps = 300;
    const w0 = randn(n, 3);
    const gradients = Array.from({ length: steps }, (_, s) => randn(n, 100 + s));
    const train = async (lr: number, weightDecay: number) => {
      const param = rt.upload(w0, [n], 'w'), m = rt.zeros([n]), v = rt.zeros([n]);
      const w = Float64Array.from(w0), mr = new Float64Array(n), vr = new Float64Array(n);
      gradients.forEach((g, s) => {
        const h: AdamWHyper = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step: s + 1 };
        const grad = rt.upload(g, [n], 'g');
        adamwStep(rt, param, grad, m, v, h);
        refAdamW(w, g, mr, vr, h);
        grad.dispose();
      });
      const got = await rt.read(param);
      for (const t of [param, m, v]) t.dispose();
      return { got, want: w };
    };
    const slopeOnW0 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let num = 0, den = 0;
      for (let i = 0; i < n; i++) { num += (a[i]! - b[i]!) * w0[i]!; den += w0[i]! * w0[i]!; }
      return num / den;
    };
    for (const lr of [1.5e-6, 5e-7]) {
      const decayed = await train(lr, 0.01), plain = await train(lr, 0);
      const got = slopeOnW0(decayed.got, plain.got), want = slopeOnW0(decayed.want, plain.want);
      console.log(`AdamW at lr ${lr}, wd 0.01, ${steps} steps: decay slope ${got.toExponential(3)} (float64 ${want.toExponential(3)})`);
      expect(Math.abs(got - want) / Math.abs(want)).toBeLessThan(0.05);
    }
  });

  it('refuses a 0-based step', async () => {
    const rt = await runtime();
    const t = rt.zeros([4]);
    expect(() => adamwStep(rt, t, rt.zeros([4]), rt.zeros([4]), rt.zeros([4]), { ...base, step: 0 })).toThrow(/1-based/);
  });
});

describe('gradient norm and clipping', () => {
  // Sizes not multiples of 256; the last ones need more than the 512 partials per tensor.
  const sizes = [1, 37, 255, 1000, 70_001, 300_007];
  const data = sizes.map((s, i) => randn(s, 100 + i, 0.01 * (i + 1)));

  it('sum of squares over several tensors matches float64 and is reproducible', async () => {
    const rt = await runtime();
    const grads = data.map((d) => rt.upload(d, [d.length]));
    const out = rt.empty([1]);
    gradNormSquared(rt, grads, out);
    const got = (await rt.read(out))[0]!;
    gradNormSquared(rt, grads, out);
    const again = (await rt.read(out))[0]!;
    const want = sumSq(data);
    const err = Math.abs(got - want) / want;
    console.log(`grad norm^2 rel err ${err.toExponential(2)} (${got} vs ${want})`);
    expect(err).toBeLessThan(1e-6);
    expect(again).toBe(got);
    gradNormSquared(rt, [], out);
    expect((await rt.read(out))[0]).toBe(0);
  });

  it('every launch (lanes per partial x partials per workgroup) gives the same bits', async () => {
    const rt = await runtime();
    const grads = data.map((d) => rt.upload(d, [d.length]));
    const out = rt.empty([1]);
    const sums: number[] = [];
    for (const launch of [{ lanesPerPartial: 256, partialsPerGroup: 1 }, { lanesPerPartial: 1, partialsPerGroup: 16 }, { lanesPerPartial: 8, partialsPerGroup: 5 }]) {
      gradNormSquared(rt, grads, out, launch);
      sums.push((await rt.read(out))[0]!);
    }
    expect(Math.abs(sums[0]! - sumSq(data)) / sumSq(data)).toBeLessThan(1e-6);
    expect(sums).toEqual([sums[0], sums[0], sums[0]]);
    expect(() => gradNormSquared(rt, grads, out, { lanesPerPartial: 6, partialsPerGroup: 1 })).toThrow(/power-of-two/);
  });

  it('clip scale follows clip_grad_norm_ and drives AdamW without a readback', async () => {
    const rt = await runtime();
    const grads = data.map((d) => rt.upload(d, [d.length]));
    const normSq = rt.empty([1]), scale = rt.empty([1]);
    const want = sumSq(data);
    const norm = Math.sqrt(want);
    for (const maxNorm of [0.3 * norm, 2 * norm]) {
      gradNormSquared(rt, grads, normSq);
      clipScale(rt, normSq, maxNorm, scale);
      const got = (await rt.read(scale))[0]!;
      expect(Math.abs(got - clipRef(want, maxNorm)) / clipRef(want, maxNorm)).toBeLessThan(1e-6);
    }
    expect((await rt.read(scale))[0]).toBe(1); // norm below maxNorm: no scaling
    // One clipped step: with scale = 0.3 the update equals the float64 step on 0.3 * grad.
    const maxNorm = 0.3 * norm;
    gradNormSquared(rt, grads, normSq);
    clipScale(rt, normSq, maxNorm, scale);
    const i = 4, n = data[i]!.length;
    const w0 = randn(n, 7);
    const param = rt.upload(w0, [n]), m = rt.zeros([n]), v = rt.zeros([n]);
    const h: AdamWHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    adamwStep(rt, param, grads[i]!, m, v, h, scale);
    const w = Float64Array.from(w0), mr = new Float64Array(n), vr = new Float64Array(n);
    refAdamW(w, data[i]!, mr, vr, h, clipRef(want, maxNorm));
    expect(relErr(await rt.read(m), mr)).toBeLessThan(1e-5);
    const got = await rt.read(param);
    expect(relErr(got.map((x, j) => x - w0[j]!), w.map((x, j) => x - w0[j]!))).toBeLessThan(1e-4);
  });
});
