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
import { REWARDBENCH_SECTIONS } from './rewardbench-sections.js';
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

/**
 * What keeps our scores from standing beside the paper's in Table 1, or [] when nothing does: the
 * paper's section scores are means over all of a section's subsets, its RM-Bench Easy / Normal /
 * Hard and both Avg columns means over every section or domain, and all of them over every
 * example. So a section with missing subsets, a missing section or domain (--limit, a subset of
 * the data) and examples without judgments (a partial judgments file) each leave cells out.
 */
export function table1Gaps(scores: EvaluationScores): string[] {
  const gaps: string[] = [];
  const s = scores.score;
  if (s.kind === 'rewardbench') {
    const present = REWARDBENCH_SECTIONS.filter((sec) => s.sections[sec] !== null);
    if (present.length < REWARDBENCH_SECTIONS.length) gaps.push(`${present.length} of ${REWARDBENCH_SECTIONS.length} sections`);
    const missing = present.flatMap((sec) => s.sections[sec]!.missingSubsets);
    if (missing.length > 0) gaps.push(`subsets missing from ${present.filter((sec) => s.sections[sec]!.missingSubsets.length > 0).join(', ')} (${missing.length})`);
  } else if (s.kind === 'rmbench' && s.overall?.complete !== true) {
    gaps.push(`${s.overall?.domains ?? 0} of ${RMBENCH_DOMAINS.length} domains`);
  }
  if (scores.unjudgedExamples > 0) gaps.push(`${scores.unjudgedExamples} example(s) without judgments`);
  return gaps;
}

/**
 * Our row of Table 1, in percent, with the mode's main tie rule. A cell is filled only when it
 * averages what the paper's does (`table1Gaps`): a section with all its subsets, Easy / Normal /
 * Hard and the Avg columns over the whole benchmark, every example judged. The note says what is
 * missing, so a number of a few subsets never stands beside the paper's.
 */
export function ourTable1Row(scores: EvaluationScores, label: string): Table1Row {
  const v = scores.primary;
  const notes = [`ours: ${scores.mode}, ${scores.k > 1 ? `voting@${scores.k} (${scores.voting})` : 'one judgment per item'}`];
  const row: Table1Row = { model: label, note: '', rewardBench: {}, rmBench: {} };
  const s = scores.score;
  const gaps = table1Gaps(scores);
  const allJudged = scores.unjudgedExamples === 0;
  if (s.kind === 'rewardbench') {
    const section = (sec: (typeof REWARDBENCH_SECTIONS)[number]) => {
      const score = s.sections[sec];
      return allJudged && score !== null && score.missingSubsets.length === 0 ? percent(score, v) : undefined;
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
    table1: { paper: PAPER_ROWS, ours: ourTable1Row(parts.scores, parts.config.label) },
  };
}

export function writeResultsJson(path: string, results: EvalResults): void {
  // undefined fields of partial rows are dropped by JSON.stringify, which is what "absent" means.
  writeFileAtomic(path, `${JSON.stringify(results, null, 2)}\n`);
}
