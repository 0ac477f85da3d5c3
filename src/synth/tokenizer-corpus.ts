/**
 * The text the tiny tokenizer is trained on: exactly what the default job feeds the model, i.e.
 * rendered pointwise prompts (raw, short rubrics) for both responses of synthetic pairs, and the
 * teacher's judgments of them.
 */
import { renderSynthPointwise } from './rubrics.js';
import { makeSplits, type SynthPair } from './tasks.js';
import { teacherJudgePair } from './teacher.js';

export interface SynthTexts {
  prompts: string[];
  judgments: string[];
}

/** Rendered prompts and teacher judgments, chosen then rejected for each pair. */
export function synthTexts(pairs: readonly SynthPair[], teacherSeed = 0): SynthTexts {
  const prompts: string[] = [];
  const judgments: string[] = [];
  for (const pair of pairs) {
    const judged = teacherJudgePair(pair, { seed: teacherSeed });
    prompts.push(renderSynthPointwise(pair.task, pair.prompt, pair.chosen));
    prompts.push(renderSynthPointwise(pair.task, pair.prompt, pair.rejected));
    judgments.push(judged.chosenJudgment, judged.rejectedJudgment);
  }
  return { prompts, judgments };
}

export interface TokenizerCorpusOptions {
  seed?: number;
  pairs?: number;
}

export const DEFAULT_CORPUS_SEED = 20251028;
export const DEFAULT_CORPUS_PAIRS = 2000;

/** Every prompt of the family is available to the corpus (it is not a data split). */
export function tokenizerCorpus(options: TokenizerCorpusOptions = {}): string[] {
  const seed = options.seed ?? DEFAULT_CORPUS_SEED;
  const { train } = makeSplits({ seed, train: options.pairs ?? DEFAULT_CORPUS_PAIRS, val: 0, test: 0 });
  const { prompts, judgments } = synthTexts(train, seed);
  return [...prompts, ...judgments];
}
