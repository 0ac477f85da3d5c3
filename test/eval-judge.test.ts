// The evaluation driver with fake judges: batching, k draws per item, the saved-judgments file,
// and resuming from it after a crash that cut the last line short.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import {
  buildItems,
  createJudgingProgress,
  formatJudgmentLine,
  parseJudgmentLines,
  runEvaluation,
  savedJudgingOf,
  type BenchmarkExample,
  type JudgeFn,
  type JudgingSetup,
} from '../src/eval/index.js';

const dir = mkdtempSync(join(tmpdir(), 'patarm-eval-judge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const examples: BenchmarkExample[] = Array.from({ length: 5 }, (_, n) => ({
  id: `e${n}`,
  prompt: `question ${n}`,
  chosen: [`good ${n}`],
  rejected: [`bad ${n}`],
  group: 'alpacaeval-easy',
  task: 'chat',
}));
const items = buildItems(examples, { mode: 'pointwise' });
/** What these tests judge with; saved with every line so a resume can tell its own judgments. */
const setup: JudgingSetup = { model: '/models/judge-8b', decoding: { temperature: 0.6, topP: 0.95, maxNewTokens: 64, seed: 0 } };
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Scores 8 for a good response, 3 for a bad one; draw d is tagged so lines are distinguishable. */
function countingJudge(): { judge: JudgeFn; calls: string[][]; seeds: number[] } {
  const calls: string[][] = [];
  const seeds: number[] = [];
  const judge: JudgeFn = async (prompts, { k, seed }) => {
    calls.push(prompts);
    seeds.push(seed);
    return prompts.map((p) => Array.from({ length: k }, (_, d) => `draw ${d}\n<answer>${p.includes('<response>\ngood') ? 8 : 3}</answer>`));
  };
  return { judge, calls, seeds };
}

describe('runEvaluation', () => {
  it('judges in batches, k draws per item, and appends every judgment to the file', async () => {
    const file = join(dir, 'fresh.jsonl');
    const { judge, calls } = countingJudge();
    const progress: number[] = [];
    const run = await runEvaluation({ items, judge, k: 2, batchSize: 4, savedJudgments: file, judging: setup, onProgress: (p) => progress.push(p.done) });
    expect(calls.map((c) => c.length)).toEqual([4, 4, 2]);
    expect(progress).toEqual([0, 4, 8, 10]);
    expect(run).toMatchObject({ resumedItems: 0, judgedItems: 10, judgeCalls: 3 });
    expect(run.records).toHaveLength(20);
    const saved = parseJudgmentLines(readFileSync(file, 'utf8'));
    expect(saved.problems).toEqual([]);
    const judging = { model: '/models/judge-8b', temperature: 0.6, topP: 0.95, maxNewTokens: 64, seed: 0, promptSha256: sha256(items[0]!.prompt) };
    expect(saved.records.slice(0, 2)).toEqual([
      { key: 'e0:chosen', draw: 0, mode: 'pointwise', judging, text: 'draw 0\n<answer>8</answer>' },
      { key: 'e0:chosen', draw: 1, mode: 'pointwise', judging, text: 'draw 1\n<answer>8</answer>' },
    ]);
    // Each item's own prompt is hashed.
    expect(saved.records[2]!.judging).toEqual({ ...judging, promptSha256: sha256(items[1]!.prompt) });
  });

  it('resumes: a cut last line is removed and only the missing items are judged', async () => {
    const file = join(dir, 'resume.jsonl');
    const first = countingJudge();
    await runEvaluation({ items, judge: first.judge, k: 2, batchSize: 3, savedJudgments: file, judging: setup });
    // Simulate a crash: keep the lines of the first 3 items (6 lines) and half of the 7th line.
    const lines = readFileSync(file, 'utf8').split('\n');
    const kept = lines.slice(0, 6).join('\n') + '\n' + lines[6]!.slice(0, 20);
    writeFileSync(file, kept);

    const second = countingJudge();
    const run = await runEvaluation({ items, judge: second.judge, k: 2, batchSize: 3, savedJudgments: file, judging: setup });
    expect(run.saved).toMatchObject({ droppedPartialLine: true, problems: [], foreignRecords: 0 });
    expect(run).toMatchObject({ resumedItems: 3, judgedItems: 7, judgeCalls: 3 });
    expect(second.calls.flat()).toHaveLength(7);
    expect(second.calls.flat().some((p) => p.includes('<response>\ngood 0'))).toBe(false);
    const saved = parseJudgmentLines(readFileSync(file, 'utf8'));
    expect(saved.problems).toEqual([]);
    expect(saved.partialLastLine).toBe(false);
    expect(new Set(saved.records.map((r) => `${r.key}#${r.draw}`)).size).toBe(20);
    expect(run.records).toHaveLength(20);

    // Everything is saved now: a third run judges nothing.
    const third = countingJudge();
    const again = await runEvaluation({ items, judge: third.judge, k: 2, batchSize: 3, savedJudgments: file, judging: setup });
    expect(third.calls).toEqual([]);
    expect(again).toMatchObject({ resumedItems: 10, judgedItems: 0 });
  });

  it('judges again an item with too few saved draws, and the new lines win', async () => {
    const file = join(dir, 'partial.jsonl');
    writeFileSync(file, formatJudgmentLine({ key: 'e0:chosen', draw: 0, mode: 'pointwise', judging: savedJudgingOf(setup, items[0]!.prompt), text: 'old <answer>1</answer>' }));
    const { judge, calls } = countingJudge();
    const run = await runEvaluation({ items: items.slice(0, 2), judge, k: 2, batchSize: 8, savedJudgments: file, judging: setup });
    expect(calls.flat()).toHaveLength(2);
    expect(run.records.filter((r) => r.key === 'e0:chosen').map((r) => r.text)).toEqual(['draw 0\n<answer>8</answer>', 'draw 1\n<answer>8</answer>']);
    const reloaded = parseJudgmentLines(readFileSync(file, 'utf8'));
    expect(reloaded.records).toHaveLength(5); // the old line stays in the file, later lines replace it
  });

  it('starts appended lines on a new line when the file lacks a final newline', async () => {
    const file = join(dir, 'no-newline.jsonl');
    writeFileSync(file, JSON.stringify({ key: 'unrelated:chosen', draw: 0, mode: 'pointwise', text: '<answer>1</answer>' }));
    const { judge } = countingJudge();
    const run = await runEvaluation({ items: items.slice(0, 1), judge, k: 1, batchSize: 1, savedJudgments: file, judging: setup });
    expect(run.saved!.foreignRecords).toBe(1);
    const reloaded = parseJudgmentLines(readFileSync(file, 'utf8'));
    expect(reloaded.problems).toEqual([]);
    expect(reloaded.records.map((r) => r.key)).toEqual(['unrelated:chosen', 'e0:chosen']);
  });

  it('refuses to resume from judgments made with another model, decoding or prompt, naming the file and the field', async () => {
    const file = join(dir, 'other-setup.jsonl');
    await runEvaluation({ items, judge: countingJudge().judge, k: 1, batchSize: 4, savedJudgments: file, judging: setup });
    const before = readFileSync(file, 'utf8');
    const changed: [string, JudgingSetup, RegExp][] = [
      ['model', { ...setup, model: '/models/other-8b' }, /'model' is "\/models\/judge-8b" there, "\/models\/other-8b" in this run/],
      ['temperature', { ...setup, decoding: { ...setup.decoding, temperature: 0.8 } }, /'temperature' is 0\.6 there, 0\.8 in this run/],
      ['topP', { ...setup, decoding: { ...setup.decoding, topP: 0.9 } }, /'topP' is 0\.95 there, 0\.9 in this run/],
      ['maxNewTokens', { ...setup, decoding: { ...setup.decoding, maxNewTokens: 4096 } }, /'maxNewTokens' is 64 there, 4096 in this run/],
      ['seed', { ...setup, decoding: { ...setup.decoding, seed: 3 } }, /'seed' is 0 there, 3 in this run/],
    ];
    for (const [field, other, detail] of changed) {
      const again = countingJudge();
      const attempt = runEvaluation({ items, judge: again.judge, k: 1, batchSize: 4, savedJudgments: file, judging: other });
      await expect(attempt, field).rejects.toThrow(/other-setup\.jsonl: the judgment of 'e0:chosen' \(draw 0\) was made with a different judging setup/);
      await expect(attempt, field).rejects.toThrow(detail);
      await expect(attempt, field).rejects.toThrow(/pass another --save-judgments file/);
      expect(again.calls, field).toEqual([]);
    }
    // The same ids with other data text: the rendered prompt differs.
    const edited = buildItems(examples.map((e) => (e.id === 'e2' ? { ...e, rejected: ['bad 2, edited'] } : e)), { mode: 'pointwise' });
    await expect(runEvaluation({ items: edited, judge: countingJudge().judge, k: 1, batchSize: 4, savedJudgments: file, judging: setup }))
      .rejects.toThrow(/'e2:rejected' \(draw 0\) was made with a different judging setup: 'promptSha256' is "[0-9a-f]{64}" there, "[0-9a-f]{64}" in this run/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses saved lines that do not record what they were judged with (files of older versions)', async () => {
    const file = join(dir, 'legacy.jsonl');
    const line = { key: 'e0:chosen', draw: 0, mode: 'pointwise', text: 'old <answer>1</answer>' };
    writeFileSync(file, JSON.stringify(line) + '\n');
    const again = countingJudge();
    await expect(runEvaluation({ items, judge: again.judge, k: 1, batchSize: 4, savedJudgments: file, judging: setup }))
      .rejects.toThrow(/legacy\.jsonl: the judgment of 'e0:chosen' \(draw 0\) does not record the model, decoding and prompt it was made with .*pass another --save-judgments file/);
    // A judging record that lacks a field is refused too, naming the field.
    const { seed: _seed, ...noSeed } = savedJudgingOf(setup, items[0]!.prompt);
    writeFileSync(file, JSON.stringify({ ...line, judging: noSeed }) + '\n');
    await expect(runEvaluation({ items, judge: again.judge, k: 1, batchSize: 4, savedJudgments: file, judging: setup }))
      .rejects.toThrow(/'seed' is absent there, 0 in this run/);
    expect(again.calls).toEqual([]);
  });

  it('needs the judging setup to save judgments', async () => {
    await expect(runEvaluation({ items, judge: countingJudge().judge, k: 1, batchSize: 4, savedJudgments: join(dir, 'x.jsonl') }))
      .rejects.toThrow(/savedJudgments needs 'judging'/);
  });

  it("gives every call the run's seed and each prompt its item's index, so a judgment does not depend on the batch size or a resume", async () => {
    // A judge whose every draw is a function of (seed, item index, draw), as the GPU judge's random streams are.
    const streamJudge: JudgeFn = async (prompts, { k, seed, items: indices }) =>
      prompts.map((_, i) => Array.from({ length: k }, (_, d) => `s${seed} stream ${(indices?.[i] ?? i) * k + d}\n<answer>5</answer>`));
    const textsOf = (run: { records: { key: string; draw: number; text: string }[] }) =>
      Object.fromEntries(run.records.map((r) => [`${r.key}/${r.draw}`, r.text]));
    const byFour = await runEvaluation({ items, judge: streamJudge, k: 2, batchSize: 4, seed: 5 });
    const byThree = await runEvaluation({ items, judge: streamJudge, k: 2, batchSize: 3, seed: 5 });
    expect(textsOf(byThree)).toEqual(textsOf(byFour));
    expect(new Set(Object.values(textsOf(byFour))).size).toBe(items.length * 2);
    // One seed for every call, derived from the run's (not the run's itself: see the GPU test), and
    // draw 1 of item 3 on stream 3 * 2 + 1.
    const seeds = new Set(Object.values(textsOf(byFour)).map((t) => /^s(\d+) /.exec(t)![1]));
    expect(seeds.size).toBe(1);
    expect([...seeds][0]).not.toBe('5');
    expect(textsOf(byFour)[`${items[3]!.key}/1`]).toBe(`s${[...seeds][0]} stream 7\n<answer>5</answer>`);
    const otherSeed = await runEvaluation({ items, judge: streamJudge, k: 2, batchSize: 4, seed: 6 });
    expect(textsOf(otherSeed)[`${items[3]!.key}/1`]).not.toBe(textsOf(byFour)[`${items[3]!.key}/1`]);
    // A resume that already has items 0 and 2 judges 1, 3, ... with the streams of their own indices.
    const file = join(dir, 'streams.jsonl');
    const judging = { model: 'm', decoding: { temperature: 1, topP: 1, maxNewTokens: 8, seed: 5 } };
    await runEvaluation({ items: [items[0]!, items[2]!], judge: streamJudge, k: 2, batchSize: 4, seed: 5, savedJudgments: file, judging });
    const resumed = await runEvaluation({ items, judge: streamJudge, k: 2, batchSize: 4, seed: 5, savedJudgments: file, judging });
    expect(resumed.resumedItems).toBe(2);
    const fresh = Object.entries(textsOf(resumed)).filter(([key]) => !key.startsWith(`${items[0]!.key}/`) && !key.startsWith(`${items[2]!.key}/`));
    expect(Object.fromEntries(fresh)).toEqual(Object.fromEntries(Object.entries(textsOf(byFour)).filter(([key]) => fresh.some(([k]) => k === key))));
    expect(fresh.length).toBe((items.length - 2) * 2);
  });

  it('rejects a judge that returns the wrong number of texts, naming the items', async () => {
    const bad: JudgeFn = async (prompts) => prompts.map(() => ['<answer>5</answer>']);
    await expect(runEvaluation({ items, judge: bad, k: 2, batchSize: 4 })).rejects.toThrow(/item 'e0:chosen'.*must be 2 strings/);
    await expect(runEvaluation({ items, judge: bad, k: 0, batchSize: 4 })).rejects.toThrow(/k \(draws per item\) must be a positive integer/);
    // Random streams are u32: items x k past 2^32 is refused before any call.
    const calls = countingJudge();
    await expect(runEvaluation({ items, judge: calls.judge, k: Math.ceil(2 ** 32 / items.length) + 1, batchSize: 4 })).rejects.toThrow(/exceed the 2\^32 random streams/);
    expect(calls.calls).toEqual([]);
  });
});

describe('parseJudgmentLines', () => {
  it('tolerates a cut last line, reports bad lines by number, and reads the external shapes', () => {
    const text = [
      JSON.stringify({ id: 'e1', side: 'rejected', judgment: '<answer>2</answer>' }),
      'not json',
      JSON.stringify({ id: 'e1', side: 'rejected', judgment: '<answer>4</answer>' }),
      JSON.stringify({ id: 'e2', order: 'rejected-chosen', text: '<answer>A</answer>' }),
      JSON.stringify({ id: 'e3', order: 'sideways', text: '<answer>A</answer>' }),
      JSON.stringify({ key: 'e4:chosen', text: 'x', draw: -1 }),
      '{"key": "e5:cho',
    ].join('\n');
    const parsed = parseJudgmentLines(text, { defaultMode: 'pointwise' });
    expect(parsed.records).toEqual([
      { key: 'e1:rejected', draw: 0, mode: 'pointwise', text: '<answer>2</answer>' },
      { key: 'e1:rejected', draw: 1, mode: 'pointwise', text: '<answer>4</answer>' },
      { key: 'e2:pair', draw: 0, mode: 'pairwise', order: 'rejected-chosen', text: '<answer>A</answer>' },
    ]);
    expect(parsed.problems.map((p) => p.line)).toEqual([2, 5, 6]);
    expect(parsed.problems[1]!.reason).toMatch(/'order': 'chosen-rejected'/);
    expect(parsed.problems[2]!.reason).toMatch(/'draw' must be a non-negative integer/);
    expect(parsed.partialLastLine).toBe(true);
    expect(parsed.completeBytes).toBe(Buffer.byteLength(text) - '{"key": "e5:cho'.length);
    // The kept text ends with a newline, so appends need none.
    expect(parsed.missingFinalNewline).toBe(false);
  });

  it('truncateSync to completeBytes leaves a clean file', () => {
    const file = join(dir, 'cut.jsonl');
    const good = JSON.stringify({ key: 'a:chosen', draw: 0, mode: 'pointwise', text: 'é <answer>1</answer>' }) + '\n';
    writeFileSync(file, good + '{"key": "b');
    const parsed = parseJudgmentLines(readFileSync(file, 'utf8'));
    truncateSync(file, parsed.completeBytes);
    expect(readFileSync(file, 'utf8')).toBe(good);
  });
});

describe('judging progress without a TTY', () => {
  it('prints the first line, then at most one per interval, and the last; the ETA ignores resumed items', () => {
    let text = '';
    const stream = Object.assign(new Writable({ write: (chunk, _e, done) => ((text += String(chunk)), done()) }), { isTTY: false });
    let clock = 0;
    const progress = createJudgingProgress({ stream, intervalSeconds: 30, now: () => clock });
    progress.update({ done: 40, total: 100, resumed: 40 });
    clock = 10_000;
    progress.update({ done: 50, total: 100, resumed: 40 }); // within the interval: no line
    clock = 40_000;
    progress.update({ done: 60, total: 100, resumed: 40 }); // 20 judged in 40 s: 40 left take 80 s
    clock = 90_000;
    progress.update({ done: 100, total: 100, resumed: 40 });
    progress.stop();
    expect(text.split('\n').filter(Boolean)).toEqual([
      'judged 40/100 items (40%), 40 resumed from saved judgments, eta ?',
      'judged 60/100 items (60%), eta 1m20s',
      'judged 100/100 items (100%)',
    ]);
  });
});
