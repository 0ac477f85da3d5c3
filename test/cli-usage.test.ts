// The small tools' command lines: help on stdout with exit 0, a missing option named before any
// work, and an unknown flag refused rather than taken for a value (build-tiny-tokenizer once
// treated `--help` as its output folder and wrote a tokenizer there).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from './synth-tool.js';

const cwd = mkdtempSync(join(tmpdir(), 'cli-usage-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('tools/dump-state.js', () => {
  const run = (args: string[]) => runTool('tools/dump-state.js', args);

  it('prints its usage for --help and names every missing option', () => {
    expect(run(['--help'])).toMatchObject({ code: 0, stdout: 'usage: node tools/dump-state.js --model DIR --case FILE --out FILE\n' });
    expect(run(['--model', 'm'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^missing --case, --out\nusage:/) });
    expect(run(['--model', 'm', '--case', 'c', '--out', 'o', '--bogus'])).toMatchObject({ code: 1, stderr: expect.stringContaining("Unknown option '--bogus'") });
  });
});

describe('tools/build-tiny-tokenizer.js', () => {
  const script = join(process.cwd(), 'tools/build-tiny-tokenizer.js');

  it('prints its usage for --help and refuses an unknown flag or a second folder, writing nothing', () => {
    const run = (args: string[]) => runTool(script, args, { cwd });
    expect(run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: node tools/build-tiny-tokenizer.js [folder]') });
    expect(run(['--hepl'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--hepl'") });
    expect(run(['a', 'b'])).toMatchObject({ code: 2, stderr: expect.stringContaining('expected at most one folder, got 2') });
    for (const name of ['--help', '--hepl', 'a', 'b']) expect(existsSync(join(cwd, name)), name).toBe(false);
  });
});

describe('commands that need no GPU', () => {
  // As on a machine where the native webgpu binding cannot load: importing it throws.
  const nodeArgs = ['--import', join(import.meta.dirname, 'block-webgpu.mjs')];
  const run = (script: string, args: string[]) => runTool(script, args, { nodeArgs });

  it('run without the webgpu binding: help, a memory plan, scoring judgments made elsewhere', () => {
    expect(run('train.js', ['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('node train.js --config FILE') });
    expect(run('eval.js', ['--help'])).toMatchObject({ code: 0 });
    const plan = run('train.js', ['--config', 'models/patarm-8b.yaml', '--model.path', 'null', '--model.init', 'random', '--model.config', 'models/qwen3-8b.json', '--dry-run', '--gpu-memory', '80GB']);
    expect(plan).toMatchObject({ code: 0, stdout: expect.stringContaining('host memory:') });
    const out = join(cwd, 'no-gpu', 'results.json');
    const scored = run('eval.js', ['--data', 'test/fixtures/eval/rewardbench.jsonl', '--format', 'rewardbench', '--judgments', 'test/fixtures/eval/rewardbench-judgments.jsonl', '--out', out]);
    expect(scored.code, scored.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('a command that needs the GPU says the binding did not load, and why', () => {
    const judged = run('eval.js', ['--data', 'test/fixtures/eval/rewardbench.jsonl', '--format', 'rewardbench', '--model', 'test/fixtures/qwen3-tiny/model', '--out', join(cwd, 'gpu', 'results.json')]);
    expect(judged.code).not.toBe(0);
    expect(judged.stderr).toMatch(/No WebGPU adapter is available \(the native module of the npm package webgpu did not load: the webgpu binding is blocked for this test/);
    expect(existsSync(join(cwd, 'gpu', 'results.json'))).toBe(false);
  });
});
