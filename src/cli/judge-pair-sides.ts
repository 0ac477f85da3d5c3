// What the synthetic-judge tools (judge-errors, verdict-credit) share: read preference pairs, render
// the pointwise prompt of each side with the given rubrics, and judge every side k times with one
// batched call. The tools differ only in how they decode and what they make of the judgments.
import { loadPairs, type PreferencePair } from '../data/index.js';
import { loadJudge } from '../eval/gpu-judge.js';
import { Runtime } from '../gpu/runtime.js';
import { loadRubricFile } from '../patarm/index.js';
import { checkResponse } from '../synth/index.js';
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

/** A pair of the synthetic task family: its prompt is plain text. */
export type SynthPreferencePair = PreferencePair & { prompt: string };

export interface JudgedPairSides {
  pairs: SynthPreferencePair[];
  /** Per pair, the k judgments of each side. */
  judged: { chosen: string[]; rejected: string[] }[];
}

/**
 * The pair, once its prompt is known to be one of the synthetic family's: checked before any GPU
 * work, so a foreign file fails at once and names the pair rather than after all the judging.
 */
function synthPair(p: PreferencePair, file: string): SynthPreferencePair {
  const where = `${file}: pair ${p.id}`;
  if (typeof p.prompt !== 'string') throw new Error(`${where} has a chat prompt; the synthetic family's prompts are plain text`);
  try {
    checkResponse(p.prompt, p.chosen);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return { ...p, prompt: p.prompt };
}

export async function judgePairSides(o: JudgePairSidesOptions): Promise<JudgedPairSides> {
  const { pairs: all } = await loadPairs(o.pairsFile);
  if (all.length === 0) throw new Error(`${o.pairsFile}: no preference pairs`);
  const pairs = all.slice(0, o.n ?? all.length).map((p) => synthPair(p, o.pairsFile));
  const template = { chat: false, thinking: false, rubrics: o.rubricsFile ? loadRubricFile(o.rubricsFile) : undefined };
  const rt = await Runtime.create();
  const judge = await loadJudge(rt, o.model, { temperature: o.temperature, topP: 1, maxNewTokens: 24, seed: o.loadSeed });
  const texts = await judge(pairs.flatMap((p) => [p.chosen, p.rejected].map((response) => renderJudgePrompt({ ...p, response }, template))), { k: o.k, seed: o.drawSeed });
  return { pairs, judged: pairs.map((_, i) => ({ chosen: texts[2 * i]!, rejected: texts[2 * i + 1]! })) };
}
