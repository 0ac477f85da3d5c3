/**
 * Judgment files (JSONL, one judgment per line), as this engine saves them and as other engines
 * may write them.
 *
 * Saved form (written by `--save-judgments`): `{key, draw, mode, order?, judging, text}`; `key` is
 * the item key (items.ts), `draw` counts from 0, `order` is present for pairwise judgments, and
 * `judging` says what made the text: `{model, temperature, topP, maxNewTokens, seed, promptSha256}`
 * (judge.ts checks it before a resume reuses the line; scoring ignores it).
 * Also accepted, for judgments produced elsewhere:
 * - `id` plus `side` ('chosen' | 'rejected', and `index` for RM-Bench styles) instead of `key`
 *   for pointwise judgments; `id` plus `order` (and `chosenIndex`, `rejectedIndex` for RM-Bench)
 *   for pairwise ones;
 * - `judgment` instead of `text`;
 * - no `draw`: lines of the same key are numbered 0, 1, ... in file order;
 * - no `mode`: pairwise when there is an `order`, pointwise when there is a `side`, else the
 *   mode of the run.
 * A later line for the same (key, draw) replaces an earlier one (a re-judged item appends its new
 * draws). Lines that cannot be read are reported with their line number and passed over. A last
 * line with no newline that is not JSON is a write cut short (a crash mid-append): it is dropped
 * and said so, never an error.
 */
import { readFileSync } from 'node:fs';
import { pairwiseKey, pointwiseKey, PAIR_ORDERS, type EvalMode, type PairOrder } from './items.js';

export interface JudgmentRecord {
  key: string;
  draw: number;
  mode: EvalMode;
  /** Pairwise only: the A/B order the judge saw. */
  order?: PairOrder;
  /**
   * What the text was judged with (a SavedJudging when this engine wrote it). Kept as read, field
   * by field, so a resume can name the first field that differs; absent in files of other engines
   * and of older versions.
   */
  judging?: Readonly<Record<string, unknown>>;
  text: string;
}

export interface JudgmentLineProblem {
  line: number;
  reason: string;
}

export interface ParsedJudgmentLines {
  records: JudgmentRecord[];
  problems: JudgmentLineProblem[];
  /** The last line was cut short (no newline, not JSON) and was dropped. */
  partialLastLine: boolean;
  /** Bytes of the text that end with the last complete line: what remains after dropping a partial line. */
  completeBytes: number;
  /** The kept text does not end in a newline, so an append must start with one. */
  missingFinalNewline: boolean;
}

export interface ParseJudgmentLinesOptions {
  /** Mode of lines that neither state nor imply one. */
  defaultMode?: EvalMode;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function readExampleId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

type LineOutcome = { record: Omit<JudgmentRecord, 'draw'>; draw?: number } | { reason: string };

function readLine(value: unknown, defaultMode: EvalMode | undefined): LineOutcome {
  if (!isRecord(value)) return { reason: 'expected a JSON object' };
  const text = value['text'] ?? value['judgment'];
  if (typeof text !== 'string') return { reason: `missing judgment text (a string field 'text' or 'judgment'); found fields [${Object.keys(value).join(', ')}]` };

  const orderValue = value['order'];
  let mode: EvalMode | undefined;
  if (value['mode'] !== undefined) {
    if (value['mode'] !== 'pointwise' && value['mode'] !== 'pairwise') return { reason: `'mode' must be 'pointwise' or 'pairwise', found ${JSON.stringify(value['mode'])}` };
    mode = value['mode'];
  } else if (orderValue !== undefined) mode = 'pairwise';
  else if (value['side'] !== undefined) mode = 'pointwise';
  else mode = defaultMode;
  if (mode === undefined) return { reason: `no 'mode', 'order' or 'side' says whether the judgment is pointwise or pairwise` };

  let order: PairOrder | undefined;
  if (mode === 'pairwise') {
    if (!PAIR_ORDERS.includes(orderValue as PairOrder)) {
      return { reason: `a pairwise judgment needs 'order': 'chosen-rejected' (A = chosen) or 'rejected-chosen' (A = rejected); found ${JSON.stringify(orderValue)}` };
    }
    order = orderValue as PairOrder;
  }

  let key: string;
  if (typeof value['key'] === 'string' && value['key'] !== '') {
    key = value['key'];
  } else {
    const id = readExampleId(value['id']);
    if (id === undefined) return { reason: `no 'key' and no 'id' naming the example` };
    if (mode === 'pointwise') {
      const side = value['side'];
      if (side !== 'chosen' && side !== 'rejected') return { reason: `a pointwise judgment given by 'id' needs 'side': 'chosen' or 'rejected', found ${JSON.stringify(side)}` };
      const index = value['index'];
      if (index !== undefined && !isIndex(index)) return { reason: `'index' must be a non-negative integer, found ${JSON.stringify(index)}` };
      key = pointwiseKey(id, side, index ?? null);
    } else {
      const chosenIndex = value['chosenIndex'];
      const rejectedIndex = value['rejectedIndex'];
      if (chosenIndex === undefined && rejectedIndex === undefined) key = pairwiseKey(id, null);
      else if (isIndex(chosenIndex) && isIndex(rejectedIndex)) key = pairwiseKey(id, { chosenIndex, rejectedIndex });
      else return { reason: `'chosenIndex' and 'rejectedIndex' must both be non-negative integers` };
    }
  }

  const draw = value['draw'];
  if (draw !== undefined && !isIndex(draw)) return { reason: `'draw' must be a non-negative integer, found ${JSON.stringify(draw)}` };
  // Only a resume reads `judging`, and it refuses a line without one; other engines' files may use
  // the name for something else, which must not cost them the line.
  const judging = isRecord(value['judging']) ? value['judging'] : undefined;
  return {
    record: { key, mode, ...(order === undefined ? {} : { order }), ...(judging === undefined ? {} : { judging }), text },
    ...(draw === undefined ? {} : { draw }),
  };
}

export function parseJudgmentLines(text: string, options: ParseJudgmentLinesOptions = {}): ParsedJudgmentLines {
  const records: JudgmentRecord[] = [];
  const problems: JudgmentLineProblem[] = [];
  const drawsSeen = new Map<string, number>();
  const lines = text.split('\n');
  // After a final newline, split leaves '' behind; otherwise the last element is an unfinished line.
  const tail = lines.pop() ?? '';
  let partialLastLine = false;
  if (tail.trim() !== '') {
    try {
      JSON.parse(tail);
      lines.push(tail);
    } catch {
      partialLastLine = true;
    }
  }
  for (const [i, raw] of lines.entries()) {
    const line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      problems.push({ line: i + 1, reason: `not valid JSON (${(err as Error).message})` });
      continue;
    }
    const outcome = readLine(value, options.defaultMode);
    if ('reason' in outcome) {
      problems.push({ line: i + 1, reason: outcome.reason });
      continue;
    }
    const implicitDraw = drawsSeen.get(outcome.record.key) ?? 0;
    const draw = outcome.draw ?? implicitDraw;
    drawsSeen.set(outcome.record.key, Math.max(implicitDraw, draw + 1));
    records.push({ ...outcome.record, draw });
  }
  const kept = partialLastLine ? text.slice(0, text.length - tail.length) : text;
  return {
    records,
    problems,
    partialLastLine,
    completeBytes: Buffer.byteLength(kept, 'utf8'),
    missingFinalNewline: kept !== '' && !kept.endsWith('\n'),
  };
}

export function readJudgmentsFile(path: string, options: ParseJudgmentLinesOptions = {}): ParsedJudgmentLines {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read judgments file ${path}: ${(err as Error).message}`);
  }
  return parseJudgmentLines(text, options);
}

/** One saved line, newline included; the long text last, so the line reads from its start. */
export function formatJudgmentLine(record: JudgmentRecord): string {
  const { key, draw, mode, order, judging, text } = record;
  return `${JSON.stringify({ key, draw, mode, ...(order === undefined ? {} : { order }), ...(judging === undefined ? {} : { judging }), text })}\n`;
}

/** Problems as short lines for the terminal, at most `max` of them. */
export function describeLineProblems(file: string, problems: readonly JudgmentLineProblem[], max = 5): string[] {
  const shown = problems.slice(0, max).map((p) => `${file} line ${p.line}: ${p.reason}`);
  if (problems.length > max) shown.push(`... and ${problems.length - max} more`);
  return shown;
}
