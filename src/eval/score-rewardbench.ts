/**
 * RewardBench scoring (patarm.md section 5): accuracy per subset; section score = mean of its
 * subsets' accuracies weighted by the table's example counts (math-prm as 984); Overall = mean of
 * the four sections. Subsets that are not in the table are scored under "other" and left out of
 * the sections. A section whose subsets are only partly present is the weighted mean of those
 * present (the missing ones are listed); a section with none present is null, and Overall is then
 * the mean of the sections present. Overall is `complete` only when every subset of the table is
 * present: the paper's figures are means over all of them.
 */
import { accuracyOf, meanMetric, type Accuracy } from './accuracy.js';
import type { Comparison } from './comparisons.js';
import { REWARDBENCH_SECTIONS, REWARDBENCH_SUBSET_WEIGHTS, rewardBenchSubset, type RewardBenchSection } from './rewardbench-sections.js';
import type { Metric } from './voting.js';

export interface SubsetScore extends Accuracy {
  subset: string;
}

export interface SectionScore extends Metric {
  /** Subsets present, in table order. */
  subsets: string[];
  missingSubsets: string[];
  examples: number;
}

export interface RewardBenchScore {
  kind: 'rewardbench';
  /** Known subsets in table order. */
  subsets: SubsetScore[];
  sections: Record<RewardBenchSection, SectionScore | null>;
  /** `complete`: every section and every subset of the table present. */
  overall: (Metric & { sections: number; complete: boolean }) | null;
  /** Unknown subsets, by name. */
  other: SubsetScore[];
  /** Plain accuracy over every example, "other" included. */
  allExamples: Accuracy | null;
}

function subsetScores(comparisons: readonly Comparison[]): Map<string, SubsetScore> {
  const byGroup = new Map<string, Comparison[]>();
  for (const c of comparisons) {
    const list = byGroup.get(c.group);
    if (list === undefined) byGroup.set(c.group, [c]);
    else list.push(c);
  }
  const scores = new Map<string, SubsetScore>();
  for (const [group, list] of byGroup) scores.set(group, { subset: group, ...accuracyOf(list.map((c) => c.outcome))! });
  return scores;
}

export function scoreRewardBench(comparisons: readonly Comparison[]): RewardBenchScore {
  const byGroup = subsetScores(comparisons);
  // Known subsets are looked up case-insensitively; names in the results are the table's.
  const known = new Map<string, SubsetScore>();
  const other: SubsetScore[] = [];
  for (const [group, score] of byGroup) {
    const info = rewardBenchSubset(group);
    if (info === null) other.push(score);
    else {
      const merged = known.get(info.name);
      known.set(info.name, merged === undefined ? { ...score, subset: info.name } : mergeSubset(merged, score));
    }
  }
  const subsets: SubsetScore[] = [];
  const sections = {} as Record<RewardBenchSection, SectionScore | null>;
  for (const section of REWARDBENCH_SECTIONS) {
    const present: SubsetScore[] = [];
    const weights: number[] = [];
    const missingSubsets: string[] = [];
    for (const [name, weight] of Object.entries(REWARDBENCH_SUBSET_WEIGHTS[section])) {
      const score = known.get(name);
      if (score === undefined) missingSubsets.push(name);
      else {
        present.push(score);
        weights.push(weight);
      }
    }
    subsets.push(...present);
    const mean = meanMetric(present, weights);
    sections[section] =
      mean === null ? null : { ...mean, subsets: present.map((s) => s.subset), missingSubsets, examples: present.reduce((n, s) => n + s.comparisons, 0) };
  }
  const presentSections = REWARDBENCH_SECTIONS.map((s) => sections[s]).filter((s): s is SectionScore => s !== null);
  const overallMean = meanMetric(presentSections);
  return {
    kind: 'rewardbench',
    subsets,
    sections,
    overall: overallMean === null ? null : {
      ...overallMean,
      sections: presentSections.length,
      complete: presentSections.length === REWARDBENCH_SECTIONS.length && presentSections.every((s) => s.missingSubsets.length === 0),
    },
    other: other.sort((a, b) => a.subset.localeCompare(b.subset)),
    allExamples: accuracyOf(comparisons.map((c) => c.outcome)),
  };
}

/** Two spellings of one subset (e.g. different case) are one subset. */
function mergeSubset(a: SubsetScore, b: SubsetScore): SubsetScore {
  const n = a.comparisons + b.comparisons;
  return {
    subset: a.subset,
    tiesWrong: (a.tiesWrong * a.comparisons + b.tiesWrong * b.comparisons) / n,
    tiesHalf: (a.tiesHalf * a.comparisons + b.tiesHalf * b.comparisons) / n,
    comparisons: n,
    correct: a.correct + b.correct,
    wrong: a.wrong + b.wrong,
    ties: a.ties + b.ties,
    unparseable: a.unparseable + b.unparseable,
  };
}
