/**
 * results.json: every number of an evaluation (the score at K, the score at every k, the voting@k
 * curves of both methods, outcome and format-error counts), the data and judgment-file problems,
 * the configuration, and the Table 1 rows (the paper's and ours). Written atomically.
 */
import type { PairFileFormat, SkippedRecord } from '../data/index.js';
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
}

export interface EvalConfig {
  /** Name of our row in the tables. */
  label: string;
  data: string;
  format: BenchmarkFormat;
  fileFormat: PairFileFormat;
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
 * Our row of Table 1, in percent, with the mode's main tie rule. The paper's Avg columns are means
 * over all 4 RewardBench sections and all 4 RM-Bench domains: from a benchmark with some missing
 * (--limit, unjudged examples) the Avg is left out, and the note says how much is there, so a
 * number of one section never stands beside the paper's average.
 */
export function ourTable1Row(scores: EvaluationScores, label: string): Table1Row {
  const v = scores.primary;
  const notes = [`ours: ${scores.mode}, ${scores.k > 1 ? `voting@${scores.k} (${scores.voting})` : 'one judgment per item'}`];
  const row: Table1Row = { model: label, note: '', rewardBench: {}, rmBench: {} };
  const s = scores.score;
  if (s.kind === 'rewardbench') {
    const complete = s.overall?.complete === true;
    row.rewardBench = {
      chat: percent(s.sections.Chat, v),
      chatHard: percent(s.sections['Chat Hard'], v),
      safety: percent(s.sections.Safety, v),
      reasoning: percent(s.sections.Reasoning, v),
      avg: complete ? percent(s.overall, v) : undefined,
    };
    if (!complete) notes.push(`partial: ${s.overall?.sections ?? 0} of ${REWARDBENCH_SECTIONS.length} sections, so no RB Avg`);
  } else if (s.kind === 'rmbench') {
    const o = s.overall;
    const complete = o?.complete === true;
    row.rmBench = { easy: percent(o?.easy, v), normal: percent(o?.normal, v), hard: percent(o?.hard, v), avg: complete ? percent(o?.overall, v) : undefined };
    if (!complete) notes.push(`partial: ${o?.domains ?? 0} of ${RMBENCH_DOMAINS.length} domains, so no RMB Avg`);
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
