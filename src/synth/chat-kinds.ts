/**
 * Short everyday questions standing in for chat: the neighbour of a letter in the alphabet, the
 * opposite of a common word, the plural of a noun. The answer is the exact word; near misses are
 * the neighbour one step too far, the neighbour on the wrong side, the letter or word asked about,
 * an unrelated table word, the wrong plural ending. (Days and months were left out: their long
 * names, spelt out letter by letter twice in the teacher's comparison line, pushed judgments past
 * 30 tokens.)
 */
import { caseSlipOverOtherLetter, defineKind, otherLetters, pick, type SynthKind } from './kind.js';
import { LETTERS, OPPOSITES, WORDS } from './vocabulary.js';

type Direction = 'after' | 'before';

interface LetterQuestion {
  index: number;
  direction: Direction;
}

const step = (d: Direction) => (d === 'after' ? 1 : -1);

/** "What letter comes after 'c'?" The alphabet does not wrap: nothing is asked after 'z'. */
const letterNeighbourKind: SynthKind = defineKind<LetterQuestion>({
  name: 'letter-neighbour',
  task: 'chat',
  enumerate: () =>
    (['after', 'before'] as const).flatMap((direction) =>
      LETTERS.flatMap((_, index) => (LETTERS[index + step(direction)] === undefined ? [] : [{ index, direction }])),
    ),
  render: ({ index, direction }) => `What letter comes ${direction} '${LETTERS[index]}'?`,
  parse(prompt) {
    const m = /^What letter comes (after|before) '([a-z])'\?$/.exec(prompt);
    if (!m) return null;
    const index = LETTERS.indexOf(m[2]!);
    const direction = m[1] as Direction;
    return LETTERS[index + step(direction)] === undefined ? null : { index, direction };
  },
  expected: ({ index, direction }) => LETTERS[index + step(direction)]!,
  nearMisses: ({ index, direction }) =>
    [LETTERS[index + 2 * step(direction)], LETTERS[index - step(direction)], LETTERS[index]].filter(
      (letter): letter is string => letter !== undefined,
    ),
});

interface OppositeQuestion {
  word: string;
  opposite: string;
}

const OPPOSITE_QUESTIONS: readonly OppositeQuestion[] = OPPOSITES.flatMap(([a, b]) => [
  { word: a, opposite: b },
  { word: b, opposite: a },
]);

const oppositeKind: SynthKind = defineKind<OppositeQuestion>({
  name: 'opposite',
  task: 'chat',
  enumerate: () => [...OPPOSITE_QUESTIONS],
  render: ({ word }) => `What is the opposite of '${word}'?`,
  parse(prompt) {
    const m = /^What is the opposite of '([a-z]+)'\?$/.exec(prompt);
    return m ? (OPPOSITE_QUESTIONS.find((q) => q.word === m[1]) ?? null) : null;
  },
  expected: ({ opposite }) => opposite,
  nearMisses: ({ word, opposite }, random) => [
    word,
    pick(random, OPPOSITE_QUESTIONS.filter((q) => q.opposite !== opposite)).opposite,
  ],
});

/** Nouns of the word list whose plural is irregular or that have none (fish, leaf, milk, ...). */
const NO_REGULAR_PLURAL = new Set(['fish', 'wolf', 'leaf', 'elf', 'milk', 'oil', 'zinc', 'glue', 'art', 'gum', 'jam', 'sea']);

/** English regular plural: -es after s, x, z, ch, sh; consonant + y -> -ies; else -s. */
export function regularPlural(noun: string): string {
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  return `${noun}s`;
}

interface Noun {
  noun: string;
}

const pluralKind: SynthKind = defineKind<Noun>({
  name: 'plural',
  task: 'chat',
  enumerate: () => WORDS.filter((w) => !NO_REGULAR_PLURAL.has(w)).map((noun) => ({ noun })),
  render: ({ noun }) => `What is the plural of '${noun}'?`,
  parse(prompt) {
    const m = /^What is the plural of '([a-z]+)'\?$/.exec(prompt);
    return m && !NO_REGULAR_PLURAL.has(m[1]!) ? { noun: m[1]! } : null;
  },
  expected: ({ noun }) => regularPlural(noun),
  nearMisses: ({ noun }) => [noun, `${noun}s`, `${noun}es`, `${noun}ies`],
});

type Edge = 'first' | 'last';

/**
 * "What is the first letter of 'pear'?" The answer is one letter read off the word, so checking
 * a reply takes one look at the word and one at the reply: the simplest reading task of the
 * family, and one that carries over to held-out words. Near misses: another letter of the word,
 * the right letter in upper case. Partial pairs: the right letter in upper case preferred to
 * another letter of the word (so a case slip ranks between the right letter and a wrong one).
 */
function letterOfWordKind(edge: Edge): SynthKind {
  const letterAt = (word: string) => (edge === 'first' ? word[0]! : word.at(-1)!);
  const pattern = new RegExp(`^What is the ${edge} letter of '([a-z]+)'\\?$`);
  return defineKind<Noun>({
    name: `${edge}-letter`,
    task: 'chat',
    enumerate: () => WORDS.map((noun) => ({ noun })),
    about: (noun) => [{ noun }],
    render: ({ noun }) => `What is the ${edge} letter of '${noun}'?`,
    parse(prompt) {
      const m = pattern.exec(prompt);
      return m ? { noun: m[1]! } : null;
    },
    expected: ({ noun }) => letterAt(noun),
    nearMisses: ({ noun }) => [...otherLetters(noun, letterAt(noun)), letterAt(noun).toUpperCase()],
    partialPair: ({ noun }, random) => caseSlipOverOtherLetter(noun, letterAt(noun), random),
  });
}

export const CHAT_KINDS: readonly SynthKind[] = [letterNeighbourKind, oppositeKind, pluralKind, letterOfWordKind('first'), letterOfWordKind('last')];
