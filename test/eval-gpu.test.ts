// End to end: the tiny fixture model (with the tiny tokenizer) judges a few
// RewardBench-style pairs in both modes through the KV-cache sampler.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvalCli } from '../src/eval/cli.js';
import { loadJudge } from '../src/eval/gpu-judge.js';
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
