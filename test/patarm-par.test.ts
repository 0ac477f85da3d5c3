import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupAdvantages, isUniformGroup, marginReward, pairAdvantages, parRewards, parRewardsFromScores, uniformGroupShares } from '../src/patarm/index.js';

const judged = (score: number | string) => `<think>\nweighing it\n</think>\nEvaluation done.\n<answer>${score}</answer>`;
const MALFORMED = 'no answer tag here';

/** Scores as a judge writes them: 0..10 in steps of 0.5. */
const score = fc.integer({ min: 0, max: 20 }).map((k) => k / 2);
const scoreOrNull = fc.option(score, { nil: null, freq: 4 });
const side = fc.array(scoreOrNull, { minLength: 0, maxLength: 16 });

describe('parRewardsFromScores', () => {
  it('computes means, margins and graded rewards on a worked example', () => {
    const r = parRewardsFromScores([8, 6, null], [3, 7]);
    expect(r.meanChosen).toBe(7);
    expect(r.meanRejected).toBe(5);
    expect(r.bothSidesValid).toBe(true);
    expect(r.chosen.margins).toEqual([3, 1, null]);
    expect(r.chosen.parRewards).toEqual([1, 0.5, 0]);
    expect(r.chosen.formatRewards).toEqual([0, 0, -1]);
    expect(r.chosen.rewards).toEqual([1, 0.5, -1]);
    expect(r.rejected.margins).toEqual([4, 0]);
    expect(r.rejected.parRewards).toEqual([1, 0]);
    expect(r.rejected.rewards).toEqual([1, 0]);
  });

  it('graded f with threshold 2 gives 1.0 at margin 2.5 and 0.5 at margin 1.0', () => {
    expect(parRewardsFromScores([7.5], [5]).chosen.parRewards).toEqual([1.0]);
    expect(parRewardsFromScores([6], [5]).chosen.parRewards).toEqual([0.5]);
    expect(marginReward(2.5)).toBe(1.0);
    expect(marginReward(1.0)).toBe(0.5);
    expect(marginReward(2)).toBe(0.5); // "d > 2": exactly 2 is the lower level
    expect(marginReward(0)).toBe(0);
    expect(marginReward(-3)).toBe(0);
  });

  it('constant f pays the same for every positive margin', () => {
    const f = { kind: 'constant' as const };
    expect(parRewardsFromScores([7.5, 6, 5], [5], { f }).chosen.parRewards).toEqual([1, 1, 0]);
    expect(marginReward(0.5, { kind: 'constant', value: 0.3 })).toBe(0.3);
  });

  it('graded threshold and levels are configurable', () => {
    const f = { kind: 'graded' as const, threshold: 1, high: 2, low: 0.25 };
    expect(parRewardsFromScores([5.5, 7], [5], { f }).chosen.parRewards).toEqual([0.25, 2]);
  });

  it('one side without a valid rollout: no PAR for anyone, format penalties still apply', () => {
    const r = parRewardsFromScores([null, null], [2, null, 9]);
    expect(r.bothSidesValid).toBe(false);
    expect(r.meanChosen).toBe(null);
    expect(r.meanRejected).toBe(5.5);
    expect(r.chosen.rewards).toEqual([-1, -1]);
    expect(r.rejected.parRewards).toEqual([0, 0, 0]);
    expect(r.rejected.rewards).toEqual([0, -1, 0]);
    expect(r.rejected.margins).toEqual([null, null, null]);
  });

  it('treats float residues of the mean as ties', () => {
    // mean(0.1, 0.1, 0.1) is 0.10000000000000002: without a tolerance the rejected side would earn 0.5.
    const r = parRewardsFromScores([0.1, 0.1, 0.1], [0.1, 0.1, 0.1]);
    expect([...r.chosen.parRewards, ...r.rejected.parRewards]).toEqual([0, 0, 0, 0, 0, 0]);
    // 7.2 - 5.2 is 2.0000000000000004 in floats: still "not above 2".
    expect(parRewardsFromScores([7.2], [5.2]).chosen.parRewards).toEqual([0.5]);
  });

  it('uses the configured format penalty', () => {
    expect(parRewardsFromScores([null, 8], [3], { formatPenalty: -0.5 }).chosen.rewards).toEqual([-0.5, 1]);
  });

  it('rejects scores that are neither null nor finite', () => {
    expect(() => parRewardsFromScores([Number.NaN], [1])).toThrow(/chosen score NaN/);
  });

  it('property: PAR is 0 everywhere when chosen and rejected score the same', () => {
    fc.assert(
      fc.property(score, fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }), (s, nc, nr) => {
        const r = parRewardsFromScores(Array(nc).fill(s), Array(nr).fill(s));
        expect([...r.chosen.parRewards, ...r.rejected.parRewards].every((x) => x === 0)).toBe(true);
      }),
    );
  });

  it('property: swapping chosen and rejected swaps the sign of every margin', () => {
    fc.assert(
      fc.property(side, side, (c, r) => {
        const a = parRewardsFromScores(c, r);
        const b = parRewardsFromScores(r, c);
        const negated = (m: number | null) => (m === null ? null : 0 - m);
        expect(b.chosen.margins.map((m) => (m === null ? null : m + 0))).toEqual(a.rejected.margins.map(negated));
        expect(b.rejected.margins.map((m) => (m === null ? null : m + 0))).toEqual(a.chosen.margins.map(negated));
        expect([b.meanChosen, b.meanRejected]).toEqual([a.meanRejected, a.meanChosen]);
      }),
    );
  });

  it('property: a malformed rollout gets exactly the format penalty, a valid one never does', () => {
    const penalty = fc.double({ min: -5, max: -1e-3, noNaN: true });
    fc.assert(
      fc.property(side, side, penalty, (c, r, formatPenalty) => {
        const result = parRewardsFromScores(c, r, { formatPenalty });
        for (const [scores, s] of [
          [c, result.chosen],
          [r, result.rejected],
        ] as const) {
          scores.forEach((value, i) => {
            if (value === null) {
              expect(s.rewards[i]).toBe(formatPenalty);
              expect(s.parRewards[i]).toBe(0);
            } else {
              expect(s.formatRewards[i]).toBe(0);
              expect([0, 0.5, 1]).toContain(s.rewards[i]);
            }
          });
        }
      }),
    );
  });

  it('property: graded f gives high above the threshold and low in (0, threshold]', () => {
    fc.assert(
      fc.property(fc.double({ min: -20, max: 20, noNaN: true }), (d) => {
        const expected = d > 2 + 1e-9 ? 1 : d > 1e-9 ? 0.5 : 0;
        expect(marginReward(d)).toBe(expected);
      }),
    );
  });
});

describe('parRewards (from judgment texts)', () => {
  it('parses the rollouts and keeps the judgments', () => {
    const r = parRewards([judged(9), judged(6), MALFORMED], [judged(4), judged('11')]);
    expect(r.chosen.scores).toEqual([9, 6, null]);
    expect(r.rejected.scores).toEqual([4, null]); // 11 is out of range
    expect(r.meanRejected).toBe(4);
    expect(r.chosen.rewards).toEqual([1, 0.5, -1]);
    expect(r.rejected.rewards).toEqual([1, -1]); // mean_c 7.5 - 4 = 3.5 > 2
    expect(r.chosenJudgments[2]).toMatchObject({ ok: false, error: 'no_answer' });
    expect(r.rejectedJudgments[1]).toMatchObject({ ok: false, error: 'out_of_range' });
  });

  it('passes the parse options through (score range, thinking)', () => {
    const r = parRewards(['<answer>5</answer>'], ['<answer>2</answer>'], { parse: { minScore: 1, maxScore: 5 } });
    expect(r.chosen.parRewards).toEqual([1]);
    const unclosed = parRewards(['<think>hmm <answer>9</answer>'], ['<answer>2</answer>']);
    expect(unclosed.chosen.rewards).toEqual([-1]);
    expect(unclosed.rejected.rewards).toEqual([0]);
  });
});

describe('groupAdvantages', () => {
  it('normalises by the unbiased std', () => {
    const rewards = [1, 0, 0.5, -1];
    const mean = 0.125;
    const std = Math.sqrt((0.875 ** 2 + 0.125 ** 2 + 0.375 ** 2 + 1.125 ** 2) / 3);
    const adv = groupAdvantages(rewards);
    rewards.forEach((r, i) => expect(adv[i]).toBeCloseTo((r - mean) / (std + 1e-6), 12));
    // unbiasedStd false: the population std (divide by n = 4)
    const population = Math.sqrt((0.875 ** 2 + 0.125 ** 2 + 0.375 ** 2 + 1.125 ** 2) / 4);
    const advPop = groupAdvantages(rewards, { unbiasedStd: false });
    rewards.forEach((r, i) => expect(advPop[i]).toBeCloseTo((r - mean) / (population + 1e-6), 12));
    expect(advPop[0]).not.toBeCloseTo(adv[0]!, 3);
  });

  it('applies eps and can skip the std division', () => {
    expect(groupAdvantages([0, 1], { eps: 1 })).toEqual([-0.5 / (Math.SQRT1_2 + 1), 0.5 / (Math.SQRT1_2 + 1)]);
    expect(groupAdvantages([0, 1, 5], { normalizeStd: false })).toEqual([-2, -1, 3]);
  });

  it('gives 0 for a group of one, identical rewards, and [] for no rewards', () => {
    expect(groupAdvantages([0.7])).toEqual([0]);
    expect(groupAdvantages([0.1, 0.1, 0.1])).toEqual([0, 0, 0]);
    expect(groupAdvantages([])).toEqual([]);
  });

  it('rejects non-finite rewards', () => {
    expect(() => groupAdvantages([1, Number.POSITIVE_INFINITY])).toThrow(/not finite/);
  });

  it('property: advantages have mean 0 and unbiased std close to 1', () => {
    const reward = fc.constantFrom(-1, 0, 0.5, 1, -0.5, 1.5);
    fc.assert(
      fc.property(fc.array(reward, { minLength: 2, maxLength: 16 }), (rewards) => {
        fc.pre(new Set(rewards).size > 1);
        const adv = groupAdvantages(rewards);
        const mean = adv.reduce((a, b) => a + b, 0) / adv.length;
        const std = Math.sqrt(adv.reduce((a, b) => a + (b - mean) ** 2, 0) / (adv.length - 1));
        expect(mean).toBeCloseTo(0, 9);
        expect(std).toBeCloseTo(1, 4);
      }),
    );
  });
});

describe('uniformGroupShares', () => {
  it('counts, per side, the pairs whose group has equal rewards', () => {
    const pairs = [
      { chosen: [1, 1, 1], rejected: [1, 0, 1] },
      { chosen: [1, 0.5, 1], rejected: [1, 1, 1] },
      { chosen: [0, 0, 0], rejected: [-1, -1, -1] },
      { chosen: [1, 1, 1], rejected: [0.5, 1, 1] },
    ];
    expect(uniformGroupShares(pairs)).toEqual({ chosen: 0.75, rejected: 0.5 });
    expect(uniformGroupShares(pairs.map((p) => ({ chosen: p.rejected, rejected: p.chosen })))).toEqual({ chosen: 0.5, rejected: 0.75 });
  });

  it('treats a group of one or none as uniform, like groupAdvantages, and rejects an empty batch', () => {
    expect(isUniformGroup([0.3])).toBe(true);
    expect(isUniformGroup([])).toBe(true);
    expect(isUniformGroup([0.3, 0.30000001])).toBe(false);
    expect(() => uniformGroupShares([])).toThrow(/no pairs/);
  });
});

describe('pairAdvantages', () => {
  it('normalises each side within its own group, with the options passed through', () => {
    const res = parRewardsFromScores([9, 9, 9, 1], [1, 1, 1, 1]);
    // Chosen rewards 1, 1, 1, 0: mean 0.75, unbiased std 0.5. The rejected group is uniform.
    const adv = pairAdvantages(res, { eps: 0 });
    expect(adv.chosen.map((a) => +a.toFixed(9))).toEqual([0.5, 0.5, 0.5, -1.5]);
    expect(adv.rejected).toEqual([0, 0, 0, 0]);
    expect(pairAdvantages(res, { normalizeStd: false }).chosen).toEqual([0.25, 0.25, 0.25, -0.75]);
  });
});
