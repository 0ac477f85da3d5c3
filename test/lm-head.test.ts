import { describe, expect, it } from 'vitest';
import { RowSplitTensor } from '../src/gpu/row-split.js';
import type { Runtime } from '../src/gpu/runtime.js';
import { lmHeadBackward, lmHeadChunkTokens, lmHeadForward, type LogSoftmaxLaunch } from '../src/ops/lm-head.js';
import { dot, finiteDiff, randn, relErr, rng, runtime, sampleCoords, toF64 } from './util.js';

interface RefForward {
  logits: Float64Array;
  lse: Float64Array;
  logprobs: Float64Array;
  entropy: Float64Array;
}

/** float64 LM head: logits = h @ W^T / temperature, then log-softmax statistics per row. */
function refForward(h: ArrayLike<number>, w: ArrayLike<number>, targets: Int32Array, N: number, V: number, H: number, temperature = 1): RefForward {
  const logits = new Float64Array(N * V);
  const lse = new Float64Array(N), logprobs = new Float64Array(N), entropy = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let k = 0; k < H; k++) s += h[n * H + k]! * w[v * H + k]!;
      logits[n * V + v] = s / temperature;
      max = Math.max(max, s / temperature);
    }
    let sumE = 0, sumEX = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[n * V + v]! - max);
      sumE += e;
      sumEX += e * logits[n * V + v]!;
    }
    lse[n] = max + Math.log(sumE);
    const t = targets[n]!;
    logprobs[n] = t >= 0 && t < V ? logits[n * V + t]! - lse[n]! : 0;
    entropy[n] = lse[n]! - sumEX / sumE;
  }
  return { logits, lse, logprobs, entropy };
}

/** float64 backward of logprobs: dlogits = dLp * (onehot - softmax) / temperature; dh = dlogits @ W; dW = dlogits^T @ h. */
function refBackward(h: ArrayLike<number>, w: ArrayLike<number>, targets: Int32Array, dLp: ArrayLike<number>, N: number, V: number, H: number, temperature = 1) {
  const { logits, lse } = refForward(h, w, targets, N, V, H, temperature);
  const dh = new Float64Array(N * H), dW = new Float64Array(V * H);
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      const d = (dLp[n]! * ((v === targets[n] ? 1 : 0) - Math.exp(logits[n * V + v]! - lse[n]!))) / temperature;
      if (d === 0) continue;
      for (let k = 0; k < H; k++) {
        dh[n * H + k] += d * w[v * H + k]!;
        dW[v * H + k] += d * h[n * H + k]!;
      }
    }
  }
  return { dh, dW };
}

function randomTargets(N: number, V: number, seed: number): Int32Array {
  const u = rng(seed);
  return Int32Array.from({ length: N }, () => Math.floor(u() * V));
}

interface Case {
  N: number; V: number; H: number;
  h: Float32Array; w: Float32Array; targets: Int32Array;
  rowsPerPart: number;
}

function makeCase(N: number, V: number, H: number, rowsPerPart: number, seed: number, wScale: number): Case {
  const targets = randomTargets(N, V, seed);
  return { N, V, H, h: randn(N * H, seed + 1), w: randn(V * H, seed + 2, wScale), targets, rowsPerPart };
}

async function runForward(rt: Runtime, c: Case, chunkTokens: number | undefined, launch?: LogSoftmaxLaunch, temperature?: number) {
  const { N, V, H } = c;
  const W = RowSplitTensor.zeros(rt, V, H, 'W', c.rowsPerPart * H * 4);
  W.write(rt, c.w);
  const h = rt.upload(c.h, [N, H], 'h'), targets = rt.upload(c.targets, [N], 'targets');
  const logprobs = rt.empty([N]), lse = rt.empty([N]), entropy = rt.empty([N]), logits = rt.empty([N, V]);
  lmHeadForward(rt, h, W, targets, logprobs, lse, N, { logits, entropy, chunkTokens, launch, temperature });
  const out = { logprobs: await rt.read(logprobs), lse: await rt.read(lse), entropy: await rt.read(entropy), logits: await rt.read(logits) };
  // Without the optional outputs, the same log-probs come out.
  const logprobs2 = rt.empty([N]), lse2 = rt.empty([N]);
  lmHeadForward(rt, h, W, targets, logprobs2, lse2, N, { chunkTokens, launch, temperature });
  const plain = { logprobs: await rt.read(logprobs2), lse: await rt.read(lse2) };
  for (const t of [h, targets, logprobs, lse, entropy, logits, logprobs2, lse2]) t.dispose();
  W.dispose();
  return { ...out, plain, partCount: W.parts.length };
}

async function runBackward(rt: Runtime, c: Case, dLp: Float32Array, dW0: Float32Array, chunkTokens: number | undefined, temperature?: number) {
  const { N, V, H } = c;
  const W = RowSplitTensor.zeros(rt, V, H, 'W', c.rowsPerPart * H * 4);
  W.write(rt, c.w);
  const dW = RowSplitTensor.zeros(rt, V, H, 'dW', c.rowsPerPart * H * 4);
  dW.write(rt, dW0);
  const h = rt.upload(c.h, [N, H], 'h'), targets = rt.upload(c.targets, [N], 'targets');
  const logprobs = rt.empty([N]), lse = rt.empty([N]);
  const dLogprobs = rt.upload(dLp, [N], 'dLogprobs');
  const dh = rt.upload(randn(N * H, 99, 100), [N, H], 'dh'); // garbage: dh is overwritten
  lmHeadForward(rt, h, W, targets, logprobs, lse, N, { chunkTokens, temperature });
  lmHeadBackward(rt, h, W, targets, lse, dLogprobs, dh, dW, N, { chunkTokens, temperature });
  const out = { dh: await rt.read(dh), dW: await dW.read(rt) };
  for (const t of [h, targets, logprobs, lse, dLogprobs, dh]) t.dispose();
  W.dispose();
  dW.dispose();
  return out;
}

describe('lm head chunk size', () => {
  it('fits the binding limit and the budget, at least 1, at most N', () => {
    const V = 151936, row = V * 4;
    expect(lmHeadChunkTokens(128 * 2 ** 20, V, 10_000)).toBe(Math.floor((128 * 2 ** 20) / row)); // 220 on lavapipe
    expect(lmHeadChunkTokens(4 * 2 ** 30, V, 10_000)).toBe(Math.floor((256 * 2 ** 20) / row)); // budget-bound
    expect(lmHeadChunkTokens(128 * 2 ** 20, V, 3)).toBe(3);
    expect(lmHeadChunkTokens(2.5 * row, V, 3)).toBe(2);
    expect(lmHeadChunkTokens(2.5 * row, V, 100, 64)).toBe(2); // a request is clamped to the binding
    expect(lmHeadChunkTokens(2.5 * row, V, 100, 0)).toBe(1);
    expect(() => lmHeadChunkTokens(row - 4, V, 3)).toThrow(/exceeds the binding limit/);
  });
});

// 15-row parts: below the 16-row block multiple (row-split.ts), so the parts start at rows that are
// not multiples of 4 and the kernels' general offsets are exercised.
describe('lm head (V = 131, N = 37, H = 20, W in 9 row parts of 15 and 11, chunks of 8)', () => {
  const N = 37, V = 131, H = 20;
  const c = makeCase(N, V, H, 15, 11, 1);
  c.targets[N - 1] = -1; // a padding position: logprob 0, no one-hot in the gradient

  it('forward matches float64 (logprobs, lse, entropy, full logits)', async () => {
    const rt = await runtime();
    const got = await runForward(rt, c, 8);
    const ref = refForward(c.h, c.w, c.targets, N, V, H);
    expect(got.partCount).toBe(9);
    const errs = [relErr(got.logits, ref.logits), relErr(got.lse, ref.lse), relErr(got.logprobs, ref.logprobs), relErr(got.entropy, ref.entropy)];
    console.log('lm head forward rel errors (logits, lse, logprobs, entropy):', errs.map((e) => e.toExponential(2)).join(' '));
    for (const e of errs) expect(e).toBeLessThan(1e-5);
    expect(got.logprobs[N - 1]).toBe(0);
    expect(Array.from(got.plain.logprobs)).toEqual(Array.from(got.logprobs));
    expect(Array.from(got.plain.lse)).toEqual(Array.from(got.lse));
  });

  it('float64 backward agrees with finite differences of dot(r, logprobs)', () => {
    const r = toF64(randn(N, 21));
    const h = toF64(c.h), w = toF64(c.w);
    const { dh, dW } = refBackward(h, w, c.targets, r, N, V, H);
    const lossOfH = (x: Float64Array) => dot(r, refForward(x, w, c.targets, N, V, H).logprobs);
    const lossOfW = (x: Float64Array) => dot(r, refForward(h, x, c.targets, N, V, H).logprobs);
    const ch = sampleCoords(N * H, 12, 22), cw = sampleCoords(V * H, 12, 23);
    const fdH = finiteDiff(lossOfH, h, ch), fdW = finiteDiff(lossOfW, w, cw);
    const errs = [relErr(fdH, ch.map((i) => dh[i]!)), relErr(fdW, cw.map((i) => dW[i]!))];
    console.log('lm head reference backward vs finite differences (dh, dW):', errs.map((e) => e.toExponential(2)).join(' '));
    for (const e of errs) expect(e).toBeLessThan(1e-5); // float64 central differences, h = 1e-6
  });

  it('backward matches float64 (dh overwritten, dW accumulated)', async () => {
    const rt = await runtime();
    const dLp = randn(N, 31);
    dLp[5] = 0; // a masked token
    const dW0 = randn(V * H, 32);
    const got = await runBackward(rt, c, dLp, dW0, 8);
    const ref = refBackward(c.h, c.w, c.targets, dLp, N, V, H);
    const gotDW = got.dW.map((x, i) => x - dW0[i]!);
    const errs = [relErr(got.dh, ref.dh), relErr(gotDW, ref.dW)];
    console.log('lm head backward rel errors (dh, dW):', errs.map((e) => e.toExponential(2)).join(' '));
    // measured 2.3e-7 and 2.6e-7 (dW0 subtracted back out costs little): about ten times that
    expect(errs[0]).toBeLessThan(3e-6);
    expect(errs[1]).toBeLessThan(3e-6);
  });

  // GRPO's log-probs are of softmax(logits / T) at the rollouts' sampling temperature T.
  it('at temperature 0.7: forward and backward match float64, and the float64 gradient finite differences', async () => {
    const T = 0.7;
    const rt = await runtime();
    const got = await runForward(rt, c, 8, undefined, T);
    const ref = refForward(c.h, c.w, c.targets, N, V, H, T);
    const errs = [relErr(got.logits, ref.logits), relErr(got.lse, ref.lse), relErr(got.logprobs, ref.logprobs), relErr(got.entropy, ref.entropy)];
    for (const e of errs) expect(e).toBeLessThan(1e-5);
    // not the temperature-1 values
    expect(relErr(got.logprobs, refForward(c.h, c.w, c.targets, N, V, H).logprobs)).toBeGreaterThan(0.05);

    const r = toF64(randn(N, 41));
    const h = toF64(c.h), w = toF64(c.w);
    const refGrad = refBackward(h, w, c.targets, r, N, V, H, T);
    const ch = sampleCoords(N * H, 12, 42);
    const fdH = finiteDiff((x) => dot(r, refForward(x, w, c.targets, N, V, H, T).logprobs), h, ch);
    expect(relErr(fdH, ch.map((i) => refGrad.dh[i]!))).toBeLessThan(1e-5);

    const dLp = randn(N, 43);
    const dW0 = new Float32Array(V * H);
    const back = await runBackward(rt, c, dLp, dW0, 8, T);
    const want = refBackward(c.h, c.w, c.targets, dLp, N, V, H, T);
    expect(relErr(back.dh, want.dh)).toBeLessThan(1e-5);
    expect(relErr(back.dW, want.dW)).toBeLessThan(1e-5);
    await expect(runForward(rt, c, 8, undefined, 0)).rejects.toThrow(/temperature must be a positive number, got 0/);
  });

  it('gives the same bits with every launch of the log-softmax (lanes per row x rows per workgroup)', async () => {
    const rt = await runtime();
    const ref = refForward(c.h, c.w, c.targets, N, V, H);
    // the GPU layout first; the others split its 256-lane tree differently or leave rows idle past N
    const launches: LogSoftmaxLaunch[] = [{ lanesPerRow: 256, rowsPerGroup: 1 }, { lanesPerRow: 1, rowsPerGroup: 64 }, { lanesPerRow: 4, rowsPerGroup: 7 }, { lanesPerRow: 32, rowsPerGroup: 3 }];
    const [first, ...rest] = await Promise.all(launches.map((l) => runForward(rt, c, 8, l)));
    expect(relErr(first!.entropy, ref.entropy)).toBeLessThan(1e-5);
    for (const got of rest) {
      for (const k of ['lse', 'logprobs', 'entropy'] as const) expect(Array.from(got[k])).toEqual(Array.from(first![k]));
    }
    await expect(runForward(rt, c, 8, { lanesPerRow: 3, rowsPerGroup: 1 })).rejects.toThrow(/power-of-two/);
  });

  it('gives the same result in one chunk as in several', async () => {
    const rt = await runtime();
    const many = await runForward(rt, c, 8);
    const one = await runForward(rt, c, undefined);
    expect(relErr(one.logprobs, many.logprobs)).toBeLessThan(1e-6);
  });
});

describe('lm head at the real vocab size (V = 151936, H = 16, N = 3, W in 4 row parts)', () => {
  const N = 3, V = 151936, H = 16;
  const c = makeCase(N, V, H, 40000, 41, 0.5);
  const ref = refForward(c.h, c.w, c.targets, N, V, H);
  // Chunks sized from a binding limit of 2.5 logit rows: chunks of 2 and 1 tokens.
  const smallBindingChunk = lmHeadChunkTokens(2.5 * V * 4, V, N);

  it('forward matches float64 with the chunk from the real binding limit and from a smaller one', async () => {
    const rt = await runtime();
    expect(smallBindingChunk).toBe(2);
    for (const chunk of [undefined, smallBindingChunk]) {
      const t0 = performance.now();
      const got = await runForward(rt, c, chunk);
      const errs = [relErr(got.logits, ref.logits), relErr(got.lse, ref.lse), relErr(got.logprobs, ref.logprobs), relErr(got.entropy, ref.entropy)];
      console.log(`V=151936 chunk ${chunk ?? 'default'}: rel errors (logits, lse, logprobs, entropy)`, errs.map((e) => e.toExponential(2)).join(' '),
        `${(performance.now() - t0).toFixed(0)} ms`);
      for (const e of errs) expect(e).toBeLessThan(1e-5);
    }
  });

  it('backward matches float64 in chunks sized from a binding limit smaller than the logits', async () => {
    const rt = await runtime();
    const dLp = randn(N, 51);
    const dW0 = new Float32Array(V * H);
    const t0 = performance.now();
    const got = await runBackward(rt, c, dLp, dW0, smallBindingChunk);
    const ms = performance.now() - t0;
    const refB = refBackward(c.h, c.w, c.targets, dLp, N, V, H);
    const errs = [relErr(got.dh, refB.dh), relErr(got.dW, refB.dW)];
    console.log('V=151936 backward rel errors (dh, dW):', errs.map((e) => e.toExponential(2)).join(' '), `${ms.toFixed(0)} ms`);
    // dh sums 151936 vocabulary rows in f32 (measured 1.1e-5); dW's rows sum over 6 tokens (6.3e-8)
    expect(errs[0]).toBeLessThan(1e-4);
    expect(errs[1]).toBeLessThan(1e-6);
  });
});
