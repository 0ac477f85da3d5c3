/**
 * Benchmark files -> examples to judge. One example has a prompt, its chosen and rejected
 * responses (one each for RewardBench and plain pairs; three each, by style, for RM-Bench), the
 * label results are grouped by, and the PaTaRM task whose rubric judges it.
 *
 * Row shapes:
 * - rewardbench: `{prompt, chosen, rejected, subset, id}` (strings; message lists are accepted
 *   as by the pair loaders). group = subset; task from the subset (patarm.md section 5 mapping).
 * - rmbench: `{id, prompt, chosen: [3 strings], rejected: [3 strings], domain}`, styles in the
 *   order concise, detailed plain, detailed markdown. group = domain; task from the domain.
 * - pairs: any pair shape the training loaders accept; group = task = the detected task.
 * Rows that cannot be used (missing responses, wrong types, duplicate ids) are skipped and listed
 * with file, line/row and reason. A file in which no row is usable is an error, and the message
 * says which format the rows look like when it is not the one asked for.
 */
import { basename } from 'node:path';
import {
  PairDataError,
  collectPairs,
  describeLocation,
  type DecodedRecord,
  type PairFileFormat,
  type PairLayout,
  type PairPrompt,
  type PreferencePair,
  type RecordLocation,
  type SkippedRecord,
} from '../data/index.js';
import { detectTask, type TaskType } from '../patarm/index.js';
import { readBenchmarkRecords } from './benchmark-records.js';
import { rewardBenchSubset } from './rewardbench-sections.js';
import { RMBENCH_STYLES, rmBenchDomain } from './rmbench-domains.js';

export const BENCHMARK_FORMATS = ['rewardbench', 'rmbench', 'pairs'] as const;
export type BenchmarkFormat = (typeof BENCHMARK_FORMATS)[number];

export interface BenchmarkExample {
  id: string;
  prompt: PairPrompt;
  /** One response, or RM-Bench's three in style order (see RMBENCH_STYLES). */
  chosen: string[];
  rejected: string[];
  /** RewardBench subset, RM-Bench domain, or the detected task of a plain pair. */
  group: string;
  task: TaskType;
}

export interface LoadedBenchmark {
  file: string;
  format: BenchmarkFormat;
  fileFormat: PairFileFormat;
  examples: BenchmarkExample[];
  skipped: SkippedRecord[];
  /** File-level observations worth a line on the terminal (unknown subsets, assumed tasks, ...). */
  warnings: string[];
}

const NO_GROUP = '(none)';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function readId(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function generatedId(location: RecordLocation): string {
  const name = basename(location.file);
  return location.line !== undefined ? `${name}:${location.line}` : `${name}:${location.row ?? 0}`;
}

const IDS_SHOWN = 3;

/**
 * Unknown group labels with how many examples carry each and the ids of the first few, so the
 * rows can be found: `'weird' (2: ids 'a', 'b')`, `no 'subset' (1: id 'c')`.
 */
function describeGroups(examples: readonly BenchmarkExample[], field: string): string {
  const ids = new Map<string, string[]>();
  for (const e of examples) {
    const list = ids.get(e.group);
    if (list === undefined) ids.set(e.group, [e.id]);
    else list.push(e.id);
  }
  return [...ids].map(([group, list]) => {
    const shown = list.slice(0, IDS_SHOWN).map((id) => `'${id}'`).join(', ') + (list.length > IDS_SHOWN ? ', ...' : '');
    return `${group === NO_GROUP ? `no '${field}'` : `'${group}'`} (${list.length}: id${list.length > 1 ? 's' : ''} ${shown})`;
  }).join(', ');
}

function rewardBenchExamples(pairs: readonly PreferencePair[], warnings: string[]): BenchmarkExample[] {
  const examples = pairs.map((pair): BenchmarkExample => {
    const subset = pair.subset?.trim() || NO_GROUP;
    const detection = detectTask({ subset: pair.subset });
    return { id: pair.id, prompt: pair.prompt, chosen: [pair.chosen], rejected: [pair.rejected], group: subset, task: detection.task };
  });
  const unknown = examples.filter((e) => rewardBenchSubset(e.group) === null);
  if (unknown.length > 0) {
    warnings.push(
      `${unknown.length} example(s) have no RewardBench subset: ${describeGroups(unknown, 'subset')}; ` +
        `they are scored under "other" and left out of the sections`,
    );
  }
  return examples;
}

function plainPairExamples(pairs: readonly PreferencePair[], warnings: string[]): BenchmarkExample[] {
  let assumed = 0;
  const examples = pairs.map((pair): BenchmarkExample => {
    const detection = detectTask(pair);
    if (detection.fallback) assumed++;
    return { id: pair.id, prompt: pair.prompt, chosen: [pair.chosen], rejected: [pair.rejected], group: detection.task, task: detection.task };
  });
  if (assumed > 0) warnings.push(`${assumed} pair(s) carry no recognisable task/subset/domain/ability label; judged as 'chat'`);
  return examples;
}

function readStyledResponses(value: unknown, field: string): string[] | string {
  if (value === undefined || value === null) return `missing field '${field}'`;
  if (!Array.isArray(value)) {
    return `'${field}' must be a list of ${RMBENCH_STYLES.length} strings (${RMBENCH_STYLES.join(', ')}), found ${typeName(value)}`;
  }
  if (value.length !== RMBENCH_STYLES.length) {
    return `'${field}' has ${value.length} responses; expected ${RMBENCH_STYLES.length} (${RMBENCH_STYLES.join(', ')})`;
  }
  for (const [i, response] of value.entries()) {
    if (typeof response !== 'string') return `'${field}[${i}]' (${RMBENCH_STYLES[i]}) must be a string, found ${typeName(response)}`;
    if (response.trim() === '') return `'${field}[${i}]' (${RMBENCH_STYLES[i]}) is empty`;
  }
  return value as string[];
}

type RmBenchOutcome = { ok: true; example: BenchmarkExample } | { ok: false; reason: string };

function rmBenchExampleFromRecord(record: unknown, defaultId: string): RmBenchOutcome {
  if (!isRecord(record)) return { ok: false, reason: `expected an object {id, prompt, chosen: [3], rejected: [3], domain}, found ${typeName(record)}` };
  const prompt = record['prompt'];
  if (typeof prompt !== 'string' || prompt.trim() === '') {
    return { ok: false, reason: prompt === undefined ? `missing field 'prompt' (found fields [${Object.keys(record).join(', ')}])` : `'prompt' must be a non-empty string` };
  }
  const chosen = readStyledResponses(record['chosen'], 'chosen');
  if (typeof chosen === 'string') return { ok: false, reason: chosen };
  const rejected = readStyledResponses(record['rejected'], 'rejected');
  if (typeof rejected === 'string') return { ok: false, reason: rejected };
  const rawDomain = record['domain'];
  if (rawDomain !== undefined && rawDomain !== null && typeof rawDomain !== 'string') return { ok: false, reason: `'domain' must be a string, found ${typeName(rawDomain)}` };
  const domain = typeof rawDomain === 'string' && rawDomain.trim() !== '' ? rawDomain.trim() : NO_GROUP;
  const task = detectTask({ domain }).task;
  return { ok: true, example: { id: readId(record['id']) ?? defaultId, prompt, chosen, rejected, group: domain, task } };
}

function rmBenchExamples(records: readonly DecodedRecord[], skipped: SkippedRecord[], warnings: string[]): BenchmarkExample[] {
  const examples: BenchmarkExample[] = [];
  const firstSeen = new Map<string, RecordLocation>();
  const skip = (location: RecordLocation, reason: string) => skipped.push({ location, where: describeLocation(location), reason });
  for (const decoded of records) {
    if ('decodeError' in decoded) {
      skip(decoded.location, decoded.decodeError);
      continue;
    }
    const outcome = rmBenchExampleFromRecord(decoded.record, generatedId(decoded.location));
    if (!outcome.ok) {
      skip(decoded.location, outcome.reason);
      continue;
    }
    const earlier = firstSeen.get(outcome.example.id);
    if (earlier !== undefined) {
      skip(decoded.location, `duplicate id '${outcome.example.id}' (first seen at ${describeLocation(earlier)})`);
      continue;
    }
    firstSeen.set(outcome.example.id, decoded.location);
    examples.push(outcome.example);
  }
  const unknown = examples.filter((e) => rmBenchDomain(e.group) === null);
  if (unknown.length > 0) {
    warnings.push(`${unknown.length} example(s) have no RM-Bench domain: ${describeGroups(unknown, 'domain')}; they are scored under "other" and left out of the overall`);
  }
  return examples;
}

/** What the rows look like, to explain a mismatch with the requested format. */
function sniffFormat(records: readonly DecodedRecord[]): BenchmarkFormat | null {
  const first = records.find((r): r is { location: RecordLocation; record: unknown } => 'record' in r && isRecord(r.record));
  if (first === undefined || !isRecord(first.record)) return null;
  const chosen = first.record['chosen'];
  if (Array.isArray(chosen) && chosen.length > 0 && chosen.every((c) => typeof c === 'string')) return 'rmbench';
  if (typeof chosen === 'string' || Array.isArray(chosen)) return 'subset' in first.record ? 'rewardbench' : 'pairs';
  return null;
}

/**
 * `layout` row-pairs reads `--format pairs` from a file of one response per row (rows 2k and 2k+1
 * one pair's chosen and rejected response; data/row-pairs.ts); the benchmarks have their own layouts.
 */
export function benchmarkFromRecords(
  records: readonly DecodedRecord[],
  format: BenchmarkFormat,
  file: string,
  fileFormat: PairFileFormat,
  layout: PairLayout = 'pairs',
): LoadedBenchmark {
  if (layout !== 'pairs' && format !== 'pairs') throw new PairDataError({ file }, `layout ${layout} is for --format pairs; ${format} files hold one example per row`);
  const warnings: string[] = [];
  let skipped: SkippedRecord[] = [];
  let examples: BenchmarkExample[];
  if (format === 'rmbench') {
    examples = rmBenchExamples(records, skipped, warnings);
  } else {
    const collected = collectPairs(records, { onBadRow: 'skip', keepIdenticalResponses: true, layout });
    skipped = collected.skipped;
    examples = format === 'rewardbench' ? rewardBenchExamples(collected.pairs, warnings) : plainPairExamples(collected.pairs, warnings);
    if (format === 'rewardbench' && examples.length > 0 && !collected.fieldsFound.includes('subset')) {
      warnings.push(`no row has a 'subset' field, so no RewardBench section can be scored (for plain preference pairs use --format pairs)`);
    }
  }
  if (examples.length === 0) {
    if (records.length === 0) throw new PairDataError({ file }, 'the file holds no rows');
    const looksLike = sniffFormat(records);
    const hint =
      looksLike !== null && looksLike !== format && !(looksLike === 'pairs' && format === 'rewardbench')
        ? `; the rows look like ${looksLike === 'rmbench' ? 'RM-Bench (chosen/rejected are lists of strings): use --format rmbench' : 'RewardBench/preference pairs (chosen/rejected are single responses): use --format rewardbench or pairs'}`
        : '';
    const reasons = skipped.slice(0, 3).map((s) => `${s.where}: ${s.reason}`).join('; ');
    throw new PairDataError({ file }, `no usable ${format} row in ${records.length} row(s)${hint}. First problems: ${reasons}`);
  }
  return { file, format, fileFormat, examples, skipped, warnings };
}

export async function loadBenchmark(path: string, format: BenchmarkFormat, options: { fileFormat?: PairFileFormat; layout?: PairLayout } = {}): Promise<LoadedBenchmark> {
  const { format: fileFormat, records } = await readBenchmarkRecords(path, options.fileFormat);
  return benchmarkFromRecords(records, format, path, fileFormat, options.layout);
}
