/** Accuracy over a set of comparison outcomes, with both tie rules, and weighted means of metrics. */
import { outcomeCredit, type Metric, type Outcome } from './voting.js';

export interface OutcomeCounts {
  comparisons: number;
  correct: number;
  wrong: number;
  ties: number;
  unparseable: number;
}

export interface Accuracy extends Metric, OutcomeCounts {}

export function countOutcomes(outcomes: readonly Outcome[]): OutcomeCounts {
  const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
  return { comparisons: outcomes.length, correct: count('chosen'), wrong: count('rejected'), ties: count('tie'), unparseable: count('unparseable') };
}

export function addCounts(list: readonly OutcomeCounts[]): OutcomeCounts {
  const sum = (field: keyof OutcomeCounts) => list.reduce((n, c) => n + c[field], 0);
  return { comparisons: sum('comparisons'), correct: sum('correct'), wrong: sum('wrong'), ties: sum('ties'), unparseable: sum('unparseable') };
}

/** null for an empty set: no data is not 0% accuracy. */
export function accuracyOf(outcomes: readonly Outcome[]): Accuracy | null {
  if (outcomes.length === 0) return null;
  let tiesWrong = 0;
  let tiesHalf = 0;
  for (const outcome of outcomes) {
    const credit = outcomeCredit(outcome);
    tiesWrong += credit.tiesWrong;
    tiesHalf += credit.tiesHalf;
  }
  return { tiesWrong: tiesWrong / outcomes.length, tiesHalf: tiesHalf / outcomes.length, ...countOutcomes(outcomes) };
}

/** Weighted mean of metrics (equal weights when none are given); null when the list is empty. */
export function meanMetric(metrics: readonly Metric[], weights?: readonly number[]): Metric | null {
  if (metrics.length === 0) return null;
  const w = weights ?? metrics.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  let tiesWrong = 0;
  let tiesHalf = 0;
  metrics.forEach((m, i) => {
    tiesWrong += m.tiesWrong * w[i]!;
    tiesHalf += m.tiesHalf * w[i]!;
  });
  return { tiesWrong: tiesWrong / total, tiesHalf: tiesHalf / total };
}
