// A JSON/JSONL file past V8's string limit (about 512 MB) cannot be read in one piece. The read is
// mocked to fail as Node does (a real file that size is too slow and too big for the test machines).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tooLong = new Set<string>();

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((path: unknown, ...rest: unknown[]) => {
    if (typeof path === 'string' && tooLong.has(path)) {
      // What decoding a file over 0x1fffffe8 bytes to one string throws (Node 20).
      throw Object.assign(new Error('Cannot create a string longer than 0x1fffffe8 characters'), { code: 'ERR_STRING_TOO_LONG' });
    }
    return (fs.readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const { PairDataError, loadPairs } = await import('../src/data/index.js');

const dir = mkdtempSync(join(tmpdir(), 'patarm-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a JSON or JSONL file too large to read as one string', () => {
  it('is a PairDataError naming the file and suggesting Parquet or splitting it', async () => {
    for (const name of ['big.jsonl', 'big.json']) {
      const path = join(dir, name);
      writeFileSync(path, '{"prompt": "q", "chosen": "c", "rejected": "r"}\n');
      tooLong.add(path);
      const err = await loadPairs(path).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PairDataError);
      const { message, location } = err as InstanceType<typeof PairDataError>;
      expect(location).toEqual({ file: path });
      expect(message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: too large to read as one string \\(Cannot create a string longer than 0x1fffffe8 characters\\)`));
      expect(message).toMatch(/convert it to Parquet .* or split it into smaller files$/);
    }
  });

  it('leaves files that read fine alone (the mock only fails the listed paths)', async () => {
    const path = join(dir, 'small.jsonl');
    writeFileSync(path, '{"prompt": "q", "chosen": "c", "rejected": "r"}\n');
    expect((await loadPairs(path)).pairs).toHaveLength(1);
  });
});
