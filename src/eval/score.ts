/**
 * Scoring a whole evaluation from (items, judgment records): parse the first K draws of every
 * item, decide each comparison for every k in 1..K under both voting methods (one set of K draws
 * serves every k), and score the benchmark. Pure: no files, no GPU.
 */
import type { ParseJudgmentOptions } from '../patarm/index.js';
import { countOutcomes, type OutcomeCounts } from './accuracy.js';
import type { BenchmarkFormat } from './benchmark.js';
import { buildComparisons, type Comparison } from './comparisons.js';
import { readDraws, type DrawStats } from './draws.js';
import type { EvalMode, JudgingItem } from './items.js';
import type { JudgmentRecord } from './judgments.js';
import { scorePairs, type PairsScore } from './score-pairs.js';
import { scoreRewardBench, type RewardBenchScore } from './score-rewardbench.js';
import { scoreRmBench, type RmBenchScore } from './score-rmbench.js';
import { VOTING_METHODS, type Metric, type VotingMethod } from './voting.js';

export type BenchmarkScore = RewardBenchScore | RmBenchScore | PairsScore;

export function scoreComparisons(format: BenchmarkFormat, comparisons: readonly Comparison[]): BenchmarkScore {
  if (format === 'rewardbench') return scoreRewardBench(comparisons);
  if (format === 'rmbench') return scoreRmBench(comparisons);
  return scorePairs(comparisons);
}

/** The one number a benchmark is summarised by: RewardBench and RM-Bench Overall, pairs accuracy. */
export function headlineMetric(score: BenchmarkScore): Metric | null {
  if (score.kind === 'rewardbench') return score.overall;
  if (score.kind === 'rmbench') return score.overall?.overall ?? null;
  return score.overall;
}

/** The main tie rule of a mode: pointwise counts ties wrong, pairwise counts them 1/2 (patarm.md section 5). */
export function primaryVariant(mode: EvalMode): keyof Metric {
  return mode === 'pointwise' ? 'tiesWrong' : 'tiesHalf';
}

export interface VotingPoint {
  k: number;
  average: Metric | null;
  majority: Metric | null;
}

export interface ScoreEvaluationOptions {
  format: BenchmarkFormat;
  mode: EvalMode;
  /** K: draws per item. */
  k: number;
  voting: VotingMethod;
  parse?: ParseJudgmentOptions;
  /** Every key of the data set before --limit (see readDraws). */
  allKeys?: ReadonlySet<string>;
}

export interface EvaluationScores {
  format: BenchmarkFormat;
  mode: EvalMode;
  k: number;
  voting: VotingMethod;
  primary: keyof Metric;
  /** The score at k = K with the chosen voting method. */
  score: BenchmarkScore;
  /** scoreAtK[k - 1]: the full score with the chosen voting method at every k in 1..K. */
  scoreAtK: BenchmarkScore[];
  /** The headline metric at every k, for both voting methods. */
  votingAtK: VotingPoint[];
  /** Comparison outcomes at k = K with the chosen voting method. */
  counts: OutcomeCounts;
  judgedExamples: number;
  /** Examples with no judgment for any item (not scored). */
  unjudgedExamples: number;
  /** The first few unjudged example ids. */
  unjudgedExampleIds: string[];
  /** Items without any judgment in scored examples (their comparisons count as unparseable). */
  unjudgedItems: number;
  /** The first few of those item keys. */
  unjudgedItemKeys: string[];
  draws: DrawStats;
}

export function scoreEvaluation(items: readonly JudgingItem[], records: readonly JudgmentRecord[], options: ScoreEvaluationOptions): EvaluationScores {
  const { k: K, format, voting } = options;
  if (!Number.isInteger(K) || K < 1) throw new Error(`k must be a positive integer, got ${K}`);
  const draws = readDraws(items, records, { k: K, ...(options.parse ? { parse: options.parse } : {}), ...(options.allKeys ? { allKeys: options.allKeys } : {}) });
  const scoreAtK: BenchmarkScore[] = [];
  const votingAtK: VotingPoint[] = [];
  let final: ReturnType<typeof buildComparisons> | undefined;
  for (let k = 1; k <= K; k++) {
    const point: VotingPoint = { k, average: null, majority: null };
    for (const method of VOTING_METHODS) {
      const set = buildComparisons(items, draws, { k, voting: method });
      const score = scoreComparisons(format, set.comparisons);
      point[method] = headlineMetric(score);
      if (method === voting) {
        scoreAtK.push(score);
        if (k === K) final = set;
      }
    }
    votingAtK.push(point);
  }
  return {
    format,
    mode: options.mode,
    k: K,
    voting,
    primary: primaryVariant(options.mode),
    score: scoreAtK[K - 1]!,
    scoreAtK,
    votingAtK,
    counts: countOutcomes(final!.comparisons.map((c) => c.outcome)),
    judgedExamples: final!.judgedExamples,
    unjudgedExamples: final!.unjudgedExamples.length,
    unjudgedExampleIds: final!.unjudgedExamples.slice(0, 5),
    unjudgedItems: final!.unjudgedItems.length,
    unjudgedItemKeys: final!.unjudgedItems.slice(0, 5),
    draws: draws.stats,
  };
}
