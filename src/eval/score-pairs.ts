/** Plain preference pairs: accuracy over all pairs and per group (the detected task). */
import { accuracyOf, type Accuracy } from './accuracy.js';
import type { Comparison } from './comparisons.js';

export interface PairsScore {
  kind: 'pairs';
  overall: Accuracy | null;
  groups: Record<string, Accuracy>;
}

export function scorePairs(comparisons: readonly Comparison[]): PairsScore {
  const groups: Record<string, Accuracy> = {};
  for (const group of [...new Set(comparisons.map((c) => c.group))].sort()) {
    groups[group] = accuracyOf(comparisons.filter((c) => c.group === group).map((c) => c.outcome))!;
  }
  return { kind: 'pairs', overall: accuracyOf(comparisons.map((c) => c.outcome)), groups };
}
