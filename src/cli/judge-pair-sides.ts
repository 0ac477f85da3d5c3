// What the synthetic-judge tools (judge-errors, verdict-credit) share: read preference pairs, render
// the pointwise prompt of each side with the given rubrics, and judge every side k times with one
// batched call. The tools differ only in how they decode and what they make of the judgments.
import { loadPairs, type PreferencePair } from '../data/index.js';
import { loadJudge } from '../eval/gpu-judge.js';
import { Runtime } from '../gpu/runtime.js';
import { loadRubricFile } from '../patarm/index.js';
import { renderJudgePrompt } from '../train/prompts.js';

export interface JudgePairSidesOptions {
  model: string;
  pairsFile: string;
  rubricsFile?: string;
  /** Only the first n pairs (default all). */
  n?: number;
  temperature: number;
  /** Judgments per side. */
  k: number;
  /** Seed of the judge's sampler and of its draws. */
  loadSeed: number;
  drawSeed: number;
}

export interface JudgedPairSides {
  pairs: PreferencePair[];
  /** Per pair, the k judgments of each side. */
  judged: { chosen: string[]; rejected: string[] }[];
}

export async function judgePairSides(o: JudgePairSidesOptions): Promise<JudgedPairSides> {
  const { pairs: all } = await loadPairs(o.pairsFile);
  if (all.length === 0) throw new Error(`${o.pairsFile}: no preference pairs`);
  const pairs = all.slice(0, o.n ?? all.length);
  const template = { chat: false, thinking: false, rubrics: o.rubricsFile ? loadRubricFile(o.rubricsFile) : undefined };
  const rt = await Runtime.create();
  const judge = await loadJudge(rt, o.model, { temperature: o.temperature, topP: 1, maxNewTokens: 24, seed: o.loadSeed });
  const texts = await judge(pairs.flatMap((p) => [p.chosen, p.rejected].map((response) => renderJudgePrompt({ ...p, response }, template))), { k: o.k, seed: o.drawSeed });
  return { pairs, judged: pairs.map((_, i) => ({ chosen: texts[2 * i]!, rejected: texts[2 * i + 1]! })) };
}
