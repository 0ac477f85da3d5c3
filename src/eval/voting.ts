/**
 * Deciding one comparison (chosen vs rejected response) from the first k draws (patarm.md
 * section 5).
 *
 * Pointwise, average voting: compare the mean of the parseable scores among the first k draws of
 * each response. A response with no parseable score among them makes the comparison
 * `unparseable`. Means closer than 1e-9 are a tie (sums of decimal scores are not exact in
 * floating point).
 * Pointwise, majority voting: draw d of chosen and draw d of rejected form a pair; the pair votes
 * for the higher score; tied pairs and pairs with an unparseable side do not vote. More votes for
 * chosen -> chosen, more for rejected -> rejected. An even split (including no votes at all) is
 * decided like a single tied judgment: `tie`, or `unparseable` when no pair had both scores.
 * Pairwise: each of the first k verdicts votes for the response it prefers; unparseable verdicts
 * do not vote; the even split rule is the same. Average and majority voting coincide here (the
 * mean of 0/1 votes, with 1/2 for an abstention, is above 1/2 exactly when the majority is).
 * For k = 1 every rule reduces to the single-judgment rule.
 *
 * Credit: `tiesWrong` (the main pointwise metric) gives 1 to chosen and 0 otherwise; `tiesHalf`
 * (the pairwise rule, and the pointwise variant) gives 1/2 to tie and unparseable.
 */
import type { PairwiseDraw, PointwiseDraw } from './draws.js';

export const VOTING_METHODS = ['average', 'majority'] as const;
export type VotingMethod = (typeof VOTING_METHODS)[number];

export type Outcome = 'chosen' | 'rejected' | 'tie' | 'unparseable';

export interface Metric {
  /** Ties and unparseable comparisons count as wrong. */
  tiesWrong: number;
  /** Ties and unparseable comparisons count 1/2. */
  tiesHalf: number;
}

const TIE_TOLERANCE = 1e-9;

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function decideVotes(forChosen: number, forRejected: number, anyValid: boolean): Outcome {
  if (forChosen > forRejected) return 'chosen';
  if (forRejected > forChosen) return 'rejected';
  return anyValid ? 'tie' : 'unparseable';
}

export function pointwiseOutcome(chosen: readonly PointwiseDraw[], rejected: readonly PointwiseDraw[], k: number, voting: VotingMethod): Outcome {
  if (voting === 'average') {
    const c = chosen.slice(0, k).filter((s): s is number => s !== null);
    const r = rejected.slice(0, k).filter((s): s is number => s !== null);
    if (c.length === 0 || r.length === 0) return 'unparseable';
    const difference = mean(c) - mean(r);
    if (Math.abs(difference) < TIE_TOLERANCE) return 'tie';
    return difference > 0 ? 'chosen' : 'rejected';
  }
  let forChosen = 0;
  let forRejected = 0;
  let anyValid = false;
  for (let d = 0; d < k; d++) {
    const c = chosen[d] ?? null;
    const r = rejected[d] ?? null;
    if (c === null || r === null) continue;
    anyValid = true;
    if (c > r) forChosen++;
    else if (r > c) forRejected++;
  }
  return decideVotes(forChosen, forRejected, anyValid);
}

export function pairwiseOutcome(preferences: readonly PairwiseDraw[], k: number): Outcome {
  let forChosen = 0;
  let forRejected = 0;
  for (const p of preferences.slice(0, k)) {
    if (p === 'chosen') forChosen++;
    else if (p === 'rejected') forRejected++;
  }
  return decideVotes(forChosen, forRejected, forChosen + forRejected > 0);
}

export function outcomeCredit(outcome: Outcome): Metric {
  if (outcome === 'chosen') return { tiesWrong: 1, tiesHalf: 1 };
  if (outcome === 'rejected') return { tiesWrong: 0, tiesHalf: 0 };
  return { tiesWrong: 0, tiesHalf: 0.5 };
}
