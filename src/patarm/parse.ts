/**
 * Parsing a judge's output into a score (pointwise) or a verdict (pairwise), strictly enough that
 * the format reward can be derived from it. Only the model's own output is parsed; the tags are
 * matched exactly (`<answer>`, `</answer>`, `<think>`, `</think>`, lower case, no spaces), since
 * that is the format the model is trained to produce.
 *
 * Rules, in the order they are checked:
 * 1. Trailing end-of-turn markers (`<|im_end|>`, `<|endoftext|>`, any number, with whitespace)
 *    are dropped. Nothing but whitespace left -> `empty`.
 * 2. Think blocks `<think>...</think>` are set aside (the first `</think>` closes; blocks do not
 *    nest). A `<think>` with no `</think>` after it -> `unclosed_think` (in both modes: an answer
 *    after it would sit inside unfinished reasoning). With thinking on, a `</think>` that comes
 *    before any `<think>` closes reasoning whose opening tag was in the prompt.
 * 3. In the remaining (visible) text there must be exactly one `<answer>`: none -> `no_answer`
 *    (also when `<answer>` appears only inside a think block), several -> `multiple_answers`,
 *    no `</answer>` after it -> `unclosed_answer`, a stray `</answer>` before it ->
 *    `unbalanced_answer_tags`.
 * 4. After `</answer>` only whitespace may follow (checked on the text with think blocks still in
 *    place, so a think block after the answer also fails) -> else `answer_not_at_end`.
 * 5. Pointwise: the trimmed answer must be a plain decimal number, digits with an optional
 *    fractional part (`7`, `7.5`, `007`); a leading `-` is read so that negatives report
 *    `out_of_range`. Rejected as `not_a_number`: `+7`, `.5`, `7.`, `1e3`, `NaN`, `Infinity`, `7/10`
 *    (a fraction's denominator need not match our scale), `**7**`, `Score: 7`, non-ASCII digits.
 *    Outside [minScore, maxScore] -> `out_of_range`.
 *    Pairwise: the trimmed answer must be `A` or `B`, case-insensitive -> else `invalid_verdict`.
 */
import { extractCriteria } from './criteria.js';

export type JudgmentMode = 'pointwise' | 'pairwise';

export type JudgmentErrorCode =
  | 'empty'
  | 'unclosed_think'
  | 'no_answer'
  | 'multiple_answers'
  | 'unclosed_answer'
  | 'unbalanced_answer_tags'
  | 'answer_not_at_end'
  | 'not_a_number'
  | 'out_of_range'
  | 'invalid_verdict';

export interface JudgmentError {
  ok: false;
  error: JudgmentErrorCode;
  detail: string;
}

interface JudgmentParts {
  /** The answer's inner text, trimmed. */
  answerText: string;
  /** The generated criteria when the output has a criteria section (see criteria.ts). */
  criteria?: string[];
  /** Text of the think blocks, joined by blank lines ('' when there was none). */
  reasoning: string;
}

export interface PointwiseJudgment extends JudgmentParts {
  ok: true;
  mode: 'pointwise';
  score: number;
}

export interface PairwiseJudgment extends JudgmentParts {
  ok: true;
  mode: 'pairwise';
  verdict: 'A' | 'B';
}

export type PointwiseParse = PointwiseJudgment | JudgmentError;
export type PairwiseParse = PairwiseJudgment | JudgmentError;

export interface ParseJudgmentOptions {
  /** The judge ran with Qwen3 thinking on (default true, Qwen3's default). */
  thinking?: boolean;
  minScore?: number;
  maxScore?: number;
}

const ANSWER_OPEN = '<answer>';
const ANSWER_CLOSE = '</answer>';
const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const END_MARKERS = ['<|im_end|>', '<|endoftext|>'];
/** Stands for a set-aside think block in the visible text: not whitespace, so text after the
 * answer that is a think block still counts as text. */
const THINK_PLACEHOLDER = '\u0000';
const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;

function fail(error: JudgmentErrorCode, detail: string): JudgmentError {
  return { ok: false, error, detail };
}

function stripEndMarkers(text: string): string {
  let rest = text.trimEnd();
  for (;;) {
    const marker = END_MARKERS.find((m) => rest.endsWith(m));
    if (marker === undefined) return rest;
    rest = rest.slice(0, rest.length - marker.length).trimEnd();
  }
}

function preview(text: string, max = 40): string {
  const flat = text.replaceAll(THINK_PLACEHOLDER, '<think>…</think>');
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

/** Splits off think blocks; the visible text keeps a placeholder where each block was. */
function setAsideThinkBlocks(text: string, thinking: boolean): { visible: string; reasoning: string[] } | JudgmentError {
  const reasoning: string[] = [];
  let visible = '';
  let pos = 0;
  const firstOpen = text.indexOf(THINK_OPEN);
  const firstClose = text.indexOf(THINK_CLOSE);
  if (thinking && firstClose !== -1 && (firstOpen === -1 || firstClose < firstOpen)) {
    reasoning.push(text.slice(0, firstClose));
    visible += THINK_PLACEHOLDER;
    pos = firstClose + THINK_CLOSE.length;
  }
  for (;;) {
    const open = text.indexOf(THINK_OPEN, pos);
    if (open === -1) break;
    const close = text.indexOf(THINK_CLOSE, open + THINK_OPEN.length);
    if (close === -1) return fail('unclosed_think', `<think> at offset ${open} is never closed`);
    visible += text.slice(pos, open) + THINK_PLACEHOLDER;
    reasoning.push(text.slice(open + THINK_OPEN.length, close));
    pos = close + THINK_CLOSE.length;
  }
  visible += text.slice(pos);
  return { visible, reasoning };
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) count++;
  return count;
}

function locateAnswer(raw: string, thinking: boolean): JudgmentParts | JudgmentError {
  const text = stripEndMarkers(raw);
  if (text.trim() === '') return fail('empty', 'the output is empty');
  const split = setAsideThinkBlocks(text, thinking);
  if ('ok' in split) return split;
  const { visible, reasoning } = split;

  const opens = countOccurrences(visible, ANSWER_OPEN);
  if (opens === 0) {
    const onlyInThink = text.includes(ANSWER_OPEN);
    return fail('no_answer', onlyInThink ? '<answer> appears only inside a think block' : 'no <answer> tag');
  }
  if (opens > 1) return fail('multiple_answers', `${opens} <answer> tags outside think blocks`);
  const open = visible.indexOf(ANSWER_OPEN);
  const strayClose = visible.indexOf(ANSWER_CLOSE);
  if (strayClose !== -1 && strayClose < open) {
    return fail('unbalanced_answer_tags', '</answer> appears before <answer>');
  }
  const close = visible.indexOf(ANSWER_CLOSE, open + ANSWER_OPEN.length);
  if (close === -1) return fail('unclosed_answer', '<answer> is never closed');
  const after = visible.slice(close + ANSWER_CLOSE.length);
  if (after.trim() !== '') return fail('answer_not_at_end', `text after </answer>: ${preview(after.trim())}`);

  const before = visible.slice(0, open).replaceAll(THINK_PLACEHOLDER, '\n');
  const criteria = extractCriteria(before);
  return {
    answerText: visible.slice(open + ANSWER_OPEN.length, close).trim(),
    reasoning: reasoning.map((r) => r.trim()).join('\n\n'),
    ...(criteria === undefined ? {} : { criteria }),
  };
}

function readScore(answerText: string, minScore: number, maxScore: number): number | JudgmentError {
  if (answerText === '') return fail('not_a_number', 'the answer is empty');
  if (!PLAIN_DECIMAL.test(answerText)) {
    return fail('not_a_number', `${preview(answerText)} is not a plain decimal number`);
  }
  const score = Number(answerText) + 0; // + 0 turns -0 into 0
  if (!(score >= minScore && score <= maxScore) || !decimalWithin(answerText, minScore, maxScore)) {
    return fail('out_of_range', `${preview(answerText)} is outside [${minScore}, ${maxScore}]`);
  }
  return score;
}

/** Scaled by 10^digits as an exact integer: '10.5' with 2 digits is 1050n. */
function scaledDecimal(text: string, digits: number): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole! + fraction.padEnd(digits, '0'));
  return negative ? -value : value;
}

/**
 * The range check on the written digits: Number() rounds '10.00000000000000001' to 10 and
 * '-0.000...1' to 0, so a score just outside the range would pass a check on the float.
 */
function decimalWithin(text: string, min: number, max: number): boolean {
  const bounds = [String(min), String(max)];
  if (!bounds.every((b) => PLAIN_DECIMAL.test(b))) return true; // bounds like 1e-7: the float check stands
  const fractionDigits = (t: string) => t.split('.')[1]?.length ?? 0;
  const digits = Math.max(...[text, ...bounds].map(fractionDigits));
  const value = scaledDecimal(text, digits);
  return value >= scaledDecimal(bounds[0]!, digits) && value <= scaledDecimal(bounds[1]!, digits);
}

export function parseJudgment(text: string, mode: 'pointwise', options?: ParseJudgmentOptions): PointwiseParse;
export function parseJudgment(text: string, mode: 'pairwise', options?: ParseJudgmentOptions): PairwiseParse;
export function parseJudgment(text: string, mode: JudgmentMode, options?: ParseJudgmentOptions): PointwiseParse | PairwiseParse;
export function parseJudgment(
  text: string,
  mode: JudgmentMode,
  options: ParseJudgmentOptions = {},
): PointwiseParse | PairwiseParse {
  const minScore = options.minScore ?? 0;
  const maxScore = options.maxScore ?? 10;
  if (!Number.isFinite(minScore) || !Number.isFinite(maxScore) || minScore > maxScore) {
    throw new Error(`parseJudgment: invalid score range [${minScore}, ${maxScore}]`);
  }
  const parts = locateAnswer(text, options.thinking ?? true);
  if ('ok' in parts) return parts;

  if (mode === 'pointwise') {
    const score = readScore(parts.answerText, minScore, maxScore);
    if (typeof score !== 'number') return score;
    return { ok: true, mode, score, ...parts };
  }
  const verdict = parts.answerText.toUpperCase();
  if (verdict !== 'A' && verdict !== 'B') {
    return fail('invalid_verdict', `${preview(parts.answerText)} is not A or B`);
  }
  return { ok: true, mode, verdict, ...parts };
}
