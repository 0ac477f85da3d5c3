/**
 * Preference-Aware Reward (patarm.md section 1). For one pair, n rollouts judge the chosen
 * response and n judge the rejected one; each valid rollout is compared with the mean score of
 * the other side:
 *   chosen rollout i:   d = s_c[i] - mean_r        rejected rollout j:   d = mean_c - s_r[j]
 *   R_PAR = f(d) if d > 0 else 0,   R = R_PAR + R_format
 * Malformed rollouts (score null) get the format penalty, no PAR, and are left out of their
 * side's mean. When a side has no valid rollout, every rollout of the pair gets R_PAR = 0.
 *
 * Margins within `tieTolerance` (default 1e-9) of 0, or of the graded threshold, count as equal:
 * means are float sums (0.1 + 0.1 + 0.1 != 0.3), and a rounding residue must not decide a reward.
 */
import { parseJudgment, type ParseJudgmentOptions, type PointwiseParse } from './parse.js';

export type MarginRewardFunction =
  /** The paper's choice: `high` when d > threshold, else `low` (defaults 2, 1.0, 0.5). */
  | { kind: 'graded'; threshold?: number; high?: number; low?: number }
  /** Any positive margin earns `value` (default 1.0); the paper reports it is hacked later in training. */
  | { kind: 'constant'; value?: number };

export interface ParOptions {
  f?: MarginRewardFunction;
  /** R_format of a malformed rollout (default -1). */
  formatPenalty?: number;
  tieTolerance?: number;
}

export interface ParRewardsOptions extends ParOptions {
  /** How rollouts are parsed (thinking, score range). */
  parse?: ParseJudgmentOptions;
}

export interface ParSideRewards {
  /** Parsed score per rollout; null for a malformed rollout. */
  scores: (number | null)[];
  /** d per rollout; null when the rollout is malformed or the other side has no valid rollout. */
  margins: (number | null)[];
  parRewards: number[];
  formatRewards: number[];
  /** R = R_PAR + R_format per rollout: the GRPO reward. */
  rewards: number[];
}

export interface ParResult {
  chosen: ParSideRewards;
  rejected: ParSideRewards;
  /** Mean of the valid scores of each side; null when the side has none. */
  meanChosen: number | null;
  meanRejected: number | null;
  /** false when a side had no valid rollout, so no rollout of the pair earned PAR. */
  bothSidesValid: boolean;
}

export interface ParRewardsResult extends ParResult {
  chosenJudgments: PointwiseParse[];
  rejectedJudgments: PointwiseParse[];
}

export const DEFAULT_MARGIN_REWARD: Required<Extract<MarginRewardFunction, { kind: 'graded' }>> = {
  kind: 'graded',
  threshold: 2,
  high: 1.0,
  low: 0.5,
};
export const DEFAULT_FORMAT_PENALTY = -1;
export const DEFAULT_TIE_TOLERANCE = 1e-9;

/** f(d) for d > 0, and 0 otherwise. */
export function marginReward(
  margin: number,
  f: MarginRewardFunction = DEFAULT_MARGIN_REWARD,
  tieTolerance = DEFAULT_TIE_TOLERANCE,
): number {
  if (!(margin > tieTolerance)) return 0;
  if (f.kind === 'constant') return f.value ?? 1.0;
  const threshold = f.threshold ?? DEFAULT_MARGIN_REWARD.threshold;
  return margin > threshold + tieTolerance ? (f.high ?? DEFAULT_MARGIN_REWARD.high) : (f.low ?? DEFAULT_MARGIN_REWARD.low);
}

function validScores(scores: readonly (number | null)[], side: string): number[] {
  const valid: number[] = [];
  for (const s of scores) {
    if (s === null) continue;
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      throw new Error(`parRewardsFromScores: ${side} score ${String(s)} is neither null nor a finite number`);
    }
    valid.push(s);
  }
  return valid;
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function sideRewards(
  scores: readonly (number | null)[],
  marginOf: ((score: number) => number) | null,
  options: ParOptions,
): ParSideRewards {
  const formatPenalty = options.formatPenalty ?? DEFAULT_FORMAT_PENALTY;
  const tieTolerance = options.tieTolerance ?? DEFAULT_TIE_TOLERANCE;
  const result: ParSideRewards = { scores: [...scores], margins: [], parRewards: [], formatRewards: [], rewards: [] };
  for (const score of scores) {
    const margin = score === null || marginOf === null ? null : marginOf(score);
    const par = margin === null ? 0 : marginReward(margin, options.f, tieTolerance);
    const format = score === null ? formatPenalty : 0;
    result.margins.push(margin);
    result.parRewards.push(par);
    result.formatRewards.push(format);
    result.rewards.push(par + format);
  }
  return result;
}

/** PAR from already-parsed scores (null = malformed rollout), for training code that parsed itself. */
export function parRewardsFromScores(
  chosenScores: readonly (number | null)[],
  rejectedScores: readonly (number | null)[],
  options: ParOptions = {},
): ParResult {
  const meanChosen = mean(validScores(chosenScores, 'chosen'));
  const meanRejected = mean(validScores(rejectedScores, 'rejected'));
  const bothSidesValid = meanChosen !== null && meanRejected !== null;
  return {
    chosen: sideRewards(chosenScores, bothSidesValid ? (s) => s - meanRejected! : null, options),
    rejected: sideRewards(rejectedScores, bothSidesValid ? (s) => meanChosen! - s : null, options),
    meanChosen,
    meanRejected,
    bothSidesValid,
  };
}

/** PAR from the raw judgment texts of one pair's rollouts (pointwise mode). */
export function parRewards(
  chosenOutputs: readonly string[],
  rejectedOutputs: readonly string[],
  options: ParRewardsOptions = {},
): ParRewardsResult {
  const chosenJudgments = chosenOutputs.map((text) => parseJudgment(text, 'pointwise', options.parse));
  const rejectedJudgments = rejectedOutputs.map((text) => parseJudgment(text, 'pointwise', options.parse));
  const scoreOf = (j: PointwiseParse): number | null => (j.ok ? j.score : null);
  return {
    ...parRewardsFromScores(chosenJudgments.map(scoreOf), rejectedJudgments.map(scoreOf), options),
    chosenJudgments,
    rejectedJudgments,
  };
}
