/**
 * The evaluation driver: sends the items' prompts to a judge in batches and collects k judgment
 * texts per item. The judge is injected (the GPU model in eval.js, a fake in tests), so nothing
 * here needs a GPU.
 *
 * With `savedJudgments`, every judgment is appended to that JSONL file as soon as its batch
 * returns, and items whose k draws are all in the file already are not judged again (resume after
 * a crash or a stop). An item with only some of its draws saved is judged again in full; its new
 * lines come later in the file and replace the old ones on reload. A last line cut short by a
 * crash is removed from the file before appending, so the file stays one valid line per judgment.
 *
 * Every saved line records what it was judged with (`judging`: the model, the decoding settings
 * that change the text, and a hash of the rendered prompt, which covers data, rubric, template and
 * A/B order). Before anything is judged or written, every line of the file for one of this run's
 * items must match this run's setup; a line that differs, or that records nothing (older files),
 * is refused with an error naming the file and the first differing field. Reusing it would credit
 * this run's configuration with another judge's work; judging it again would mix two setups in one
 * file. Lines for other items or the other mode are left alone, as before.
 *
 * Seeds: every judge call gets one seed derived from the run's, and each prompt its item's index
 * in the whole evaluation; draw d of item i samples random stream i * k + d. A judgment depends on
 * its item, not on the batch size or on which items a resume had already.
 */
import { createHash } from 'node:crypto';
import { deriveSeed } from '../data/index.js';
import { closeSync, existsSync, mkdirSync, openSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JudgingItem } from './items.js';
import { formatJudgmentLine, readJudgmentsFile, type JudgmentLineProblem, type JudgmentRecord } from './judgments.js';
import type { DecodingOptions } from './results.js';

/** Names the judge calls' seed among the streams derived from the run's seed. */
const JUDGE_CALL_STREAM = 0x6a756467;

/**
 * k judgment texts per prompt, in prompt order. `items`: each prompt's index in the whole
 * evaluation (default: its index in this call); draw d of item i samples random stream i * k + d.
 */
export type JudgeFn = (prompts: string[], opts: { k: number; seed: number; items?: readonly number[] }) => Promise<string[][]>;

export interface EvaluationProgress {
  /** Items whose judgments are in hand (resumed ones included). */
  done: number;
  total: number;
  /** Items taken from the saved-judgments file rather than judged in this run. */
  resumed: number;
}

export interface RunEvaluationOptions {
  items: readonly JudgingItem[];
  judge: JudgeFn;
  /** Draws per item. */
  k: number;
  /** Prompts per judge call. */
  batchSize: number;
  seed?: number;
  /** JSONL file to append judgments to and to resume from; needs `judging`. */
  savedJudgments?: string;
  /** What the judge runs with: saved with every judgment, and checked before a resume. */
  judging?: JudgingSetup;
  onProgress?: (progress: EvaluationProgress) => void;
}

export interface SavedJudgmentsReport {
  path: string;
  /** Lines of the existing file that could not be read (passed over). */
  problems: JudgmentLineProblem[];
  /** A line cut short by a crash was removed from the end of the file. */
  droppedPartialLine: boolean;
  /** Lines in the file for keys or modes that are not among this run's items (kept in the file). */
  foreignRecords: number;
}

export interface EvaluationRun {
  /** Every judgment of the items: the resumed ones, then the new ones. */
  records: JudgmentRecord[];
  resumedItems: number;
  judgedItems: number;
  judgeCalls: number;
  saved?: SavedJudgmentsReport;
}

/** What the judge generates with, besides the prompt. */
export interface JudgingSetup {
  /** The model folder. */
  model: string;
  decoding: DecodingOptions;
}

/**
 * The `judging` field of a saved line. Top-k and min-p are not here because the GPU judge fixes
 * them (both off); they belong here as soon as they become settings.
 */
export type SavedJudging = {
  model: string;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
  /** sha256 (hex) of the rendered judge input, as the tokenizer receives it. */
  promptSha256: string;
  /** Only when not f32, so that lines saved before --kv-dtype (all f32) still resume. */
  kvCacheDtype?: 'f16';
  /** Only when not f32 (eval.js --weights), likewise. */
  weightsDtype?: 'bf16';
};

export function savedJudgingOf(setup: JudgingSetup, prompt: string): SavedJudging {
  const { temperature, topP, maxNewTokens, seed, kvCacheDtype, weightsDtype } = setup.decoding;
  return {
    model: setup.model, temperature, topP, maxNewTokens, seed, promptSha256: createHash('sha256').update(prompt, 'utf8').digest('hex'),
    ...(kvCacheDtype !== undefined && { kvCacheDtype }),
    ...(weightsDtype !== undefined && { weightsDtype }),
  };
}

/** The first field (in SavedJudging order, then fields only the line has) where a saved line differs from this run. */
function firstDifference(saved: Readonly<Record<string, unknown>>, expected: SavedJudging): string | null {
  for (const [field, value] of Object.entries(expected)) {
    if (!Object.hasOwn(saved, field)) return `'${field}' is absent there, ${JSON.stringify(value)} in this run`;
    if (saved[field] !== value) return `'${field}' is ${JSON.stringify(saved[field])} there, ${JSON.stringify(value)} in this run`;
  }
  const extra = Object.keys(saved).find((field) => !Object.hasOwn(expected, field));
  return extra === undefined ? null : `'${extra}' is ${JSON.stringify(saved[extra])} there and is not a setting of this run`;
}

/** Throws on the first line for one of `items` that was not judged with `setup` (see the file comment). */
function refuseForeignJudgments(path: string, records: readonly JudgmentRecord[], items: readonly JudgingItem[], setup: JudgingSetup): void {
  const itemByKey = new Map(items.map((item) => [item.key, item]));
  const expected = new Map<string, SavedJudging>();
  const advice = 'pass another --save-judgments file to judge with this setup, or run with the setup of that file to resume it';
  for (const record of records) {
    const item = itemByKey.get(record.key);
    if (item === undefined || item.mode !== record.mode) continue; // never reused
    const where = `${path}: the judgment of '${record.key}' (draw ${record.draw})`;
    if (record.judging === undefined) {
      throw new Error(`${where} does not record the model, decoding and prompt it was made with (a file of an older version or of another engine), so it cannot be resumed safely; ${advice}`);
    }
    let mine = expected.get(item.key);
    if (mine === undefined) expected.set(item.key, (mine = savedJudgingOf(setup, item.prompt)));
    const difference = firstDifference(record.judging, mine);
    if (difference !== null) throw new Error(`${where} was made with a different judging setup: ${difference}; ${advice}`);
  }
}

/**
 * Refuses a saved-judgments file that holds judgments of these items made with another setup (or
 * with none recorded), without changing the file. Lets a caller refuse before loading a model.
 */
export function checkSavedJudgments(path: string, items: readonly JudgingItem[], setup: JudgingSetup): void {
  if (existsSync(path)) refuseForeignJudgments(path, readJudgmentsFile(path).records, items, setup);
}

function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
}

interface ResumeState {
  /** Complete items' records, by key. */
  complete: Map<string, JudgmentRecord[]>;
  report: SavedJudgmentsReport;
  missingFinalNewline: boolean;
}

function loadResumeState(path: string, items: readonly JudgingItem[], k: number, setup: JudgingSetup): ResumeState {
  const report: SavedJudgmentsReport = { path, problems: [], droppedPartialLine: false, foreignRecords: 0 };
  const complete = new Map<string, JudgmentRecord[]>();
  if (!existsSync(path)) return { complete, report, missingFinalNewline: false };
  const parsed = readJudgmentsFile(path);
  // Before the cut line is removed: a refused file is left as it was.
  refuseForeignJudgments(path, parsed.records, items, setup);
  if (parsed.partialLastLine) truncateSync(path, parsed.completeBytes);
  report.problems = parsed.problems;
  report.droppedPartialLine = parsed.partialLastLine;

  const modeByKey = new Map(items.map((item) => [item.key, item.mode]));
  const drawsByKey = new Map<string, Map<number, JudgmentRecord>>();
  for (const record of parsed.records) {
    if (modeByKey.get(record.key) !== record.mode) {
      report.foreignRecords++;
      continue;
    }
    let draws = drawsByKey.get(record.key);
    if (draws === undefined) drawsByKey.set(record.key, (draws = new Map()));
    draws.set(record.draw, record); // later lines replace earlier ones
  }
  for (const [key, draws] of drawsByKey) {
    const firstK = Array.from({ length: k }, (_, d) => draws.get(d));
    if (firstK.every((r) => r !== undefined)) complete.set(key, [...draws.values()].sort((a, b) => a.draw - b.draw));
  }
  return { complete, report, missingFinalNewline: parsed.missingFinalNewline };
}

function checkJudgeOutput(output: unknown, batch: readonly JudgingItem[], k: number): string[][] {
  const where = `judge call for items '${batch[0]!.key}' .. '${batch[batch.length - 1]!.key}'`;
  if (!Array.isArray(output) || output.length !== batch.length) {
    throw new Error(`${where}: expected ${batch.length} result lists, got ${Array.isArray(output) ? output.length : typeof output}`);
  }
  output.forEach((texts: unknown, i) => {
    if (!Array.isArray(texts) || texts.length !== k || !texts.every((t) => typeof t === 'string')) {
      throw new Error(`${where}: result ${i} (item '${batch[i]!.key}') must be ${k} strings`);
    }
  });
  return output as string[][];
}

export async function runEvaluation(options: RunEvaluationOptions): Promise<EvaluationRun> {
  const { items, judge, k, batchSize } = options;
  assertPositiveInteger(k, 'k (draws per item)');
  assertPositiveInteger(batchSize, 'batch size');
  // Draw d of item i samples stream i * k + d, a u32: refused here rather than at the first call past it.
  if (items.length * k > 2 ** 32) throw new Error(`runEvaluation: ${items.length} items x k ${k} draws exceed the 2^32 random streams; evaluate fewer items at once or lower k`);
  const seed = options.seed ?? 0;
  const { judging } = options;
  let resume: ResumeState | undefined;
  if (options.savedJudgments !== undefined) {
    if (judging === undefined) {
      throw new Error(`runEvaluation: savedJudgments needs 'judging' (the model and decoding of the judge), which every saved line records so that a resume never reuses another setup's judgments`);
    }
    resume = loadResumeState(options.savedJudgments, items, k, judging);
  }
  const records: JudgmentRecord[] = [];
  const pending: { item: JudgingItem; position: number }[] = [];
  items.forEach((item, position) => {
    const saved = resume?.complete.get(item.key);
    if (saved !== undefined) records.push(...saved);
    else pending.push({ item, position });
  });
  const resumedItems = items.length - pending.length;
  const progress = (done: number) => options.onProgress?.({ done: resumedItems + done, total: items.length, resumed: resumedItems });
  progress(0);

  let fd: number | undefined;
  let judgeCalls = 0;
  try {
    if (options.savedJudgments !== undefined && pending.length > 0) {
      mkdirSync(dirname(options.savedJudgments), { recursive: true });
      fd = openSync(options.savedJudgments, 'a');
      if (resume?.missingFinalNewline) writeSync(fd, '\n');
    }
    for (let start = 0; start < pending.length; start += batchSize) {
      const batch = pending.slice(start, start + batchSize);
      const batchItems = batch.map((p) => p.item);
      const output = await judge(
        batchItems.map((item) => item.prompt),
        // Not the run's seed itself: the GPU judge XORs the call's seed with its decoding seed, which
        // eval.js sets to the same --seed, and would sample every run with seed 0.
        { k, seed: deriveSeed(seed, JUDGE_CALL_STREAM), items: batch.map((p) => p.position) },
      );
      judgeCalls++;
      const texts = checkJudgeOutput(output, batchItems, k);
      const fresh: JudgmentRecord[] = [];
      batchItems.forEach((item, i) => {
        const saved = judging === undefined ? {} : { judging: savedJudgingOf(judging, item.prompt) };
        texts[i]!.forEach((text, draw) => {
          fresh.push(item.mode === 'pairwise' ? { key: item.key, draw, mode: item.mode, order: item.order, ...saved, text } : { key: item.key, draw, mode: item.mode, ...saved, text });
        });
      });
      // One write per batch: a crash leaves at most one cut line, which the reload removes.
      if (fd !== undefined) writeSync(fd, fresh.map(formatJudgmentLine).join(''));
      records.push(...fresh);
      progress(start + batch.length);
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return {
    records,
    resumedItems,
    judgedItems: pending.length,
    judgeCalls,
    ...(resume === undefined ? {} : { saved: resume.report }),
  };
}
