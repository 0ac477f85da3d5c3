/**
 * Items + parsed draws -> comparisons: one per (example, chosen response i, rejected response j),
 * so one per RewardBench example and nine per RM-Bench example. Pointwise comparisons pair the
 * chosen item i with the rejected item j of the same example; pairwise items are comparisons
 * already. An example is scored only when every one of its items has at least one judgment;
 * others are returned as unjudged (counted and reported, not scored).
 */
import type { ItemDraws } from './draws.js';
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
  unjudgedExamples: string[];
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
  let judgedExamples = 0;
  for (const [exampleId, exampleItems] of groupItemsByExample(items)) {
    if (!exampleItems.every((item) => draws.judgedKeys.has(item.key))) {
      unjudgedExamples.push(exampleId);
      continue;
    }
    judgedExamples++;
    const group = exampleItems[0]!.group;
    const chosen: PointwiseItem[] = [];
    const rejected: PointwiseItem[] = [];
    for (const item of exampleItems) {
      if (item.mode === 'pairwise') {
        const outcome = pairwiseOutcome(draws.pairwise.get(item.key)!, options.k);
        comparisons.push({ exampleId, group, chosenIndex: item.chosenIndex, rejectedIndex: item.rejectedIndex, outcome });
      } else (item.side === 'chosen' ? chosen : rejected).push(item);
    }
    for (const c of chosen) {
      for (const r of rejected) {
        const outcome = pointwiseOutcome(draws.pointwise.get(c.key)!, draws.pointwise.get(r.key)!, options.k, options.voting);
        comparisons.push({ exampleId, group, chosenIndex: c.index, rejectedIndex: r.index, outcome });
      }
    }
  }
  return { comparisons, judgedExamples, unjudgedExamples };
}
