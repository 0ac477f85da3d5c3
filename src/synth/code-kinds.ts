/**
 * String transformations standing in for code tasks: the answer is the exact output string a
 * one-line program would print, or the character a Python index picks. Near misses are the typical
 * off-by-one slips of such programs: two neighbouring characters swapped, a character lost, the
 * input returned unchanged, only the first letter transformed, the neighbouring index.
 */
import { caseSlipOverOtherLetter, defineKind, pick, type Random, type SynthKind } from './kind.js';
import { WORDS } from './vocabulary.js';

interface Word {
  word: string;
}

const VOWELS = /[aeiou]/g;

const reverse = (s: string): string => [...s].reverse().join('');
const sortLetters = (s: string): string => [...s].sort().join('');
const removeVowels = (s: string): string => s.replace(VOWELS, '');

/** The string with one pair of differing neighbours swapped (unchanged when there is none). */
function swapNeighbours(s: string, random: Random): string {
  const positions = [...s.slice(1)].flatMap((c, i) => (c !== s[i] ? [i] : []));
  if (positions.length === 0) return s;
  const i = pick(random, positions);
  return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
}

function wordKind(
  name: string,
  render: (word: string) => string,
  pattern: RegExp,
  transform: (word: string) => string,
  nearMisses: (word: string, expected: string, random: Random) => string[],
): SynthKind {
  return defineKind<Word>({
    name,
    task: 'code',
    // A word the transformation leaves empty would have no near miss worth asking about.
    enumerate: () => WORDS.filter((w) => transform(w) !== '').map((word) => ({ word })),
    render: ({ word }) => render(word),
    parse(prompt) {
      const m = pattern.exec(prompt);
      return m ? { word: m[1]! } : null;
    },
    expected: ({ word }) => transform(word),
    nearMisses: ({ word }, random) => nearMisses(word, transform(word), random),
  });
}

const WORD_TRANSFORM_KINDS: readonly SynthKind[] = [
  wordKind('reverse', (w) => `Reverse '${w}'.`, /^Reverse '([a-z]+)'\.$/, reverse, (w, e, random) => [
    w,
    swapNeighbours(e, random),
    e.slice(0, -1),
  ]),
  wordKind('uppercase', (w) => `Uppercase '${w}'.`, /^Uppercase '([a-z]+)'\.$/, (w) => w.toUpperCase(), (w, e) => [
    e[0] + w.slice(1),
    e.slice(0, -1) + w.slice(-1),
    w,
  ]),
  wordKind('sort', (w) => `Sort the letters of '${w}'.`, /^Sort the letters of '([a-z]+)'\.$/, sortLetters, (w, e, random) => [
    reverse(e),
    w,
    swapNeighbours(e, random),
    e.slice(0, -1),
  ]),
  wordKind('remove-vowels', (w) => `Remove the vowels of '${w}'.`, /^Remove the vowels of '([a-z]+)'\.$/, removeVowels, (w, e, random) => [
    w,
    w.replace(/[aeiou]/, ''),
    swapNeighbours(e, random),
    e.slice(0, -1),
  ]),
];

/** Indices `charAtKind` asks about: Python's first, second and last character. */
const CHAR_INDICES = [0, 1, -1] as const;

/**
 * "What does 'pot'[1] give?" One character of the word by Python indexing. Near misses are the
 * off-by-one slips (the neighbouring index) and the right letter in upper case. Partial pairs: the
 * right letter in upper case preferred to another letter of the word.
 */
const charAtKind: SynthKind = defineKind<{ word: string; index: number }>({
  name: 'char-at',
  task: 'code',
  enumerate: () => CHAR_INDICES.flatMap((index) => WORDS.map((word) => ({ word, index }))),
  about: (word) => (word.length > 1 ? CHAR_INDICES.map((index) => ({ word, index })) : []),
  render: ({ word, index }) => `What does '${word}'[${index}] give?`,
  parse(prompt) {
    const m = /^What does '([a-z]+)'\[(-?\d)\] give\?$/.exec(prompt);
    const index = m ? Number(m[2]) : NaN;
    // 'a'[1] is no prompt of this kind: the family never asks past a word's end (Python raises).
    return m && (CHAR_INDICES as readonly number[]).includes(index) && m[1]!.at(index) !== undefined ? { word: m[1]!, index } : null;
  },
  expected: ({ word, index }) => word.at(index)!,
  nearMisses: ({ word, index }) => {
    const at = (i: number) => word.at(i);
    const neighbours = index === -1 ? [at(-2), at(0)] : [at(index + 1), index > 0 ? at(index - 1) : at(-1)];
    return [...neighbours.filter((c): c is string => c !== undefined && c !== word.at(index)), word.at(index)!.toUpperCase()];
  },
  partialPair: ({ word, index }, random) => caseSlipOverOtherLetter(word, word.at(index)!, random),
});

export const CODE_KINDS: readonly SynthKind[] = [...WORD_TRANSFORM_KINDS, charAtKind];
