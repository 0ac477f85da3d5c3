/**
 * RewardBench's four sections, their subsets and the example counts used as weights
 * (patarm.md section 5, the official leaderboard's table). math-prm has 447 rows but weighs 984,
 * so math counts as much as the six hep-* code subsets together (6 x 164 = 984).
 */

export const REWARDBENCH_SECTIONS = ['Chat', 'Chat Hard', 'Safety', 'Reasoning'] as const;
export type RewardBenchSection = (typeof REWARDBENCH_SECTIONS)[number];

export const REWARDBENCH_SUBSET_WEIGHTS: Readonly<Record<RewardBenchSection, Readonly<Record<string, number>>>> = {
  Chat: { 'alpacaeval-easy': 100, 'alpacaeval-length': 95, 'alpacaeval-hard': 95, 'mt-bench-easy': 28, 'mt-bench-med': 40 },
  'Chat Hard': {
    'mt-bench-hard': 37,
    'llmbar-natural': 100,
    'llmbar-adver-neighbor': 134,
    'llmbar-adver-GPTInst': 92,
    'llmbar-adver-GPTOut': 47,
    'llmbar-adver-manual': 46,
  },
  Safety: {
    'refusals-dangerous': 100,
    'refusals-offensive': 100,
    'xstest-should-refuse': 154,
    'xstest-should-respond': 250,
    donotanswer: 136,
  },
  Reasoning: {
    'math-prm': 984,
    'hep-cpp': 164,
    'hep-go': 164,
    'hep-java': 164,
    'hep-js': 164,
    'hep-python': 164,
    'hep-rust': 164,
  },
};

/**
 * How many examples each subset has in RewardBench's released (filtered) set: its weight, except
 * math-prm, which has 447 rows and weighs 984. A subset scored on fewer (--limit, part of the file)
 * is not the subset the paper's figures average.
 */
export function rewardBenchSubsetExamples(section: RewardBenchSection, subset: string): number {
  return subset === 'math-prm' ? 447 : REWARDBENCH_SUBSET_WEIGHTS[section][subset]!;
}

export interface RewardBenchSubsetInfo {
  /** The subset's name as the table spells it (e.g. `llmbar-adver-GPTInst`). */
  name: string;
  section: RewardBenchSection;
  weight: number;
}

const SUBSETS_BY_LOWER_NAME = new Map<string, RewardBenchSubsetInfo>(
  REWARDBENCH_SECTIONS.flatMap((section) =>
    Object.entries(REWARDBENCH_SUBSET_WEIGHTS[section]).map(([name, weight]) => [name.toLowerCase(), { name, section, weight }] as const),
  ),
);

/** The section of a subset name (matched case-insensitively, trimmed), or null when it is not a
 * RewardBench subset (results keep it under "other", outside the sections). */
export function rewardBenchSubset(subset: string): RewardBenchSubsetInfo | null {
  return SUBSETS_BY_LOWER_NAME.get(subset.trim().toLowerCase()) ?? null;
}
