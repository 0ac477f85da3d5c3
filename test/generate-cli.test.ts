// generate.js end to end: streams a continuation; bad input gets one clear message.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
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

  it('streams greedy text for a prompt and reports its speed', () => {
    const r = run(['--model', model, '--prompt', '<task>math</task>', '--max-new-tokens', '5', '--temperature', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    const again = run(['--model', model, '--prompt', '<task>math</task>', '--max-new-tokens', '5', '--temperature', '0']);
    expect(again.stdout).toBe(r.stdout); // greedy is deterministic
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
});
