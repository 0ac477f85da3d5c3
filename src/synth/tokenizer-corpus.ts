/**
 * The text the tiny tokenizer is trained on: exactly what the default job feeds the model, i.e.
 * rendered pointwise prompts (raw, short rubrics) for both responses of synthetic pairs of the
 * default job's kinds (CHARACTER_KINDS), and the teacher's judgments of them. Text of the other
 * kinds still encodes losslessly, in more tokens. Spending the few merges on these kinds' template
 * words keeps them whole: a template word left in pieces puts stray single letters into the prompt
 * that look exactly like the content letters the judge must find.
 */
import { renderSynthPointwise } from './rubrics.js';
import { CHARACTER_KINDS, makeSplits, type SynthPair } from './tasks.js';
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
  const pairs = options.pairs ?? DEFAULT_CORPUS_PAIRS;
  const kinds: readonly string[] = CHARACTER_KINDS;
  // The character kinds are about a third of the family's draws (36% at the default seed); four times over is plenty.
  const { train } = makeSplits({ seed, train: 4 * pairs, val: 0, test: 0 });
  const main = train.filter((p) => kinds.includes(p.kind)).slice(0, pairs);
  // A tenth as many pairs of the whole family: rarer than every template word of the character
  // kinds, so they only decide the merges left over once those words are whole.
  const rest = train.filter((p) => !kinds.includes(p.kind)).slice(0, Math.ceil(pairs / 10));
  const { prompts, judgments } = synthTexts([...main, ...rest], seed);
  return [...prompts, ...judgments];
}
