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
