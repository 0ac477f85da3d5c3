// The verdict-credit diagnostic: reading a judgment's comparison items back, and summing GRPO's
// advantage per kind of verdict item, checked on pairs small enough to work out by hand.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatVerdictCredit, verdictCredit, wrongWayShare } from '../src/demo/verdict-credit.js';
import { formatJudgment, readComparedPositions } from '../src/synth/teacher.js';
import { runTool, synthToolFixture } from './synth-tool.js';

const three = 0.75 / (0.5 + 1e-6); // the summed advantage of the three agreeing rollouts, and minus the odd one's
const judgment = (expected: string, got: string, score: number) =>
  formatJudgment(expected, got, score > 5 ? 'correct' : 'wrong', 'exact answer', score);

describe('readComparedPositions', () => {
  it('reads back every position the teacher wrote, ok exactly where the characters agree', () => {
    for (const [e, g] of [['a', 'a'], ['b', 'c'], ['bbb', 'bcb'], ['ab', 'abc'], ['x y', 'x  y'], ['abcdefghijklmnopqrs', 'abcdefghijklmnopqrz']] as const) {
      const items = readComparedPositions(judgment(e, g, 9));
      const gotChars = [...g.replace(/\s+/g, ' ')];
      expect(items).toHaveLength(Math.min(Math.max(e.length, gotChars.length), 16));
      items.forEach((item, k) => expect(item.said, `${e} / ${g} at ${k}`).toBe(e[k] !== undefined && e[k] === gotChars[k] ? 'ok' : 'no'));
    }
  });

  it('drops garbled items and reads only the first line before the ";"', () => {
    expect(readComparedPositions('ab ok, zzz, cd no, e ok; wrong\nCriteria:\n- xx ok\n<answer>1</answer>')).toEqual([
      { expected: 'a', got: 'b', said: 'ok' },
      { expected: 'c', got: 'd', said: 'no' },
    ]);
    expect(readComparedPositions('<answer>3</answer>')).toEqual([]);
  });
});

describe('verdictCredit', () => {
  // Chosen: 3 rollouts read the correct response right, 1 misreads it (`ab no`, score 1). The
  // rejected side says 1 throughout, so its group is uniform. Chosen rewards 1, 1, 1, 0 give
  // advantages +0.25 / (0.5 + eps) each and -0.75 / (0.5 + eps) (mean 0.75, unbiased std 0.5,
  // eps 1e-6 as in groupAdvantages): together +-1.5 up to eps.
  const chosenMisread = {
    chosen: [judgment('a', 'a', 9), judgment('a', 'a', 9), judgment('a', 'a', 9), judgment('a', 'b', 1)],
    rejected: Array.from({ length: 4 }, () => judgment('a', 'b', 1)),
  };
  // The mirror: the rejected response misread as right once (`aa ok`, score 9).
  const rejectedMisread = {
    chosen: Array.from({ length: 4 }, () => judgment('a', 'a', 9)),
    rejected: [judgment('a', 'b', 1), judgment('a', 'b', 1), judgment('a', 'b', 1), judgment('a', 'a', 9)],
  };

  it('blames the correct `no` after a misread of the chosen response', () => {
    const c = verdictCredit([chosenMisread]);
    expect(c.chosen['match->ok']).toEqual({ items: 3, advantage: expect.closeTo(three, 9), rightWay: expect.closeTo(three, 9), wrongWay: 0 });
    expect(c.chosen['mismatch->no']).toEqual({ items: 1, advantage: expect.closeTo(-three, 9), rightWay: 0, wrongWay: expect.closeTo(three, 9) });
    expect(c.rejected['mismatch->no']).toMatchObject({ items: 4, advantage: 0 });
    expect(wrongWayShare(c, 'mismatch')).toBeCloseTo(1, 9);
    expect(wrongWayShare(c, 'match')).toBeCloseTo(0, 9);
  });

  it('blames the correct `ok` after a misread of the rejected response; both together split half and half', () => {
    const r = verdictCredit([rejectedMisread]);
    expect(r.rejected['match->ok']).toEqual({ items: 1, advantage: expect.closeTo(-three, 9), rightWay: 0, wrongWay: expect.closeTo(three, 9) });
    expect(r.rejected['mismatch->no']).toEqual({ items: 3, advantage: expect.closeTo(three, 9), rightWay: expect.closeTo(three, 9), wrongWay: 0 });
    expect(wrongWayShare(r, 'match')).toBeCloseTo(1, 9);
    const both = verdictCredit([chosenMisread, rejectedMisread]);
    expect(wrongWayShare(both, 'mismatch')).toBeCloseTo(0.5, 9);
    expect(wrongWayShare(both, 'match')).toBeCloseTo(0.5, 9);
    expect(formatVerdictCredit(both)).toContain('after different letters: 50.0%');
  });

  it('gives a malformed rollout no verdict items and its group the format penalty', () => {
    const pair = { chosen: [judgment('a', 'a', 9), 'aa ok; correct and no answer tag'], rejected: [judgment('a', 'b', 1), judgment('a', 'b', 1)] };
    const c = verdictCredit([pair]);
    // Rewards 1 and -1 (format penalty): advantages +0.707 and -0.707; the malformed text still lists `aa ok`.
    expect(c.chosen['match->ok'].items).toBe(2);
    expect(c.chosen['match->ok'].rightWay).toBeCloseTo(Math.SQRT1_2, 5);
    expect(c.chosen['match->ok'].wrongWay).toBeCloseTo(Math.SQRT1_2, 5);
  });

  it('has no wrong-way share, not 0%, where no verdict item was read', () => {
    const c = verdictCredit([{ chosen: ['foo', 'bar'], rejected: ['baz', 'qux'] }]);
    expect(wrongWayShare(c, 'mismatch')).toBeNull();
    expect(wrongWayShare(c, 'match')).toBeNull();
    expect(formatVerdictCredit(c)).toContain('after different letters: n/a (no credit on such verdicts); after equal letters: n/a');
  });
});

describe('tools/verdict-credit.js', () => {
  const run = (args: string[]) => runTool('tools/verdict-credit.js', args);
  const { dir, model, pairs, rubrics } = synthToolFixture('verdict-credit-');

  it('samples the rollouts and reports the credit of every verdict item class as JSON', () => {
    const r = run(['--model', model, '--pairs', pairs, '--rubrics', rubrics, '--rollouts', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { pairs: number; rollouts: number; credit: Record<string, Record<string, { items: number }>> };
    expect([out.pairs, out.rollouts]).toEqual([2, 2]);
    for (const side of ['chosen', 'rejected']) expect(Object.keys(out.credit[side]!).sort()).toEqual(['match->no', 'match->ok', 'mismatch->no', 'mismatch->ok']);
  });

  it('names the bad argument or file', () => {
    expect(run(['--pairs', pairs])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^missing --model\nusage:/) });
    expect(run(['--model', model, '--pairs', pairs, '--n', '0'])).toMatchObject({ code: 1, stderr: expect.stringContaining('--n 0: expected an integer >= 1') });
    // The sampler's seed is a u32; 2^32 would repeat seed 0's rollouts.
    expect(run(['--model', model, '--pairs', pairs, '--seed', '4294967296'])).toMatchObject({ code: 1, stderr: expect.stringContaining('--seed 4294967296: expected an integer in 0..4294967295') });
    expect(run(['--model', model, '--pairs', join(dir, 'missing.jsonl')])).toMatchObject({ code: 1, stderr: expect.stringContaining('missing.jsonl') });
  });
});
