/**
 * One kind of synthetic problem ("add two numbers", "reverse a word", ...): its whole prompt space,
 * the rule that decides whether a response is right, a correct response and plausible wrong ones.
 *
 * Everything works from the prompt text alone, because the teacher and the tests only see text:
 * each kind parses its own prompts back into arguments. `defineKind` keeps the argument type
 * private to the kind, so the registry holds plain `SynthKind` values.
 */
import { randomIndex } from '../data/prng.js';

/** The PaTaRM task tags the synthetic family covers (no safety: it has no rule to check). */
export const SYNTH_TASKS = ['math', 'code', 'instruction_following', 'chat'] as const;
export type SynthTask = (typeof SYNTH_TASKS)[number];

export type Random = () => number;

export interface ResponseCheck {
  correct: boolean;
  /** What a correct response looks like: the exact answer, or for open-ended kinds the trace a
   * correct response produces (e.g. `bbb` for three words starting with b). */
  expected: string;
  /** The same trace computed from the response (the trimmed answer for exact-answer kinds). */
  got: string;
}

export interface SynthKind {
  readonly name: string;
  readonly task: SynthTask;
  /** Every prompt of this kind, in a fixed order. */
  prompts(): string[];
  /**
   * The kind's prompts about `word`, any lower-case word, listed or not (kinds that read letters
   * off a quoted word); absent on kinds whose prompts are not about one word.
   */
  promptsAbout?(word: string): string[];
  /** The rule; null when the prompt is not of this kind. */
  check(prompt: string, response: string): ResponseCheck | null;
  /** A correct response; open-ended kinds draw one at random. */
  correctResponse(prompt: string, random: Random): string;
  /** One plausible wrong response (a near miss). */
  wrongResponse(prompt: string, random: Random): string;
  /**
   * Two wrong responses, `better` right but for letter case and `worse` wrong in its letters too
   * (exact-answer kinds whose answer is letters). A preference pair of these says which is less
   * wrong, something a teacher that only tells right from wrong cannot say.
   */
  partialPair?(prompt: string, random: Random): { better: string; worse: string };
}

export interface KindDefinition<A> {
  name: string;
  task: SynthTask;
  enumerate(): A[];
  /** The arguments of the kind's prompts about any lower-case `word` (see SynthKind.promptsAbout). */
  about?(word: string): A[];
  render(args: A): string;
  /** Inverse of render; null when the text is not a prompt of this kind. */
  parse(prompt: string): A | null;
  /** The trace a correct response gives (the exact answer for exact-answer kinds). */
  expected(args: A): string;
  /** The trace of a response. Default: the response with whitespace runs collapsed and trimmed. */
  observe?(args: A, response: string): string;
  /** Default: `expected(args)` itself. */
  correct?(args: A, random: Random): string;
  /** Candidate near misses; the ones the rule would accept are filtered out afterwards. */
  nearMisses(args: A, random: Random): string[];
  /** A response right but for letter case and a response wrong otherwise too (see SynthKind). */
  partialPair?(args: A, random: Random): { better: string; worse: string };
}

/** Right but for letter case: what a partial pair's better response is. */
export function rightIgnoringCase(check: ResponseCheck): boolean {
  return check.got.toLowerCase() === check.expected.toLowerCase();
}

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick: no items to choose from');
  return items[randomIndex(random, items.length)]!;
}

/** The distinct letters of `word` other than `letter`: the plausible wrong letters to read off it. */
export function otherLetters(word: string, letter: string): string[] {
  return [...new Set([...word])].filter((c) => c !== letter);
}

/**
 * A partial pair for a one-letter answer read off `word`: the letter in upper case over another
 * letter of the word, or, for a word of one letter repeated (a made-up `zzz`), the next letter of
 * the alphabet.
 */
export function caseSlipOverOtherLetter(word: string, letter: string, random: Random): { better: string; worse: string } {
  const others = otherLetters(word, letter);
  const worse = others.length > 0 ? pick(random, others) : String.fromCharCode(97 + ((letter.charCodeAt(0) - 97 + 1) % 26));
  return { better: letter.toUpperCase(), worse };
}

export function normaliseResponse(response: string): string {
  return response.trim().replace(/\s+/g, ' ');
}

export function defineKind<A>(def: KindDefinition<A>): SynthKind {
  const observe = def.observe ?? ((_args: A, response: string) => normaliseResponse(response));
  const parseOrThrow = (prompt: string): A => {
    const args = def.parse(prompt);
    if (args === null) throw new Error(`${def.name}: not a prompt of this kind: ${JSON.stringify(prompt)}`);
    return args;
  };
  const checkArgs = (args: A, response: string): ResponseCheck => {
    const expected = def.expected(args);
    const got = observe(args, response);
    return { correct: got === expected, expected, got };
  };
  return {
    name: def.name,
    task: def.task,
    prompts: () => def.enumerate().map((args) => def.render(args)),
    ...(def.about && { promptsAbout: (word: string) => def.about!(word).map((args) => def.render(args)) }),
    check(prompt, response) {
      const args = def.parse(prompt);
      return args === null ? null : checkArgs(args, response);
    },
    correctResponse(prompt, random) {
      const args = parseOrThrow(prompt);
      const response = def.correct ? def.correct(args, random) : def.expected(args);
      if (!checkArgs(args, response).correct) throw new Error(`${def.name}: generated a wrong "correct" response for ${JSON.stringify(prompt)}`);
      return response;
    },
    wrongResponse(prompt, random) {
      const args = parseOrThrow(prompt);
      // Empty strings are never offered: an empty response is not a plausible near miss.
      const candidates = def.nearMisses(args, random).filter((r) => r.trim() !== '' && !checkArgs(args, r).correct);
      if (candidates.length === 0) throw new Error(`${def.name}: no wrong response for ${JSON.stringify(prompt)}`);
      return pick(random, candidates);
    },
    ...(def.partialPair && {
      partialPair(prompt: string, random: Random) {
        const args = parseOrThrow(prompt);
        const pair = def.partialPair!(args, random);
        const better = checkArgs(args, pair.better), worse = checkArgs(args, pair.worse);
        if (better.correct || worse.correct || !rightIgnoringCase(better) || rightIgnoringCase(worse)) {
          throw new Error(`${def.name}: partial pair for ${JSON.stringify(prompt)} is not a wrong-case response and a wrong one: ${JSON.stringify(pair)}`);
        }
        return pair;
      },
    }),
  };
}
