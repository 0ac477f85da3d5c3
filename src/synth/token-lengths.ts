/**
 * Token lengths of what the default job feeds the model: rendered prompts and teacher judgments of
 * a sample of synthetic pairs (the held-out test split of a fixed seed, so the numbers are stable).
 */
import type { SynthTask } from './kind.js';
import { makeSplits } from './tasks.js';
import { synthTexts } from './tokenizer-corpus.js';

export interface LengthStats {
  count: number;
  min: number;
  median: number;
  p90: number;
  max: number;
  mean: number;
}

export function lengthStats(lengths: readonly number[]): LengthStats {
  if (lengths.length === 0) throw new Error('lengthStats: no lengths');
  const sorted = [...lengths].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((s, n) => s + n, 0) / sorted.length;
  return { count: sorted.length, min: sorted[0]!, median: at(0.5), p90: at(0.9), max: sorted.at(-1)!, mean };
}

export interface SynthLengths {
  prompt: LengthStats;
  judgment: LengthStats;
  /** Longest prompt and judgment per task. */
  maxByTask: Record<SynthTask, { prompt: number; judgment: number }>;
}

export type EncodeText = (text: string) => Promise<ArrayLike<number>>;

export const LENGTH_SAMPLE_SEED = 7;

export async function measureSynthLengths(encode: EncodeText, pairs = 400): Promise<SynthLengths> {
  const { test } = makeSplits({ seed: LENGTH_SAMPLE_SEED, train: 0, val: 0, test: pairs });
  const { prompts, judgments } = synthTexts(test);
  const promptLengths: number[] = [];
  const judgmentLengths: number[] = [];
  const maxByTask = {} as SynthLengths['maxByTask'];
  for (let i = 0; i < prompts.length; i++) {
    const task = test[i >> 1]!.task;
    const p = (await encode(prompts[i]!)).length;
    const j = (await encode(judgments[i]!)).length;
    promptLengths.push(p);
    judgmentLengths.push(j);
    const seen = maxByTask[task] ?? { prompt: 0, judgment: 0 };
    maxByTask[task] = { prompt: Math.max(seen.prompt, p), judgment: Math.max(seen.judgment, j) };
  }
  return { prompt: lengthStats(promptLengths), judgment: lengthStats(judgmentLengths), maxByTask };
}
