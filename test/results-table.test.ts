// The default job's results table: means, spreads and the seed-by-seed change over SFT only
// that the acceptance of the default job is judged by.
import { describe, expect, it } from 'vitest';
import { baselineTestSd, changesOverBaseline, formatResultsTable, points, summarise, type ResultRow } from '../src/demo/results-table.js';
import { pct } from '../src/eval/text-table.js';
import { pairedClusterBootstrap } from '../src/eval/bootstrap.js';

function row(seed: number, model: string, pointwise: number, voting = 0.5): ResultRow {
  return { seed, model, pairs: 200, pointwise, pointwiseTiesHalf: pointwise + 0.01, formatErrorRate: 0, voting, votingK: 8, pairwise: 0.5, pairwiseFormatErrorRate: 1 };
}

const rows: ResultRow[] = [
  row(0, 'untrained', 0), row(0, 'SFT only', 0.945, 0.9), row(0, 'SFT + GRPO (graded f)', 0.935, 0.92),
  row(1, 'untrained', 0), row(1, 'SFT only', 0.94, 0.91), row(1, 'SFT + GRPO (graded f)', 0.95, 0.93),
  row(2, 'untrained', 0), row(2, 'SFT only', 0.88, 0.85), row(2, 'SFT + GRPO (graded f)', 0.89, 0.86),
];

describe('results table', () => {
  it('compares each GRPO recipe with SFT only on the same seed', () => {
    const [graded, ...rest] = changesOverBaseline(rows);
    expect(rest).toEqual([]);
    expect(graded!.model).toBe('SFT + GRPO (graded f)');
    expect(graded!.perSeed.map((p) => p.seed)).toEqual([0, 1, 2]);
    const changes = graded!.perSeed.map((p) => p.change);
    [-0.01, 0.01, 0.01].forEach((want, i) => expect(changes[i]).toBeCloseTo(want, 12));
    expect(graded!.meanChange).toBeCloseTo(0.01 / 3, 12);
    expect(graded!.baselineSpread).toBeCloseTo(0.065, 12);
    expect(graded!.spread).toBeCloseTo(0.06, 12);
  });

  it('pairs rows by seed, not by position', () => {
    const shuffled = [rows[5]!, rows[1]!, rows[8]!, rows[4]!, rows[2]!, rows[7]!];
    const changes = changesOverBaseline(shuffled)[0]!.perSeed;
    expect(changes.map((p) => p.seed)).toEqual([0, 1, 2]);
    [-0.01, 0.01, 0.01].forEach((want, i) => expect(changes[i]!.change).toBeCloseTo(want, 12));
  });

  it('has no changes to report without an SFT only row', () => {
    expect(changesOverBaseline(rows.filter((r) => r.model !== 'SFT only'))).toEqual([]);
  });

  it('averages the voting column and prints the change line for several seeds', () => {
    const sft = summarise(rows).find((s) => s.model === 'SFT only')!;
    expect(sft.mean.voting).toBeCloseTo((0.9 + 0.91 + 0.85) / 3, 12);
    expect(sft.min).toBe(0.88);
    expect(sft.max).toBe(0.945);
    const table = formatResultsTable(rows, 3);
    expect(table).toContain('vote@8');
    expect(table).toMatch(/SFT \+ GRPO \(graded f\)\s+-1\.0, \+1\.0, \+1\.0; mean \+0\.3 vs seed spread 6\.5 \(SFT only\) \/ 6\.0/);
    expect(formatResultsTable(rows.filter((r) => r.seed === 0), 1)).not.toContain('seed by seed');
  });

  it('averages pointwise accuracy per pair type over the seeds and prints it as a block', () => {
    const grouped = rows.map((r) => ({ ...r, pointwiseByGroup: { 'chosen right': r.pointwise, partial: r.seed === 0 ? 0.1 : 0.4 } }));
    const sft = summarise(grouped).find((s) => s.model === 'SFT only')!;
    expect(sft.mean.pointwiseByGroup!['chosen right']).toBeCloseTo((0.945 + 0.94 + 0.88) / 3, 12);
    expect(sft.mean.pointwiseByGroup!.partial).toBeCloseTo(0.3, 12);
    const table = formatResultsTable(grouped, 3);
    expect(table).toMatch(/Model\s+chosen right\s+partial\n/);
    expect(table).toMatch(/\nSFT only\s+92\.2\s+30\.0\n/);
    expect(formatResultsTable(rows, 3)).not.toContain('by pair type');
    // One group is the whole test set again: nothing to add.
    const oneGroup = rows.map((r) => ({ ...r, pointwiseByGroup: { 'chosen right': r.pointwise } }));
    expect(formatResultsTable(oneGroup, 3)).not.toContain('by pair type');
  });

  describe('with each pair\'s credit and the test prompts', () => {
    // Four pairs per seed on two prompts (a, a, b, b). GRPO wins one more pair of prompt b on seed 0.
    const prompts = new Map([0, 1, 2].map((seed) => [seed, ['a', 'a', 'b', 'b']]));
    const credits: Record<string, number[][]> = {
      'SFT only': [[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 1, 0]],
      'SFT + GRPO (graded f)': [[1, 1, 1, 1], [1, 1, 1, 1], [1, 0, 1, 0]],
    };
    const withCredits = rows.map((r) => {
      const c = credits[r.model]?.[r.seed];
      return c ? { ...r, pairs: 4, pointwise: c.reduce((a, b) => a + b, 0) / 4, pointwisePerPair: c } : r;
    });

    it('gives each change a paired bootstrap interval over the prompts, seed by seed', () => {
      const [graded] = changesOverBaseline(withCredits, prompts);
      expect(graded!.meanChange).toBeCloseTo(0.25 / 3, 12);
      expect(graded!.ci).toEqual(pairedClusterBootstrap([0, 1, 2].map((seed) => ({
        clusters: prompts.get(seed)!, baseline: credits['SFT only']![seed]!, system: credits['SFT + GRPO (graded f)']![seed]!,
      }))));
      // Seed 0 resamples to 0, 1/4 or 1/2 (prompt b drawn 0, 1 or 2 times); seeds 1 and 2 never change.
      expect(formatResultsTable(withCredits, 3, prompts)).toMatch(/\+25\.0, \+0\.0, \+0\.0; mean \+8\.3 \(CI \+0\.0\.\.\+16\.7\) vs seed spread 50\.0 \(SFT only\) \/ 50\.0/);
      expect(changesOverBaseline(rows, prompts)[0]!.ci).toBeUndefined(); // no per-pair credits
      expect(changesOverBaseline(withCredits)[0]!.ci).toBeUndefined(); // no prompts
    });

    it('prints the interval for one seed too, and how much the prompts alone move SFT only', () => {
      const seed0 = withCredits.filter((r) => r.seed === 0);
      const table = formatResultsTable(seed0, 1, prompts);
      expect(table).toMatch(/change over SFT only \(points; 95% CI over the test prompts\):\n {2}SFT \+ GRPO \(graded f\)\s+\+25\.0 \(CI \+0\.0\.\.\+50\.0\)\n/);
      // SFT only on seed 0 resamples to 1, 3/4 or 1/2 with weights 1/4, 1/2, 1/4: s.d. sqrt(1/32); seeds 1 and 2: 0.
      expect(baselineTestSd(seed0, prompts)).toBeCloseTo(Math.sqrt(1 / 32), 2);
      expect(baselineTestSd(withCredits, prompts)).toBeCloseTo(Math.sqrt(1 / 32) / 3, 2);
      expect(table).toMatch(/on one seed by s\.d\. 17\.\d points/);
      expect(formatResultsTable(rows.filter((r) => r.seed === 0), 1)).not.toContain('change over');
    });

    it('says which seed and row disagree when the prompts do not match the credits', () => {
      const short = new Map([0, 1, 2].map((seed) => [seed, ['a', 'a', 'b']]));
      expect(() => changesOverBaseline(withCredits, short)).toThrow(/seed 0 has 3 test prompts but SFT \+ GRPO \(graded f\) has 4 per-pair credits/);
    });
  });
});

describe('percentages in the tables', () => {
  it('round halves away from zero as written in decimal, not as stored in binary', () => {
    // 20.5 / 40 * 100 is 51.24999999999999 in binary and 86.25 exact: both are halves.
    expect([20.5, 11.5, 34.5, 0.5].map((k) => points(k / 40))).toEqual(['51.3', '28.8', '86.3', '1.3']);
    expect([20.5, 11.5].map((k) => pct((k / 40) * 100))).toEqual(['51.3', '28.8']);
    expect([-0.25, -0.04, 0.04, 0.96].map((p) => points(p / 100))).toEqual(['-0.3', '0.0', '0.0', '1.0']);
    expect(points(383 / 400)).toBe('95.8');
    expect(points(0.4987)).toBe('49.9'); // not a half: ordinary rounding
  });
});
