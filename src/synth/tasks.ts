/**
 * The synthetic preference family of the default job: rule-checkable problems tagged with the
 * PaTaRM tasks math, code, instruction_following and chat, turned into (prompt, chosen, rejected)
 * pairs whose chosen response is right and whose rejected one is a near miss (or, for the share
 * `partialShare` of the kinds that have them, partial pairs: both wrong, the chosen only in case).
 *
 * Splits are disjoint by prompt: each kind's prompt space is shuffled with the seed and cut into a
 * test, a validation and a train part (in proportion to the requested sizes, at least one prompt
 * for a non-empty test or validation split; train takes the rest), and each split draws its pairs
 * only from its part. Each pair picks a task by `taskWeights`, then a kind of that task with
 * probability proportional to the square root of the kind's prompt count in the split (the 64
 * multiplications would otherwise repeat as often as the 9801 additions; a plain proportional
 * draw would almost never ask them). Within a split a prompt comes back only once its kind's part
 * is used up, usually with another near miss. Everything follows from `seed` and the three sizes.
 *
 * With `heldOutWords: 'made-up'` the kinds that read letters off a quoted word ask the test and
 * validation splits about made-up words (made-up-words.ts), a fresh set for each, and the train
 * split about the vocabulary: no held-out prompt is about a word any training prompt has.
 */
import { deriveSeed, mulberry32, seededPermutation } from '../data/prng.js';
import type { PreferencePair } from '../data/types.js';
import { CHAT_KINDS } from './chat-kinds.js';
import { CODE_KINDS } from './code-kinds.js';
import { INSTRUCTION_KINDS } from './instruction-kinds.js';
import { SYNTH_TASKS, type Random, type ResponseCheck, type SynthKind, type SynthTask } from './kind.js';
import { madeUpWords } from './made-up-words.js';
import { MATH_KINDS } from './math-kinds.js';
import { templateWords } from './template-words.js';
import { WORDS } from './vocabulary.js';

export { SYNTH_TASKS, type ResponseCheck, type SynthKind, type SynthTask } from './kind.js';

export const SYNTH_KINDS: readonly SynthKind[] = [...MATH_KINDS, ...CODE_KINDS, ...INSTRUCTION_KINDS, ...CHAT_KINDS];

/**
 * The kinds the default job trains on: reading one letter (the first or last letter of a word, a
 * Python index into a word, a word that must start or end with a letter), tagged chat, code and
 * instruction_following. Each check is one letter of the prompt against one letter of the reply,
 * which a tiny model learns from scratch in minutes in a way that carries over to held-out prompts.
 * Multi-position kinds (upper-casing, several words starting with a letter) taught it to repeat the
 * expected letter instead of reading the reply (55% held-out after SFT); arithmetic on held-out
 * operands or word knowledge would need far more training. The tiny tokenizer's merges are learnt
 * from these kinds' text.
 */
export const CHARACTER_KINDS = ['first-letter', 'last-letter', 'char-at', 'word-starting-with', 'word-ending-with'] as const;

export interface SynthResponseCheck extends ResponseCheck {
  task: SynthTask;
  /** The kind of problem, e.g. `add`, `reverse`, `words-starting-with`. */
  kind: string;
}

/** The kind a prompt belongs to, or undefined when it is not a synthetic prompt. */
export function findKind(prompt: string): SynthKind | undefined {
  return SYNTH_KINDS.find((kind) => kind.check(prompt, '') !== null);
}

/**
 * The rule that decides whether `response` answers the synthetic `prompt` correctly. Exact-answer
 * kinds compare the response (whitespace collapsed and trimmed) with the answer, character for
 * character. Throws on a prompt that is not from this family.
 */
export function checkResponse(prompt: string, response: string): SynthResponseCheck {
  for (const kind of SYNTH_KINDS) {
    const check = kind.check(prompt, response);
    if (check !== null) return { ...check, task: kind.task, kind: kind.name };
  }
  throw new Error(`checkResponse: not a prompt of the synthetic task family: ${JSON.stringify(prompt)}`);
}

/** A synthetic pair; a `PreferencePair` whose prompt is plain text and whose task is always set. */
export interface SynthPair extends PreferencePair {
  prompt: string;
  task: SynthTask;
  kind: string;
}

export const SPLIT_NAMES = ['test', 'val', 'train'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface SynthSplitOptions {
  seed: number;
  train: number;
  val: number;
  test: number;
  /** Relative frequency of each task (default 1 each); 0 leaves a task out. */
  taskWeights?: Partial<Record<SynthTask, number>>;
  /**
   * Share of the pairs of kinds with partial pairs (first / last letter, char-at) that are partial:
   * both responses wrong, the chosen one only in letter case. Default 0: every chosen is right.
   */
  partialShare?: number;
  /**
   * 'prompt' (default): each kind's prompts are shuffled and cut into the splits, so a test prompt
   * is never a training prompt, but its word may be asked about under another kind ('pear'[0] and
   * the first letter of 'pear'). 'word': the words of the vocabulary are cut into the splits and
   * a prompt goes where its quoted word went, so no test word is asked about in training; prompts
   * without a vocabulary word are cut by prompt as before. A test word can still be a training
   * response: any vocabulary word answers a `word-starting-with` prompt, and the teacher's judgment
   * of it spells the letter asked for (264 SFT rows of seed 0's default data).
   */
  splitBy?: 'prompt' | 'word';
  /**
   * 'vocabulary' (default): every split asks about the vocabulary's words. 'made-up': the test and
   * validation prompts of the kinds that read a quoted word (`promptsAbout`) are about made-up
   * words, one per MADE_UP_PAIRS_PER_WORD pairs of the split, different for each split; the train
   * split gets all of those kinds' vocabulary prompts. Other kinds are split as `splitBy` says.
   */
  heldOutWords?: HeldOutWords;
  /**
   * With heldOutWords 'made-up': made-up words the train split also asks about, beside the
   * vocabulary's (default 0), drawn apart from the held-out splits' words. Their prompts are mixed
   * in with the vocabulary's, so SFT sees some of the held-out kind of word without seeing any
   * held-out word.
   */
  trainMadeUpWords?: number;
  /**
   * With heldOutWords 'made-up': when set, the test and validation splits ask about one pool of
   * this many made-up words instead of a set each, each kind's prompts about them cut between the
   * two splits by prompt (as vocabulary prompts are). A test prompt is then never a validation
   * prompt, but its word is asked about there under other kinds, as the default job's test words
   * are asked about in training.
   */
  sharedHeldOutWords?: number;
}

/** What held-out prompts ask about (SynthSplitOptions.heldOutWords). */
export const HELD_OUT_WORDS = ['vocabulary', 'made-up'] as const;
export type HeldOutWords = (typeof HELD_OUT_WORDS)[number];

/** `text` as a HeldOutWords, or an error naming `what` and the values there are. */
export function parseHeldOutWords(text: unknown, what: string): HeldOutWords {
  if (!HELD_OUT_WORDS.includes(text as HeldOutWords)) throw new Error(`${what} is ${HELD_OUT_WORDS.map((w) => `'${w}'`).join(' or ')}, got ${JSON.stringify(text)}`);
  return text as HeldOutWords;
}

/** Pairs of a held-out split per made-up word it asks about (a word has up to 7 prompts over the letter kinds). */
export const MADE_UP_PAIRS_PER_WORD = 3;

export type SynthSplits = Record<SplitName, SynthPair[]>;

function checkSize(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`makeSplits: ${name} must be a non-negative integer, got ${n}`);
}

/** How many of a kind's `poolSize` prompts each split gets, in SPLIT_NAMES order. */
export function allotPrompts(poolSize: number, sizes: readonly [number, number, number]): [number, number, number] {
  const [test, val, train] = sizes;
  const total = test + val + train;
  if (total === 0) return [0, 0, 0];
  const share = (n: number) => (n === 0 ? 0 : Math.max(1, Math.round((poolSize * n) / total)));
  let testCount = share(test);
  let valCount = share(val);
  // Leave train at least one prompt when it wants pairs; shrink the larger held-out part first,
  // validation on a tie (the test split is the one results are reported on).
  const budget = poolSize - (train > 0 ? 1 : 0);
  while (testCount + valCount > Math.max(budget, 0)) {
    if (valCount >= testCount) valCount--;
    else testCount--;
  }
  return [testCount, valCount, train > 0 ? poolSize - testCount - valCount : 0];
}

function taskWeightsOf(options: SynthSplitOptions): Record<SynthTask, number> {
  const weights = {} as Record<SynthTask, number>;
  for (const task of SYNTH_TASKS) {
    const w = options.taskWeights?.[task] ?? 1;
    if (!Number.isFinite(w) || w < 0) throw new Error(`makeSplits: weight of task '${task}' must be >= 0, got ${w}`);
    weights[task] = w;
  }
  return weights;
}

function weightedPick<T>(random: Random, items: readonly T[], weight: (item: T) => number): T {
  const total = items.reduce((sum, item) => sum + weight(item), 0);
  let r = random() * total;
  for (const item of items) {
    r -= weight(item);
    if (r < 0) return item;
  }
  return items[items.length - 1]!;
}

/** Each kind's prompts, shuffled with the seed and cut into per-split parts. */
function promptParts(seed: number, sizes: readonly [number, number, number], splitBy: 'prompt' | 'word', madeUp: readonly string[][] | undefined, sharedHeldOut: boolean): Map<SynthKind, string[]>[] {
  const parts = SPLIT_NAMES.map(() => new Map<SynthKind, string[]>());
  const add = (s: number, kind: SynthKind, prompt: string) => {
    const list = parts[s]!.get(kind);
    if (list) list.push(prompt);
    else parts[s]!.set(kind, [prompt]);
  };
  const splitOfWord = splitBy === 'word' ? wordSplits(seed, sizes) : new Map<string, number>();
  const shuffled = (prompts: readonly string[], stream: number) => seededPermutation(prompts.length, deriveSeed(seed, stream)).map((i) => prompts[i]!);
  SYNTH_KINDS.forEach((kind, k) => {
    const prompts = kind.prompts();
    const order = shuffled(prompts, 1000 + k);
    if (madeUp && kind.promptsAbout) {
      // Held-out splits ask about their own made-up words; train keeps every vocabulary prompt,
      // mixed with those about its own made-up words when it has any (trainMadeUpWords).
      if (sharedHeldOut) {
        // madeUp[0] is the pool the held-out splits share; its prompts are cut between them.
        const pool = shuffled(madeUp[0]!.flatMap((w) => kind.promptsAbout!(w)), 3000 + 3 * k);
        const [test, val] = allotPrompts(pool.length, [sizes[0], sizes[1], 0]);
        for (const prompt of pool.slice(0, test)) add(0, kind, prompt);
        for (const prompt of pool.slice(test, test + val)) add(1, kind, prompt);
      }
      madeUp.forEach((words, s) => {
        if (sharedHeldOut && SPLIT_NAMES[s] !== 'train') return;
        const madeUpPrompts = words.flatMap((w) => kind.promptsAbout!(w));
        let prompts: readonly string[];
        if (SPLIT_NAMES[s] !== 'train') prompts = shuffled(madeUpPrompts, 3000 + 3 * k + s);
        else if (sizes[s]! === 0) prompts = [];
        // Without made-up words the order is the one from before trainMadeUpWords existed.
        else prompts = words.length === 0 ? order : shuffled([...order, ...madeUpPrompts], 3000 + 3 * k + s);
        for (const prompt of prompts) add(s, kind, prompt);
      });
      return;
    }
    const byPrompt: string[] = [];
    for (const prompt of order) {
      const s = splitOfWord.get(/'([^']+)'/.exec(prompt)?.[1] ?? '');
      if (s === undefined) byPrompt.push(prompt);
      else add(s, kind, prompt);
    }
    const counts = allotPrompts(byPrompt.length, sizes);
    let start = 0;
    counts.forEach((count, s) => {
      for (const prompt of byPrompt.slice(start, start + count)) add(s, kind, prompt);
      start += count;
    });
  });
  return parts;
}

/**
 * The made-up words of each split, in SPLIT_NAMES order, disjoint across splits: one per
 * MADE_UP_PAIRS_PER_WORD pairs of a held-out split, `trainWords` for train (drawn last, so that
 * asking for them leaves the held-out splits' words as they were). With `sharedWords` the test
 * entry holds the pool both held-out splits share and the validation entry is empty.
 */
function madeUpSplitWords(seed: number, sizes: readonly [number, number, number], trainWords: number, sharedWords: number): string[][] {
  const counts = SPLIT_NAMES.map((name, s) => (name === 'train' ? trainWords : sharedWords > 0 ? (name === 'test' ? sharedWords : 0) : Math.ceil(sizes[s]! / MADE_UP_PAIRS_PER_WORD)));
  const words = madeUpWords(deriveSeed(seed, 998), counts.reduce((a, b) => a + b, 0), familyWords());
  let start = 0;
  return counts.map((count) => words.slice(start, (start += count)));
}

let familyWordsCache: Set<string> | undefined;
/** Every lower-cased word of the family's prompts and of its template wording: what a made-up word must not be. */
function familyWords(): Set<string> {
  familyWordsCache ??= new Set([...SYNTH_KINDS.flatMap((kind) => kind.prompts()), ...templateWords(SYNTH_KINDS)].flatMap((text) => text.toLowerCase().match(/[a-z]+/g) ?? []));
  return familyWordsCache;
}

/** The split (index in SPLIT_NAMES) of each vocabulary word, cut in proportion to the split sizes. */
function wordSplits(seed: number, sizes: readonly [number, number, number]): Map<string, number> {
  const order = seededPermutation(WORDS.length, deriveSeed(seed, 999));
  const splitOf = new Map<string, number>();
  let start = 0;
  allotPrompts(WORDS.length, sizes).forEach((count, s) => {
    for (const i of order.slice(start, start + count)) splitOf.set(WORDS[i]!, s);
    start += count;
  });
  return splitOf;
}

function drawSplit(
  name: SplitName,
  size: number,
  part: Map<SynthKind, string[]>,
  weights: Record<SynthTask, number>,
  partialShare: number,
  random: Random,
): SynthPair[] {
  const tasks = SYNTH_TASKS.filter((t) => weights[t] > 0 && [...part.keys()].some((k) => k.task === t));
  if (size > 0 && tasks.length === 0) throw new Error(`makeSplits: no prompts left for the ${name} split`);
  const cursors = new Map<SynthKind, number>();
  const pairs: SynthPair[] = [];
  for (let i = 0; i < size; i++) {
    const task = weightedPick(random, tasks, (t) => weights[t]);
    const kind = weightedPick(
      random,
      [...part.keys()].filter((k) => k.task === task),
      (k) => Math.sqrt(part.get(k)!.length),
    );
    const prompts = part.get(kind)!;
    const cursor = cursors.get(kind) ?? 0;
    cursors.set(kind, cursor + 1);
    const prompt = prompts[cursor % prompts.length]!;
    // Drawn only when it can matter, so a share of 0 leaves the random stream, and every pair, as
    // it was before partial pairs existed.
    const partial = kind.partialPair !== undefined && partialShare > 0 && random() < partialShare;
    const { better: chosen, worse: rejected } = partial
      ? kind.partialPair!(prompt, random)
      : { better: kind.correctResponse(prompt, random), worse: kind.wrongResponse(prompt, random) };
    pairs.push({ id: `synth-${name}-${i}`, prompt, chosen, rejected, task, kind: kind.name, source: 'synth' });
  }
  return pairs;
}

/**
 * Disjoint train / validation / held-out test pairs: no prompt appears in two splits. Pair ids are
 * `synth-{split}-{index}`.
 */
export function makeSplits(options: SynthSplitOptions): SynthSplits {
  const { seed } = options;
  const sizes = [options.test, options.val, options.train] as const;
  SPLIT_NAMES.forEach((name, s) => checkSize(name, sizes[s]));
  const weights = taskWeightsOf(options);
  if (SYNTH_TASKS.every((t) => weights[t] === 0)) throw new Error('makeSplits: every task weight is 0');
  const partialShare = options.partialShare ?? 0;
  if (!(partialShare >= 0 && partialShare <= 1)) throw new Error(`makeSplits: partialShare must be in [0, 1], got ${partialShare}`);
  const heldOutWords = parseHeldOutWords(options.heldOutWords ?? 'vocabulary', 'makeSplits: heldOutWords');
  const trainMadeUpWords = options.trainMadeUpWords ?? 0;
  if (!Number.isInteger(trainMadeUpWords) || trainMadeUpWords < 0) throw new Error(`makeSplits: trainMadeUpWords must be a non-negative integer, got ${trainMadeUpWords}`);
  if (trainMadeUpWords > 0 && heldOutWords !== 'made-up') throw new Error(`makeSplits: trainMadeUpWords needs heldOutWords 'made-up', got '${heldOutWords}'`);
  const sharedWords = options.sharedHeldOutWords ?? 0;
  if (!Number.isInteger(sharedWords) || sharedWords < 0) throw new Error(`makeSplits: sharedHeldOutWords must be a non-negative integer, got ${sharedWords}`);
  if (sharedWords > 0 && heldOutWords !== 'made-up') throw new Error(`makeSplits: sharedHeldOutWords needs heldOutWords 'made-up', got '${heldOutWords}'`);
  const madeUp = heldOutWords === 'made-up' ? madeUpSplitWords(seed, sizes, trainMadeUpWords, sharedWords) : undefined;
  const parts = promptParts(seed, sizes, options.splitBy ?? 'prompt', madeUp, sharedWords > 0);
  const splits = {} as SynthSplits;
  SPLIT_NAMES.forEach((name, s) => {
    splits[name] = drawSplit(name, sizes[s], parts[s]!, weights, partialShare, mulberry32(deriveSeed(seed, s + 1)));
  });
  return splits;
}
