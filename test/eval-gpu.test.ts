// End to end: the tiny fixture model (with the tiny tokenizer) judges a few
// RewardBench-style pairs in both modes through the KV-cache sampler.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvalCli } from '../src/eval/cli.js';
import { generationChunks, type GenerationChunkLimits } from '../src/eval/generation-chunks.js';
import { judgeWithModel, loadJudge } from '../src/eval/gpu-judge.js';
import { openHfModelFolder, writeHfModelFolder, type Qwen3Config } from '../src/io/hf-model.js';
import { BF16_LAYER_MATRIX } from '../src/model/bf16-matrices.js';
import { KvSession, kvCacheBytesPerTensor, kvCacheParts } from '../src/model/kv-session.js';
import { Qwen3 } from '../src/model/qwen3.js';
import { loadHfWeights } from '../src/model/weights.js';
import { loadTokenizer } from '../src/tokenizer/index.js';
import { runtime } from './util.js';

function modelFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eval-model-'));
  cpSync('test/fixtures/qwen3-tiny/model', dir, { recursive: true });
  cpSync('models/tiny-tokenizer', dir, { recursive: true });
  // The fixture's 64-position context is too short for judge prompts with full rubrics;
  // RoPE works at any position, so the copy gets a longer one.
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, max_position_embeddings: 1024 }));
  return dir;
}

describe('eval.js with the GPU judge', () => {
  it('samples by --seed, and the same judgments whatever --batch-size', async () => {
    const rt = await runtime();
    const dir = modelFolder();
    const judgments = async (seed: string, batchSize: string) => {
      const saved = join(dir, `seed-${seed}-batch-${batchSize}.jsonl`);
      const code = await runEvalCli(
        ['--model', dir, '--data', 'test/fixtures/eval/rewardbench.jsonl', '--format', 'rewardbench', '--limit', '3', '--k', '2', '--max-new-tokens', '6',
          '--temperature', '1', '--thinking', 'off', '--out', join(dir, `r-${seed}-${batchSize}.json`), '--save-judgments', saved, '--seed', seed, '--batch-size', batchSize],
        (modelDir, decoding) => loadJudge(rt, modelDir, decoding),
        { stdout: { write: () => true }, stderr: { write: () => true } } as never,
      );
      expect(code).toBe(0);
      return Object.fromEntries(readFileSync(saved, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((r) => [`${r.key}/${r.draw}`, r.text]));
    };
    const [seed3, seed4, seed3ByOne] = [await judgments('3', '8'), await judgments('4', '8'), await judgments('3', '1')];
    expect(Object.keys(seed3)).toHaveLength(12);
    expect(seed3ByOne).toEqual(seed3);
    // An untrained judge at temperature 1: two seeds agree on almost no 6-token judgment.
    expect(Object.keys(seed3).filter((key) => seed3[key] === seed4[key]).length).toBeLessThan(3);
  });

  it('--weights bf16 judges a model stored in bf16 exactly as f32 weights do, and records the setting', async () => {
    const rt = await runtime();
    const f32Dir = modelFolder();
    // The same judge stored in bf16 (as Qwen3's releases are), its tokenizer beside it.
    const dir = mkdtempSync(join(tmpdir(), 'eval-model-bf16-'));
    const folder = await openHfModelFolder(f32Dir);
    const weights = new Map<string, Float32Array>();
    for (const name of folder.tensorNames) weights.set(name, await folder.readF32(name));
    await writeHfModelFolder(dir, folder.config, weights, { dtype: 'BF16' });
    await folder.close();
    cpSync('models/tiny-tokenizer', dir, { recursive: true });
    const judgments = async (extra: string[], name: string) => {
      const saved = join(dir, `${name}.jsonl`), out = join(dir, `${name}.json`);
      const code = await runEvalCli(
        ['--model', dir, '--data', 'test/fixtures/eval/rewardbench.jsonl', '--format', 'rewardbench', '--limit', '3', '--k', '2', '--max-new-tokens', '8',
          '--temperature', '1', '--thinking', 'off', '--out', out, '--save-judgments', saved, '--seed', '5', ...extra],
        (modelDir, decoding) => loadJudge(rt, modelDir, decoding),
        { stdout: { write: () => true }, stderr: { write: () => true } } as never,
      );
      expect(code).toBe(0);
      const lines = readFileSync(saved, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      return { texts: Object.fromEntries(lines.map((r) => [`${r.key}/${r.draw}`, r.text])), judging: lines.map((r) => r.judging), results: JSON.parse(readFileSync(out, 'utf8')) };
    };
    // The judge --weights bf16 loads keeps its layer matrices at half the bytes (so it is not the f32 one).
    const loadedBytes = async (weightsDtype?: 'bf16') => {
      const before = rt.pool.liveBytes;
      await loadJudge(rt, dir, { temperature: 1, topP: 1, maxNewTokens: 8, seed: 0, ...(weightsDtype && { weightsDtype }) });
      return rt.pool.liveBytes - before;
    };
    const matrixValues = [...weights].filter(([name]) => BF16_LAYER_MATRIX.test(name)).reduce((sum, [, w]) => sum + w.length, 0);
    expect(await loadedBytes()).toBeGreaterThanOrEqual(await loadedBytes('bf16') + 2 * matrixValues);
    const [f32, bf16] = [await judgments([], 'f32'), await judgments(['--weights', 'bf16'], 'bf16')];
    expect(Object.keys(bf16.texts)).toHaveLength(12);
    expect(bf16.texts).toEqual(f32.texts);
    expect(bf16.results.config.decoding.weightsDtype).toBe('bf16');
    expect(f32.results.config.decoding).not.toHaveProperty('weightsDtype');
    expect(bf16.judging.every((j) => j.weightsDtype === 'bf16')).toBe(true);
    expect(f32.judging.every((j) => !('weightsDtype' in j))).toBe(true);
  });

  for (const mode of ['pointwise', 'pairwise'] as const) {
    it(`${mode}: completes, counts format errors and writes valid results`, async () => {
      const rt = await runtime();
      const dir = modelFolder();
      const out = join(dir, `results-${mode}.json`);
      const saved = join(dir, `judgments-${mode}.jsonl`);
      let stdout = '';
      const io = { stdout: { write: (s: string) => { stdout += s; return true; } }, stderr: { write: (s: string) => { stdout += s; return true; } } };
      const code = await runEvalCli(
        ['--model', dir, '--data', 'test/fixtures/eval/rewardbench.jsonl', '--format', 'rewardbench', '--mode', mode,
          '--limit', '4', '--k', '2', '--max-new-tokens', '6', '--thinking', 'off', '--out', out, '--save-judgments', saved, '--seed', '3'],
        (modelDir, decoding) => loadJudge(rt, modelDir, decoding),
        io as never,
      );
      expect(code, stdout).toBe(0);
      const results = JSON.parse(readFileSync(out, 'utf8'));
      const lines = readFileSync(saved, 'utf8').trim().split('\n');
      // 4 examples x (2 responses in pointwise | 1 comparison in pairwise) x k = 2 draws
      expect(lines.length).toBe(mode === 'pointwise' ? 16 : 8);
      // An untrained model writes no valid <answer> in 6 tokens: every comparison is unparseable,
      // which the main metric counts as wrong and the 0.5 variant as half.
      const all = results.scores.score.allExamples;
      expect(all.comparisons).toBe(4);
      expect(all.unparseable).toBe(4);
      expect(all.tiesWrong).toBe(0);
      expect(all.tiesHalf).toBe(0.5);
      expect(results.run.judgedItems).toBe(mode === 'pointwise' ? 8 : 4);
      expect(stdout).toContain('RewardBench');
    });
  }
});

describe('generation chunks', () => {
  const MiB = 1024 * 1024, GiB = 1024 * MiB;
  // Qwen3-0.6B and -8B sizes (qwen3.md); 1024 KV floats per position in both.
  const qwen06b = { hiddenSize: 1024, intermediateSize: 3072, numLayers: 28, numHeads: 16, numKvHeads: 8, headDim: 128, maxPositionEmbeddings: 40960 } as Qwen3Config;
  const qwen8b = { hiddenSize: 4096, intermediateSize: 12288, numLayers: 36, numHeads: 32, numKvHeads: 8, headDim: 128, maxPositionEmbeddings: 40960 } as Qwen3Config;
  const tiny = { hiddenSize: 64, intermediateSize: 96, numLayers: 3, numHeads: 4, numKvHeads: 2, headDim: 16, maxPositionEmbeddings: 256 } as Qwen3Config;

  /** Every chunk of more than one job fits all the limits, and the chunks cover the jobs in order. */
  const expectFits = (lengths: number[], sizes: number[], cfg: Qwen3Config, o: GenerationChunkLimits) => {
    let start = 0;
    for (const size of sizes) {
      const longest = Math.max(...lengths.slice(start, start + size));
      const positions = Math.min(cfg.maxPositionEmbeddings, longest + o.maxNewTokens);
      const layerCache = kvCacheBytesPerTensor(size, positions, cfg.numKvHeads * cfg.headDim);
      expect(size).toBeLessThanOrEqual(o.maxRows);
      if (size > 1) {
        // One sequence's layer cache within a binding (the session splits a layer's by sequences), all within the budget.
        expect(kvCacheBytesPerTensor(1, positions, cfg.numKvHeads * cfg.headDim)).toBeLessThanOrEqual(o.bindingBytes);
        expect(2 * cfg.numLayers * layerCache).toBeLessThanOrEqual(o.kvBudgetBytes);
      }
      start += size;
    }
    expect(start).toBe(lengths.length);
  };

  it('fills chunks up to the row bound when the model is small', () => {
    const o = { maxRows: 64, maxNewTokens: 24, bindingBytes: 128 * MiB, kvBudgetBytes: 4 * GiB };
    const lengths = Array.from({ length: 150 }, (_, i) => 40 + (i % 7));
    expect(generationChunks(lengths, tiny, o)).toEqual([64, 64, 22]);
  });

  it('refuses a judgment whose cache alone passes the budget, or with overBudgetAlone decodes it by itself', () => {
    // 224 KiB a position: a judgment of 1900 + 100 positions takes 438 MiB, past a 256 MiB budget;
    // one of 10 + 100 takes 24 MiB, so the short ones around it still share a chunk.
    const o = { maxRows: 256, maxNewTokens: 100, bindingBytes: 2 * GiB, kvBudgetBytes: 256 * MiB };
    const lengths = [10, 1900, 10, 10];
    expect(() => generationChunks(lengths, qwen06b, o)).toThrow(/a judgment of a 1900-token prompt and up to 100 new tokens needs 0\.43 GiB of KV cache, more than the KV budget of 0\.25 GiB/);
    expect(generationChunks(lengths, qwen06b, { ...o, overBudgetAlone: true })).toEqual([1, 1, 2]);
  });

  it('keeps a 0.6B judge writing 4096 tokens with k = 8 votes inside the KV budget', () => {
    // 8 votes of 5 prompts of 700..1900 tokens: 1.0 to 1.3 GiB of cache per sequence, so 3 per 4 GiB.
    const o = { maxRows: 256, maxNewTokens: 4096, bindingBytes: 2 * GiB, kvBudgetBytes: 4 * GiB };
    const lengths = [700, 1900, 1200, 800, 1500].flatMap((n) => Array<number>(8).fill(n));
    const sizes = generationChunks(lengths, qwen06b, o);
    expectFits(lengths, sizes, qwen06b, o);
    expect(sizes).toEqual([...Array<number>(13).fill(3), 1]);
    // A bigger budget, bigger chunks: 40 GiB / 1.28 GiB (1900 + 4096 positions) = 31.2.
    expect(generationChunks(lengths, qwen06b, { ...o, kvBudgetBytes: 40 * GiB })).toEqual([31, 9]);
  });

  it("lets a 128 MiB binding bound an 8B judge's sequence, not its chunk: the session splits each layer's cache into parts that fit", () => {
    const o = { maxRows: 256, maxNewTokens: 4096, bindingBytes: 128 * MiB, kvBudgetBytes: 1024 * GiB };
    const lengths = [700, 1900, 1200, 800, 1500].flatMap((n) => Array<number>(8).fill(n));
    const sizes = generationChunks(lengths, qwen8b, o);
    expectFits(lengths, sizes, qwen8b, o);
    // Neither the cache nor the prefill (it runs in passes) bounds the chunk here, only the budget and maxRows.
    expect(sizes).toEqual([40]);
    // A 40 GiB budget: 288 KiB a position (36 layers x K and V x 4 KiB), so 24 sequences of up to
    // 1900 + 4096 positions (39.5 GiB), then the other 16.
    expect(generationChunks(lengths, qwen8b, { ...o, kvBudgetBytes: 40 * GiB })).toEqual([24, 16]);
    // The session's parts: 128 MiB / ((1900 + 4096) positions x 4 KiB) = 5.5, so 8 parts of 5 sequences a layer.
    expect(kvCacheParts(40, 1900 + 4096, 1024, 'f32', 128 * MiB)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
    expect(kvCacheParts(40, 1900 + 4096, 1024, 'f16', 128 * MiB)).toEqual([10, 10, 10, 10]); // 11.7 MiB a sequence in f16
    expect(() => kvCacheParts(1, 40960, 1024, 'f32', 128 * MiB)).toThrow(/KV cache of one sequence of 40960 positions needs 160\.0 MiB per layer tensor, more than one storage binding holds on this adapter \(128\.0 MiB\)/);
  });

  it('gives a job too long to fit even alone a chunk of its own', () => {
    const o = { maxRows: 64, maxNewTokens: 100, bindingBytes: 1 * MiB, kvBudgetBytes: 4 * GiB };
    expect(generationChunks([10, 400, 10, 10], qwen06b, o)).toEqual([1, 1, 2]);
    expect(generationChunks([], qwen06b, o)).toEqual([]);
  });

  it('refuses a job whose cache alone exceeds the KV budget, naming the sizes and the options', () => {
    // 0.6B: 28 layers x 2 x 1024 floats = 224 KiB a position; 4000 + 4096 positions = 1.73 GiB.
    const o = { maxRows: 64, maxNewTokens: 4096, bindingBytes: 2 * GiB, kvBudgetBytes: 1.5 * GiB };
    expect(() => generationChunks([100, 4000], qwen06b, o)).toThrow(
      'a judgment of a 4000-token prompt and up to 4096 new tokens needs 1.73 GiB of KV cache, more than the KV budget of 1.50 GiB: raise --kv-memory or lower --max-new-tokens',
    );
    expect(generationChunks([100, 4000], qwen06b, { ...o, kvBudgetBytes: 1.8 * GiB })).toEqual([1, 1]);
    // An f16 cache takes half: 0.86 GiB a sequence of 8096 positions, so the two that 1.8 GiB
    // holds one at a time in f32 go together (the chunk's cache is sized by its longest prompt).
    expect(generationChunks([100, 4000], qwen06b, { ...o, kvBudgetBytes: 1.8 * GiB, kvCacheDtype: 'f16' })).toEqual([2]);
    expect(() => generationChunks([100, 4000], qwen06b, { ...o, kvBudgetBytes: 0.8 * GiB, kvCacheDtype: 'f16' })).toThrow(
      'a judgment of a 4000-token prompt and up to 4096 new tokens needs 0.86 GiB of KV cache, more than the KV budget of 0.80 GiB',
    );
  });

  it("allocates the judge's KV cache at its own size, not the pool's power-of-two class, so the budget bounds what it takes", async () => {
    const rt = await runtime();
    const { config, params } = await loadHfWeights(rt, modelFolder());
    const model = new Qwen3(rt, config, params);
    // 3 slots x 37 positions: no power of two, so a pooled cache would be larger.
    const cache = 2 * config.numLayers * kvCacheBytesPerTensor(3, 37, config.numKvHeads * config.headDim);
    const taken = (exact: boolean) => {
      rt.trimPool();
      const before = rt.pool.liveBytes;
      const session = new KvSession(model, 3, 37, { exact });
      const bytes = rt.pool.liveBytes - before;
      session.dispose();
      return bytes;
    };
    expect(taken(true)).toBe(cache);
    expect(taken(false)).toBeGreaterThan(cache);
    rt.trimPool();
  });

  it('decodes the same judgments in small chunks as in one batch', async () => {
    const rt = await runtime();
    const dir = modelFolder();
    const tokenizer = await loadTokenizer(dir);
    const { config, params } = await loadHfWeights(rt, dir);
    const model = new Qwen3(rt, config, params);
    const prompts = ['<task>chat</task> short', '<task>math</task> a longer prompt with more words in it', 'x', '<task>code</task> mid length'];
    const decoding = { temperature: 1, topP: 1, maxNewTokens: 5, seed: 11 };
    const whole = await judgeWithModel(model, tokenizer, decoding)(prompts, { k: 3, seed: 2 });
    // A KV budget that holds two sequences of the longest prompt (more of the shorter): several chunks.
    const lengths = (await Promise.all(prompts.map((p) => tokenizer.encode(p)))).flatMap((ids) => Array<number>(3).fill(ids.length));
    const kvBudgetBytes = 2 * config.numLayers * kvCacheBytesPerTensor(2, Math.max(...lengths) + 5, config.numKvHeads * config.headDim);
    const limits = { maxRows: 256, maxNewTokens: 5, bindingBytes: rt.gpu.maxStorageBindingBytes, kvBudgetBytes };
    const sizes = generationChunks(lengths, config, limits);
    expectFits(lengths, sizes, config, limits);
    expect(sizes.length).toBeGreaterThanOrEqual(4);
    const chunked = await judgeWithModel(model, tokenizer, decoding, { kvBudgetBytes })(prompts, { k: 3, seed: 2 });
    expect(chunked).toEqual(whole);
    // Prompts judged in another call, given their item indices, sample their own streams again.
    expect(await judgeWithModel(model, tokenizer, decoding)([prompts[3]!, prompts[1]!], { k: 3, seed: 2, items: [3, 1] })).toEqual([whole[3], whole[1]]);
    expect(new Set(whole.flat()).size).toBeGreaterThan(1);
    // Each chunk's freed KV cache (of its own size class) is released, not kept in the pool
    // beside the next one's: what the pool holds afterwards stays under one chunk's budget.
    await rt.sync();
    expect(rt.pool.pooledBytes).toBeLessThan(kvBudgetBytes);
    model.dispose();
  });
});
