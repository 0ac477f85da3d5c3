// Layout row-pairs: rows 2k and 2k+1 of a file are the chosen and rejected response of pair k
// (the paper's released files). Each case would fail if the rows were paired, checked or named
// wrongly: the pairs' contents, the reasons and the places they name are compared in full.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf } from './pair-data-errors.js';
import { loadPairs, pairsFromJsonText, pairsFromJsonlText, pairsFromRecords } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'patarm-row-pairs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jsonl = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const rows = (id: string, extra: Record<string, unknown> = {}) => [
  { id: `${id}-c`, prompt: `q ${id}`, response: `good ${id}`, ...extra },
  { id: `${id}-r`, prompt: `q ${id}`, response: `bad ${id}`, ...extra },
];


describe('layout row-pairs', () => {
  it('pairs rows 2k and 2k+1 as chosen and rejected, with the chosen row id, labels and judgments', () => {
    const text = jsonl(
      ...rows('a', { task: 'math', source: 'm1' }).map((r, i) => ({ ...r, judgment: `j${i} <answer>${i === 0 ? 9 : 1}</answer>` })),
    ) + '\n' + jsonl(...rows('b'));
    const loaded = pairsFromJsonlText(text, 'rl.jsonl', { layout: 'row-pairs' });
    expect(loaded.skipped).toEqual([]);
    expect(loaded.pairs).toEqual([
      { id: 'a-c', prompt: 'q a', chosen: 'good a', rejected: 'bad a', task: 'math', source: 'm1', chosenJudgment: 'j0 <answer>9</answer>', rejectedJudgment: 'j1 <answer>1</answer>' },
      { id: 'b-c', prompt: 'q b', chosen: 'good b', rejected: 'bad b' },
    ]);
    // The rows' own fields, not the keys the two rows were joined under.
    expect(loaded.fieldsFound).toEqual(['id', 'prompt', 'response', 'task', 'source', 'judgment']);
  });

  it('reads message-list responses whose conversation is the prompt, and renamed fields', () => {
    const convo = (answer: string) => [{ role: 'user', content: 'hi?' }, { role: 'assistant', content: answer }];
    const plain = pairsFromJsonlText(jsonl({ response: convo('hello') }, { response: convo('go away') }), 'x.jsonl', { layout: 'row-pairs' });
    expect(plain.pairs).toEqual([{ id: 'x.jsonl:1', prompt: [{ role: 'user', content: 'hi?' }], chosen: 'hello', rejected: 'go away' }]);

    const fields = { id: 'uid', prompt: 'question', response: 'output', judgment: 'critique' };
    const renamed = pairsFromJsonlText(
      jsonl({ uid: 7, question: 'q', output: 'yes', critique: 'c <answer>8</answer>' }, { uid: 8, question: 'q', output: 'no', critique: 'c <answer>2</answer>' }),
      'y.jsonl',
      { layout: 'row-pairs', fields },
    );
    expect(renamed.pairs).toEqual([{ id: '7', prompt: 'q', chosen: 'yes', rejected: 'no', chosenJudgment: 'c <answer>8</answer>', rejectedJudgment: 'c <answer>2</answer>' }]);
  });

  it('refuses two rows with different prompts, naming both lines; skip mode keeps the rows after them in step', () => {
    const text = jsonl(rows('a')[0], rows('b')[1], ...rows('c'));
    const err = errorOf(() => pairsFromJsonlText(text, 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.location).toEqual({ file: 'rl.jsonl', line: 1 });
    expect(err.reason).toBe(
      "line 1 and line 2: different 'prompt' (from character 2: \"q a\" and \"q b\"): with layout row-pairs rows 2k and 2k+1 are the chosen and " +
        'rejected responses to one prompt; has the file lost a row, or is it in another order?',
    );
    const skipped = pairsFromJsonlText(text, 'rl.jsonl', { layout: 'row-pairs', onBadRow: 'skip' });
    expect(skipped.pairs.map((p) => [p.id, p.chosen, p.rejected])).toEqual([['c-c', 'good c', 'bad c']]);
    expect(skipped.skipped.map((s) => s.where)).toEqual(['rl.jsonl line 1']);
  });

  it('drops a pair with an unreadable row as one, at that row, naming its partner', () => {
    const text = [JSON.stringify(rows('a')[0]), '{not json', ...rows('b').map((r) => JSON.stringify(r)), ''].join('\n');
    const loaded = pairsFromJsonlText(text, 'rl.jsonl', { layout: 'row-pairs', onBadRow: 'skip' });
    expect(loaded.pairs.map((p) => p.id)).toEqual(['b-c']);
    expect(loaded.skipped).toHaveLength(1);
    expect(loaded.skipped[0]!.where).toBe('rl.jsonl line 2');
    expect(loaded.skipped[0]!.reason).toMatch(/^not valid JSON .*\(its pair's other row, line 1, goes with it\)$/);

    const notObject = errorOf(() => pairsFromJsonlText(jsonl([1, 2], rows('a')[1]), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(notObject.message).toBe("rl.jsonl line 1: expected an object (one response of a pair), found an array (its pair's other row, line 2, goes with it)");
  });

  it('refuses an odd number of rows at the last one, with its own problem if it has one', () => {
    const err = errorOf(() => pairsFromJsonlText(jsonl(...rows('a'), rows('b')[0]), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.location).toEqual({ file: 'rl.jsonl', line: 3 });
    expect(err.reason).toMatch(/^the last row has no partner: .* this file has an odd number of rows$/);
    const broken = errorOf(() => pairsFromJsonlText(jsonl(...rows('a')) + '{oops\n', 'rl.jsonl', { layout: 'row-pairs' }));
    expect(broken.reason).toMatch(/^not valid JSON .*; and the last row has no partner: /);
  });

  it('gives each row its own reason when both rows of a pair are unreadable', () => {
    const err = errorOf(() => pairsFromJsonlText('{a\n[1]\n', 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.location.line).toBe(1);
    expect(err.reason).toMatch(/^line 1: not valid JSON .*; line 2: expected an object \(one response of a pair\), found an array \(the two rows of one pair\)$/);
  });

  it('compares message-list prompts by their messages, key order aside, and says where they differ', () => {
    const turn = (content: string) => [{ role: 'system', content: 'be fair' }, { role: 'user', content }];
    const [a, b] = [{ prompt: turn('q?'), response: 'x' }, { prompt: [{ content: 'be fair', role: 'system' }, { content: 'q?', role: 'user' }], response: 'y' }];
    expect(pairsFromJsonlText(jsonl(a, b), 'rl.jsonl', { layout: 'row-pairs' }).pairs[0]!.prompt).toEqual(turn('q?'));
    const err = errorOf(() => pairsFromJsonlText(jsonl(a, { ...b, prompt: turn('other?') }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.reason).toMatch(/^line 1 and line 2: different 'prompt' \(at message 1\)/);
    // Long texts with a common start are quoted from 10 characters before they part.
    const long = 'You are a careful grader of answers. Question: ';
    const parted = errorOf(() => pairsFromJsonlText(jsonl({ prompt: `${long}2+2?`, response: 'x' }, { prompt: `${long}3+3?`, response: 'y' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(parted.reason).toContain(`(from character ${long.length}: "Question: 2+2?" and "Question: 3+3?")`);
  });

  it("takes the file's first pair as the rule for ids: shared there, a later pair whose rows differ has lost a row", () => {
    // Every row asks the same prompt, so only the ids can show that b's rejected row is gone.
    const row = (id: string, response: string) => ({ id, prompt: 'q', response });
    const lost = jsonl(row('a', 'a1'), row('a', 'a2'), row('b', 'b1'), row('c', 'c1'), row('c', 'c2'), row('d', 'd1'));
    const err = errorOf(() => pairsFromJsonlText(lost, 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.location.line).toBe(3);
    expect(err.reason).toBe(
      "line 3 and line 4: different 'id' (\"b\" and \"c\"), where the file's first pair (line 1 and line 2) gave both rows one: has the file lost a row, or is it in another order?",
    );
    // Ids of one row each: the pair takes the chosen row's.
    const perRow = pairsFromJsonlText(jsonl(row('1', 'a1'), row('2', 'a2'), row('3', 'b1'), row('4', 'b2')), 'rl.jsonl', { layout: 'row-pairs' });
    expect(perRow.pairs.map((p) => p.id)).toEqual(['1', '3']);
  });

  it('says which fields a row lacks and which it has, at that row, and which layout a whole pair per record needs', () => {
    const err = errorOf(() => pairsFromJsonlText(jsonl(rows('a')[0], { prompt: 'q a', answer: 'bad a' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.location).toEqual({ file: 'rl.jsonl', line: 2 });
    expect(err.reason).toMatch(
      /^no 'response' field \(with layout row-pairs each row is one response: \{prompt, response\} .*; found fields \[prompt, answer\]\) \(its pair's other row, line 1, goes with it\)$/,
    );
    expect(errorOf(() => pairsFromJsonlText(jsonl(rows('a')[0], { prompt: 'q a', response: null }), 'rl.jsonl', { layout: 'row-pairs' })).reason).toBe(
      "'response' is null (its pair's other row, line 1, goes with it)",
    );
    const wholePairs = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', chosen: 'a', rejected: 'b' }, { prompt: 'q', chosen: 'c', rejected: 'd' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(wholePairs.reason).toMatch(/it holds chosen and rejected, a whole pair: read this file with layout pairs \(its pair's other row, line 2, goes with it\)$/);
    const textOnly = errorOf(() => pairsFromJsonlText(jsonl({ response: 'a' }, { response: 'b' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(textOnly.reason).toMatch(/^line 1 and line 2: no 'prompt' field, and 'response' is text, not a conversation that holds the prompt \(with layout row-pairs/);
    // Conversations of the answer alone hold no prompt either: the reason says what a row holds, in the file's field names.
    const answerOnly = (answer: string) => ({ output: [{ role: 'assistant', content: answer }] });
    const noPrompt = errorOf(() => pairsFromJsonlText(jsonl(answerOnly('a'), answerOnly('b')), 'rl.jsonl', { layout: 'row-pairs', fields: { prompt: 'question', response: 'output' } }));
    expect(noPrompt.reason).toMatch(
      /^line 1 and line 2: missing prompt: no 'question' field and no user turns before the assistant response; expected with layout row-pairs each row is one response: \{question, output\} /,
    );
  });

  it("reports a problem of the rejected row's own response or label at that row, not at the chosen one", () => {
    const repro = errorOf(() => pairsFromJsonText('[{"prompt":"p","response":"a"},{"prompt":"p","response":5}]', 'f.json', { layout: 'row-pairs' }));
    expect(repro.location).toEqual({ file: 'f.json', row: 1 });
    expect(repro.message).toBe("f.json row 1: field 'response' must be a string or a message list, found number (its pair's other row, row 0, goes with it)");
    const reasons: [unknown, string][] = [
      ['  ', "'response' is empty"],
      [[{ role: 'assistant', content: '' }], "'response' is empty"],
      [[{ from: 'gpt', value: 'x' }], "field 'response' message 0 is not {role: string, content: string} (found keys [from, value])"],
      [[{ role: 'user', content: 'x' }], "the last message of 'response' has role 'user'; expected the assistant response"],
      ['bad \ud800', "field 'response' holds a lone UTF-16 surrogate (\\ud800 at character 4), which is not text"],
    ];
    for (const [response, reason] of reasons) {
      const err = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', response: 'good' }, { prompt: 'q', response }), 'rl.jsonl', { layout: 'row-pairs' }));
      expect([err.location, err.reason]).toEqual([{ file: 'rl.jsonl', line: 2 }, `${reason} (its pair's other row, line 1, goes with it)`]);
    }
    const label = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', response: 'good' }, { prompt: 'q', response: 'bad', task: 5 }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect([label.location.line, label.reason]).toEqual([2, "field 'task' must be a string, found number (its pair's other row, line 1, goes with it)"]);
    // Skip mode names the same row, and keeps the next pair.
    const skipped = pairsFromJsonlText(jsonl({ prompt: 'q', response: 'good' }, { prompt: 'q', response: 5 }, ...rows('b')), 'rl.jsonl', { layout: 'row-pairs', onBadRow: 'skip' });
    expect(skipped.pairs.map((p) => p.id)).toEqual(['b-c']);
    expect(skipped.skipped.map((s) => [s.where, s.location])).toEqual([['rl.jsonl line 2', { file: 'rl.jsonl', line: 2 }]]);
  });

  it('refuses rows that disagree on a task label, but not on source', () => {
    const [c, r] = rows('a');
    const err = errorOf(() => pairsFromJsonlText(jsonl({ ...c, task: 'math' }, { ...r, task: 'code' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(err.reason).toBe("line 1 and line 2: different 'task' (\"math\" and \"code\"): the two rows of a pair judge one task");
    const bySource = pairsFromJsonlText(jsonl({ ...c, source: 'model-1' }, { ...r, source: 'model-2' }), 'rl.jsonl', { layout: 'row-pairs' });
    expect(bySource.pairs[0]!.source).toBe('model-1');
    // A label on one row only is the pair's (the chat rubric would otherwise stand in for it).
    const oneSided = pairsFromJsonlText(jsonl(c, { ...r, task: 'math', subset: 'gsm' }), 'rl.jsonl', { layout: 'row-pairs' });
    expect([oneSided.pairs[0]!.task, oneSided.pairs[0]!.subset]).toEqual(['math', 'gsm']);
  });

  it('names the rows in the checks a pair record gets: same responses, a bad judgment', () => {
    const same = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', response: 'x' }, { prompt: 'q', response: 'x' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(same.reason).toBe("line 1 and line 2: 'response of line 1' and 'response of line 2' are the same response");
    const blank = errorOf(() => pairsFromJsonlText(jsonl({ prompt: 'q', response: 'x' }, { prompt: 'q', response: 'y', judgment: ' ' }), 'rl.jsonl', { layout: 'row-pairs' }));
    expect(blank.location.line).toBe(2);
    expect(blank.reason).toBe("'judgment' must be a non-empty string (a teacher judgment) (its pair's other row, line 1, goes with it)");
    const differentTurns = errorOf(() =>
      pairsFromJsonlText(
        jsonl({ response: [{ role: 'user', content: 'a?' }, { role: 'assistant', content: 'x' }] }, { response: [{ role: 'user', content: 'b?' }, { role: 'assistant', content: 'y' }] }),
        'rl.jsonl',
        { layout: 'row-pairs' },
      ),
    );
    expect(differentTurns.reason).toBe('line 1 and line 2: chosen and rejected conversations differ before the final assistant message (at message 0)');
  });

  it('pairs Parquet and JSON-array rows by index', async () => {
    const path = join(dir, 'rl.parquet');
    const all = [...rows('a'), ...rows('b')];
    await parquetWriteFile({
      filename: path,
      columnData: ['prompt', 'response'].map((name) => ({ name, data: all.map((r) => r[name as 'prompt' | 'response']), type: 'STRING' as const })),
    });
    const loaded = await loadPairs(path, { layout: 'row-pairs' });
    expect(loaded.pairs.map((p) => [p.id, p.prompt, p.chosen, p.rejected])).toEqual([
      ['rl.parquet:0', 'q a', 'good a', 'bad a'],
      ['rl.parquet:2', 'q b', 'good b', 'bad b'],
    ]);
    const err = errorOf(() => pairsFromRecords([all[0], all[3]], 'rows.json', { layout: 'row-pairs' }));
    expect(err.message.startsWith("rows.json row 0: row 0 and row 1: different 'prompt'")).toBe(true);
  });

  it('leaves the pairs layout as it was: a row file read as pairs says what it expected', () => {
    const err = errorOf(() => pairsFromJsonlText(jsonl(...rows('a')), 'rl.jsonl'));
    expect(err.reason).toMatch(
      /^missing or null field 'chosen' and 'rejected'; expected .*; found fields \[id, prompt, response\]; it holds 'response', one response: files of one response per row \(rows 2k and 2k\+1 one pair\) are read with layout row-pairs$/,
    );
  });
});
