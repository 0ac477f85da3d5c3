/**
 * A rule-based teacher for the synthetic family: it writes the judgment the model must learn to
 * produce for ONE (prompt, response), in the layout `parseJudgment` accepts (no think block):
 *
 *   88 ok, 56 no; wrong
 *   Criteria:
 *   - exact number
 *   <answer>1</answer>
 *
 * The first line recomputes the answer with the task's rule and compares it with the response
 * position by position: each item is the expected character, the response's character (`_` where
 * one side is shorter) and ` ok` or ` no`; the verdict follows. (For "Write 3 words starting with
 * 'b'." and "bat cow bus" it reads `bb ok, bc no, bb ok; wrong`.) The criteria section is one
 * short criterion line per task (TEACHER_CRITERIA); the score is high for a correct response and
 * low for a wrong one.
 *
 * Why position by position rather than "expected 85; got 86": each comparison is between two
 * neighbouring tokens instead of two strings written apart, each position is one more comparison
 * to learn from, and the verdict only has to notice a ` no`. (On the default job it did about as
 * well as the older line at the same step count: 55% against 53% held-out after SFT, seed 0.)
 *
 * Noise model (seeded, so the same options give the same judgments): with probability
 * `flipProbability` the teacher states the opposite verdict and scores by it (the comparison line
 * still shows what it computed, as a careless grader's would); the score is the verdict's base
 * score moved by a uniform integer in [-jitter, +jitter], clamped to [0, 10]. Each judgment draws
 * from its own stream, derived from the seed and a key (by default the prompt and response), so a
 * judgment does not depend on which others were made before it.
 *
 * `ignoreCase` makes a *systematic* error rather than noise: the teacher compares letters without
 * regard to case, so it writes `pP ok; correct` for `P` where `p` is asked. Random noise is what a
 * judge trained on many judgments averages away; a blind spot like this one it learns, and only
 * the preference labels (which know a case slip is wrong) can correct it.
 */
import { deriveSeed, mulberry32 } from '../data/prng.js';
import { neutraliseTemplateTags } from '../patarm/sanitize.js';
import { rightIgnoringCase, type SynthTask } from './kind.js';
import { TEACHER_CRITERIA } from './judgment-words.js';
import { checkResponse } from './tasks.js';

export { JUDGMENT_WORDS, TEACHER_CRITERIA } from './judgment-words.js';

export interface TeacherNoise {
  /** Scores move by a uniform integer in [-jitter, +jitter] (a non-negative integer). */
  jitter: number;
  /** Probability in [0, 1] that the stated verdict is the opposite of the rule's. */
  flipProbability: number;
}

export interface TeacherOptions {
  seed?: number;
  noise?: Partial<TeacherNoise>;
  /** Base score of a response judged correct (default 9) and of one judged wrong (default 1). */
  correctScore?: number;
  wrongScore?: number;
  /** Compare letters without regard to case (a lenient grader's blind spot; default false). */
  ignoreCase?: boolean;
  /**
   * Probability in [0, 1] that a judgment writes its comparison line (default 1). Otherwise the
   * judgment states the verdict straight away, as a terse grader's would: right as often (the
   * teacher still knows the rule), but with no reading written out for a judge to learn from.
   */
  traceProbability?: number;
}

export interface TeacherJudgeOptions extends TeacherOptions {
  /** Names the judgment's random stream; default: the prompt and the response. */
  key?: string;
}

export type TeacherVerdict = 'correct' | 'wrong';

export interface TeacherJudgment {
  /** The judgment text, ending in `<answer>score</answer>`. */
  text: string;
  score: number;
  /** What the rule says about the response. */
  correct: boolean;
  /** The verdict the teacher wrote; differs from the rule when `flipped`, or for a case slip with `ignoreCase`. */
  verdict: TeacherVerdict;
  flipped: boolean;
}

export const DEFAULT_TEACHER_NOISE: Readonly<TeacherNoise> = { jitter: 1, flipProbability: 0.05 };
export const DEFAULT_CORRECT_SCORE = 9;
export const DEFAULT_WRONG_SCORE = 1;

/** Most positions the comparison line lists; a longer trace ends in `…`. */
const MAX_COMPARED_POSITIONS = 16;

/** FNV-1a: turns the key into a stream number for deriveSeed. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function resolveNoise(options: TeacherOptions): TeacherNoise {
  const noise = { ...DEFAULT_TEACHER_NOISE, ...options.noise };
  if (!Number.isInteger(noise.jitter) || noise.jitter < 0) {
    throw new Error(`teacher: jitter must be a non-negative integer, got ${noise.jitter}`);
  }
  if (!(noise.flipProbability >= 0 && noise.flipProbability <= 1)) {
    throw new Error(`teacher: flipProbability must be in [0, 1], got ${noise.flipProbability}`);
  }
  return noise;
}

/** A base score the judgment can state: an integer on the 0-10 scale (NaN would be written as it is). */
function baseScore(value: number | undefined, fallback: number, name: string): number {
  const score = value ?? fallback;
  if (!Number.isInteger(score) || score < 0 || score > 10) throw new Error(`teacher: ${name} must be an integer in 0..10, got ${score}`);
  return score;
}

/** One character of a trace as the comparison line shows it: no template tags, no whitespace. */
function showChar(c: string | undefined): string {
  if (c === undefined) return '_';
  if (/\s/.test(c)) return '~';
  return neutraliseTemplateTags(c);
}

/**
 * `ee ok, et no, _x no`: per position the expected character, the observed one and whether they
 * agree (with `ignoreCase`, `pP` agrees). A position where either side has run out never agrees.
 */
export function comparePositions(expected: string, got: string, ignoreCase = false): string {
  const e = [...expected];
  const g = [...got.replace(/\s+/g, ' ')];
  const n = Math.max(e.length, g.length);
  if (n === 0) return '__ ok';
  const fold = (c: string) => (ignoreCase ? c.toLowerCase() : c);
  const items = Array.from({ length: Math.min(n, MAX_COMPARED_POSITIONS) }, (_, k) => {
    const same = e[k] !== undefined && g[k] !== undefined && fold(e[k]) === fold(g[k]);
    return `${showChar(e[k])}${showChar(g[k])} ${same ? 'ok' : 'no'}`;
  });
  return items.join(', ') + (n > MAX_COMPARED_POSITIONS ? ', …' : '');
}

export interface ComparedPosition {
  expected: string;
  got: string;
  /** What the judgment said about the position; right when it is `ok` exactly if the two agree. */
  said: 'ok' | 'no';
}

/**
 * The positions a judgment's comparison line lists (the inverse of comparePositions), read from
 * the text before the first `;`. Items that are not `xy ok` / `xy no` (a sampled judgment may
 * garble some) are left out, as is the `…` of a cut trace.
 */
export function readComparedPositions(judgment: string): ComparedPosition[] {
  const trace = judgment.split('\n', 1)[0]!.split(';', 1)[0]!;
  return trace.split(', ').flatMap((item) => {
    const m = /^(\S)(\S) (ok|no)$/u.exec(item);
    return m ? [{ expected: m[1]!, got: m[2]!, said: m[3] as 'ok' | 'no' }] : [];
  });
}

export function formatJudgment(expected: string, got: string, verdict: TeacherVerdict, criterion: string, score: number, ignoreCase = false, traced = true): string {
  const reading = traced ? `${comparePositions(expected, got, ignoreCase)}; ` : '';
  return `${reading}${verdict}\nCriteria:\n- ${criterion}\n<answer>${score}</answer>`;
}

export function teacherJudge(prompt: string, response: string, options: TeacherJudgeOptions = {}): TeacherJudgment {
  const noise = resolveNoise(options);
  const check = checkResponse(prompt, response);
  const random = mulberry32(deriveSeed(options.seed ?? 0, hashKey(options.key ?? `${prompt}\u0000${response}`)));
  const flipped = random() < noise.flipProbability;
  const ruleSaysCorrect = options.ignoreCase ? rightIgnoringCase(check) : check.correct;
  const judgedCorrect = ruleSaysCorrect !== flipped;
  const base = judgedCorrect ? baseScore(options.correctScore, DEFAULT_CORRECT_SCORE, 'correctScore') : baseScore(options.wrongScore, DEFAULT_WRONG_SCORE, 'wrongScore');
  const offset = Math.floor(random() * (2 * noise.jitter + 1)) - noise.jitter;
  const score = Math.min(10, Math.max(0, base + offset));
  const traceProbability = options.traceProbability ?? 1;
  if (!(traceProbability >= 0 && traceProbability <= 1)) throw new Error(`teacher: traceProbability must be in [0, 1], got ${traceProbability}`);
  // Drawn last, so that the default (always traced) leaves every other draw as it was.
  const traced = traceProbability >= 1 || random() < traceProbability;
  const verdict: TeacherVerdict = judgedCorrect ? 'correct' : 'wrong';
  return {
    text: formatJudgment(check.expected, check.got, verdict, TEACHER_CRITERIA[check.task], score, options.ignoreCase, traced),
    score,
    correct: check.correct,
    verdict,
    flipped,
  };
}

export interface TeacherPairInput {
  id: string;
  prompt: string;
  chosen: string;
  rejected: string;
}

/** Both judgments of a pair; the fields `filterByTeacherMargin` (src/data) reads are the scores. */
export interface TeacherPairJudgment {
  chosenJudgment: string;
  rejectedJudgment: string;
  chosenScore: number;
  rejectedScore: number;
  chosenFlipped: boolean;
  rejectedFlipped: boolean;
}

/**
 * Judges both responses of a pair. The random streams are keyed by pair id, prompt and side, so
 * two data sets that reuse ids (`synth-train-0` for every seed) still get independent noise.
 */
export function teacherJudgePair(pair: TeacherPairInput, options: TeacherOptions = {}): TeacherPairJudgment {
  const key = (side: string) => `${pair.id}\u0000${pair.prompt}\u0000${side}`;
  const chosen = teacherJudge(pair.prompt, pair.chosen, { ...options, key: key('chosen') });
  const rejected = teacherJudge(pair.prompt, pair.rejected, { ...options, key: key('rejected') });
  return {
    chosenJudgment: chosen.text,
    rejectedJudgment: rejected.text,
    chosenScore: chosen.score,
    rejectedScore: rejected.score,
    chosenFlipped: chosen.flipped,
    rejectedFlipped: rejected.flipped,
  };
}
