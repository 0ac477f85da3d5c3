/**
 * Made-up words: lower-case strings of 3 or 4 random letters that are no word of the synthetic
 * family (not in its tables, its prompts, its rubrics or its judgments). A judge asked about one
 * cannot recall its letters from training; it has to read them. The tiny tokenizer spells them one
 * character per token, as it does the vocabulary's words, because none is a template word.
 */
import { mulberry32, randomIndex } from '../data/prng.js';
import { LETTERS } from './vocabulary.js';

const MIN_LENGTH = 3;
const MAX_LENGTH = 4;
/** How many strings of those lengths there are: a request for more than half of them is refused, not looped on. */
const STRINGS = LETTERS.length ** MIN_LENGTH + LETTERS.length ** MAX_LENGTH;

/** `count` distinct made-up words, none in `taken`, in the order a seeded draw finds them. */
export function madeUpWords(seed: number, count: number, taken: ReadonlySet<string>): string[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`madeUpWords: count must be a non-negative integer, got ${count}`);
  if (count > STRINGS / 2) throw new Error(`madeUpWords: ${count} words asked, more than half of the ${STRINGS} strings of ${MIN_LENGTH}-${MAX_LENGTH} letters`);
  const random = mulberry32(seed);
  const words = new Set<string>();
  while (words.size < count) {
    const length = MIN_LENGTH + randomIndex(random, MAX_LENGTH - MIN_LENGTH + 1);
    let word = '';
    for (let i = 0; i < length; i++) word += LETTERS[randomIndex(random, LETTERS.length)];
    if (!taken.has(word)) words.add(word);
  }
  return [...words];
}
