/**
 * The paper's numbers (patarm.md section 6, arXiv 2510.24235 v2), in percent, laid out as the
 * rows of Table 1: RewardBench Chat / Chat Hard / Safety / Reasoning / Avg and RM-Bench Easy /
 * Normal / Hard / Avg. A value the paper does not give for a row is absent.
 */

export interface Table1Row {
  model: string;
  /** Where the numbers come from, or what kind of row it is. */
  note: string;
  rewardBench: { chat?: number; chatHard?: number; safety?: number; reasoning?: number; avg?: number };
  rmBench: { easy?: number; normal?: number; hard?: number; avg?: number };
}

export const PAPER_ROWS: readonly Table1Row[] = [
  { model: 'Qwen3-8B', note: 'base model, pointwise (Table 1)', rewardBench: { avg: 78.1 }, rmBench: { avg: 71.0 } },
  { model: 'PaTaRM-8B SFT only', note: 'Table 14', rewardBench: { avg: 78.3 }, rmBench: { avg: 66.4 } },
  {
    model: 'PaTaRM-8B',
    note: 'pointwise (Table 1)',
    rewardBench: { chat: 87.7, chatHard: 74.3, safety: 87.2, reasoning: 87.8, avg: 84.3 },
    rmBench: { easy: 82.8, normal: 78.7, hard: 74.7, avg: 78.7 },
  },
  { model: 'Qwen3-14B', note: 'base model, pointwise (Table 1)', rewardBench: { avg: 81.9 }, rmBench: { avg: 73.2 } },
  { model: 'PaTaRM-14B SFT only', note: 'Table 14', rewardBench: { avg: 80.5 }, rmBench: { avg: 67.2 } },
  { model: 'PaTaRM-14B', note: 'pointwise (Table 1)', rewardBench: { avg: 87.2 }, rmBench: { avg: 80.3 } },
  // patarm.md gives one number per model for Table 3 without naming the benchmark; shown as RewardBench (assumed).
  { model: 'PaTaRM-8B pairwise', note: 'pairwise mode (Table 3; benchmark assumed RewardBench)', rewardBench: { avg: 87.0 }, rmBench: {} },
  { model: 'PaTaRM-14B pairwise', note: 'pairwise mode (Table 3; benchmark assumed RewardBench)', rewardBench: { avg: 89.7 }, rmBench: {} },
];
