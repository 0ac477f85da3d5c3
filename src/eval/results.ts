/**
 * results.json: every number of an evaluation (the score at K, the score at every k, the voting@k
 * curves of both methods, outcome and format-error counts), the data and judgment-file problems,
 * the configuration, and the Table 1 rows (the paper's and ours). Written atomically.
 */
import type { PairFileFormat, PairLayout, SkippedRecord } from '../data/index.js';
import { writeTextFileAtomicSync as writeFileAtomic } from '../io/atomic.js';
import type { BenchmarkFormat } from './benchmark.js';
import type { EvalMode } from './items.js';
import type { JudgmentLineProblem } from './judgments.js';
import { PAPER_ROWS, type Table1Row } from './paper.js';
import { REWARDBENCH_SECTIONS, rewardBenchSubsetExamples } from './rewardbench-sections.js';
import { RMBENCH_DOMAINS } from './rmbench-domains.js';
import type { EvaluationScores } from './score.js';
import type { Metric, VotingMethod } from './voting.js';

/** Sampling settings handed to the judge factory. */
export interface DecodingOptions {
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
  /** KV cache precision when not 'f32' (eval.js --kv-dtype); absent: f32, as before the option. */
  kvCacheDtype?: 'f16';
  /** The judge's layer matrices when not kept in f32 (eval.js --weights); absent: f32, as before the option. */
  weightsDtype?: 'bf16';
}

export interface EvalConfig {
  /** Name of our row in the tables. */
  label: string;
  data: string;
  format: BenchmarkFormat;
  fileFormat: PairFileFormat;
  /** With format pairs: how the file holds its pairs (one per row, or one response per row); null for the benchmarks. */
  layout: PairLayout | null;
  mode: EvalMode;
  k: number;
  voting: VotingMethod;
  /** Seeds the pairwise A/B order and the judge. */
  seed: number;
  limit: number | null;
  model: string | null;
  judgments: string | null;
  saveJudgments: string | null;
  batchSize: number | null;
  decoding: DecodingOptions | null;
  chatTemplate: boolean;
  thinking: boolean;
  /** The --rubrics file the prompts were rendered with; null: the primary rubrics. */
  rubrics: string | null;
}

export interface EvalRunSummary {
  resumedItems: number;
  judgedItems: number;
  judgeCalls: number;
  seconds: number;
}

export interface JudgmentsFileSummary {
  path: string;
  lines: number;
  problems: JudgmentLineProblem[];
  partialLastLine: boolean;
}

export interface EvalResults {
  schema: 'patarm-eval/1';
  createdAt: string;
  config: EvalConfig;
  data: { examples: number; evaluatedExamples: number; skippedRows: SkippedRecord[]; warnings: string[] };
  items: number;
  run: EvalRunSummary | null;
  judgmentsFile: JudgmentsFileSummary | null;
  scores: EvaluationScores;
  table1: { paper: readonly Table1Row[]; ours: Table1Row };
  /** Everything the terminal warned about, in order. */
  warnings: string[];
}

const percent = (m: Metric | null | undefined, variant: keyof Metric): number | undefined => (m ? m[variant] * 100 : undefined);

/** How much of the loaded benchmark a run evaluated (EvalResults.data): --limit cuts it. */
export interface EvalCoverage {
  examples: number;
  evaluatedExamples: number;
}

/**
 * RewardBench subsets with fewer comparisons than the benchmark has examples of them
 * (`rewardBenchSubsetExamples`), in sections that have every subset: a section with a subset
 * missing is left out of Table 1 for that already.
 */
export function shortRewardBenchSubsets(scores: EvaluationScores): { subset: string; comparisons: number; examples: number }[] {
  const s = scores.score;
  if (s.kind !== 'rewardbench') return [];
  return REWARDBENCH_SECTIONS.flatMap((sec) => {
    const section = s.sections[sec];
    if (section === null || section.missingSubsets.length > 0) return [];
    return s.subsets
      .filter((sub) => section.subsets.includes(sub.subset))
      .map((sub) => ({ subset: sub.subset, comparisons: sub.comparisons, examples: rewardBenchSubsetExamples(sec, sub.subset) }))
      .filter((sub) => sub.comparisons < sub.examples);
  });
}

/**
 * What keeps our scores from standing beside the paper's in Table 1, or [] when nothing does: the
 * paper's section scores are means over all of a section's subsets, its RM-Bench Easy / Normal /
 * Hard and both Avg columns means over every section or domain, and all of them over every
 * example. So a section with missing subsets or with fewer examples of a subset than RewardBench
 * has, a missing section or domain (--limit, a subset of the data), examples without judgments (a
 * partial judgments file) and a run over fewer examples than were loaded (--limit) each leave
 * cells out.
 */
export function table1Gaps(scores: EvaluationScores, coverage?: EvalCoverage): string[] {
  const gaps: string[] = [];
  const s = scores.score;
  if (s.kind === 'rewardbench') {
    const present = REWARDBENCH_SECTIONS.filter((sec) => s.sections[sec] !== null);
    if (present.length < REWARDBENCH_SECTIONS.length) gaps.push(`${present.length} of ${REWARDBENCH_SECTIONS.length} sections`);
    const missing = present.flatMap((sec) => s.sections[sec]!.missingSubsets);
    if (missing.length > 0) gaps.push(`subsets missing from ${present.filter((sec) => s.sections[sec]!.missingSubsets.length > 0).join(', ')} (${missing.length})`);
    const short = shortRewardBenchSubsets(scores);
    if (short.length > 0) gaps.push(`fewer examples than RewardBench has in ${short.length} subset(s) (${describeShortSubsets(short)})`);
  } else if (s.kind === 'rmbench' && s.overall?.complete !== true) {
    gaps.push(`${s.overall?.domains ?? 0} of ${RMBENCH_DOMAINS.length} domains`);
  }
  if (coverage !== undefined && coverage.evaluatedExamples < coverage.examples) gaps.push(`${coverage.evaluatedExamples} of ${coverage.examples} examples evaluated (--limit)`);
  if (scores.unjudgedExamples > 0) gaps.push(`${scores.unjudgedExamples} example(s) without judgments`);
  return gaps;
}

/** 'alpacaeval-easy 12 of 100, ...': the first few short subsets, and how many more. */
export function describeShortSubsets(short: readonly { subset: string; comparisons: number; examples: number }[], shown = 3): string {
  const named = short.slice(0, shown).map((sub) => `${sub.subset} ${sub.comparisons} of ${sub.examples}`).join(', ');
  return short.length > shown ? `${named} and ${short.length - shown} more` : named;
}

/**
 * Our row of Table 1, in percent, with the mode's main tie rule. A cell is filled only when it
 * averages what the paper's does (`table1Gaps`): a section with all its subsets, each with as many
 * examples as RewardBench has; Easy / Normal / Hard and the Avg columns over the whole benchmark,
 * every example loaded evaluated and judged. The note says what is
 * missing, so a number of a few subsets never stands beside the paper's.
 */
export function ourTable1Row(scores: EvaluationScores, label: string, coverage?: EvalCoverage): Table1Row {
  const v = scores.primary;
  const notes = [`ours: ${scores.mode}, ${scores.k > 1 ? `voting@${scores.k} (${scores.voting})` : 'one judgment per item'}`];
  const row: Table1Row = { model: label, note: '', rewardBench: {}, rmBench: {} };
  const s = scores.score;
  const gaps = table1Gaps(scores, coverage);
  // A section is shown only over all its subsets, each whole (a cut of --limit shows there), and
  // every example judged; the Avg columns only when nothing is missing at all.
  const allJudged = scores.unjudgedExamples === 0;
  const short = new Set(shortRewardBenchSubsets(scores).map((sub) => sub.subset));
  if (s.kind === 'rewardbench') {
    const section = (sec: (typeof REWARDBENCH_SECTIONS)[number]) => {
      const score = s.sections[sec];
      const whole = score !== null && score.missingSubsets.length === 0 && score.subsets.every((sub) => !short.has(sub));
      return allJudged && whole ? percent(score, v) : undefined;
    };
    row.rewardBench = {
      chat: section('Chat'),
      chatHard: section('Chat Hard'),
      safety: section('Safety'),
      reasoning: section('Reasoning'),
      avg: gaps.length === 0 ? percent(s.overall, v) : undefined,
    };
    if (gaps.length > 0) notes.push(`partial: ${gaps.join(', ')}; only whole sections are shown, and no RB Avg`);
  } else if (s.kind === 'rmbench') {
    const o = gaps.length === 0 ? s.overall : null;
    row.rmBench = { easy: percent(o?.easy, v), normal: percent(o?.normal, v), hard: percent(o?.hard, v), avg: percent(o?.overall, v) };
    if (gaps.length > 0) notes.push(`partial: ${gaps.join(', ')}; so no RM-Bench figures`);
  }
  row.note = notes.join('; ');
  return row;
}

export function buildResults(parts: Omit<EvalResults, 'schema' | 'createdAt' | 'table1'>): EvalResults {
  return {
    schema: 'patarm-eval/1',
    createdAt: new Date().toISOString(),
    ...parts,
    table1: { paper: PAPER_ROWS, ours: ourTable1Row(parts.scores, parts.config.label, parts.data) },
  };
}

export function writeResultsJson(path: string, results: EvalResults): void {
  // undefined fields of partial rows are dropped by JSON.stringify, which is what "absent" means.
  writeFileAtomic(path, `${JSON.stringify(results, null, 2)}\n`);
}
