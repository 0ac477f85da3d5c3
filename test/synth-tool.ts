// Shared by the tests of the synthetic-judge tools (tools/verdict-credit.js, tools/judge-errors.js):
// running a tool as a user does, and a judge folder with two synthetic pairs to run it on.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTH_RUBRICS } from '../src/synth/rubrics.js';

/**
 * Runs `node ...nodeArgs <script> ...args` (in `cwd`, default this one); its exit code and output,
 * whether it succeeds or not.
 */
export function runTool(script: string, args: string[], options: { cwd?: string; nodeArgs?: string[] } = {}): { code: number; stdout: string; stderr: string } {
  try {
    return { code: 0, stdout: execFileSync(process.execPath, [...(options.nodeArgs ?? []), script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd }), stderr: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * A temporary folder with the tiny fixture judge (random weights, the synthetic tokenizer), two
 * synthetic pairs and the synthetic rubrics.
 */
export function synthToolFixture(prefix: string): { dir: string; model: string; pairs: string; rubrics: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const model = join(dir, 'model');
  cpSync('test/fixtures/qwen3-tiny/model', model, { recursive: true });
  cpSync('models/tiny-tokenizer', model, { recursive: true });
  const pairs = join(dir, 'pairs.jsonl');
  writeFileSync(pairs, [
    { prompt: "What is the first letter of 'pen'?", chosen: 'p', rejected: 'e', task: 'chat' },
    { prompt: "What is the last letter of 'cup'?", chosen: 'p', rejected: 'u', task: 'chat' },
  ].map((p) => JSON.stringify(p) + '\n').join(''));
  // The short synthetic rubrics keep each rendered prompt inside the tiny fixture's 64 positions.
  const rubrics = join(dir, 'rubrics.json');
  writeFileSync(rubrics, JSON.stringify(SYNTH_RUBRICS));
  return { dir, model, pairs, rubrics };
}
