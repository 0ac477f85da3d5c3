// End to end: the tiny fixture model (with the tiny tokenizer) judges a few
// RewardBench-style pairs in both modes through the KV-cache sampler.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvalCli } from '../src/eval/cli.js';
import { generationChunks, judgeWithModel, loadJudge } from '../src/eval/gpu-judge.js';
import { kvCacheBytesPerTensor } from '../src/model/kv-session.js';
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
  const MiB = 1024 * 1024;
  const fits = (lengths: number[], sizes: number[], o: Parameters<typeof generationChunks>[1]) => {
    let start = 0;
    for (const size of sizes) {
      const part = lengths.slice(start, start + size);
      const positions = Math.min(o.context, Math.max(...part) + o.maxNewTokens);
      if (size > 1) expect(kvCacheBytesPerTensor(size, positions, o.kvDim)).toBeLessThanOrEqual(o.bindingBytes);
      expect(size).toBeLessThanOrEqual(o.maxRows);
      start += size;
    }
    expect(start).toBe(lengths.length);
  };

  it('fills chunks up to the row bound when the KV cache is small', () => {
    const o = { maxRows: 64, maxNewTokens: 24, context: 1024, kvDim: 32, bindingBytes: 128 * MiB };
    const lengths = Array.from({ length: 150 }, (_, i) => 40 + (i % 7));
    expect(generationChunks(lengths, o)).toEqual([64, 64, 22]);
  });

  it('keeps an 8B judge with 4096 new tokens and k = 8 votes inside a 128 MiB binding', () => {
    // Qwen3-8B: 8 KV heads x 128 = 1024 floats per position; 8 votes of 5 prompts of 700..1900 tokens.
    const o = { maxRows: 64, maxNewTokens: 4096, context: 40960, kvDim: 1024, bindingBytes: 128 * MiB };
    const lengths = [700, 1900, 1200, 800, 1500].flatMap((n) => Array<number>(8).fill(n));
    const sizes = generationChunks(lengths, o);
    fits(lengths, sizes, o);
    // 128 MiB / (4796 positions x 4 KiB) = 6.8 sequences; with the 1900-token prompt, 5.5.
    expect(sizes[0]).toBe(6);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(6);
    expect(sizes.length).toBeGreaterThan(40 / 6);
  });

  it('gives a job too long to fit even alone a chunk of its own', () => {
    const o = { maxRows: 64, maxNewTokens: 100, context: 4096, kvDim: 1024, bindingBytes: 1 * MiB };
    expect(generationChunks([10, 400, 10, 10], o)).toEqual([1, 1, 2]);
    expect(generationChunks([], o)).toEqual([]);
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
    // A binding that holds two sequences of the longest prompt (more of the shorter): several chunks.
    const longest = Math.max(...(await Promise.all(prompts.map((p) => tokenizer.encode(p)))).map((ids) => ids.length));
    const bindingBytes = kvCacheBytesPerTensor(2, longest + 5, config.numKvHeads * config.headDim);
    const lengths = (await Promise.all(prompts.map((p) => tokenizer.encode(p)))).flatMap((ids) => Array<number>(3).fill(ids.length));
    const limits = { maxRows: 64, maxNewTokens: 5, context: config.maxPositionEmbeddings, kvDim: config.numKvHeads * config.headDim, bindingBytes };
    const sizes = generationChunks(lengths, limits);
    fits(lengths, sizes, limits);
    expect(sizes.length).toBeGreaterThanOrEqual(4);
    const chunked = await judgeWithModel(model, tokenizer, decoding, { bindingBytes })(prompts, { k: 3, seed: 2 });
    expect(chunked).toEqual(whole);
    expect(new Set(whole.flat()).size).toBeGreaterThan(1);
    model.dispose();
  });
});
