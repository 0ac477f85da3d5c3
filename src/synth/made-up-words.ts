/**
 * Made-up words: lower-case strings of 3 or 4 random letters that are no word of the synthetic
 * family (not in its tables, its prompts, its rubrics or its judgments). A judge asked about one
 * cannot recall its letters from training; it has to read them. The tiny tokenizer spells them one
 * character per token, as it does the vocabulary's words, because none is a template word.
 */
import { mulberry32 } from '../data/prng.js';
import { LETTERS } from './vocabulary.js';

const MIN_LENGTH = 3;
const MAX_LENGTH = 4;

/** `count` distinct made-up words, none in `taken`, in the order a seeded draw finds them. */
export function madeUpWords(seed: number, count: number, taken: ReadonlySet<string>): string[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`madeUpWords: count must be a non-negative integer, got ${count}`);
  const random = mulberry32(seed);
  const words = new Set<string>();
  while (words.size < count) {
    const length = MIN_LENGTH + Math.floor(random() * (MAX_LENGTH - MIN_LENGTH + 1));
    let word = '';
    for (let i = 0; i < length; i++) word += LETTERS[Math.floor(random() * LETTERS.length)];
    if (!taken.has(word)) words.add(word);
  }
  return [...words];
}
