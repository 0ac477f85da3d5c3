// The judge-errors diagnostic: each wrong judgment is blamed on its first wrong step, checked on
// judgments written by hand in the teacher's layout.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstWrongStep, formatLostPairs, lostPairs } from '../src/demo/judge-errors.js';
import { formatJudgment } from '../src/synth/teacher.js';
import { runTool, synthToolFixture } from './synth-tool.js';

const prompt = "What is the first letter of 'pear'?";
/** A judgment of `response` with the given comparison line (and verdict) and score. */
function judged(response: string, line: string, score: number) {
  return { prompt, response, judgment: `${line}\nCriteria:\n- exact answer\n<answer>${score}</answer>` };
}

describe('firstWrongStep', () => {
  it('finds nothing wrong in the teacher\'s own judgments', () => {
    expect(firstWrongStep({ prompt, response: 'p', judgment: formatJudgment('p', 'p', 'correct', 'exact answer', 9) })).toBeNull();
    expect(firstWrongStep({ prompt, response: 'k', judgment: formatJudgment('p', 'k', 'wrong', 'exact answer', 1) })).toBeNull();
  });

  it('names the first wrong step: the prompt, the response, the comparison, the verdict', () => {
    expect(firstWrongStep(judged('p', 'qp no; wrong', 1))).toBe('misread expected');
    expect(firstWrongStep(judged('p', 'qq ok; correct', 9))).toBe('misread expected'); // right verdict, wrong reading
    expect(firstWrongStep(judged('p', 'pq no; wrong', 1))).toBe('misread response');
    expect(firstWrongStep(judged('k', 'pk ok; correct', 9))).toBe('compared wrong');
    expect(firstWrongStep(judged('p', 'pp ok; wrong', 1))).toBe('verdict wrong');
  });

  it('blames a verdict stated without a reading on the missing reading, and passes a right one', () => {
    expect(firstWrongStep(judged('k', 'correct', 9))).toBe('no reading');
    expect(firstWrongStep(judged('p', 'wrong', 1))).toBe('no reading');
    expect(firstWrongStep(judged('p', 'correct', 9))).toBeNull();
    expect(firstWrongStep({ prompt, response: 'k', judgment: formatJudgment('p', 'k', 'wrong', 'exact answer', 1, false, false) })).toBeNull();
    const [lost] = lostPairs([{ id: 'a', prompt, chosen: judged('p', 'wrong', 1), rejected: judged('k', 'kk ok; correct', 9) }]);
    expect(lost!.blame).toEqual([{ side: 'chosen', cause: 'no reading' }, { side: 'rejected', cause: 'misread expected' }]);
  });

  it('calls a judgment garbled when its comparison line cannot be read back or it does not parse', () => {
    expect(firstWrongStep(judged('p', 'nothing to see; correct', 9))).toBe('garbled');
    expect(firstWrongStep(judged('p', 'pp ok, pp ok; correct', 9))).toBe('garbled'); // one position, two items
    expect(firstWrongStep(judged('p', 'pp ok', 9))).toBe('garbled'); // no verdict
    expect(firstWrongStep({ prompt, response: 'p', judgment: 'pp ok; correct' })).toBe('garbled'); // no score
  });

  it('rejects a prompt outside the synthetic family', () => {
    expect(() => firstWrongStep({ prompt: 'Tell me a story.', response: 'x', judgment: 'xx ok; correct\n<answer>9</answer>' })).toThrow(/not a prompt of the synthetic task family/);
  });
});

describe('lostPairs', () => {
  let pairs = 0;
  const pair = (chosen: ReturnType<typeof judged>, rejected: ReturnType<typeof judged>) => ({ id: `p${pairs++}`, prompt, chosen, rejected });
  const right = judged('p', 'pp ok; correct', 9);
  const rightRejected = judged('k', 'pk no; wrong', 1);

  it('lists only lost pairs, blaming each side whose judgment went wrong', () => {
    const lost = lostPairs([
      pair(right, rightRejected), // won
      pair(right, judged('k', 'pk ok; correct', 9)), // tie: the rejected side compared wrong
      pair(judged('p', 'qp no; wrong', 1), judged('k', 'pp ok; correct', 10)), // both sides wrong
      pair(judged('p', 'pp ok; correct', 5), judged('k', 'pk no; wrong', 5)), // right steps, tied scores
      pair(judged('p', 'qp no; wrong', 1), judged('k', 'qk no; wrong', 1)), // the rejected side misreads but concludes rightly
      pair(judged('p', 'pp ok, __ ok; correct', 9), judged('k', 'pk ok; correct', 9)), // garbled line, right verdict: not to blame
      pair(judged('p', 'p p ok; correct', 5), judged('k', 'pk no; wrong', 5)), // garbled but right on both sides: the scores lose it
    ]);
    expect(lost).toEqual([
      { id: 'p1', kind: 'first-letter', blame: [{ side: 'rejected', cause: 'compared wrong' }] },
      { id: 'p2', kind: 'first-letter', blame: [{ side: 'chosen', cause: 'misread expected' }, { side: 'rejected', cause: 'misread response' }] },
      { id: 'p3', kind: 'first-letter', blame: [{ side: 'chosen', cause: 'score only' }] },
      { id: 'p4', kind: 'first-letter', blame: [{ side: 'chosen', cause: 'misread expected' }] },
      { id: 'p5', kind: 'first-letter', blame: [{ side: 'rejected', cause: 'compared wrong' }] },
      { id: 'p6', kind: 'first-letter', blame: [{ side: 'chosen', cause: 'score only' }] },
    ]);
    const table = formatLostPairs(lost, 7);
    expect(table).toContain('lost 6 of 7 pairs (pointwise 14.29%)');
    expect(table).toMatch(/first-letter\s+chosen\s+misread expected\s+2\n/);
    expect(table).toMatch(/first-letter\s+rejected\s+compared wrong\s+2\n/);
    expect(table).toMatch(/first-letter\s+chosen\s+score only\s+2/);
  });
});

describe('tools/judge-errors.js', () => {
  const run = (args: string[]) => runTool('tools/judge-errors.js', args);
  const { dir, model, pairs, rubrics } = synthToolFixture('judge-errors-');

  it('judges the pairs greedily and blames every lost pair (a random fixture loses both, unparsed)', () => {
    const r = run(['--model', model, '--pairs', pairs, '--rubrics', rubrics, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { pairs: number; lost: { id: string; kind: string; blame: { cause: string }[] }[] };
    expect(out.pairs).toBe(2);
    expect(out.lost.map((p) => [p.id, p.kind])).toEqual([['pairs.jsonl:1', 'first-letter'], ['pairs.jsonl:2', 'last-letter']]);
    for (const p of out.lost) expect(p.blame.map((b) => b.cause)).toEqual(['garbled', 'garbled']);
    const text = run(['--model', model, '--pairs', pairs, '--rubrics', rubrics]);
    expect(text.stdout).toContain('lost 2 of 2 pairs (pointwise 0.00%)');
  });

  it('names the bad argument or file', () => {
    expect(run(['--model', model])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^missing --pairs\nusage:/) });
    expect(run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: node tools/judge-errors.js') });
    expect(run(['--model', model, '--pairs', join(dir, 'missing.jsonl')])).toMatchObject({ code: 1, stderr: expect.stringContaining('missing.jsonl') });
    // A pair outside the synthetic family is named before the judge is even loaded (no model here).
    const foreign = join(dir, 'foreign.jsonl');
    writeFileSync(foreign, [{ prompt: "What is the first letter of 'pen'?", chosen: 'p', rejected: 'e' }, { id: 'story', prompt: 'Tell me a story.', chosen: 'a', rejected: 'b' }].map((p) => JSON.stringify(p) + '\n').join(''));
    expect(run(['--model', join(dir, 'no-model'), '--pairs', foreign])).toMatchObject({ code: 1, stderr: expect.stringContaining(`${foreign}: pair story: checkResponse: not a prompt of the synthetic task family`) });
    const chat = join(dir, 'chat.jsonl');
    writeFileSync(chat, JSON.stringify({ id: 'c1', prompt: [{ role: 'user', content: "What is the first letter of 'pen'?" }], chosen: 'p', rejected: 'e' }) + '\n');
    expect(run(['--model', join(dir, 'no-model'), '--pairs', chat])).toMatchObject({ code: 1, stderr: expect.stringContaining(`${chat}: pair c1 has a chat prompt`) });
  });
});
