/**
 * Command-line arguments of the evaluation (node:util parseArgs), checked with messages that name
 * the option and the value. Decoding defaults are Qwen3's recommended thinking-mode sampling
 * (temperature 0.6, top-p 0.95) and the paper's response length (4096 tokens).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PAIR_LAYOUTS, type PairFileFormat, type PairLayout } from '../data/index.js';
import { parseBytes } from '../train/memory-plan.js';
import { decimalInteger, decimalNumber, joinNegativeValues } from '../train/number-text.js';
import { BENCHMARK_FORMATS, type BenchmarkFormat } from './benchmark.js';
import { KV_CACHE_DTYPES } from '../ops/decode-attention.js';
import { INFERENCE_WEIGHTS } from '../model/bf16-matrices.js';
import { DEFAULT_KV_BUDGET_BYTES } from './generation-chunks.js';
import type { EvalMode } from './items.js';
import type { DecodingOptions } from './results.js';
import { VOTING_METHODS, type VotingMethod } from './voting.js';

export const EVAL_USAGE = `usage: node eval.js --data FILE --format rewardbench|rmbench|pairs (--model DIR | --judgments FILE) [options]

  --data FILE              benchmark file (.jsonl, .json or .parquet)
  --format F               rewardbench | rmbench | pairs
  --data-format F          jsonl | json | parquet (default: from the file extension)
  --layout L               with --format pairs: pairs (default, one pair per row) | row-pairs
                           (one response per row, rows 2k and 2k+1 the chosen and rejected of pair k)
  --model DIR              judge with this model (needs the GPU judge of eval.js)
  --judgments FILE         score judgments produced elsewhere (JSONL; no GPU needed)
  --save-judgments FILE    append every generated judgment to FILE; items already in FILE are not judged again
                           (a FILE judged with another model, decoding or prompt is refused)
  --mode M                 pointwise (default) | pairwise
  --k K                    judgments per item for voting@k (default 1; with --judgments: the most draws found)
  --voting V               average (default) | majority
  --temperature T          sampling temperature (default 0.6)
  --top-p P                nucleus sampling (default 0.95)
  --max-new-tokens N       judgment length limit (default 4096)
  --seed S                 seeds sampling and the pairwise A/B order (default 0)
  --batch-size N           prompts per judge call (default 8); the judgments do not depend on it
  --kv-memory SIZE         GPU memory for the KV cache of the sequences decoded together, e.g. 16GiB
                           (default 4GiB); longer judgments are decoded fewer at a time
  --kv-dtype f32|f16       KV cache precision (default f32); f16 rounds the cached keys and values to
                           half precision and so decodes twice the sequences in the same --kv-memory
  --weights f32|bf16       the judge's attention and MLP matrices in f32 (default) or bf16: half the memory
                           (Qwen3-8B's weights in about 20 GB, not 33), exact for a model stored in bf16 as Qwen3's releases are,
                           each weight rounded otherwise; each matrix is widened just before use, so slower
  --limit N                only the first N examples
  --chat-template          wrap prompts in the Qwen3 chat template (default: raw tagged text, as the model card)
  --thinking on|off        Qwen3 thinking (default on): chat template flag and judgment parsing
  --rubrics FILE           task rubrics (JSON or YAML, task -> rubric) in place of the paper's primary ones,
                           as a judge trained with template.rubricsFile must be evaluated
  --label NAME             name of our row in the tables
  --out FILE               results JSON (default results.json); the HTML report goes beside it
  --html FILE              HTML report path (default: --out with .html)
  --replace                replace an existing --out and --html (without it they are refused before any
                           work; they stay as they were if the evaluation fails)
  --help                   this text
`;

export class EvalUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalUsageError';
  }
}

export interface EvalCliOptions {
  data: string;
  format: BenchmarkFormat;
  dataFormat?: PairFileFormat;
  /** With format pairs: 'row-pairs' reads one response per row (data/row-pairs.ts). */
  layout?: PairLayout;
  model?: string;
  judgments?: string;
  saveJudgments?: string;
  /** Absent when not given (a judgments file may then decide). */
  mode?: EvalMode;
  k?: number;
  voting: VotingMethod;
  decoding: DecodingOptions;
  batchSize: number;
  /** KV-cache budget of the GPU judge (bytes); sizes its generation chunks, not its results. */
  kvMemoryBytes: number;
  limit?: number;
  chatTemplate: boolean;
  thinking: boolean;
  label?: string;
  /** Rubric file (task -> rubric) replacing the primary rubrics in the judge prompts. */
  rubrics?: string;
  out: string;
  html: string;
  /** Write over an existing --out / --html (refused before any work without it). */
  replace: boolean;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new EvalUsageError(`--${option} must be one of ${allowed.join(', ')}; got '${value}'`);
  return value as T;
}

function integer(value: string | undefined, option: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = decimalInteger(value);
  if (n === null || n < min) throw new EvalUsageError(`--${option} must be an integer >= ${min} (in decimal digits); got '${value}'`);
  return n;
}

function byteSize(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  let bytes: number;
  try {
    bytes = parseBytes(value);
  } catch (err) {
    throw new EvalUsageError(`--${option}: ${(err as Error).message}`);
  }
  if (bytes <= 0) throw new EvalUsageError(`--${option} must be more than 0 bytes; got '${value}'`);
  return bytes;
}

function decimal(value: string | undefined, option: string, fallback: number, ok: (x: number) => boolean, range: string): number {
  if (value === undefined) return fallback;
  const x = decimalNumber(value);
  if (x === null || !ok(x)) throw new EvalUsageError(`--${option} must be a decimal number ${range}; got '${value}'`);
  return x;
}

const EVAL_OPTIONS = {
  data: { type: 'string' },
  format: { type: 'string' },
  'data-format': { type: 'string' },
  layout: { type: 'string' },
  model: { type: 'string' },
  judgments: { type: 'string' },
  'save-judgments': { type: 'string' },
  mode: { type: 'string' },
  k: { type: 'string' },
  voting: { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  seed: { type: 'string' },
  'batch-size': { type: 'string' },
  'kv-memory': { type: 'string' },
  'kv-dtype': { type: 'string' },
  weights: { type: 'string' },
  limit: { type: 'string' },
  'chat-template': { type: 'boolean' },
  rubrics: { type: 'string' },
  thinking: { type: 'string' },
  label: { type: 'string' },
  out: { type: 'string' },
  html: { type: 'string' },
  replace: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** Parsed options, or null when --help was asked for. */
export function parseEvalArgs(argv: readonly string[]): EvalCliOptions | null {
  let values: Record<string, string | boolean | undefined>;
  let tokens: { kind: string; name?: string }[];
  try {
    ({ values, tokens } = parseArgs({
      // `--limit -1` reaches the range check below, not parseArgs' "argument is ambiguous".
      args: joinNegativeValues(argv, EVAL_OPTIONS),
      tokens: true,
      strict: true,
      allowPositionals: false,
      options: EVAL_OPTIONS,
    }));
  } catch (err) {
    throw new EvalUsageError((err as Error).message);
  }
  if (values['help']) return null;
  // parseArgs keeps the last of a repeated option; which one the user meant, nobody knows.
  const given = tokens.filter((t) => t.kind === 'option').map((t) => t.name!);
  const repeated = given.find((name, i) => given.indexOf(name) !== i);
  if (repeated !== undefined) throw new EvalUsageError(`--${repeated} is given more than once`);
  const str = (name: string) => values[name] as string | undefined;

  const data = str('data');
  if (!data) throw new EvalUsageError('--data FILE is required');
  const format = oneOf(str('format'), BENCHMARK_FORMATS, 'format');
  if (!format) throw new EvalUsageError(`--format is required: one of ${BENCHMARK_FORMATS.join(', ')}`);
  const model = str('model');
  const judgments = str('judgments');
  if ((model === undefined) === (judgments === undefined)) {
    throw new EvalUsageError('give exactly one of --model DIR (judge now) or --judgments FILE (score existing judgments)');
  }
  const saveJudgments = str('save-judgments');
  if (saveJudgments !== undefined && judgments !== undefined) {
    throw new EvalUsageError('--save-judgments keeps judgments generated with --model; with --judgments nothing is generated');
  }
  const thinking = oneOf(str('thinking'), ['on', 'off'] as const, 'thinking') ?? 'on';
  const out = str('out') ?? 'results.json';
  const seed = integer(str('seed'), 'seed', 0) ?? 0;
  if (seed > 0xffffffff) throw new EvalUsageError(`--seed must be below 2^32; got ${seed}`);
  const options: EvalCliOptions = {
    data,
    format,
    voting: oneOf(str('voting'), VOTING_METHODS, 'voting') ?? 'average',
    decoding: {
      temperature: decimal(str('temperature'), 'temperature', 0.6, (x) => x >= 0, '>= 0'),
      topP: decimal(str('top-p'), 'top-p', 0.95, (x) => x > 0 && x <= 1, 'in (0, 1]'),
      maxNewTokens: integer(str('max-new-tokens'), 'max-new-tokens', 1) ?? 4096,
      seed,
      ...(oneOf(str('kv-dtype'), KV_CACHE_DTYPES, 'kv-dtype') === 'f16' && { kvCacheDtype: 'f16' as const }),
      ...(oneOf(str('weights'), INFERENCE_WEIGHTS, 'weights') === 'bf16' && { weightsDtype: 'bf16' as const }),
    },
    batchSize: integer(str('batch-size'), 'batch-size', 1) ?? 8,
    kvMemoryBytes: byteSize(str('kv-memory'), 'kv-memory') ?? DEFAULT_KV_BUDGET_BYTES,
    chatTemplate: Boolean(values['chat-template']),
    thinking: thinking === 'on',
    out,
    html: str('html') ?? out.replace(/\.json$/i, '') + '.html',
    replace: Boolean(values['replace']),
  };
  refuseSharedPaths({ data, rubrics: str('rubrics'), out, html: options.html, judgments, 'save-judgments': saveJudgments });
  const dataFormat = oneOf(str('data-format'), ['jsonl', 'json', 'parquet'] as const, 'data-format');
  const layout = oneOf(str('layout'), PAIR_LAYOUTS, 'layout');
  if (layout !== undefined && format !== 'pairs') throw new EvalUsageError(`--layout is for --format pairs; ${format} files have their own layout`);
  const mode = oneOf(str('mode'), ['pointwise', 'pairwise'] as const, 'mode');
  const k = integer(str('k'), 'k', 1);
  const limit = integer(str('limit'), 'limit', 1);
  const label = str('label');
  const rubrics = str('rubrics');
  return {
    ...options,
    ...(dataFormat ? { dataFormat } : {}),
    ...(layout ? { layout } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(judgments !== undefined ? { judgments } : {}),
    ...(saveJudgments !== undefined ? { saveJudgments } : {}),
    ...(mode ? { mode } : {}),
    ...(k !== undefined ? { k } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(label !== undefined ? { label } : {}),
    ...(rubrics !== undefined ? { rubrics } : {}),
  };
}

/**
 * Every file the evaluation reads or writes must be its own: writing the results over the saved
 * judgments (or the HTML over the JSON, or either over an input) would destroy what it names.
 */
function refuseSharedPaths(paths: Record<string, string | undefined>): void {
  const seen = new Map<string, string>();
  for (const [option, path] of Object.entries(paths)) {
    if (path === undefined) continue;
    const key = resolve(path);
    const other = seen.get(key);
    if (other !== undefined) throw new EvalUsageError(`--${other} and --${option} name the same file (${path}); give each its own path`);
    seen.set(key, option);
  }
}
