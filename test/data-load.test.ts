import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PairDataError,
  loadPairs,
  pairFromRecord,
  pairsFromJsonlText,
  pairsFromJsonText,
  pairsFromRecords,
} from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'patarm-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

function errorOf(fn: () => unknown): PairDataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PairDataError);
    return err as PairDataError;
  }
  throw new Error('expected a PairDataError');
}
async function asyncErrorOf(promise: Promise<unknown>): Promise<PairDataError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(PairDataError);
    return err as PairDataError;
  }
  throw new Error('expected a PairDataError');
}

const trl = (id: string, extra: Record<string, unknown> = {}) => ({ id, prompt: `q ${id}`, chosen: `good ${id}`, rejected: `bad ${id}`, ...extra });

describe('record shapes', () => {
  it('reads TRL/RewardBench string pairs with optional labels', () => {
    const path = writeFile('trl.jsonl', jsonl(trl('a', { subset: 'math-prm', source: 'rb' }), { prompt: 'q', chosen: 'c', rejected: 'r', task: 'code' }));
    return loadPairs(path).then((loaded) => {
      expect(loaded.format).toBe('jsonl');
      expect(loaded.pairs).toEqual([
        { id: 'a', prompt: 'q a', chosen: 'good a', rejected: 'bad a', subset: 'math-prm', source: 'rb' },
        { id: 'trl.jsonl:2', prompt: 'q', chosen: 'c', rejected: 'r', task: 'code' },
      ]);
      expect(loaded.fieldsFound).toEqual(['id', 'prompt', 'chosen', 'rejected', 'subset', 'source', 'task']);
      expect(loaded.skipped).toEqual([]);
    });
  });

  it('reads Skywork message lists: the shared prefix is the prompt, the last assistant turn the response', () => {
    const turns = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: 'Add 2+2' },
    ];
    const outcome = pairFromRecord(
      { chosen: [...turns, { role: 'assistant', content: '4' }], rejected: [...turns, { role: 'assistant', content: '5' }] },
      'gen',
    );
    expect(outcome).toEqual({ ok: true, pair: { id: 'gen', prompt: turns, chosen: '4', rejected: '5' } });
  });

  it('uses the prompt field when the lists hold only the response, and numeric ids as strings', () => {
    const outcome = pairFromRecord(
      { id: 17, prompt: 'q', chosen: [{ role: 'assistant', content: 'c' }], rejected: 'r' },
      'gen',
    );
    expect(outcome).toEqual({ ok: true, pair: { id: '17', prompt: 'q', chosen: 'c', rejected: 'r' } });
  });

  it('rejects conversations that differ before the response, or do not end with the assistant', () => {
    const differ = pairFromRecord(
      {
        chosen: [{ role: 'user', content: 'A' }, { role: 'assistant', content: 'x' }],
        rejected: [{ role: 'user', content: 'B' }, { role: 'assistant', content: 'y' }],
      },
      'gen',
    );
    expect(differ).toEqual({ ok: false, reason: expect.stringMatching(/differ before the final assistant message \(at message 0\)/) });
    const noAssistant = pairFromRecord({ prompt: 'q', chosen: [{ role: 'user', content: 'x' }], rejected: 'r' }, 'gen');
    expect(noAssistant).toMatchObject({ ok: false, reason: expect.stringMatching(/last message of 'chosen' has role 'user'/) });
    const badMessage = pairFromRecord({ prompt: 'q', chosen: [{ from: 'gpt', value: 'x' }], rejected: 'r' }, 'gen');
    expect(badMessage).toMatchObject({ ok: false, reason: expect.stringMatching(/message 0 is not \{role.*found keys \[from, value\]/) });
  });

  it('supports other field names', () => {
    const loaded = pairsFromRecords([{ question: 'q', better: 'c', worse: 'r', uid: 'u1' }], 'mem', {
      fields: { prompt: 'question', chosen: 'better', rejected: 'worse', id: 'uid' },
    });
    expect(loaded.pairs).toEqual([{ id: 'u1', prompt: 'q', chosen: 'c', rejected: 'r' }]);
  });
});

describe('bad data (onBadRow: error)', () => {
  it('a line that is not JSON names the file and line', async () => {
    const path = writeFile('broken.jsonl', jsonl(trl('a')) + '\n{"prompt": "q", "chosen": \n');
    const err = await asyncErrorOf(loadPairs(path));
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 3: not valid JSON`));
    expect(err.location).toEqual({ file: path, line: 3 });
  });

  it('an empty chosen or rejected', () => {
    expect(errorOf(() => pairsFromJsonlText(jsonl(trl('a'), trl('b', { chosen: '' })), 'd.jsonl')).message).toBe(
      "d.jsonl line 2: 'chosen' is empty",
    );
    expect(errorOf(() => pairsFromJsonlText(jsonl(trl('a', { rejected: ' \n ' })), 'd.jsonl')).message).toBe(
      "d.jsonl line 1: 'rejected' is empty",
    );
    expect(errorOf(() => pairsFromJsonlText(jsonl({ chosen: [{ role: 'assistant', content: '' }], rejected: 'r', prompt: 'q' }), 'd.jsonl')).message).toBe(
      "d.jsonl line 1: 'chosen' is empty",
    );
  });

  it('missing fields say what was expected and what was found', () => {
    const err = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', response: 'x', score: 3 }), 'rl.jsonl'));
    expect(err.message).toMatch(/^rl\.jsonl line 1: missing or null field 'chosen' and 'rejected'; expected \{prompt, chosen, rejected\}/);
    expect(err.message).toMatch(/found fields \[prompt, response, score\]$/);
    const noPrompt = errorOf(() => pairsFromJsonlText(jsonl({ chosen: 'c', rejected: 'r' }), 'x.jsonl'));
    expect(noPrompt.message).toBe("x.jsonl line 1: missing prompt: no 'prompt' field and no user turns before the assistant response");
    const wrongType = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', chosen: 5, rejected: 'r' }), 'x.jsonl'));
    expect(wrongType.message).toBe("x.jsonl line 1: field 'chosen' must be a string or a message list, found number");
    const notObject = errorOf(() => pairsFromJsonlText('[1, 2]\n', 'x.jsonl'));
    expect(notObject.message).toMatch(/^x\.jsonl line 1: expected an object with .* found array$/);
  });

  it('duplicated pair ids point at both lines', () => {
    const err = errorOf(() => pairsFromJsonlText(jsonl(trl('a'), trl('b'), trl('a')), 'dup.jsonl'));
    expect(err.message).toBe("dup.jsonl line 3: duplicate pair id 'a' (first seen at dup.jsonl line 1)");
  });

  it('JSON arrays report the 0-based row index, and a non-array file is an error', async () => {
    const err = errorOf(() => pairsFromJsonText(JSON.stringify([trl('a'), trl('b', { rejected: '' })]), 'arr.json'));
    expect(err.message).toBe("arr.json row 1: 'rejected' is empty");
    expect(err.location).toEqual({ file: 'arr.json', row: 1 });
    const path = writeFile('obj.json', JSON.stringify({ data: [trl('a')] }));
    expect((await asyncErrorOf(loadPairs(path))).message).toMatch(/expected a JSON array of pair objects, found an object with keys \[data\]/);
    expect(errorOf(() => pairsFromJsonText('[{', 'bad.json')).message).toMatch(/^bad\.json: not valid JSON/);
  });

  it('an unknown extension asks for the format', async () => {
    await expect(loadPairs(join(dir, 'pairs.csv'))).rejects.toThrow(/cannot tell the format from extension '\.csv'/);
  });
});

describe('bad data (onBadRow: skip)', () => {
  it('keeps the good rows and lists every skipped one with its line and reason', async () => {
    const text = [
      JSON.stringify(trl('a')),
      'not json at all',
      JSON.stringify(trl('b', { chosen: '' })),
      '',
      JSON.stringify({ prompt: 'q', chosen: 'c' }),
      JSON.stringify(trl('a')),
      JSON.stringify(trl('c')),
    ].join('\n');
    const path = writeFile('mixed.jsonl', text);
    const loaded = await loadPairs(path, { onBadRow: 'skip' });
    expect(loaded.pairs.map((p) => p.id)).toEqual(['a', 'c']);
    expect(loaded.skipped.map((s) => [s.location.line, s.where])).toEqual([
      [2, `${path} line 2`],
      [3, `${path} line 3`],
      [5, `${path} line 5`],
      [6, `${path} line 6`],
    ]);
    expect(loaded.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/^not valid JSON/),
      "'chosen' is empty",
      expect.stringMatching(/^missing or null field 'rejected'/),
      `duplicate pair id 'a' (first seen at ${path} line 1)`,
    ]);
    // Nothing silently dropped: every non-blank line is either a pair or a skipped record.
    const nonBlank = text.split('\n').filter((l) => l.trim() !== '').length;
    expect(loaded.pairs.length + loaded.skipped.length).toBe(nonBlank);
  });
});

describe('Parquet', () => {
  it('loads string pairs written with hyparquet-writer', async () => {
    const filename = join(dir, 'rewardbench.parquet');
    parquetWriteFile({
      filename,
      columnData: [
        { name: 'id', data: [30n, 31n, 32n], type: 'INT64' },
        { name: 'prompt', data: ['p0', 'p1', 'p2'], type: 'STRING' },
        { name: 'chosen', data: ['c0', 'c1', 'c2'], type: 'STRING' },
        { name: 'rejected', data: ['r0', 'r1', 'r2'], type: 'STRING' },
        { name: 'subset', data: ['hep-go', 'donotanswer', 'mt-bench-hard'], type: 'STRING' },
      ],
    });
    const loaded = await loadPairs(filename);
    expect(loaded.format).toBe('parquet');
    expect(loaded.pairs).toEqual([
      { id: '30', prompt: 'p0', chosen: 'c0', rejected: 'r0', subset: 'hep-go' },
      { id: '31', prompt: 'p1', chosen: 'c1', rejected: 'r1', subset: 'donotanswer' },
      { id: '32', prompt: 'p2', chosen: 'c2', rejected: 'r2', subset: 'mt-bench-hard' },
    ]);
    expect(loaded.fieldsFound).toEqual(['id', 'prompt', 'chosen', 'rejected', 'subset']);
  });

  it('loads Skywork message lists stored as JSON columns and reports bad rows by index', async () => {
    const filename = join(dir, 'skywork.parquet');
    const user = { role: 'user', content: 'Q' };
    parquetWriteFile({
      filename,
      columnData: [
        {
          name: 'chosen',
          data: [[user, { role: 'assistant', content: 'good' }], [user, { role: 'assistant', content: '  ' }]],
          type: 'JSON',
        },
        {
          name: 'rejected',
          data: [[user, { role: 'assistant', content: 'bad' }], [user, { role: 'assistant', content: 'x' }]],
          type: 'JSON',
        },
      ],
    });
    await expect(loadPairs(filename)).rejects.toThrow(`${filename} row 1: 'chosen' is empty`);
    const loaded = await loadPairs(filename, { onBadRow: 'skip' });
    expect(loaded.pairs).toEqual([{ id: 'skywork.parquet:0', prompt: [user], chosen: 'good', rejected: 'bad' }]);
    expect(loaded.skipped).toEqual([
      { location: { file: filename, row: 1 }, where: `${filename} row 1`, reason: "'chosen' is empty" },
    ]);
  });

  it('a file that is not Parquet is a clear error', async () => {
    const path = writeFile('fake.parquet', 'definitely not parquet');
    expect((await asyncErrorOf(loadPairs(path))).message).toMatch(/fake\.parquet: cannot read Parquet/);
  });
});
