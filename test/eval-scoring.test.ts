// Scoring on hand-built benchmark files with hand-written judgments; every expected number is
// derived by hand below from the scores in the judgment files (see fixtures/eval/README.md).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildItems,
  judgmentWarnings,
  loadBenchmark,
  ourTable1Row,
  pairwiseOutcome,
  pointwiseOutcome,
  readJudgmentsFile,
  scoreEvaluation,
  type BenchmarkExample,
  type BenchmarkFormat,
  type EvalMode,
  type EvaluationScores,
  type JudgmentRecord,
  type VotingMethod,
} from '../src/eval/index.js';
import { REWARDBENCH_SUBSET_WEIGHTS } from '../src/eval/rewardbench-sections.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'eval');

async function scoreFixture(data: string, format: BenchmarkFormat, judgments: string, k: number, voting: VotingMethod = 'average', mode: EvalMode = 'pointwise'): Promise<EvaluationScores> {
  const benchmark = await loadBenchmark(join(FIXTURES, data), format);
  const items = buildItems(benchmark.examples, { mode });
  const { records } = readJudgmentsFile(join(FIXTURES, judgments), { defaultMode: mode });
  return scoreEvaluation(items, records, { format, mode, k, voting });
}

describe('RewardBench scoring', () => {
  // (chosen, rejected) scores: ae1 8/3 right, ae2 5/5 tie, mt1 4/7 wrong, ln1 9/2 right,
  // ln2 ?/6 unparseable, xs1 7/1 and xs2 10/0 right, mp1 6/2 right, mp2 3/9 wrong,
  // hp1 8/7 and hp2 6.5/6 right, cu1 (unknown subset) 9/1 right.
  const chatWrong = (100 * (1 / 2) + 28 * 0) / (100 + 28); // alpacaeval-easy 1/2, mt-bench-easy 0
  const chatHalf = (100 * (1.5 / 2) + 28 * 0) / (100 + 28);
  const chatHardWrong = 1 / 2; // llmbar-natural only
  const chatHardHalf = 1.5 / 2;
  const safety = 1;
  const reasoning = (984 * (1 / 2) + 164 * 1) / (984 + 164); // math-prm weighs 984, hep-python 164

  it('computes subsets, sections (math-prm weighted 984) and the overall, with both tie rules', async () => {
    const scores = await scoreFixture('rewardbench.jsonl', 'rewardbench', 'rewardbench-judgments.jsonl', 1);
    const s = scores.score;
    if (s.kind !== 'rewardbench') throw new Error('expected a RewardBench score');
    const subset = (name: string) => s.subsets.find((x) => x.subset === name)!;
    expect(subset('alpacaeval-easy')).toMatchObject({ comparisons: 2, correct: 1, ties: 1, tiesWrong: 0.5, tiesHalf: 0.75 });
    expect(subset('llmbar-natural')).toMatchObject({ comparisons: 2, correct: 1, unparseable: 1, tiesWrong: 0.5, tiesHalf: 0.75 });
    expect(subset('math-prm')).toMatchObject({ comparisons: 2, correct: 1, wrong: 1, tiesWrong: 0.5 });

    expect(s.sections.Chat!.tiesWrong).toBeCloseTo(chatWrong, 12);
    expect(s.sections.Chat!.tiesHalf).toBeCloseTo(chatHalf, 12);
    expect(s.sections.Chat!.missingSubsets).toEqual(['alpacaeval-length', 'alpacaeval-hard', 'mt-bench-med']);
    expect(s.sections['Chat Hard']!.tiesWrong).toBeCloseTo(chatHardWrong, 12);
    expect(s.sections['Chat Hard']!.tiesHalf).toBeCloseTo(chatHardHalf, 12);
    expect(s.sections.Safety!.tiesWrong).toBe(safety);
    expect(s.sections.Reasoning!.tiesWrong).toBeCloseTo(reasoning, 12);
    expect(s.sections.Reasoning!.tiesWrong).toBeCloseTo(656 / 1148, 12);
    expect(s.overall!.tiesWrong).toBeCloseTo((chatWrong + chatHardWrong + safety + reasoning) / 4, 12);
    expect(s.overall!.tiesHalf).toBeCloseTo((chatHalf + chatHardHalf + safety + reasoning) / 4, 12);
    // Every section is there, but not every subset (Chat lacks three): not the paper's average.
    expect(s.overall).toMatchObject({ sections: 4, complete: false });

    // The unknown subset is reported under "other" and is in no section.
    expect(s.other).toEqual([expect.objectContaining({ subset: 'my-custom-subset', comparisons: 1, tiesWrong: 1 })]);
    expect(s.allExamples!.comparisons).toBe(12);
    expect(scores.counts).toMatchObject({ comparisons: 12, correct: 8, wrong: 2, ties: 1, unparseable: 1 });
    expect(scores.draws).toMatchObject({ judgments: 24, formatErrors: 1, formatErrorsByCode: { no_answer: 1 }, unknownKeyRecords: 1, unknownKeys: ['ghost:chosen'] });
    expect(scores.primary).toBe('tiesWrong');
  });

  it('skips rows with missing responses and names them', async () => {
    const benchmark = await loadBenchmark(join(FIXTURES, 'rewardbench.jsonl'), 'rewardbench');
    expect(benchmark.examples).toHaveLength(12);
    expect(benchmark.skipped.map((s) => s.where)).toEqual([expect.stringMatching(/rewardbench\.jsonl line 6$/), expect.stringMatching(/rewardbench\.jsonl line 10$/)]);
    expect(benchmark.skipped[0]!.reason).toMatch(/missing or null field 'rejected'/);
    expect(benchmark.skipped[1]!.reason).toMatch(/'chosen' is empty/);
    expect(benchmark.warnings.join('\n')).toMatch(/'my-custom-subset' \(1: id 'cu1'\).*"other"/);
  });
});

describe('RM-Bench scoring', () => {
  // Per-example matrices (1 = chosen style i beats rejected style j), from the judgment scores:
  // chat1 all 1; chat2 only the lower-left triangle; math1 all ties; math2 all 1; code1 all 0;
  // code2 rows 0 and 2 are 1, row 1 (unparseable chosen) unparseable; safe1 all 1;
  // safe2 lower-left and diagonal 1, upper-right 0.
  it('builds the 3x3 matrices per domain and their mean, with Easy / Normal / Hard / Overall', async () => {
    const scores = await scoreFixture('rmbench.json', 'rmbench', 'rmbench-judgments.jsonl', 1);
    const s = scores.score;
    if (s.kind !== 'rmbench') throw new Error('expected an RM-Bench score');
    const tw = (m: { tiesWrong: number } | null) => m!.tiesWrong;
    const th = (m: { tiesHalf: number } | null) => m!.tiesHalf;

    const chat = s.domains.chat!;
    expect(chat.matrix.map((row) => row.map(tw))).toEqual([
      [0.5, 0.5, 0.5],
      [1, 0.5, 0.5],
      [1, 1, 0.5],
    ]);
    expect([tw(chat.easy), tw(chat.normal), tw(chat.hard)]).toEqual([1, 0.5, 0.5]);
    expect(tw(chat.overall)).toBeCloseTo(2 / 3, 12);

    const math = s.domains.math!;
    expect(math.matrix.flat().map(tw)).toEqual(Array(9).fill(0.5));
    expect(math.matrix.flat().map(th)).toEqual(Array(9).fill(0.75));

    const code = s.domains.code!;
    expect(code.matrix.map((row) => row.map(tw))).toEqual([
      [0.5, 0.5, 0.5],
      [0, 0, 0],
      [0.5, 0.5, 0.5],
    ]);
    expect(code.matrix[1]!.map(th)).toEqual([0.25, 0.25, 0.25]);
    for (const part of [code.easy, code.normal, code.hard]) {
      expect(tw(part)).toBeCloseTo(1 / 3, 12);
      expect(th(part)).toBeCloseTo(1.25 / 3, 12);
    }

    const safety = s.domains.safety!; // safety-refuse and safety-response together
    expect(safety.examples).toBe(2);
    expect([tw(safety.easy), tw(safety.normal), tw(safety.hard)]).toEqual([1, 1, 0.5]);

    // Overall: the mean of the four domains' matrices.
    const o = s.overall!;
    expect(tw(o.matrix[0]![0]!)).toBeCloseTo((0.5 + 0.5 + 0.5 + 1) / 4, 12);
    expect(tw(o.matrix[1]![2]!)).toBeCloseTo((0.5 + 0.5 + 0 + 0.5) / 4, 12);
    expect(tw(o.matrix[2]![0]!)).toBeCloseTo((1 + 0.5 + 0.5 + 1) / 4, 12);
    const easy = (1 + 0.5 + 1 / 3 + 1) / 4;
    const normal = (0.5 + 0.5 + 1 / 3 + 1) / 4;
    const hard = (0.5 + 0.5 + 1 / 3 + 0.5) / 4;
    expect(tw(o.easy)).toBeCloseTo(easy, 12);
    expect(tw(o.normal)).toBeCloseTo(normal, 12);
    expect(tw(o.hard)).toBeCloseTo(hard, 12);
    expect(tw(o.overall)).toBeCloseTo((easy + normal + hard) / 3, 12);
    // The 0.5 variant: math's ties and code's unparseable row count half.
    expect(th(o.easy)).toBeCloseTo((1 + 0.75 + 1.25 / 3 + 1) / 4, 12);
    expect(th(o.hard)).toBeCloseTo((0.5 + 0.75 + 1.25 / 3 + 0.5) / 4, 12);

    // Pooled over the 8 prompts: cell (0,0) is right for chat1, math2, code2, safe1, safe2.
    expect(tw(s.pooled!.matrix[0]![0]!)).toBeCloseTo(5 / 8, 12);
    expect(s.pooled!.examples).toBe(8);

    expect(Object.keys(s.other)).toEqual(['poetry']);
    expect(tw(s.other['poetry']!.overall)).toBe(1);
    expect(scores.counts).toMatchObject({ comparisons: 81, ties: 9, unparseable: 3 });
    expect(scores.draws.formatErrorsByCode).toEqual({ not_a_number: 1 });
  });

  it('skips a row without three responses per side, naming it', async () => {
    const benchmark = await loadBenchmark(join(FIXTURES, 'rmbench.json'), 'rmbench');
    expect(benchmark.examples).toHaveLength(9);
    expect(benchmark.skipped).toEqual([
      expect.objectContaining({ where: expect.stringMatching(/rmbench\.json row 3$/), reason: expect.stringMatching(/'chosen' has 2 responses; expected 3/) }),
    ]);
    expect(benchmark.warnings.join('\n')).toMatch(/'poetry' \(1: id '[^']+'\)/);
  });

  it('skips a row whose domain is not a string, and names rows without a domain', async () => {
    const rows = JSON.parse(readFileSync(join(FIXTURES, 'rmbench.json'), 'utf8')) as Record<string, unknown>[];
    const usable = rows.filter((r) => (r['chosen'] as unknown[]).length === 3);
    const edited = [{ ...usable[0], domain: 3 }, { ...usable[1], domain: undefined }, ...usable.slice(2)];
    const file = join(mkdtempSync(join(tmpdir(), 'rmb-domain-')), 'rmbench.json');
    writeFileSync(file, JSON.stringify(edited));
    const benchmark = await loadBenchmark(file, 'rmbench');
    expect(benchmark.skipped).toEqual([expect.objectContaining({ where: expect.stringMatching(/rmbench\.json row 0$/), reason: "'domain' must be a string, found number" })]);
    expect(benchmark.warnings.join('\n')).toMatch(new RegExp(`no 'domain' \\(1: id '${String(usable[1]!['id'])}'\\)`));
  });
});

describe('voting@k', () => {
  // Draws (chosen; rejected), ? = unparseable:
  // p1 8,3,7 ; 5,6,5    p2 4,?,6 ; 5,5,5    p3 ?,?,9 ; 2,2,2    p4 7,7,2 ; 6,8,9    p5 6,6,0 ; 5,5,9
  // average  k=1: C R U C C   k=2: T R U T C   k=3: C T C R R
  // majority k=1: C R U C C   k=2: T R U T C   k=3: C T C R C
  const expected = {
    average: [
      { tiesWrong: 3 / 5, tiesHalf: 3.5 / 5 },
      { tiesWrong: 1 / 5, tiesHalf: 2.5 / 5 },
      { tiesWrong: 2 / 5, tiesHalf: 2.5 / 5 },
    ],
    majority: [
      { tiesWrong: 3 / 5, tiesHalf: 3.5 / 5 },
      { tiesWrong: 1 / 5, tiesHalf: 2.5 / 5 },
      { tiesWrong: 3 / 5, tiesHalf: 3.5 / 5 },
    ],
  };

  it('scores every k in 1..K from one set of K draws, for both voting methods', async () => {
    const scores = await scoreFixture('pairs.jsonl', 'pairs', 'pairs-judgments.jsonl', 3, 'majority');
    expect(scores.votingAtK.map((p) => p.k)).toEqual([1, 2, 3]);
    for (const method of ['average', 'majority'] as const) {
      scores.votingAtK.forEach((point, i) => {
        expect(point[method]!.tiesWrong).toBeCloseTo(expected[method][i]!.tiesWrong, 12);
        expect(point[method]!.tiesHalf).toBeCloseTo(expected[method][i]!.tiesHalf, 12);
      });
    }
    // The final score is the chosen method at K.
    const s = scores.score;
    if (s.kind !== 'pairs') throw new Error('expected a pairs score');
    expect(s.overall).toMatchObject({ correct: 3, wrong: 1, ties: 1, unparseable: 0 });
    expect(scores.scoreAtK).toHaveLength(3);
    expect(scores.draws).toMatchObject({ judgments: 30, formatErrors: 3, formatErrorsByCode: { answer_not_at_end: 3 } });
  });

  it('decides single comparisons by the documented rules', () => {
    expect(pointwiseOutcome([8, 3, 7], [5, 6, 5], 2, 'average')).toBe('tie');
    expect(pointwiseOutcome([null, null], [5, 5], 2, 'average')).toBe('unparseable');
    expect(pointwiseOutcome([null, 4], [5, null], 2, 'majority')).toBe('unparseable'); // no draw pair has both scores
    expect(pointwiseOutcome([5, 4], [5, 4], 2, 'majority')).toBe('tie');
    expect(pointwiseOutcome([6, 6, 0], [5, 5, 9], 3, 'majority')).toBe('chosen');
    expect(pointwiseOutcome([6, 6, 0], [5, 5, 9], 3, 'average')).toBe('rejected');
    expect(pointwiseOutcome([0.1, 0.2], [0.15, 0.15], 2, 'average')).toBe('tie'); // means equal up to rounding
    expect(pairwiseOutcome(['chosen', 'rejected', null], 3)).toBe('tie');
    expect(pairwiseOutcome([null, null], 2)).toBe('unparseable');
    expect(pairwiseOutcome(['rejected', null, 'rejected'], 3)).toBe('rejected');
  });
});

/** A one-response-per-side example whose judge input names it. */
function example(id: string, group: string): BenchmarkExample {
  return { id, prompt: `Question ${id}?`, chosen: [`careful ${id}`], rejected: [`sloppy ${id}`], group, task: 'chat' };
}

const pointwiseJudgment = (key: string, score: number): JudgmentRecord => ({ key, draw: 0, mode: 'pointwise', text: `<answer>${score}</answer>` });

describe('examples with only some items judged', () => {
  // Two Chat examples judged in full; h1's rejected item has no judgment line (an engine that
  // wrote nothing when generation failed); h2 has no judgment at all (outside a partial file).
  const examples = [example('a1', 'alpacaeval-easy'), example('a2', 'alpacaeval-easy'), example('h1', 'hep-go'), example('h2', 'hep-go')];
  const records = [
    pointwiseJudgment('a1:chosen', 9), pointwiseJudgment('a1:rejected', 2),
    pointwiseJudgment('a2:chosen', 9), pointwiseJudgment('a2:rejected', 2),
    pointwiseJudgment('h1:chosen', 9),
  ];

  it('count a missing item as an unparseable judgment (a tie), not as a dropped example', () => {
    const items = buildItems(examples, { mode: 'pointwise' });
    for (const voting of ['average', 'majority'] as const) {
      const scores = scoreEvaluation(items, records, { format: 'rewardbench', mode: 'pointwise', k: 1, voting });
      expect(scores).toMatchObject({ judgedExamples: 3, unjudgedExamples: 1, unjudgedExampleIds: ['h2'] });
      expect(scores.counts).toMatchObject({ comparisons: 3, correct: 2, unparseable: 1 });
      const s = scores.score;
      if (s.kind !== 'rewardbench') throw new Error('expected a RewardBench score');
      expect(s.sections.Reasoning).toMatchObject({ tiesWrong: 0, tiesHalf: 0.5, examples: 1 });
      expect(s.sections.Chat).toMatchObject({ tiesWrong: 1, tiesHalf: 1 });
      const warnings = judgmentWarnings(scores).join('\n');
      expect(warnings).toMatch(/1 item\(s\) of scored examples have no judgment, e\.g\. 'h1:rejected'; their comparisons count as unparseable/);
      expect(warnings).toMatch(/1 example\(s\) have no judgment for any item and are not scored, e\.g\. 'h2'/);
    }
  });

  it('count missing pairwise comparisons of an RM-Bench example as unparseable (1/2 under the pairwise rule)', () => {
    const rm: BenchmarkExample = { id: 'r1', prompt: 'Q?', chosen: ['c0', 'c1', 'c2'], rejected: ['r0', 'r1', 'r2'], group: 'chat', task: 'chat' };
    const items = buildItems([rm], { mode: 'pairwise', seed: 1 });
    const first = items[0]!;
    if (first.mode !== 'pairwise') throw new Error('expected a pairwise item');
    // Only c0 vs r0 is judged, and the verdict picks the chosen response.
    const verdict = first.order === 'chosen-rejected' ? 'A' : 'B';
    const scores = scoreEvaluation(items, [{ key: first.key, draw: 0, mode: 'pairwise', order: first.order, text: `<answer>${verdict}</answer>` }], {
      format: 'rmbench', mode: 'pairwise', k: 1, voting: 'average',
    });
    expect(scores).toMatchObject({ judgedExamples: 1, unjudgedExamples: 0 });
    expect(scores.counts).toMatchObject({ comparisons: 9, correct: 1, unparseable: 8 });
    const s = scores.score;
    if (s.kind !== 'rmbench') throw new Error('expected an RM-Bench score');
    expect(s.domains.chat!.matrix[0]![0]).toEqual({ tiesWrong: 1, tiesHalf: 1 });
    expect(s.domains.chat!.matrix[1]![2]).toEqual({ tiesWrong: 0, tiesHalf: 0.5 });
  });
});

describe('Table 1 row of an incomplete benchmark', () => {
  // Every subset of the table with as many examples as RewardBench has (its weight; math-prm's
  // 447 rows, weighed as 984), judged right except in hep-go (wrong): every section and subset
  // present, each whole. (One example per subset was taken as whole before Table 1 checked the counts.)
  const ALL_SUBSETS = Object.values(REWARDBENCH_SUBSET_WEIGHTS).flatMap((weights) => Object.keys(weights));
  const released = (subset: string) => (subset === 'math-prm' ? 447 : Object.values(REWARDBENCH_SUBSET_WEIGHTS).find((w) => subset in w)![subset]!);
  const wholeBenchmark = ALL_SUBSETS.flatMap((subset) => Array.from({ length: released(subset) }, (_, i) => example(`${subset}-${i}`, subset)));
  const wholeRecords = wholeBenchmark.flatMap((e) => [pointwiseJudgment(`${e.id}:chosen`, e.group === 'hep-go' ? 3 : 9), pointwiseJudgment(`${e.id}:rejected`, e.group === 'hep-go' ? 7 : 2)]);
  const scoreRb = (examples: BenchmarkExample[], records: JudgmentRecord[]) =>
    scoreEvaluation(buildItems(examples, { mode: 'pointwise' }), records, { format: 'rewardbench', mode: 'pointwise', k: 1, voting: 'average' });

  it('RewardBench: shows a section only with all its subsets, and RB Avg only with every subset and example', () => {
    expect(ALL_SUBSETS).toHaveLength(23);
    const full = scoreRb(wholeBenchmark, wholeRecords);
    if (full.score.kind !== 'rewardbench') throw new Error('expected a RewardBench score');
    expect(full.score.overall).toMatchObject({ sections: 4, complete: true });
    const fullRow = ourTable1Row(full, 'ours');
    const reasoning = 100 * (984 + 5 * 164) / (984 + 6 * 164); // hep-go (weight 164) wrong
    expect(fullRow.rewardBench).toEqual({ chat: 100, chatHard: 100, safety: 100, reasoning: expect.closeTo(reasoning, 9), avg: expect.closeTo((300 + reasoning) / 4, 9) });
    expect(fullRow.note).not.toMatch(/partial/);
    expect(judgmentWarnings(full).join('\n')).not.toMatch(/Table 1/);

    // Two sections with one subset each: no cell at all (a subset's accuracy is not a section score).
    const two = scoreRb([example('a1', 'alpacaeval-easy'), example('h1', 'hep-go')],
      [pointwiseJudgment('a1:chosen', 9), pointwiseJudgment('a1:rejected', 2), pointwiseJudgment('h1:chosen', 3), pointwiseJudgment('h1:rejected', 7)]);
    const twoRow = ourTable1Row(two, 'ours');
    expect(twoRow.rewardBench).toEqual({ chat: undefined, chatHard: undefined, safety: undefined, reasoning: undefined, avg: undefined });
    expect(twoRow.note).toMatch(/partial: 2 of 4 sections, subsets missing from Chat, Reasoning \(10\)/);
    expect(judgmentWarnings(two).join('\n')).toMatch(
      /RewardBench covers 2 of 4 sections \(missing Chat Hard, Safety\); 10 subset\(s\) of the sections present are missing \(alpacaeval-length, .* and 4 more\): Table 1 shows only whole sections and no RB Avg/);

    // Every subset but mt-bench-med: Chat and the Avg are left out, the other sections shown.
    const noMed = wholeBenchmark.filter((e) => e.group !== 'mt-bench-med');
    const noMedRow = ourTable1Row(scoreRb(noMed, wholeRecords), 'ours');
    expect(noMedRow.rewardBench).toEqual({ chat: undefined, chatHard: 100, safety: 100, reasoning: expect.closeTo(reasoning, 9), avg: undefined });

    // Every subset, and a second alpacaeval-easy example without judgments (a partial judgments
    // file): nothing is shown.
    const unjudged = scoreRb([...wholeBenchmark, example('x0', 'alpacaeval-easy')], wholeRecords);
    expect(unjudged.unjudgedExamples).toBe(1);
    const unjudgedRow = ourTable1Row(unjudged, 'ours');
    expect(unjudgedRow.rewardBench).toEqual({ chat: undefined, chatHard: undefined, safety: undefined, reasoning: undefined, avg: undefined });
    expect(unjudgedRow.note).toMatch(/partial: 1 example\(s\) without judgments/);
    expect(judgmentWarnings(unjudged).join('\n')).toMatch(/1 example\(s\) have no judgments: Table 1 shows only whole sections and no RB Avg/);
  });

  it('RewardBench: a subset with fewer examples than the benchmark has (--limit, part of the file) leaves its section and RB Avg out', () => {
    expect(wholeBenchmark).toHaveLength(2985); // RewardBench's filtered release
    // One example per subset, every section and subset present: no cell stands beside the paper's.
    const onePerSubset = ALL_SUBSETS.map((subset, i) => example(`o${i}`, subset));
    const one = scoreRb(onePerSubset, onePerSubset.flatMap((e) => [pointwiseJudgment(`${e.id}:chosen`, 9), pointwiseJudgment(`${e.id}:rejected`, 2)]));
    if (one.score.kind !== 'rewardbench') throw new Error('expected a RewardBench score');
    expect(one.score.overall).toMatchObject({ sections: 4, complete: true });
    const oneRow = ourTable1Row(one, 'ours');
    expect(oneRow.rewardBench).toEqual({ chat: undefined, chatHard: undefined, safety: undefined, reasoning: undefined, avg: undefined });
    expect(oneRow.note).toMatch(/partial: fewer examples than RewardBench has in 23 subset\(s\) \(alpacaeval-easy 1 of 100, alpacaeval-length 1 of 95, alpacaeval-hard 1 of 95 and 20 more\)/);
    expect(judgmentWarnings(one).join('\n')).toMatch(/23 subset\(s\) have fewer examples than RewardBench \(alpacaeval-easy 1 of 100, .*\): Table 1 shows only whole sections and no RB Avg/);

    // The whole benchmark but one alpacaeval-easy example: Chat and the Avg are left out; math-prm's 447 rows are whole.
    const cut = scoreRb(wholeBenchmark.filter((e) => e.id !== 'alpacaeval-easy-99'), wholeRecords);
    const cutRow = ourTable1Row(cut, 'ours');
    const reasoning = 100 * (984 + 5 * 164) / (984 + 6 * 164);
    expect(cutRow.rewardBench).toEqual({ chat: undefined, chatHard: 100, safety: 100, reasoning: expect.closeTo(reasoning, 9), avg: undefined });
    expect(cutRow.note).toMatch(/partial: fewer examples than RewardBench has in 1 subset\(s\) \(alpacaeval-easy 99 of 100\)/);
    expect(cutRow.note).not.toMatch(/math-prm/);
  });

  it('a run over fewer examples than were loaded (--limit) is partial, with every section or domain present', async () => {
    const full = scoreRb(wholeBenchmark, wholeRecords);
    const limited = { examples: wholeBenchmark.length + 5, evaluatedExamples: wholeBenchmark.length };
    const row = ourTable1Row(full, 'ours', limited);
    // The sections are whole (the cut fell outside them); the Avg is not the paper's.
    expect(row.rewardBench).toMatchObject({ chat: 100, chatHard: 100, safety: 100, avg: undefined });
    expect(row.note).toMatch(new RegExp(`partial: ${wholeBenchmark.length} of ${wholeBenchmark.length + 5} examples evaluated \\(--limit\\)`));
    expect(ourTable1Row(full, 'ours', { examples: wholeBenchmark.length, evaluatedExamples: wholeBenchmark.length }).rewardBench.avg).toBeDefined();

    const rm = await scoreFixture('rmbench.json', 'rmbench', 'rmbench-judgments.jsonl', 1);
    if (rm.score.kind !== 'rmbench') throw new Error('expected an RM-Bench score');
    expect(rm.score.overall).toMatchObject({ domains: 4, complete: true });
    const rmRow = ourTable1Row(rm, 'ours', { examples: 10, evaluatedExamples: 9 });
    expect(rmRow.rmBench).toEqual({ easy: undefined, normal: undefined, hard: undefined, avg: undefined });
    expect(rmRow.note).toMatch(/partial: 9 of 10 examples evaluated \(--limit\); so no RM-Bench figures/);
    expect(judgmentWarnings(rm, { examples: 10, evaluatedExamples: 9 }).join('\n')).toMatch(
      /only 9 of the 10 examples loaded were evaluated \(--limit\): Table 1 shows no RM-Bench figures/);
    expect(judgmentWarnings(rm, { examples: 9, evaluatedExamples: 9 }).join('\n')).not.toMatch(/Table 1/);
  });

  it('RM-Bench: the overall says how many domains it covers, and RMB Avg is left out when one is missing', async () => {
    const benchmark = await loadBenchmark(join(FIXTURES, 'rmbench.json'), 'rmbench');
    const { records } = readJudgmentsFile(join(FIXTURES, 'rmbench-judgments.jsonl'), { defaultMode: 'pointwise' });
    const chatOnly = benchmark.examples.filter((e) => e.group === 'chat');
    expect(chatOnly.length).toBeGreaterThan(0);
    const partial = scoreEvaluation(buildItems(chatOnly, { mode: 'pointwise' }), records, { format: 'rmbench', mode: 'pointwise', k: 1, voting: 'average' });
    if (partial.score.kind !== 'rmbench') throw new Error('expected an RM-Bench score');
    expect(partial.score.overall).toMatchObject({ domains: 1, complete: false });
    const row = ourTable1Row(partial, 'ours');
    // chat's Easy is in the detail table, not beside the paper's means over all four domains.
    expect(row.rmBench).toEqual({ easy: undefined, normal: undefined, hard: undefined, avg: undefined });
    expect(row.note).toMatch(/partial: 1 of 4 domains/);
    expect(judgmentWarnings(partial).join('\n')).toMatch(/RM-Bench covers 1 of 4 domains \(missing math, code, safety\): Table 1 shows no RM-Bench figures/);

    const full = await scoreFixture('rmbench.json', 'rmbench', 'rmbench-judgments.jsonl', 1);
    if (full.score.kind !== 'rmbench') throw new Error('expected an RM-Bench score');
    expect(full.score.overall).toMatchObject({ domains: 4, complete: true });
    const fullRow = ourTable1Row(full, 'ours');
    expect(fullRow.rmBench.avg).toBeCloseTo(100 * full.score.overall!.overall!.tiesWrong, 9);
    expect(fullRow.note).not.toMatch(/partial/);
    expect(judgmentWarnings(full).join('\n')).not.toMatch(/covers/);
  });
});
