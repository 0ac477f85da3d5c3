import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { loadBenchmark } from '../src/eval/benchmark.js';
import { afterAll, describe, expect, it } from 'vitest';
import { asyncErrorOf, errorOf } from './pair-data-errors.js';
import {
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

  it('a lone UTF-16 surrogate (not text; the tokenizer would read U+FFFD) names the field', () => {
    // JSON.stringify writes a lone surrogate as the escape \\ud800, as a JSON file would hold it
    expect(errorOf(() => pairsFromJsonlText(jsonl(trl('a'), trl('b', { chosen: 'ok \ud800' })), 'd.jsonl')).message).toBe(
      "d.jsonl line 2: field 'chosen' holds a lone UTF-16 surrogate (\\ud800 at character 3), which is not text",
    );
    const messages = { prompt: [{ role: 'system', content: 's' }, { role: 'user', content: '\udc00q' }], chosen: 'c', rejected: 'r' };
    expect(errorOf(() => pairsFromJsonlText(jsonl(messages), 'd.jsonl')).message).toMatch(/line 1: field 'prompt' message 1 holds a lone UTF-16 surrogate \(\\udc00 at character 0\)/);
    expect(errorOf(() => pairsFromJsonlText(jsonl(trl('a', { chosen_judgment: '\ud83d <answer>9</answer>' })), 'd.jsonl')).message).toMatch(/field 'chosen_judgment' holds a lone/);
    // a proper pair (an emoji) is text
    expect(pairsFromJsonlText(jsonl(trl('a', { chosen: 'good \ud83d\ude00' })), 'd.jsonl').pairs[0]!.chosen).toBe('good \u{1f600}');
  });

  it('missing fields say what was expected and what was found', () => {
    const err = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', response: 'x', score: 3 }), 'rl.jsonl'));
    expect(err.message).toMatch(/^rl\.jsonl line 1: missing or null field 'chosen' and 'rejected'; expected \{prompt, chosen, rejected\}/);
    expect(err.message).toMatch(/found fields \[prompt, response, score\]; it holds 'response', one response: files of one response per row \(rows 2k and 2k\+1 one pair\) are read with layout row-pairs$/);
    const noPrompt = errorOf(() => pairsFromJsonlText(jsonl({ question: 'q', chosen: 'c', rejected: 'r' }), 'x.jsonl'));
    expect(noPrompt.message).toMatch(/^x\.jsonl line 1: missing prompt: no 'prompt' field and no user turns before the assistant response; expected \{prompt, chosen, rejected\}/);
    expect(noPrompt.message).toMatch(/found fields \[question, chosen, rejected\]$/);
    const wrongType = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', chosen: 5, rejected: 'r' }), 'x.jsonl'));
    expect(wrongType.message).toBe("x.jsonl line 1: field 'chosen' must be a string or a message list, found number");
    const notObject = errorOf(() => pairsFromJsonlText('[1, 2]\n', 'x.jsonl'));
    expect(notObject.message).toMatch(/^x\.jsonl line 1: expected an object with .* found array$/);
  });

  it('with renamed fields, says what was expected in the names the file was read by', () => {
    const fields = { id: 'uid', prompt: 'q', chosen: 'good', rejected: 'bad' };
    const expected =
      '{q, good, bad} as strings (TRL/RewardBench style) or {good, bad} as message lists [{role, content}] ending in the assistant ' +
      'response (Skywork style); optional: uid, task, subset, domain, ability, source, and for SFT the teacher judgments chosen_judgment, rejected_judgment';
    const missing = errorOf(() => pairsFromJsonlText(jsonl({ q: 'x', good: 'a' }), 'c.jsonl', { fields }));
    expect(missing.message).toBe(`c.jsonl line 1: missing or null field 'bad'; expected ${expected}; found fields [q, good]`);
    const noPrompt = errorOf(() => pairsFromJsonlText(jsonl({ question: 'x', good: 'a', bad: 'b' }), 'c.jsonl', { fields }));
    expect(noPrompt.message).toBe(
      `c.jsonl line 1: missing prompt: no 'q' field and no user turns before the assistant response; expected ${expected}; found fields [question, good, bad]`,
    );
    expect(errorOf(() => pairsFromJsonlText('"text"\n', 'c.jsonl', { fields })).message).toBe(`c.jsonl line 1: expected an object with ${expected}; found string`);
  });

  it('refuses task labels that are not strings, ids past 2^53, and responses that are serialised message lists', () => {
    const label = errorOf(() => pairsFromJsonlText(jsonl(trl('a', { task: 5 })), 'x.jsonl'));
    expect(label.message).toBe("x.jsonl line 1: field 'task' must be a string, found number");
    expect(errorOf(() => pairsFromJsonlText(jsonl(trl('a', { subset: ['math'] })), 'x.jsonl')).message).toBe("x.jsonl line 1: field 'subset' must be a string, found array");
    expect(pairsFromJsonlText(jsonl(trl('a', { task: null })), 'x.jsonl').pairs[0]!.task).toBeUndefined();
    // `source` only informs (it picks no rubric): a list of sources is left out, not a bad row.
    expect(pairsFromJsonlText(jsonl(trl('a', { source: ['ultrachat', 'sharegpt'] })), 'x.jsonl').pairs[0]!.source).toBeUndefined();
    // JSON.parse rounds 9007199254740993 to ...992, which would then collide with the next line's id.
    const big = errorOf(() => pairsFromJsonlText('{"id": 9007199254740993, "prompt": "q", "chosen": "c", "rejected": "r"}\n', 'ids.jsonl'));
    expect(big.message).toMatch(/^ids\.jsonl line 1: field 'id' is the integer 9007199254740992, beyond 2\^53.*write the id as a string$/);
    expect(pairsFromJsonlText('{"id": 9007199254740991, "prompt": "q", "chosen": "c", "rejected": "r"}\n', 'ids.jsonl').pairs[0]!.id).toBe('9007199254740991');
    const encoded = JSON.stringify([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'A' }]);
    for (const field of ['chosen', 'prompt'] as const) {
      const err = errorOf(() => pairsFromJsonlText(jsonl(trl('a', { [field]: encoded })), 'x.jsonl'));
      expect(err.message).toBe(`x.jsonl line 1: field '${field}' is a string holding a JSON message list; store it as a list (a JSON array, or a Parquet list or JSON column), not as text`);
    }
    // Text that merely starts like JSON is a response like any other.
    expect(pairsFromJsonlText(jsonl(trl('a', { chosen: '[{"a": 1}] is the list' })), 'x.jsonl').pairs[0]!.chosen).toBe('[{"a": 1}] is the list');
  });

  it('refuses a file that is not UTF-8, naming the first bad line', async () => {
    const latin1 = join(dir, 'latin1.jsonl');
    writeFileSync(latin1, Buffer.concat([Buffer.from(`${JSON.stringify(trl('a'))}\n`), Buffer.from(`${JSON.stringify(trl('b', { prompt: 'café' }))}\n`, 'latin1')]));
    expect((await asyncErrorOf(loadPairs(latin1))).message).toBe(`${latin1} line 2: not UTF-8; re-save the file as UTF-8`);
    const utf16 = join(dir, 'utf16.json');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify([trl('a')]), 'utf16le')]));
    expect((await asyncErrorOf(loadPairs(utf16))).message).toBe(`${utf16} line 1: not UTF-8 (it starts with a UTF-16 byte-order mark); re-save the file as UTF-8`);
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

describe('row checks', () => {
  const user = (content: string) => ({ role: 'user', content });
  const assistant = (content: string) => ({ role: 'assistant', content });
  const reason = (record: unknown) => {
    const outcome = pairFromRecord(record, 'gen');
    return outcome.ok ? 'accepted' : outcome.reason;
  };

  it('chosen and rejected that are the same response are a bad row (exact text; lists compare the response)', async () => {
    const same = "'chosen' and 'rejected' are the same response";
    expect(reason({ prompt: 'q', chosen: 'same', rejected: 'same' })).toBe(same);
    expect(reason({ chosen: [user('q'), assistant('x')], rejected: [user('q'), assistant('x')] })).toBe(same);
    expect(reason({ prompt: 'q', chosen: [assistant('x')], rejected: 'x' })).toBe(same);
    expect(pairFromRecord({ question: 'q', better: 'x', worse: 'x' }, 'gen', { prompt: 'question', chosen: 'better', rejected: 'worse' })).toEqual({
      ok: false,
      reason: "'better' and 'worse' are the same response",
    });
    // Exact comparison: text that differs only in whitespace is still two responses.
    expect(reason({ prompt: 'q', chosen: 'x', rejected: 'x ' })).toBe('accepted');
    // It follows onBadRow like any other bad row.
    const path = writeFile('same.jsonl', jsonl(trl('a'), trl('b', { rejected: 'good b' }), trl('c')));
    await expect(loadPairs(path)).rejects.toThrow(`${path} line 2: ${same}`);
    const loaded = await loadPairs(path, { onBadRow: 'skip' });
    expect(loaded.pairs.map((p) => p.id)).toEqual(['a', 'c']);
    expect(loaded.skipped).toEqual([{ location: { file: path, line: 2 }, where: `${path} line 2`, reason: same }]);
    // A benchmark keeps such a row, to score it as its authors do (a tie: wrong), not drop it.
    const bench = await loadBenchmark(path, 'pairs');
    expect(bench.examples.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(bench.skipped).toEqual([]);
  });

  it('a blank prompt given as a message list is empty, as a blank string prompt is', () => {
    expect(reason({ prompt: [user('  ')], chosen: 'x', rejected: 'y' })).toBe("'prompt' is empty");
    expect(reason({ prompt: '  ', chosen: 'x', rejected: 'y' })).toBe("'prompt' is empty");
    expect(reason({ chosen: [user(''), assistant('x')], rejected: [user(''), assistant('y')] })).toBe(
      "'prompt' is empty: every user turn in the conversation before the assistant response in 'chosen' is blank",
    );
    // One user turn with text is enough (a blank follow-up turn is still a conversation).
    expect(reason({ chosen: [user('q'), assistant('a'), user(' '), assistant('x')], rejected: [user('q'), assistant('a'), user(' '), assistant('y')] })).toBe('accepted');
  });

  it('a conversation prompt needs a user turn and only the roles system, user and assistant', () => {
    expect(reason({ chosen: [{ role: 'system', content: 'sys' }, assistant('x')], rejected: [{ role: 'system', content: 'sys' }, assistant('y')] })).toBe(
      "the conversation before the assistant response in 'chosen' has no user turn (roles: system)",
    );
    expect(reason({ chosen: [assistant('a'), assistant('x')], rejected: 'y' })).toBe(
      "the conversation before the assistant response in 'chosen' has no user turn (roles: assistant)",
    );
    expect(reason({ prompt: [{ role: 'system', content: 'sys' }], chosen: 'x', rejected: 'y' })).toBe("'prompt' has no user turn (roles: system)");
    expect(reason({ chosen: [{ role: 'human', content: 'q' }, assistant('x')], rejected: [{ role: 'human', content: 'q' }, assistant('y')] })).toBe(
      "field 'chosen' message 0 has role 'human'; expected system, user or assistant",
    );
    expect(reason({ prompt: [user('q'), { role: 'tool', content: '{}' }], chosen: 'x', rejected: 'y' })).toBe(
      "field 'prompt' message 1 has role 'tool'; expected system, user or assistant",
    );
    expect(reason({ prompt: 'q', chosen: [{ role: 'gpt', content: 'x' }], rejected: 'y' })).toBe(
      "field 'chosen' message 0 has role 'gpt'; expected system, user or assistant",
    );
  });

  it('a prompt field next to a conversation prefix must agree with it, or the row says which disagree', () => {
    const conversation = (answer: string) => [{ role: 'system', content: 'sys' }, user('Q0'), assistant('A0'), user('Q1'), assistant(answer)];
    // Agreeing forms stay valid: the text of the last user turn (UltraFeedback style), or the same messages.
    expect(pairFromRecord({ prompt: 'Q1', chosen: conversation('x'), rejected: conversation('y') }, 'gen')).toEqual({
      ok: true,
      pair: { id: 'gen', prompt: conversation('x').slice(0, -1), chosen: 'x', rejected: 'y' },
    });
    expect(reason({ prompt: ' Q1\n', chosen: [user('Q1'), assistant('x')], rejected: 'y' })).toBe('accepted');
    expect(reason({ prompt: [user('Q1')], chosen: 'x', rejected: [user('Q1'), assistant('y')] })).toBe('accepted');
    // Disagreeing ones are bad rows naming both sources.
    expect(reason({ prompt: 'Q2', chosen: [user('Q1'), assistant('x')], rejected: 'y' })).toBe(
      `'prompt' "Q2" disagrees with the conversation before the assistant response in 'chosen', whose last user turn is "Q1"`,
    );
    expect(reason({ prompt: 'Q0', chosen: conversation('x'), rejected: conversation('y') })).toMatch(/^'prompt' "Q0" disagrees with .* whose last user turn is "Q1"$/);
    expect(reason({ prompt: [user('Q2')], chosen: 'x', rejected: [user('Q1'), assistant('y')] })).toBe(
      "'prompt' disagrees with the conversation before the assistant response in 'rejected' (at message 0)",
    );
    // A prompt field of the wrong type is reported even though the prefix could stand in for it.
    expect(reason({ prompt: 42, chosen: [user('Q1'), assistant('x')], rejected: 'y' })).toBe(
      "field 'prompt' must be a string or a message list, found number",
    );
  });

  it('a message with a non-string role or content names the message, the key and its type', () => {
    expect(reason({ prompt: 'q', chosen: [user('q2'), { role: 'assistant', content: null }], rejected: 'y' })).toBe(
      "field 'chosen' message 1 has 'content' of type null; expected a string",
    );
    expect(reason({ prompt: 'q', chosen: 'x', rejected: [{ role: 'assistant', content: 5 }] })).toBe(
      "field 'rejected' message 0 has 'content' of type number; expected a string",
    );
    expect(reason({ prompt: [{ role: ['user'], content: 'q' }], chosen: 'x', rejected: 'y' })).toBe(
      "field 'prompt' message 0 has 'role' of type array; expected a string",
    );
  });

  it('an id that is not a string or a number, or is blank, is a bad row naming the id field and its type', () => {
    const row = { prompt: 'q', chosen: 'x', rejected: 'y' };
    expect(reason({ ...row, id: { a: 1 } })).toBe("field 'id' must be a string or a number, found object");
    expect(reason({ ...row, id: true })).toBe("field 'id' must be a string or a number, found boolean");
    expect(reason({ ...row, id: [1] })).toBe("field 'id' must be a string or a number, found array");
    expect(reason({ ...row, id: '' })).toBe("field 'id' is a blank string; expected a non-empty string or a number");
    expect(reason({ ...row, id: ' \t' })).toBe("field 'id' is a blank string; expected a non-empty string or a number");
    expect(pairFromRecord({ ...row, uid: false }, 'gen', { id: 'uid' })).toEqual({ ok: false, reason: "field 'uid' must be a string or a number, found boolean" });
    // Absent or null ids still get the generated one; numbers and Parquet INT64 (bigint) are kept as text.
    expect(pairFromRecord({ ...row, id: null }, 'gen')).toMatchObject({ ok: true, pair: { id: 'gen' } });
    expect(pairFromRecord({ ...row, id: 0 }, 'gen')).toMatchObject({ ok: true, pair: { id: '0' } });
    expect(pairFromRecord({ ...row, id: 12n }, 'gen')).toMatchObject({ ok: true, pair: { id: '12' } });
  });

  it('a .json file that holds JSON Lines gets a hint', async () => {
    const text = jsonl(trl('a'), trl('b'));
    expect(errorOf(() => pairsFromJsonText(text, 'd.json')).message).toMatch(
      /^d\.json: not valid JSON: .*; it looks like JSON Lines: rename to \.jsonl or set data\.format: jsonl$/,
    );
    const path = writeFile('lines.json', text);
    expect((await asyncErrorOf(loadPairs(path))).message).toMatch(/looks like JSON Lines/);
    // Broken JSON that is not JSON Lines gets no such hint.
    expect(errorOf(() => pairsFromJsonText('[{"prompt": "q",\n"chosen": ', 'bad.json')).message).not.toMatch(/JSON Lines/);
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

  it('refuses text that is not UTF-8, in string and in plain byte-array columns, as the JSON path does', async () => {
    const latin1 = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));
    const inString = join(dir, 'latin1-string.parquet');
    parquetWriteFile({
      filename: inString,
      columnData: [
        { name: 'prompt', data: ['q'], type: 'STRING' },
        { name: 'chosen', data: [latin1('caf\u00e9')], type: 'STRING' },
        { name: 'rejected', data: ['b'], type: 'STRING' },
      ],
    });
    const inBytes = join(dir, 'latin1-bytes.parquet');
    parquetWriteFile({
      filename: inBytes,
      columnData: ['prompt', 'chosen', 'rejected'].map((name) => ({ name, data: [latin1('No s\u00e9.')], type: 'BYTE_ARRAY' as const })),
    });
    for (const path of [inString, inBytes]) {
      expect((await asyncErrorOf(loadPairs(path))).message).toBe(`${path}: a text column holds bytes that are not UTF-8; write the file with UTF-8 text`);
    }
    // the same text as UTF-8 loads
    const utf8 = join(dir, 'utf8-bytes.parquet');
    parquetWriteFile({
      filename: utf8,
      columnData: ['prompt', 'chosen', 'rejected'].map((name) => ({ name, data: [Uint8Array.from(Buffer.from(`${name}: s\u00e9`))], type: 'BYTE_ARRAY' as const })),
    });
    expect((await loadPairs(utf8)).pairs[0]!.chosen).toBe('chosen: s\u00e9');
  });

  it('a file that is not Parquet is a clear error', async () => {
    const path = writeFile('fake.parquet', 'definitely not parquet');
    expect((await asyncErrorOf(loadPairs(path))).message).toMatch(/fake\.parquet: cannot read Parquet/);
  });
});
