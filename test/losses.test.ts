import { describe, expect, it } from 'vitest';
import { grpoLoss, sftLoss, type GrpoLossOptions } from '../src/ops/losses.js';
import { finiteDiff, maxAbsDiff, randn, relErr, rng, runtime, sampleCoords, toF64 } from './util.js';

function randomMask(N: number, seed: number, pOne = 0.7): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: N }, () => (u() < pOne ? 1 : 0));
}

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0);

/** float64 SFT loss and gradient. */
function refSft(lp: ArrayLike<number>, mask: ArrayLike<number>, invCount: number) {
  let s = 0;
  for (let n = 0; n < lp.length; n++) if (mask[n]) s += lp[n]! * mask[n]!;
  return { loss: -s * invCount, dLp: Float64Array.from(mask, (m) => -m * invCount) };
}

interface GrpoInputs { old: ArrayLike<number>; ref: ArrayLike<number>; adv: ArrayLike<number>; mask: ArrayLike<number> }

/**
 * float64 GRPO loss and the gradient autograd computes: torch.maximum gives the
 * larger input the gradient and splits it at a tie, torch.clamp passes it inside
 * [lo, hi] bounds included (also verl's clamp of lp - old to [-20, 20]); verl's dual clip is
 * torch.min against -A * clipRatioC for A < 0. The KL is verl's low_var_kl by default: k3 of clamp(ref - lp,
 * -20, 20), clamped to [-10, 10]; k1 is lp - ref, k2 0.5 (lp - ref)^2. mask holds each
 * token's weight; the stats count each token with a nonzero weight once.
 */
function refGrpo(lp: ArrayLike<number>, x: GrpoInputs, invCount: number, o: GrpoLossOptions) {
  const lo = 1 - o.clipEps, hi = 1 + o.clipEps;
  let loss = 0;
  const stats = [0, 0, 0, 0];
  const dLp = new Float64Array(lp.length);
  for (let n = 0; n < lp.length; n++) {
    const m = x.mask[n]!;
    if (!m) continue;
    const A = x.adv[n]!;
    const logRatio = lp[n]! - x.old[n]!;
    const ratio = Math.exp(Math.min(Math.max(logRatio, -20), 20));
    const a = -A * ratio, b = -A * Math.min(Math.max(ratio, lo), hi);
    let pg = Math.max(a, b);
    const [wa, wb] = a > b ? [1, 0] : b > a ? [0, 1] : [0.5, 0.5];
    const dClamp = ratio >= lo && ratio <= hi ? 1 : 0;
    let wDual = 1; // torch.min against -A * clipRatioC
    if (A < 0 && o.clipRatioC != null) {
      const c = -A * o.clipRatioC;
      wDual = c < pg ? 0 : c === pg ? 0.5 : 1;
      pg = Math.min(pg, c);
    }
    const dRatio = Math.abs(logRatio) <= 20 ? ratio : 0; // torch.clamp of lp - old
    const dpg = -A * dRatio * (wa + wb * dClamp) * wDual;
    const dRaw = x.ref[n]! - lp[n]!;
    let kl: number, dkl: number;
    if (o.klEstimator === 'k1') [kl, dkl] = [lp[n]! - x.ref[n]!, 1];
    else if (o.klEstimator === 'k2') [kl, dkl] = [0.5 * dRaw ** 2, -dRaw];
    else {
      const d = Math.min(Math.max(dRaw, -20), 20);
      const klRaw = Math.exp(d) - d - 1;
      kl = Math.min(Math.max(klRaw, -10), 10);
      dkl = Math.abs(dRaw) <= 20 && Math.abs(klRaw) <= 10 ? 1 - Math.exp(d) : 0;
    }
    loss += (pg + o.klCoef * kl) * m;
    dLp[n] = m * invCount * (dpg + o.klCoef * dkl);
    stats[0] += b > a ? 1 : 0;
    stats[1] += kl;
    stats[2] += ratio;
    stats[3] += pg;
  }
  return { loss: loss * invCount, dLp, stats };
}

describe('SFT loss', () => {
  for (const N of [37, 601]) {
    it(`N = ${N}: loss and gradient match float64`, async () => {
      const rt = await runtime();
      const lp = randn(N, N, 3).map((x) => -Math.abs(x));
      const mask = randomMask(N, N + 1);
      lp[0] = 1e30; // garbage at a masked position must not leak into the loss
      mask[0] = 0;
      const invCount = 1 / sum(mask);
      const tLp = rt.upload(lp, [N]), tMask = rt.upload(mask, [N]);
      const loss = rt.empty([1]), dLp = rt.upload(randn(N, 5), [N]); // dLogprobs is overwritten
      sftLoss(rt, tLp, tMask, invCount, loss, dLp, N);
      const ref = refSft(lp, mask, invCount);
      const gotLoss = (await rt.read(loss))[0]!;
      expect(Math.abs(gotLoss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-6);
      expect(relErr(await rt.read(dLp), ref.dLp)).toBeLessThan(1e-7);
    });
  }

  it('float64 gradient agrees with finite differences of the loss', () => {
    const N = 37;
    const x = toF64(randn(N, 11).map((v) => -Math.abs(v)));
    const mask = randomMask(N, 12);
    const invCount = 1 / sum(mask);
    const coords = sampleCoords(N, 20, 13);
    const fd = finiteDiff((y) => refSft(y, mask, invCount).loss, x, coords);
    expect(relErr(fd, coords.map((i) => refSft(x, mask, invCount).dLp[i]!))).toBeLessThan(1e-8);
  });
});

describe('GRPO loss', () => {
  const B = 5, T = 61, N = B * T;
  const o: GrpoLossOptions = { clipEps: 0.2, klCoef: 0.05 };
  const seqAdv = [1.3, -0.8, 0.45, -1.7, 0]; // both signs, and a zero advantage (ties everywhere)
  const adv = Float32Array.from({ length: N }, (_, n) => seqAdv[Math.floor(n / T)]!);
  const u = rng(7);
  // lp - old spans [-1, 1]: ratios from 0.37 to 2.7, well outside 1 +/- eps on both sides.
  const lp = Float32Array.from({ length: N }, () => -0.2 - 3 * u());
  const old = Float32Array.from(lp, (x) => x - (2 * u() - 1));
  // ref - lp: half small (where exp(d) - d - 1 cancels in f32), half up to +/- 1.5.
  const ref = Float32Array.from(lp, (x, n) => x + (n % 2 ? 0.05 : 1.5) * (2 * u() - 1));
  const mask = randomMask(N, 8, 0.75);
  lp[3] = 60; // garbage at a masked position (exp would overflow)
  mask[3] = 0;
  // Tokens far from the reference, where verl's clamps bind: k3 above 10 (d = 3, 2.7; and
  // d = -12.5) and |d| above 20. Their KL is 10 and adds no gradient.
  const farFromRef = [10, 41, 77, 150, 222];
  farFromRef.forEach((n, i) => { ref[n] = lp[n]! + [3, 2.7, -12.5, 25, -31][i]!; mask[n] = 1; });
  const invCount = 1 / sum(mask);
  const inputs: GrpoInputs = { old, ref, adv, mask };

  it('test data hits both clip branches for both signs of the advantage', () => {
    const lo = 1 - o.clipEps, hi = 1 + o.clipEps;
    const counts = { highPos: 0, lowNeg: 0, highNeg: 0, lowPos: 0, inside: 0 };
    for (let n = 0; n < N; n++) {
      if (!mask[n]) continue;
      const r = Math.exp(lp[n]! - old[n]!), A = adv[n]!;
      if (r > hi && A > 0) counts.highPos++; // clipped: zero gradient
      if (r < lo && A < 0) counts.lowNeg++; // clipped: zero gradient
      if (r > hi && A < 0) counts.highNeg++; // unclipped branch wins
      if (r < lo && A > 0) counts.lowPos++; // unclipped branch wins
      if (r >= lo && r <= hi && A !== 0) counts.inside++; // tie: gradient split in halves
    }
    for (const c of Object.values(counts)) expect(c).toBeGreaterThan(5);
  });

  it('float64 gradient agrees with finite differences of the loss', () => {
    const x = toF64(lp);
    const g = refGrpo(x, inputs, invCount, o).dLp;
    const coords = [...sampleCoords(N, 40, 9), ...farFromRef];
    const fd = finiteDiff((y) => refGrpo(y, inputs, invCount, o).loss, x, coords);
    const err = relErr(fd, coords.map((i) => g[i]!));
    console.log(`GRPO reference gradient vs finite differences: ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-6);
    // The clipped tokens really have zero policy gradient, the others not (the KL term, left out
    // here, moves every token).
    const policy = refGrpo(x, inputs, invCount, { ...o, klCoef: 0 }).dLp;
    const lo = 1 - o.clipEps, hi = 1 + o.clipEps;
    const seen = { clipped: 0, unclipped: 0 };
    for (let n = 0; n < N; n++) {
      const r = Math.exp(lp[n]! - old[n]!), A = adv[n]!;
      if (!mask[n] || A === 0) continue;
      const clipped = (r > hi && A > 0) || (r < lo && A < 0);
      seen[clipped ? 'clipped' : 'unclipped']++;
      if (clipped) expect(Math.abs(policy[n]!), `token ${n}`).toBe(0);
      else expect(Math.abs(policy[n]!), `token ${n}`).toBeGreaterThan(0);
    }
    expect(seen.clipped).toBeGreaterThan(5);
    expect(seen.unclipped).toBeGreaterThan(5);
  });

  for (const klEstimator of ['k1', 'k2'] as const) {
    it(`${klEstimator}: float64 gradient agrees with finite differences of the loss`, () => {
      const x = toF64(lp);
      const ok = { ...o, klCoef: 0.3, klEstimator };
      const coords = [...sampleCoords(N, 40, 19), ...farFromRef];
      const fd = finiteDiff((y) => refGrpo(y, inputs, invCount, ok).loss, x, coords);
      expect(relErr(fd, coords.map((i) => refGrpo(x, inputs, invCount, ok).dLp[i]!))).toBeLessThan(1e-6);
      // and it is not k3's
      expect(relErr(refGrpo(x, inputs, invCount, ok).dLp, refGrpo(x, inputs, invCount, { ...ok, klEstimator: 'k3' }).dLp)).toBeGreaterThan(1e-2);
    });
  }

  // Per-token weights (seq-mean-token-mean: 1 / the sequence's length; invCount 1 / sequences),
  // with each KL estimate: the loss and gradient are weighted, the stats count tokens.
  for (const klEstimator of ['k1', 'k2', 'k3'] as const) {
    it(`${klEstimator} with per-token weights: loss, gradient and stats match float64`, async () => {
      const rt = await runtime();
      const lengths = Array.from({ length: B }, (_, b) => sum(mask.subarray(b * T, (b + 1) * T)));
      const weights = Float32Array.from(mask, (m, n) => m / lengths[Math.floor(n / T)]!);
      const ow = { ...o, klCoef: 0.3, klEstimator };
      const up = (a: Float32Array, label: string) => rt.upload(a, [N], label);
      const loss = rt.empty([1]), dLp = up(randn(N, 10), 'dLp'), stats = rt.empty([4]);
      grpoLoss(rt, up(lp, 'lp'), up(old, 'old'), up(ref, 'ref'), up(adv, 'adv'), up(weights, 'w'), 1 / B, ow, loss, dLp, stats, N);
      const want = refGrpo(lp, { ...inputs, mask: weights }, 1 / B, ow);
      expect(Math.abs((await rt.read(loss))[0]! - want.loss) / Math.abs(want.loss)).toBeLessThan(1e-5);
      expect(relErr(await rt.read(dLp), want.dLp)).toBeLessThan(1e-5);
      const gotStats = await rt.read(stats);
      expect(gotStats[0]).toBe(want.stats[0]); // a count of tokens, not a sum of weights
      for (let i = 1; i < 4; i++) expect(Math.abs(gotStats[i]! - want.stats[i]!) / Math.abs(want.stats[i]!)).toBeLessThan(1e-5);
      // the weights changed the loss: token-mean's is another number
      expect(Math.abs(refGrpo(lp, inputs, invCount, ow).loss - want.loss)).toBeGreaterThan(1e-3 * Math.abs(want.loss));
    });
  }

  it('loss, gradient and stats match float64', async () => {
    const rt = await runtime();
    const up = (a: Float32Array, label: string) => rt.upload(a, [N], label);
    const tLp = up(lp, 'lp'), tOld = up(old, 'old'), tRef = up(ref, 'ref'), tAdv = up(adv, 'adv'), tMask = up(mask, 'mask');
    const loss = rt.empty([1]), dLp = up(randn(N, 10), 'dLp'), stats = rt.empty([4]);
    grpoLoss(rt, tLp, tOld, tRef, tAdv, tMask, invCount, o, loss, dLp, stats, N);
    const want = refGrpo(lp, inputs, invCount, o);
    const gotLoss = (await rt.read(loss))[0]!;
    const gotDLp = await rt.read(dLp);
    const gotStats = await rt.read(stats);
    const lossErr = Math.abs(gotLoss - want.loss) / Math.abs(want.loss);
    const gradErr = relErr(gotDLp, want.dLp);
    console.log(`GRPO: loss rel err ${lossErr.toExponential(2)}, dLogprobs rel err ${gradErr.toExponential(2)}, stats`, Array.from(gotStats), 'want', want.stats);
    expect(lossErr).toBeLessThan(1e-5);
    expect(gradErr).toBeLessThan(1e-5);
    expect(gotStats[0]).toBe(want.stats[0]);
    for (let i = 1; i < 4; i++) expect(Math.abs(gotStats[i]! - want.stats[i]!) / Math.abs(want.stats[i]!)).toBeLessThan(1e-5);
    expect(gotDLp[3]).toBe(0);
  });

  it("verl's dual clip and clamp of lp - old: matches float64, and binds only where it should", async () => {
    // Tokens as after an earlier update of the same batch: log-ratios from -25 to 25, both signs
    // of A, so the dual clip (A < 0, ratio > 3) and the clamp (|lp - old| > 20) each bind somewhere.
    const rt = await runtime();
    const logRatios = [-25, -21, -3, -0.5, 0.1, 0.7, 1.05, 1.2, 2.5, 21, 30];
    const n = 2 * logRatios.length;
    const lp2 = Float32Array.from({ length: n }, (_, i) => -0.5 - 0.05 * i);
    const old2 = Float32Array.from(lp2, (x, i) => x - logRatios[i % logRatios.length]!);
    const adv2 = Float32Array.from({ length: n }, (_, i) => (i < logRatios.length ? 0.9 : -1.1));
    const ref2 = Float32Array.from(lp2, (x, i) => x + 0.3 * Math.sin(i));
    const inputs2 = { old: old2, ref: ref2, adv: adv2, mask: new Float32Array(n).fill(1) };
    const dual: GrpoLossOptions = { clipEps: 0.2, klCoef: 0.05, clipRatioC: 3 };
    const up = (a: Float32Array) => rt.upload(a, [n]);
    const loss = rt.empty([1]), dLp = rt.empty([n]), stats = rt.empty([4]);
    // Without the dual clip too: there a token with A < 0 and lp - old > 20 has an unclipped
    // ratio of e^20, whose gradient only the clamp of lp - old stops.
    for (const options of [dual, { ...dual, clipRatioC: null }]) {
      grpoLoss(rt, up(lp2), up(old2), up(ref2), up(adv2), up(inputs2.mask), 1 / n, options, loss, dLp, stats, n);
      const want = refGrpo(lp2, inputs2, 1 / n, options);
      expect(Math.abs((await rt.read(loss))[0]! - want.loss) / Math.abs(want.loss)).toBeLessThan(1e-5);
      expect(relErr(await rt.read(dLp), want.dLp)).toBeLessThan(1e-5);
    }
    // The reference's gradient is the loss's (finite differences away from the kinks).
    const x = toF64(lp2);
    const coords = Array.from({ length: n }, (_, i) => i);
    const fd = finiteDiff((y) => refGrpo(y, inputs2, 1 / n, dual).loss, x, coords);
    expect(relErr(fd, coords.map((i) => refGrpo(x, inputs2, 1 / n, dual).dLp[i]!))).toBeLessThan(1e-6);
    // Where each part binds: the policy term passes no gradient, and it does without the dual clip.
    const off = refGrpo(x, inputs2, 1 / n, { ...dual, klCoef: 0, clipRatioC: null }).dLp;
    const on = refGrpo(x, inputs2, 1 / n, { ...dual, klCoef: 0 }).dLp;
    logRatios.forEach((r, i) => {
      const neg = logRatios.length + i; // the same log-ratio with A < 0
      const dualBinds = Math.exp(Math.min(r, 20)) > 3;
      expect(on[neg] === 0, `A < 0, log-ratio ${r}`).toBe(dualBinds || Math.abs(r) > 20 || r < Math.log(0.8));
      expect(off[neg] === 0, `A < 0, log-ratio ${r}, no dual clip`).toBe(Math.abs(r) > 20 || r < Math.log(0.8));
      expect(on[i] === 0, `A > 0, log-ratio ${r}`).toBe(Math.abs(r) > 20 || r > Math.log(1.2));
    });
  });

  it('the KL of a token far from the reference is capped at 10 and passes no gradient', async () => {
    // One token per case with A = 0 and ratio 1, so the loss is klCoef * kl and the gradient the KL's.
    const rt = await runtime();
    const ds = [3, -12.5, 25, -31, 2.5, -1];
    const n = ds.length;
    const lp2 = Float32Array.from(ds, (_, i) => -1 - 0.1 * i);
    const ref2 = Float32Array.from(lp2, (x, i) => x + ds[i]!);
    const zeros = new Float32Array(n), ones = new Float32Array(n).fill(1);
    const up = (a: Float32Array) => rt.upload(a, [n]);
    const loss = rt.empty([1]), dLp = rt.empty([n]), stats = rt.empty([4]);
    grpoLoss(rt, up(lp2), up(lp2), up(ref2), up(zeros), up(ones), 1, { clipEps: 0.2, klCoef: 1 }, loss, dLp, stats, n);
    const g = await rt.read(dLp);
    expect(Array.from(g.slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Math.abs(g[4]! - (1 - Math.exp(2.5))) / Math.exp(2.5)).toBeLessThan(1e-5); // k3(2.5) = 8.7: inside
    expect(Math.abs(g[5]! - (1 - Math.exp(-1)))).toBeLessThan(1e-6);
    const want = 4 * 10 + (Math.exp(2.5) - 3.5) + (Math.exp(-1) + 1 - 1);
    expect(Math.abs((await rt.read(loss))[0]! - want) / want).toBeLessThan(1e-5);
  });

  it('exp(d) - d - 1 stays accurate for tiny KL terms', async () => {
    // All tokens with ratio 1 and A = 0: the loss is klCoef * mean(kl) with |ref - lp| ~ 1e-3,
    // where the direct f32 formula would lose about 4 of its 7 digits.
    const rt = await runtime();
    const n = 300;
    const lp2 = randn(n, 12).map((x) => -2 - Math.abs(x));
    const ref2 = Float32Array.from(lp2, (x, i) => x + 1e-3 * Math.sin(i + 1));
    const m = new Float32Array(n).fill(1);
    const zeros = new Float32Array(n);
    const up = (a: Float32Array) => rt.upload(a, [n]);
    const loss = rt.empty([1]), dLp = rt.empty([n]), stats = rt.empty([4]);
    grpoLoss(rt, up(lp2), up(lp2), up(ref2), up(zeros), up(m), 1 / n, { clipEps: 0.2, klCoef: 1 }, loss, dLp, stats, n);
    const want = refGrpo(lp2, { old: lp2, ref: ref2, adv: zeros, mask: m }, 1 / n, { clipEps: 0.2, klCoef: 1 });
    const got = (await rt.read(loss))[0]!;
    expect(Math.abs(got - want.loss) / want.loss).toBeLessThan(1e-5);
    // Relative, not absolute: dLp is ~3e-6 here, and an absolute 1e-8 let -d stand in for 1 - e^d.
    // f32's 1 - e^d cancels (measured 5.2e-5); the -d stand-in is off by d^2/2 (4.3e-4 here).
    const bound = 1.5e-4;
    expect(relErr(await rt.read(dLp), want.dLp)).toBeLessThan(bound);
    const firstOrder = Array.from(lp2, (x, i) => -(ref2[i]! - x) / n);
    expect(relErr(firstOrder, want.dLp)).toBeGreaterThan(bound);
  });
});
