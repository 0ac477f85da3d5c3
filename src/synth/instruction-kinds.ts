/**
 * Constraint following: "Write 3 words starting with 'b'." (or ending with a letter). A response
 * is a space-separated list of lower-case words; it is right when it has exactly the requested
 * number of words and each obeys the letter rule. The trace the teacher writes is the letter each
 * word shows at the constrained end (`?` for a token that is not a lower-case word), so "bat cow
 * bus" gives `bcb` where `bbb` was expected. Near misses: one word too few, one too many, or one
 * word with the wrong letter.
 */
import { defineKind, pick, type Random, type SynthKind } from './kind.js';
import { WORDS } from './vocabulary.js';

type Edge = 'starting' | 'ending';

interface WordRule {
  count: number;
  letter: string;
}

const COUNTS = [2, 3, 4];
const MAX_COUNT = Math.max(...COUNTS);

const edgeLetter = (word: string, edge: Edge): string => (edge === 'starting' ? word[0]! : word.at(-1)!);
/** The listed words with `letter` at that end. */
const wordsWithEdge = (letter: string, edge: Edge): string[] => WORDS.filter((w) => edgeLetter(w, edge) === letter);

/** `count` different words drawn from `pool`, in random order. */
function drawWords(pool: readonly string[], count: number, random: Random): string[] {
  const left = [...pool];
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(left.splice(Math.floor(random() * left.length), 1)[0]!);
  return out;
}

function letterRuleKind(edge: Edge): SynthKind {
  const matching = (letter: string) => wordsWithEdge(letter, edge);
  // A wrong-count response may need one word more than the largest count.
  const letters = [...new Set(WORDS.map((w) => edgeLetter(w, edge)))]
    .filter((letter) => matching(letter).length > MAX_COUNT)
    .sort();
  const pattern = new RegExp(`^Write (\\d) words ${edge} with '([a-z])'\\.$`);
  return defineKind<WordRule>({
    name: `words-${edge}-with`,
    task: 'instruction_following',
    enumerate: () => letters.flatMap((letter) => COUNTS.map((count) => ({ count, letter }))),
    render: ({ count, letter }) => `Write ${count} words ${edge} with '${letter}'.`,
    parse(prompt) {
      const m = pattern.exec(prompt);
      return m ? { count: Number(m[1]), letter: m[2]! } : null;
    },
    expected: ({ count, letter }) => letter.repeat(count),
    observe(_rule, response) {
      const tokens = response.trim() === '' ? [] : response.trim().split(/\s+/);
      return tokens.map((t) => (/^[a-z]+$/.test(t) ? edgeLetter(t, edge) : '?')).join('');
    },
    correct: ({ count, letter }, random) => drawWords(matching(letter), count, random).join(' '),
    nearMisses({ count, letter }, random) {
      const pool = matching(letter);
      const words = drawWords(pool, count, random);
      const outsider = pick(random, WORDS.filter((w) => edgeLetter(w, edge) !== letter));
      const wrongLetter = [...words];
      wrongLetter[Math.floor(random() * count)] = outsider;
      const misses = [wrongLetter.join(' ')];
      if (count > 1) misses.push(words.slice(0, -1).join(' '));
      if (pool.length > count) misses.push(drawWords(pool, count + 1, random).join(' '));
      return misses;
    },
  });
}

/**
 * "Write one word with the first letter of 'pen'." (or the last letter) One word whose letter at
 * that end is the named word's; the trace is that letter (two letters for two words, `?` for a
 * token that is not a lower-case word), so checking a reply takes one look at the prompt's word and
 * one at the reply's edge. The rule names a word rather than a letter so that the kind has a prompt
 * per word, not per letter: with only ~20 letter prompts, the few a held-out split drew decided a
 * quarter of the default job's held-out pairs and most of its seed-to-seed spread.
 * Near misses: a word that has the letter in the wrong place (the letter noticed, the rule not),
 * or another word of the list.
 */
function oneWordKind(edge: Edge): SynthKind {
  const matching = (letter: string) => wordsWithEdge(letter, edge);
  // A rule word whose letter no other listed word shares would leave only itself as a correct
  // reply. Any other lower-case word is a rule word too (a made-up word is read like a listed one).
  const isRuleWord = (word: string) => matching(edgeLetter(word, edge)).some((w) => w !== word);
  const ruleWords = WORDS.filter(isRuleWord);
  const which = edge === 'starting' ? 'first' : 'last';
  const pattern = new RegExp(`^Write one word with the ${which} letter of '([a-z]+)'\\.$`);
  return defineKind<{ word: string }>({
    name: `word-${edge}-with`,
    task: 'instruction_following',
    enumerate: () => ruleWords.map((word) => ({ word })),
    about: (word) => (isRuleWord(word) ? [{ word }] : []),
    render: ({ word }) => `Write one word with the ${which} letter of '${word}'.`,
    parse(prompt) {
      const m = pattern.exec(prompt);
      return m && isRuleWord(m[1]!) ? { word: m[1]! } : null;
    },
    expected: ({ word }) => edgeLetter(word, edge),
    observe(_rule, response) {
      const tokens = response.trim() === '' ? [] : response.trim().split(/\s+/);
      return tokens.map((t) => (/^[a-z]+$/.test(t) ? edgeLetter(t, edge) : '?')).join('');
    },
    // Another word than the named one: echoing the prompt's word is right, but teaches nothing.
    correct: ({ word }, random) => pick(random, matching(edgeLetter(word, edge)).filter((w) => w !== word)),
    nearMisses({ word }, random) {
      const letter = edgeLetter(word, edge);
      const others = WORDS.filter((w) => edgeLetter(w, edge) !== letter);
      const containing = others.filter((w) => w.includes(letter));
      return [pick(random, containing.length > 0 ? containing : others), pick(random, others)];
    },
  });
}

export const INSTRUCTION_KINDS: readonly SynthKind[] = [letterRuleKind('starting'), letterRuleKind('ending'), oneWordKind('starting'), oneWordKind('ending')];
