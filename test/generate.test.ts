// Generation through the KV cache against the full forward pass.
import { describe, expect, it } from 'vitest';
import { Qwen3 } from '../src/model/qwen3.js';
import { loadHfWeights } from '../src/model/weights.js';
import { generate } from '../src/model/generate.js';
import { KvSession, samePromptGroups, type LogitsConsumer } from '../src/model/kv-session.js';
import { zerosLike } from '../src/model/weights.js';
import { tinyOddQwen3 } from './model-shapes.js';
import { validatingRuntime } from './validating-device.js';
import { runtime } from './util.js';

const MODEL = 'test/fixtures/qwen3-untied-hd24/model'; // GQA 3:1, untied head, vocab 97

async function loadModel() {
  const rt = await runtime();
  const { config, params } = await loadHfWeights(rt, MODEL);
  return new Qwen3(rt, config, params);
}

/** Greedy continuation by re-running the full forward pass on the growing sequence. */
async function greedyByFullForward(model: Qwen3, prompt: Int32Array, steps: number, stop: Set<number>): Promise<number[]> {
  const seq = Array.from(prompt);
  const out: number[] = [];
  const V = model.cfg.vocabSize;
  for (let s = 0; s < steps; s++) {
    const st = model.forward({ B: 1, T: seq.length, ids: Int32Array.from(seq) }, { logits: true });
    const logits = await model.rt.read(st.logits!);
    st.dispose();
    const last = logits.subarray((seq.length - 1) * V, seq.length * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v]! > last[best]!) best = v;
    out.push(best);
    seq.push(best);
    if (stop.has(best)) break;
  }
  return out;
}

describe('generate', () => {
  it('greedy decoding of a ragged batch equals argmax of repeated full forward passes', async () => {
    const model = await loadModel();
    const prompts = [Int32Array.from([5, 17, 33]), Int32Array.from([2]), Int32Array.from([60, 61, 62, 63, 64, 65, 66, 7]), Int32Array.from([9, 9])];
    const stop = new Set([96]);
    const gens = await generate(model, prompts, { maxNewTokens: 12, stopIds: [...stop], sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, seed: 1 } });
    for (let i = 0; i < prompts.length; i++) {
      const want = await greedyByFullForward(model, prompts[i]!, 12, stop);
      expect(Array.from(gens[i]!.tokens), `prompt ${i}`).toEqual(want);
      expect(gens[i]!.finish).toBe(want[want.length - 1] === 96 ? 'stop' : 'length');
    }
  });

  it('returns the sampling log-probs of the chosen tokens and reproduces a seed', async () => {
    const model = await loadModel();
    const prompts = [Int32Array.from([1, 2, 3]), Int32Array.from([4, 5])];
    const opts = { maxNewTokens: 6, stopIds: [], sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 42 } };
    const a = await generate(model, prompts, opts);
    const b = await generate(model, prompts, opts);
    const c = await generate(model, prompts, { ...opts, sampling: { ...opts.sampling, seed: 43 } });
    expect(a.map((g) => Array.from(g.tokens))).toEqual(b.map((g) => Array.from(g.tokens)));
    expect(a.map((g) => Array.from(g.tokens))).not.toEqual(c.map((g) => Array.from(g.tokens)));
    // the sampler's log-prob of each token equals the full forward's log-softmax at temperature 1
    const seq = Int32Array.from([...prompts[0]!, ...a[0]!.tokens]);
    const st = model.forward({ B: 1, T: seq.length, ids: seq });
    const lp = await model.rt.read(st.logprobs);
    st.dispose();
    for (let i = 0; i < a[0]!.tokens.length; i++) expect(a[0]!.logprobs[i]).toBeCloseTo(lp[prompts[0]!.length - 1 + i]!, 4);
  });

  it('sequences that share a prompt share its prefill and still sample exactly as if each ran alone', async () => {
    const model = await loadModel();
    const a = Int32Array.from([5, 17, 33, 8]), b = Int32Array.from([2, 40]), c = Int32Array.from([60, 61, 62, 63, 64]);
    const prompts = [a, b, Int32Array.from(a), c, a, b, a];
    expect(samePromptGroups(prompts)).toEqual([[0, 2, 4, 6], [1, 5], [3]]);
    const opts = { maxNewTokens: 7, stopIds: [96], sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 9 } };
    const together = await generate(model, prompts, opts);
    for (let i = 0; i < prompts.length; i++) {
      const [alone] = await generate(model, [prompts[i]!], { ...opts, streamIds: [i] });
      expect(Array.from(together[i]!.tokens), `sequence ${i}`).toEqual(Array.from(alone!.tokens));
      expect(Array.from(together[i]!.logprobs), `sequence ${i}`).toEqual(Array.from(alone!.logprobs));
    }
    // Copies of one prompt draw their own tokens (their own streams), so they do not all agree.
    expect(new Set([0, 2, 4, 6].map((i) => Array.from(together[i]!.tokens).join(','))).size).toBeGreaterThan(1);
  });

  it('stops with a clear error when the logits hold a NaN, and refuses stream ids that are not u32', async () => {
    const model = await loadModel();
    const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 1 };
    // Neither failure leaves a tensor behind (the KV cache, the samples, the row seeds).
    const live = model.rt.pool.liveBytes;
    await expect(generate(model, [Int32Array.from([1, 2])], { maxNewTokens: 2, stopIds: [], sampling, streamIds: [2 ** 32] })).rejects.toThrow(/stream id 4294967296 of prompt 0 is not an integer in \[0, 2\^32\)/);
    expect(model.rt.pool.liveBytes).toBe(live);
    // A NaN in the final norm's weight makes every logit NaN (a diverged model).
    const norm = model.params.get('model.norm.weight')!;
    const saved = await norm.read(model.rt);
    const broken = Float32Array.from(saved);
    broken[0] = NaN;
    norm.write(model.rt, broken);
    try {
      await expect(generate(model, [Int32Array.from([1, 2])], { maxNewTokens: 3, stopIds: [], sampling })).rejects.toThrow(/the logits of sequence 0 at generated token 0 contain NaN/);
      expect(model.rt.pool.liveBytes).toBe(live);
    } finally {
      norm.write(model.rt, saved);
    }
  });

  it('with an f16 KV cache: greedy decoding still equals the full forward passes, and each step is near the f32 cache one', async () => {
    const model = await loadModel();
    const { rt, cfg } = model;
    const prompts = [Int32Array.from([5, 17, 33]), Int32Array.from([2]), Int32Array.from([60, 61, 62, 63, 64, 65, 66, 7]), Int32Array.from([9, 9])];
    const stop = new Set([96]);
    const sampling = { temperature: 0, topK: 0, topP: 1, minP: 0, seed: 1 };
    const gens = await generate(model, prompts, { maxNewTokens: 12, stopIds: [...stop], sampling, kvCacheDtype: 'f16' });
    for (let i = 0; i < prompts.length; i++) expect(Array.from(gens[i]!.tokens), `prompt ${i}`).toEqual(await greedyByFullForward(model, prompts[i]!, 12, stop));
    // One decode step after the same prefill: the f16 cache moves the logits (so it is in use), by
    // about what rounding k and v to 11 significant bits should: 2^-11 of their size.
    const stepLogits = async (cacheDtype: 'f32' | 'f16') => {
      const session = new KvSession(model, 4, 24, { cacheDtype });
      session.prefill(prompts, () => {});
      const out = rt.empty([4, cfg.vocabSize]);
      session.step(Int32Array.from([7, 8, 9, 10]), Int32Array.from([0, 1, 2, 3]), Int32Array.from(prompts, (p) => p.length), (logits, r0, n) =>
        rt.copy(logits, out, n * cfg.vocabSize, 0, r0 * cfg.vocabSize));
      const values = await rt.read(out);
      out.dispose();
      session.dispose();
      return values;
    };
    const [f32, f16] = [await stepLogits('f32'), await stepLogits('f16')];
    const maxDiff = f32.reduce((m, v, i) => Math.max(m, Math.abs(v - f16[i]!)), 0);
    const maxAbs = f32.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    console.log(`f16 KV cache: step logits differ from the f32 cache's by ${maxDiff.toExponential(2)} (largest logit ${maxAbs.toFixed(2)})`);
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff / maxAbs).toBeLessThan(2 ** -11);
  });

  it('rejects empty prompts, prompts beyond the context and caches that cannot fit', async () => {
    const model = await loadModel();
    const sampling = { temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0 };
    await expect(generate(model, [new Int32Array(0)], { maxNewTokens: 2, stopIds: [], sampling })).rejects.toThrow(/prompt 0 is empty/);
    const long = new Int32Array(model.cfg.maxPositionEmbeddings).fill(3);
    await expect(generate(model, [long], { maxNewTokens: 2, stopIds: [], sampling })).rejects.toThrow(/context holds/);
    await expect(generate(model, [Int32Array.from([500])], { maxNewTokens: 2, stopIds: [], sampling })).rejects.toThrow(/outside the vocabulary/);
  });
});

/** tinyOddQwen3 with zero weights on a validating stand-in device of `bindingBytes` bindings (nothing computed). */
function standInModel(bindingBytes: number) {
  const { rt, log } = validatingRuntime({ bindingBytes });
  return { model: new Qwen3(rt, tinyOddQwen3, zerosLike(rt, tinyOddQwen3, 'w')), log };
}

/** A prompt of n valid ids of tinyOddQwen3. */
const prompt = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 90);

describe('KvSession.prefill of prompts too long for one pass', () => {
  /** Logits rows of a prefill, or of a step, copied out of the reused chunk tensor. */
  const logitsOf = async (session: KvSession, rows: number, run: (consumer: LogitsConsumer) => void) => {
    const { rt, cfg } = session.model;
    const out = rt.empty([rows, cfg.vocabSize]);
    run((logits, rowStart, n) => rt.copy(logits, out, n * cfg.vocabSize, 0, rowStart * cfg.vocabSize));
    const values = await rt.read(out);
    out.dispose();
    return values;
  };

  it('runs them in passes through the cache: the same logits and cache as one pass, shared prompts included', async () => {
    const model = await loadModel();
    const a = Int32Array.from([5, 17, 33, 8, 21, 22, 23]), b = Int32Array.from([2, 40]), c = Int32Array.from([60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70]);
    const prompts = [a, b, Int32Array.from(a), c];
    const onePass = new KvSession(model, 4, 16);
    const inPasses = new KvSession(model, 4, 16);
    inPasses.prefillChunkRows = 5; // 20 real tokens in 4 passes, which cut prompts a and c
    const want = await logitsOf(onePass, 4, (consumer) => onePass.prefill(prompts, consumer));
    const got = await logitsOf(inPasses, 4, (consumer) => inPasses.prefill(prompts, consumer));
    const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
    // The caches agree too, copies' slots included: one decode step reads every prompt's cache.
    const step = (session: KvSession) => logitsOf(session, 4, (consumer) =>
      session.step(Int32Array.from([7, 8, 9, 10]), Int32Array.from([0, 1, 2, 3]), Int32Array.from(prompts, (p) => p.length), consumer));
    const [stepWant, stepGot] = [await step(onePass), await step(inPasses)];
    expect(maxDiff(stepGot, stepWant)).toBeLessThan(1e-5);
    expect(maxDiff(stepWant, want)).toBeGreaterThan(1e-2); // the step's logits are not the prefill's again
    onePass.dispose();
    inPasses.dispose();
  });

  it('splits each layer\'s cache into parts of whole sequences: the same logits as one part, in one pass and in several, in f32 and f16', async () => {
    const model = await loadModel();
    const a = Int32Array.from([5, 17, 33, 8, 21, 22, 23]), b = Int32Array.from([2, 40]), c = Int32Array.from([60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70]);
    const prompts = [a, b, Int32Array.from(a), c, b];
    for (const cacheDtype of ['f32', 'f16'] as const) {
      const whole = new KvSession(model, 5, 16, { cacheDtype });
      const split = new KvSession(model, 5, 16, { cacheDtype, slotsPerPart: 2 }); // parts of slots 0-1, 2-3 and 4
      const wholeInPasses = new KvSession(model, 5, 16, { cacheDtype });
      const splitInPasses = new KvSession(model, 5, 16, { cacheDtype, slotsPerPart: 2 });
      wholeInPasses.prefillChunkRows = splitInPasses.prefillChunkRows = 6; // passes that attend through the parts
      expect([whole.slotsPerPart, split.slotsPerPart]).toEqual([5, 2]);
      const run = async (session: KvSession) => {
        const prefill = await logitsOf(session, 5, (consumer) => session.prefill(prompts, consumer));
        const step = await logitsOf(session, 5, (consumer) =>
          session.step(Int32Array.from([7, 8, 9, 10, 11]), Int32Array.from([0, 1, 2, 3, 4]), Int32Array.from(prompts, (p) => p.length), consumer));
        return [...prefill, ...step];
      };
      // The same arithmetic on the same values, part by part: equal, not merely close.
      expect(await run(split)).toEqual(await run(whole));
      expect(await run(splitInPasses)).toEqual(await run(wholeInPasses));
      for (const s of [whole, split, wholeInPasses, splitInPasses]) s.dispose();
    }
  });

  it('splits a cache larger than a binding by itself (stand-in device): parts of as many sequences as one holds, no limit crossed', () => {
    // tinyOddQwen3: 20 floats a position in a layer's K cache, so 40 positions take 3200 bytes a
    // sequence and an 8 KiB binding holds 2: 5 sequences go in parts of 2, 2 and 1.
    const { model, log } = standInModel(8192);
    const session = new KvSession(model, 5, 40);
    expect(session.slotsPerPart).toBe(2);
    session.prefill([prompt(12), prompt(30), prompt(7), prompt(20), prompt(5)], () => {});
    session.step(Int32Array.from([1, 2, 3, 4, 5]), Int32Array.from([0, 1, 2, 3, 4]), Int32Array.from([12, 30, 7, 20, 5]), () => {});
    expect(log.errors).toEqual([]);
    session.dispose();
    // One sequence past a binding (60 positions x 80 bytes > 4 KiB) is refused, with the sizes.
    expect(() => new KvSession(standInModel(4096).model, 1, 60)).toThrow(/^KV cache of one sequence of 60 positions needs 4800 bytes per layer tensor, more than one storage binding holds on this adapter \(4096 bytes\)/);
  });

  it('chooses passes that fit a small binding (stand-in device), and refuses every-position logits it cannot give in one', () => {
    // tinyOddQwen3: the widest activation is 6 heads x 10 = 60 floats a token, so an 8 KiB binding
    // holds 34 rows a pass; one layer's cache of 2 x 40 positions x 20 floats fits it.
    const { model, log } = standInModel(8192);
    const session = new KvSession(model, 2, 40);
    expect(session.prefillChunkRows).toBe(34);
    let rows = 0;
    session.prefill([prompt(40), prompt(30)], (_logits, _start, n) => { rows += n; });
    expect(rows).toBe(2);
    expect(log.errors).toEqual([]);
    expect(() => session.prefill([prompt(40)], () => {}, true)).toThrow(
      /^prefill of 1 distinct prompt\(s\) of up to 40 tokens with every position's logits needs a \[40, 60\] activation .*: run fewer or shorter prompts at once$/,
    );
    session.dispose();
  });
});
