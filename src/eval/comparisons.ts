/**
 * Items + parsed draws -> comparisons: one per (example, chosen response i, rejected response j),
 * so one per RewardBench example and nine per RM-Bench example. Pointwise comparisons pair the
 * chosen item i with the rejected item j of the same example; pairwise items are comparisons
 * already. An example with no judgment for any of its items is returned as unjudged (counted and
 * reported, not scored): it lies outside a partial judgments file. An example with some items
 * judged is scored, and an item of it with no judgment has only missing draws, so its comparisons
 * are `unparseable` (a tie): a judgment that failed is a wrong answer or a half, never a dropped one
 * (dropping them would leave out exactly the examples the judge was most likely to get wrong).
 */
import type { ItemDraws, PairwiseDraw, PointwiseDraw } from './draws.js';
import type { JudgingItem, PointwiseItem } from './items.js';
import { pairwiseOutcome, pointwiseOutcome, type Outcome, type VotingMethod } from './voting.js';

export interface Comparison {
  exampleId: string;
  group: string;
  chosenIndex: number;
  rejectedIndex: number;
  outcome: Outcome;
}

export interface ComparisonSet {
  comparisons: Comparison[];
  judgedExamples: number;
  /** Examples with no judgment for any item. */
  unjudgedExamples: string[];
  /** Items without any judgment in examples that are scored (their comparisons are unparseable). */
  unjudgedItems: string[];
}

export function groupItemsByExample(items: readonly JudgingItem[]): Map<string, JudgingItem[]> {
  const byExample = new Map<string, JudgingItem[]>();
  for (const item of items) {
    const list = byExample.get(item.exampleId);
    if (list === undefined) byExample.set(item.exampleId, [item]);
    else list.push(item);
  }
  return byExample;
}

export function buildComparisons(items: readonly JudgingItem[], draws: ItemDraws, options: { k: number; voting: VotingMethod }): ComparisonSet {
  const comparisons: Comparison[] = [];
  const unjudgedExamples: string[] = [];
  const unjudgedItems: string[] = [];
  let judgedExamples = 0;
  // An item with no judgment: k missing draws.
  const missing: null[] = Array.from({ length: options.k }, () => null);
  const pointwiseDraws = (key: string): readonly PointwiseDraw[] => draws.pointwise.get(key) ?? missing;
  const pairwiseDraws = (key: string): readonly PairwiseDraw[] => draws.pairwise.get(key) ?? missing;
  for (const [exampleId, exampleItems] of groupItemsByExample(items)) {
    const unjudged = exampleItems.filter((item) => !draws.judgedKeys.has(item.key));
    if (unjudged.length === exampleItems.length) {
      unjudgedExamples.push(exampleId);
      continue;
    }
    unjudgedItems.push(...unjudged.map((item) => item.key));
    judgedExamples++;
    const group = exampleItems[0]!.group;
    const chosen: PointwiseItem[] = [];
    const rejected: PointwiseItem[] = [];
    for (const item of exampleItems) {
      if (item.mode === 'pairwise') {
        const outcome = pairwiseOutcome(pairwiseDraws(item.key), options.k);
        comparisons.push({ exampleId, group, chosenIndex: item.chosenIndex, rejectedIndex: item.rejectedIndex, outcome });
      } else (item.side === 'chosen' ? chosen : rejected).push(item);
    }
    for (const c of chosen) {
      for (const r of rejected) {
        const outcome = pointwiseOutcome(pointwiseDraws(c.key), pointwiseDraws(r.key), options.k, options.voting);
        comparisons.push({ exampleId, group, chosenIndex: c.index, rejectedIndex: r.index, outcome });
      }
    }
  }
  return { comparisons, judgedExamples, unjudgedExamples, unjudgedItems };
}
