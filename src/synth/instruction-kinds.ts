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

/** `count` different words drawn from `pool`, in random order. */
function drawWords(pool: readonly string[], count: number, random: Random): string[] {
  const left = [...pool];
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(left.splice(Math.floor(random() * left.length), 1)[0]!);
  return out;
}

function letterRuleKind(edge: Edge): SynthKind {
  const matching = (letter: string) => WORDS.filter((w) => edgeLetter(w, edge) === letter);
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
 * "Write one word with first letter 'b'." (or last letter) One word whose letter at that end is the asked one;
 * the trace is that letter (two letters for two words, `?` for a token that is not a lower-case
 * word), so checking a reply takes one look at the prompt's letter and one at the reply's edge.
 * Near misses: a word that has the letter in the wrong place (the letter noticed, the rule not),
 * or another word of the list.
 */
function oneWordKind(edge: Edge): SynthKind {
  const letters = [...new Set(WORDS.map((w) => edgeLetter(w, edge)))].sort();
  // Worded with the words of the first/last-letter questions, so the tiny tokenizer's few merges
  // already cover them (a template word left in pieces reads like content letters).
  const which = edge === 'starting' ? 'first' : 'last';
  const pattern = new RegExp(`^Write one word with ${which} letter '([a-z])'\\.$`);
  return defineKind<{ letter: string }>({
    name: `word-${edge}-with`,
    task: 'instruction_following',
    enumerate: () => letters.map((letter) => ({ letter })),
    render: ({ letter }) => `Write one word with ${which} letter '${letter}'.`,
    parse(prompt) {
      const m = pattern.exec(prompt);
      return m && letters.includes(m[1]!) ? { letter: m[1]! } : null;
    },
    expected: ({ letter }) => letter,
    observe(_rule, response) {
      const tokens = response.trim() === '' ? [] : response.trim().split(/\s+/);
      return tokens.map((t) => (/^[a-z]+$/.test(t) ? edgeLetter(t, edge) : '?')).join('');
    },
    correct: ({ letter }, random) => pick(random, WORDS.filter((w) => edgeLetter(w, edge) === letter)),
    nearMisses({ letter }, random) {
      const others = WORDS.filter((w) => edgeLetter(w, edge) !== letter);
      const containing = others.filter((w) => w.includes(letter));
      return [pick(random, containing.length > 0 ? containing : others), pick(random, others)];
    },
  });
}

export const INSTRUCTION_KINDS: readonly SynthKind[] = [letterRuleKind('starting'), letterRuleKind('ending'), oneWordKind('starting'), oneWordKind('ending')];
