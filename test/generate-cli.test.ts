// generate.js end to end: streams a continuation; bad input gets one clear message.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, ['generate.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('generate.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-cli-'));
  const model = join(dir, 'model');
  cpSync('test/fixtures/qwen3-tiny/model', model, { recursive: true });
  const bare = join(dir, 'bare');
  cpSync('test/fixtures/qwen3-tiny/model', bare, { recursive: true });
  cpSync('models/tiny-tokenizer', model, { recursive: true });
  const noWeights = join(dir, 'no-weights');
  cpSync(model, noWeights, { recursive: true });
  rmSync(join(noWeights, 'model.safetensors'));

  it('streams greedy text for a prompt and reports its speed', () => {
    const r = run(['--model', model, '--prompt', '<task>math</task>', '--max-new-tokens', '5', '--temperature', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    const again = run(['--model', model, '--prompt', '<task>math</task>', '--max-new-tokens', '5', '--temperature', '0']);
    expect(again.stdout).toBe(r.stdout); // greedy is deterministic
  });

  it('--weights bf16 on a model stored in bf16 writes the greedy text of its f32 load; --kv-dtype f16 runs; bad values are named', () => {
    const bf16 = join(dir, 'bf16');
    execFileSync(process.execPath, ['tools/export-model.js', '--model', model, '--out', bf16, '--dtype', 'bf16'], { stdio: 'ignore' });
    const args = ['--model', bf16, '--prompt', '<task>math</task>', '--max-new-tokens', '8', '--temperature', '0'];
    const f32 = run(args);
    expect(f32.code).toBe(0);
    expect(run([...args, '--weights', 'bf16'])).toEqual(f32);
    expect(run([...args, '--weights', 'bf16', '--kv-dtype', 'f16']).code).toBe(0);
    expect(run([...args, '--weights', 'f16']).stderr).toMatch(/--weights must be one of f32, bf16; got 'f16'/);
    expect(run([...args, '--kv-dtype', 'bf16']).stderr).toMatch(/--kv-dtype must be one of f32, f16; got 'bf16'/);
  });

  it('samples several sequences in one batch with --n', () => {
    const r = run(['--model', model, '--prompt', 'abc', '--max-new-tokens', '4', '--n', '3', '--temperature', '1', '--seed', '7']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/--- sample \d \((stop|length)\) ---/g)).toHaveLength(3);
  });

  it('explains a model folder without a tokenizer, an empty prompt and a too-long prompt', () => {
    expect(run(['--model', bare, '--prompt', 'hi']).stderr).toMatch(/no tokenizer\.json in folder/);
    expect(run(['--model', model, '--prompt', '']).stderr).toMatch(/prompt encodes to no tokens|prompt is empty/);
    const long = 'x '.repeat(200);
    const r = run(['--model', model, '--prompt', long]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/context holds 64/);
    expect(JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).max_position_embeddings).toBe(64);
  });

  it('does not print the stop token, streaming or with --n', () => {
    // Seed 2 at temperature 1: the tiny model's first sequence (stream 0) ends in <|im_end|> within 60 tokens.
    const args = ['--model', model, '--prompt', 'abc', '--max-new-tokens', '60', '--temperature', '1', '--seed', '2'];
    const batch = run([...args, '--n', '3']);
    expect(batch.code).toBe(0);
    const samples = batch.stdout.split(/^--- sample \d \((?:stop|length)\) ---\n/m).slice(1);
    expect(batch.stdout).toMatch(/^--- sample 1 \(stop\) ---$/m);
    expect(samples).toHaveLength(3);
    expect(batch.stdout).not.toMatch(/<\|im_end\|>|<\|endoftext\|>/);
    const streamed = run(args);
    expect(streamed.code).toBe(0);
    // The same sequence as sample 1 (same seed, stream 0), so this stream ended at the stop token too.
    expect(streamed.stdout).toBe(samples[0]);
    expect(streamed.stdout.length).toBeGreaterThan(1);
  });

  it('refuses --thinking without --chat', () => {
    const r = run(['--model', model, '--prompt', 'hi', '--thinking', '--max-new-tokens', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--thinking needs --chat/);
  });

  it('takes integer options only as safe integers in decimal digits, naming the flag', () => {
    const base = ['--model', model, '--prompt', 'hi', '--max-new-tokens', '2'];
    for (const [flag, value, expected] of [
      ['--max-new-tokens', '0x10', /--max-new-tokens 0x10: expected an integer >= 1, written in decimal digits/],
      ['--top-k', '1e3', /--top-k 1e3: expected an integer >= 0, written in decimal digits/],
      ['--seed', '1e20', /--seed 1e20: expected an integer >= 0, written in decimal digits/],
      ['--seed', '100000000000000000000', /--seed 100000000000000000000: expected an integer >= 0 and at most 9007199254740991/],
      ['--n', ' 2', /--n  2: expected an integer >= 1, written in decimal digits/],
    ] as const) {
      const r = run([...base, flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(1);
      expect(r.stderr, `${flag} ${value}`).toMatch(expected);
    }
    expect(run([...base, '--seed', '9007199254740991', '--temperature', '0']).code).toBe(0);
  });

  it('takes --min-p in [0, 1], as the sampler and Hugging Face do', () => {
    const base = ['--model', model, '--prompt', 'hi', '--max-new-tokens', '2', '--temperature', '1'];
    expect(run([...base, '--min-p', '1']).code).toBe(0); // keeps only the most likely token(s)
    const r = run([...base, '--min-p', '1.5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--min-p 1\.5: expected a number in \[0, 1\]/);
  });

  it('takes number options only as plain decimal numbers, naming the flag', () => {
    const base = ['--model', model, '--prompt', 'hi', '--max-new-tokens', '2'];
    for (const value of ['0x1', '0b1', '', ' 1', '1e400']) {
      const r = run([...base, '--temperature', value]);
      expect(r.code, `--temperature '${value}'`).toBe(1);
      expect(r.stderr).toContain(`--temperature ${value}: expected`);
      expect(r.stderr).toContain('written as a decimal number');
    }
  });

  it("checks the prompt against config.json's context before loading the weights", () => {
    // The folder has no weights, so only a check made before loading them can give this message.
    const r = run(['--model', noWeights, '--prompt', 'x '.repeat(200)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/context holds 64/);
    expect(run(['--model', noWeights, '--prompt', 'hi']).stderr).toMatch(/no model\.safetensors/);
  });

  it('names a --model that does not exist, or is a file, as the model folder', () => {
    const missing = join(dir, 'nonexistent');
    expect(run(['--model', missing, '--prompt', 'hi'])).toMatchObject({ code: 1, stderr: `generate: the model folder ${missing} does not exist\n` });
    const file = join(model, 'config.json');
    expect(run(['--model', file, '--prompt', 'hi'])).toMatchObject({ code: 1, stderr: `generate: the model folder ${file} is not a folder\n` });
  });

  it("takes a negative number as the option's value and refuses it with the option's range", () => {
    const base = ['--model', model, '--prompt', 'hi', '--max-new-tokens', '2'];
    for (const [flag, value, expected] of [
      ['--temperature', '-1', '--temperature -1: expected a number >= 0'],
      ['--top-p', '-0.5', '--top-p -0.5: expected a number in (0, 1]'],
      ['--max-new-tokens', '-3', '--max-new-tokens -3: expected an integer >= 1'],
      ['--seed', '-1', '--seed -1: expected an integer >= 0'],
    ] as const) {
      const r = run([...base, flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(1);
      expect(r.stderr, `${flag} ${value}`).toBe(`generate: ${expected}\n`);
    }
  });

  it("says once that generation stopped at the model's context, short of --max-new-tokens", () => {
    // Greedy from 'hi', the tiny model (64 positions) writes no stop token before its context is full.
    const note = /^generate: stopped at the model's context limit \(64 positions\) after \d+ new tokens, short of --max-new-tokens 100$/gm;
    const greedy = ['--model', model, '--prompt', 'hi', '--max-new-tokens', '100', '--temperature', '0'];
    for (const args of [greedy, [...greedy, '--n', '3']]) {
      const r = runKeepingStderr(args);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.match(note)).toHaveLength(1);
    }
    // Within the context: nothing to say.
    expect(runKeepingStderr(['--model', model, '--prompt', 'hi', '--max-new-tokens', '5', '--temperature', '0']).stderr).not.toMatch(/context limit/);
  });
});

/** generate.js's exit status and stderr, also on success (run() keeps stderr only for a failure). */
function runKeepingStderr(args: string[]): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, ['generate.js', ...args], { encoding: 'utf8' });
}

