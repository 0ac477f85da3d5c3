// The training configuration of `node train.js`: its type and defaults, and a
// loader that reads JSON or YAML, applies `--key value` command-line
// overrides and validates everything before any GPU work. Every problem is
// collected and reported at once, each with its key path, so a user fixes a
// config in one round instead of one error per launch.
import { DECIMAL_NUMBER_TEXT } from './number-text.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathKind } from '../io/path-kind.js';
import { basename, extname, join } from 'node:path';
import YAML from 'yaml';
import { DEFAULT_MAX_SHARD_BYTES, parseQwen3Config, type Qwen3Config } from '../io/hf-model.js';
import { parseJsonWithUniqueKeys } from '../io/json.js';
import type { KlEstimator } from '../ops/losses.js';
import { KV_CACHE_DTYPES, type KvCacheDtype } from '../ops/decode-attention.js';
import { LOSS_AGGREGATIONS, type LossAggregation } from './loss-aggregation.js';
import { PAIR_LAYOUTS, type PairFieldNames, type PairLayout } from '../data/index.js';

export const STAGES = ['sft', 'grpo'] as const;
export type Stage = (typeof STAGES)[number];

export const LR_SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type LrScheduleKind = (typeof LR_SCHEDULES)[number];

export type DataFormat = 'auto' | 'jsonl' | 'json' | 'parquet';

export interface ModelConfig {
  /** Hugging Face model folder (config.json + model.safetensors or shards). No default; exactly one of path / init. */
  path?: string;
  /** 'random': fresh weights from `config` and `seed` (smoke runs, tests). No default. */
  init?: 'random';
  /** With init 'random': a config.json to build the model from, e.g. models/qwen3-0.6b.json. No default. */
  config?: string;
  /** Precision of the trained weights on the GPU. Default 'f32' (the only one implemented). */
  dtype: 'f32';
  /**
   * Activation recomputation (HF's gradient_checkpointing, verl's enable_gradient_checkpointing):
   * the forward keeps only each layer's input and backward recomputes the layer, so a micro-batch's
   * activations take about a twentieth of the memory for one more forward pass. The gradients are
   * bit for bit the same, so it can be switched on resume. Default false.
   */
  gradientCheckpointing: boolean;
}

export interface DataConfig {
  /** Preference pairs with teacher judgments for the SFT stage. Required when stages has 'sft'. */
  sft?: string;
  /** Preference pairs for the GRPO stage. Required when stages has 'grpo'. */
  grpo?: string;
  /** Held-out preference pairs (in data.layout.eval, default data.layout.grpo's) for evaluation during training. Required when eval.every is set. */
  eval?: string;
  /** File format; 'auto' (default) decides by extension (.jsonl/.ndjson, .json, .parquet). */
  format: DataFormat;
  /** A malformed record: 'error' (default) stops with its location, 'skip' drops and reports it. */
  onBadRow: 'error' | 'skip';
  /**
   * How each file holds its pairs: 'pairs' (default), one record per pair, or 'row-pairs', rows 2k
   * and 2k+1 the chosen and rejected response of pair k (the paper's released files).
   */
  layout: { sft: PairLayout; grpo: PairLayout; eval?: PairLayout };
  /**
   * Field names, where a file's differ from the defaults: id, prompt, chosen and rejected (layout
   * pairs); id, prompt, response and judgment (row-pairs). They apply to every file.
   */
  fields: PairFieldNames;
}

export interface TemplateConfig {
  /** Wrap the tagged judge input as the user turn of the Qwen3 chat template. Default false (raw tagged text, as the model card). */
  chat: boolean;
  /** Qwen3 thinking (`<think>...</think>`) in the judgments. Default false. */
  thinking: boolean;
  /** JSON/YAML mapping task -> primary rubric text replacing the built-in rubrics. No default. */
  rubricsFile?: string;
}

/** AdamW and learning-rate settings shared by both stages. */
export interface OptimizerSettings {
  lr: number;
  /** Learning rate reached at the last step by 'linear' and 'cosine' schedules. */
  minLr: number;
  schedule: LrScheduleKind;
  /** Steps of linear warmup from 0 to lr. Default 0. */
  warmupSteps: number;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip: number;
  /**
   * Decoupled weight decay, applied to every tensor, norm gains and the embedding included, as
   * torch.optim.AdamW and verl do (Hugging Face's Trainer leaves norms out). Default 0.01.
   */
  weightDecay: number;
  /** AdamW (beta1, beta2). Default [0.9, 0.999]. */
  betas: [number, number];
  /** AdamW epsilon. Default 1e-8. */
  eps: number;
}

export interface SftConfig extends OptimizerSettings {
  /** Passes over the SFT data. Default 1. */
  epochs: number;
  /** Rows per optimizer step (even: a pair's two judgments stay together). Default 16 (paper: 512). */
  batchRows: number;
  /** Rows per forward/backward (gradient accumulation over batchRows / microBatchRows). Default 4. */
  microBatchRows: number;
  // lr default 1.5e-6, minLr 1.5e-7, schedule 'cosine' (paper, 8B).
  /** Tokens per row (prompt + target); longer rows are an error or skipped per data.onBadRow. Default 2048. */
  maxSeqLen: number;
  /** Keep an SFT pair only when the teacher's score(chosen) - score(rejected) exceeds this. Default 2. */
  teacherMarginThreshold: number;
}

export interface RewardConfig {
  /** PAR margin -> reward: 'graded' (default, the paper's) or 'constant' (collapses later in training). */
  f: 'graded' | 'constant';
  /** Margin above which 'graded' gives `high`. Default 2. */
  threshold: number;
  /** Reward for a margin above the threshold (and for any positive margin with 'constant'). Default 1.0. */
  high: number;
  /** Reward for a positive margin up to the threshold. Default 0.5. */
  low: number;
  /** Reward added for a malformed rollout. Default -1. */
  formatPenalty: number;
}

export interface GrpoConfig extends OptimizerSettings {
  /** Optimizer steps; when set, overrides `epochs`. No default. */
  steps?: number;
  /** Passes over the GRPO pairs (when steps is unset). Default 1. */
  epochs: number;
  /** Preference pairs per step; rows = 2 * batchPairs. Default 8 (paper: 128 pairs = 256 rows). */
  batchPairs: number;
  /** Judgment rollouts per row (GRPO group size n). Default 16 (paper: 4/8/16). */
  rollouts: number;
  /** Rollout sequences per forward/backward. Default 8. */
  microBatchRows: number;
  /** Rollout sequences generated together (their KV cache is allocated at once); the step's
   * rollouts are the same whatever it is. Default: all 2 * batchPairs * rollouts of a step. */
  generationRows?: number;
  // lr default 5e-7, minLr 0, schedule 'constant' (paper, 8B).
  /** Generated tokens per rollout. Default 4096. */
  maxNewTokens: number;
  /** Tokens of a rendered judge prompt; longer rows are an error or skipped per data.onBadRow. Default 4096. */
  maxPromptLen: number;
  /** Sampling temperature. Default 1.0. */
  temperature: number;
  /** Nucleus sampling; 1 disables. Default 1.0. */
  topP: number;
  /** Top-k sampling; 0 disables. Default 0. */
  topK: number;
  /** PPO ratio clip epsilon. Default 0.2. */
  clipEps: number;
  /**
   * verl's dual clip (clip_ratio_c): for a negative advantage the policy term is at most
   * -A * clipRatioC, so a token an earlier update of the batch made clipRatioC times likelier adds
   * no gradient. More than 1, or 0 for none. Default 3, verl's. Binds only with updatesPerBatch > 1.
   */
  clipRatioC: number;
  /** Coefficient of the KL loss to the reference (initial) model; 0 drops the reference model. Default 0.001. */
  klCoef: number;
  /** The KL estimate: 'k3' (default, verl's low_var_kl, clamped), 'k1' (verl's kl), 'k2' (verl's mse). */
  klEstimator: KlEstimator;
  /**
   * How the KL reference's layer matrices are kept on the GPU: 'f32' (default, an exact copy of the
   * policy at the start of GRPO) or 'bf16' (rounded, half their memory; model/bf16-matrices.ts).
   */
  referenceDtype: 'f32' | 'bf16';
  /**
   * Precision of the rollouts' KV cache: 'f32' (default) or 'f16' (k and v rounded to half
   * precision, half the memory of generation's largest allocation; the update recomputes
   * log-probs in f32 either way, so it only moves which tokens are sampled).
   */
  kvCacheDtype: KvCacheDtype;
  /** How the per-token losses make the batch's: 'token-mean' (default, verl's), 'seq-mean-token-mean', 'seq-mean-token-sum'. */
  lossAggregation: LossAggregation;
  /** Optimizer steps on each batch of rollouts (verl's ppo_epochs); the later ones are off-policy. Default 1. */
  updatesPerBatch: number;
  /** Advantage = (r - mean) / (std + advantageEps). Default 1e-6. */
  advantageEps: number;
  /** Divide advantages by the group's std. Default true. */
  normalizeStd: boolean;
  /** That std with n - 1 (verl's torch.std) rather than n. Default true. */
  unbiasedStd: boolean;
  /** Leave out of the update the rollout groups whose rewards are all equal (zero advantage, so
   * only their KL term would move the model): DAPO's filter without its resampling. The update
   * then costs what the informative groups cost. The token-mean is then over the kept groups'
   * response tokens, so each informative token weighs more than without skipping (Adam and the
   * gradient clip absorb most of the scale), and the skipped groups' KL term is gone too.
   * Default false (verl's behaviour). */
  skipUniformGroups: boolean;
  reward: RewardConfig;
  /** Fraction of GRPO pairs whose chosen/rejected are swapped (robustness experiments). Default 0. */
  labelNoise: number;
}

export interface CheckpointConfig {
  /** Save every this many optimizer steps (and at the end of each stage). Default 100. */
  every: number;
  /** Checkpoints kept in outDir; older ones are deleted. Default 2. */
  keep: number;
  /**
   * Largest weight file of a checkpoint or saved model, in bytes: bigger weights are split into
   * Hugging Face shards with an index. Default 5e9 (save_pretrained's "5GB").
   */
  maxShardBytes: number;
}

export interface TrainConfig {
  /** Seeds data order, sampling and random init. Default 0. */
  seed: number;
  /** Run name. Default: the config file's base name, else 'run'. */
  name: string;
  /** Run folder (metrics, checkpoints, report). Default 'runs/<name>'. */
  outDir: string;
  /** Stages to run, in order. Default ['sft', 'grpo']. */
  stages: Stage[];
  model: ModelConfig;
  /** Folder with tokenizer.json, or the file. Default: model.path. */
  tokenizer?: string;
  data: DataConfig;
  template: TemplateConfig;
  sft: SftConfig;
  grpo: GrpoConfig;
  checkpoint: CheckpointConfig;
  /** Write a metrics line every this many steps. Default 1. */
  log: { every: number };
  /**
   * Evaluation during training: every `every` optimizer steps of each stage (and at its last),
   * greedy pointwise accuracy on the first `limit` pairs of data.eval (default all), judgments of
   * up to `maxNewTokens` (default grpo.maxNewTokens), logged as evalAccuracy, evalAccuracyTiesHalf
   * and evalFormatErrors in the step's metrics row. The judgments decode in chunks whose KV cache
   * takes at most `kvMemoryBytes` (default 4 GiB, eval.js's --kv-memory; one judgment that alone
   * needs more decodes by itself). Off unless `every` is set.
   */
  eval: { every?: number; limit?: number; maxNewTokens?: number; kvMemoryBytes?: number };
}

/** The layout data.eval is read in: data.layout.eval, or GRPO's (what data.eval was read in before the key existed). */
export function evalLayout(cfg: Pick<TrainConfig, 'data'>): PairLayout {
  return cfg.data.layout.eval ?? cfg.data.layout.grpo;
}

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly source: string,
  ) {
    super(`invalid training config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Written into the run folder by every fresh run: its resolved config (describeConfig), loadable with --config. */
export const CONFIG_FILE = 'config.yaml';

export function defaultTrainConfig(): TrainConfig {
  const adam = { gradClip: 1.0, weightDecay: 0.01, betas: [0.9, 0.999] as [number, number], eps: 1e-8, warmupSteps: 0 };
  return {
    seed: 0,
    name: 'run',
    outDir: 'runs/run',
    stages: ['sft', 'grpo'],
    model: { dtype: 'f32', gradientCheckpointing: false },
    data: { format: 'auto', onBadRow: 'error', layout: { sft: 'pairs', grpo: 'pairs' }, fields: {} },
    template: { chat: false, thinking: false },
    sft: {
      epochs: 1,
      batchRows: 16,
      microBatchRows: 4,
      lr: 1.5e-6,
      minLr: 1.5e-7,
      schedule: 'cosine',
      maxSeqLen: 2048,
      teacherMarginThreshold: 2,
      ...adam,
    },
    grpo: {
      epochs: 1,
      batchPairs: 8,
      rollouts: 16,
      microBatchRows: 8,
      lr: 5e-7,
      minLr: 0,
      schedule: 'constant',
      maxNewTokens: 4096,
      maxPromptLen: 4096,
      temperature: 1.0,
      topP: 1.0,
      topK: 0,
      clipEps: 0.2,
      clipRatioC: 3,
      klCoef: 0.001,
      klEstimator: 'k3',
      referenceDtype: 'f32',
      kvCacheDtype: 'f32',
      lossAggregation: 'token-mean',
      updatesPerBatch: 1,
      advantageEps: 1e-6,
      normalizeStd: true,
      unbiasedStd: true,
      skipUniformGroups: false,
      reward: { f: 'graded', threshold: 2, high: 1.0, low: 0.5, formatPenalty: -1 },
      labelNoise: 0,
      ...adam,
    },
    checkpoint: { every: 100, keep: 2, maxShardBytes: DEFAULT_MAX_SHARD_BYTES },
    log: { every: 1 },
    eval: {},
  };
}

// ---------------------------------------------------------------------------
// Schema: what each key may hold. Defaults live in defaultTrainConfig only.

type Spec =
  | { kind: 'number'; integer: boolean; min?: number; max?: number; above?: number; below?: number; optional?: boolean }
  | { kind: 'boolean' }
  | { kind: 'string'; optional?: boolean }
  | { kind: 'enum'; values: readonly string[]; optional?: boolean }
  | { kind: 'stages' }
  | { kind: 'betas' }
  | { kind: 'section'; fields: Readonly<Record<string, Spec>> };

type NumberLimits = { min?: number; max?: number; above?: number; below?: number; optional?: boolean };
const int = (limits: NumberLimits = {}): Spec => ({ kind: 'number', integer: true, ...limits });
const num = (limits: NumberLimits = {}): Spec => ({ kind: 'number', integer: false, ...limits });
const bool: Spec = { kind: 'boolean' };
const str = (optional = false): Spec => ({ kind: 'string', optional });
const oneOf = (values: readonly string[], optional = false): Spec => ({ kind: 'enum', values, optional });
const section = (fields: Record<string, Spec>): Spec => ({ kind: 'section', fields });

const optimizerFields: Record<string, Spec> = {
  lr: num({ above: 0 }),
  minLr: num({ min: 0 }),
  schedule: oneOf(LR_SCHEDULES),
  warmupSteps: int({ min: 0 }),
  gradClip: num({ min: 0 }),
  weightDecay: num({ min: 0 }),
  betas: { kind: 'betas' },
  eps: num({ above: 0 }),
};

const SCHEMA: Spec = section({
  seed: int({ min: 0, max: 0xffffffff }),
  name: str(),
  outDir: str(),
  stages: { kind: 'stages' },
  model: section({ path: str(true), init: oneOf(['random'], true), config: str(true), dtype: oneOf(['f32']), gradientCheckpointing: bool }),
  tokenizer: str(true),
  data: section({
    sft: str(true),
    grpo: str(true),
    eval: str(true),
    format: oneOf(['auto', 'jsonl', 'json', 'parquet']),
    onBadRow: oneOf(['error', 'skip']),
    layout: section({ sft: oneOf(PAIR_LAYOUTS), grpo: oneOf(PAIR_LAYOUTS), eval: oneOf(PAIR_LAYOUTS, true) }),
    fields: section({ id: str(true), prompt: str(true), chosen: str(true), rejected: str(true), response: str(true), judgment: str(true) }),
  }),
  template: section({ chat: bool, thinking: bool, rubricsFile: str(true) }),
  sft: section({
    epochs: int({ min: 1 }),
    batchRows: int({ min: 2 }),
    microBatchRows: int({ min: 1 }),
    maxSeqLen: int({ min: 2 }),
    teacherMarginThreshold: num(),
    ...optimizerFields,
  }),
  grpo: section({
    steps: int({ min: 1, optional: true }),
    epochs: int({ min: 1 }),
    batchPairs: int({ min: 1 }),
    // The group std of a single rollout is undefined (unbiased estimator divides by n - 1).
    rollouts: int({ min: 2 }),
    microBatchRows: int({ min: 1 }),
    generationRows: int({ min: 1, optional: true }),
    maxNewTokens: int({ min: 1 }),
    maxPromptLen: int({ min: 1 }),
    temperature: num({ above: 0 }),
    topP: num({ above: 0, max: 1 }),
    topK: int({ min: 0 }),
    clipEps: num({ above: 0, below: 1 }),
    clipRatioC: num({ min: 0 }),
    klCoef: num({ min: 0 }),
    klEstimator: oneOf(['k1', 'k2', 'k3']),
    referenceDtype: oneOf(['f32', 'bf16']),
    kvCacheDtype: oneOf(KV_CACHE_DTYPES),
    lossAggregation: oneOf([...LOSS_AGGREGATIONS]),
    updatesPerBatch: int({ min: 1 }),
    advantageEps: num({ above: 0 }),
    normalizeStd: bool,
    unbiasedStd: bool,
    skipUniformGroups: bool,
    reward: section({
      f: oneOf(['graded', 'constant']),
      threshold: num({ min: 0 }),
      // A correct ranking is never a penalty: negative levels would turn PAR against the labels.
      high: num({ min: 0 }),
      low: num({ min: 0 }),
      formatPenalty: num({ max: 0 }),
    }),
    labelNoise: num({ min: 0, max: 1 }),
    ...optimizerFields,
  }),
  checkpoint: section({ every: int({ min: 1 }), keep: int({ min: 1 }), maxShardBytes: int({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
  log: section({ every: int({ min: 1 }) }),
  eval: section({
    every: int({ min: 1, optional: true }), limit: int({ min: 1, optional: true }), maxNewTokens: int({ min: 1, optional: true }),
    kvMemoryBytes: int({ min: 1, max: Number.MAX_SAFE_INTEGER, optional: true }),
  }),
});

/** Keys people plausibly write that mean something else here. */
const KEY_HINTS: Readonly<Record<string, string>> = {
  'grpo.batchRows': "GRPO batches are counted in pairs: use 'grpo.batchPairs' (rows = 2 * batchPairs)",
  'grpo.batchSize': "GRPO batches are counted in pairs: use 'grpo.batchPairs' (rows = 2 * batchPairs)",
  'sft.batchSize': "use 'sft.batchRows'",
  'grpo.n': "use 'grpo.rollouts' (judgments sampled per row)",
  'model.gradient_checkpointing': "use 'model.gradientCheckpointing'",
  'model.enable_gradient_checkpointing': "use 'model.gradientCheckpointing'",
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function specAt(path: readonly string[]): Spec | undefined {
  let spec: Spec | undefined = SCHEMA;
  for (const key of path) {
    if (spec?.kind !== 'section' || !Object.hasOwn(spec.fields, key)) return undefined;
    spec = spec.fields[key];
  }
  return spec;
}

function leafPaths(spec: Spec = SCHEMA, prefix = ''): string[] {
  if (spec.kind !== 'section') return [prefix];
  return Object.entries(spec.fields).flatMap(([k, s]) => leafPaths(s, prefix ? `${prefix}.${k}` : k));
}

// ---------------------------------------------------------------------------
// Unknown keys and "did you mean"

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function unknownKeyProblem(path: string): string {
  const hint = Object.hasOwn(KEY_HINTS, path) ? KEY_HINTS[path] : undefined;
  if (hint) return `unknown key '${path}': ${hint}`;
  const parts = path.split('.');
  const key = parts[parts.length - 1]!;
  const parent = specAt(parts.slice(0, -1));
  const prefix = parts.slice(0, -1).join('.');
  let suggestion: string | undefined;
  if (parent?.kind === 'section') {
    const sibling = closest(key, Object.keys(parent.fields));
    if (sibling) suggestion = prefix ? `${prefix}.${sibling}` : sibling;
  }
  // The right key in the wrong section (sft.rollouts -> grpo.rollouts), or a typo of a full path.
  suggestion ??= leafPaths().find((p) => p.endsWith(`.${key}`)) ?? closest(path, leafPaths());
  return `unknown key '${path}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`;
}

function findUnknownKeys(value: Json, spec: Spec, prefix: string, problems: string[]): void {
  if (spec.kind !== 'section') return;
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const childSpec = spec.fields[key];
    if (!Object.hasOwn(spec.fields, key) || !childSpec) problems.push(unknownKeyProblem(path));
    else if (isObject(child)) findUnknownKeys(child, childSpec, path, problems);
  }
}

// ---------------------------------------------------------------------------
// Type and range checks

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

function describeRange(s: Extract<Spec, { kind: 'number' }>): string {
  const lo = s.above !== undefined ? `> ${s.above}` : s.min !== undefined ? `>= ${s.min}` : '';
  const hi = s.below !== undefined ? `< ${s.below}` : s.max !== undefined ? `<= ${s.max}` : '';
  return [lo, hi].filter(Boolean).join(' and ');
}

function checkValue(spec: Spec, value: unknown, path: string, problems: string[]): void {
  const bad = (what: string) => problems.push(`${path}: ${what}`);
  switch (spec.kind) {
    case 'section':
      if (!isObject(value)) return void bad(`must be a mapping of keys, got ${show(value)}`);
      for (const [key, child] of Object.entries(spec.fields)) checkValue(child, value[key], `${path ? `${path}.` : ''}${key}`, problems);
      return;
    case 'number': {
      if (value === undefined && spec.optional) return;
      if (typeof value !== 'number') return void bad(`must be a number, got ${show(value)}`);
      if (!Number.isFinite(value)) return void bad(`must be a finite number, got ${value}`);
      if (spec.integer && !Number.isInteger(value)) return void bad(`must be an integer, got ${value}`);
      const outside =
        (spec.min !== undefined && value < spec.min) ||
        (spec.max !== undefined && value > spec.max) ||
        (spec.above !== undefined && value <= spec.above) ||
        (spec.below !== undefined && value >= spec.below);
      if (outside) bad(`must be ${describeRange(spec)}, got ${value}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') bad(`must be true or false, got ${show(value)}`);
      return;
    case 'string':
      if (value === undefined && spec.optional) return;
      if (typeof value !== 'string' || value === '') bad(`must be a non-empty string, got ${show(value)}`);
      return;
    case 'enum':
      if (value === undefined && spec.optional) return;
      if (typeof value !== 'string' || !spec.values.includes(value)) bad(`must be one of ${spec.values.map(show).join(', ')}, got ${show(value)}`);
      return;
    case 'stages':
      checkStages(value, bad);
      return;
    case 'betas':
      if (!Array.isArray(value) || value.length !== 2 || !value.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
        bad(`must be [beta1, beta2] with each in [0, 1), got ${show(value)}`);
      }
      return;
  }
}

function checkStages(value: unknown, bad: (what: string) => void): void {
  const allowed = STAGES as readonly unknown[];
  if (!Array.isArray(value) || value.length === 0 || !value.every((s) => allowed.includes(s))) {
    return void bad(`must be a non-empty list of ${STAGES.map(show).join(', ')}, got ${show(value)}`);
  }
  if (new Set(value).size !== value.length) return void bad(`lists a stage twice: ${show(value)}`);
  // GRPO starts from the SFT model; the reverse order has no meaning in the pipeline.
  const order = value.map((s) => allowed.indexOf(s));
  if (order.some((o, i) => i > 0 && o < order[i - 1]!)) bad(`must run sft before grpo, got ${show(value)}`);
}

// ---------------------------------------------------------------------------
// Cross-field checks and files on disk

const DATA_EXTENSIONS = new Set(['.jsonl', '.ndjson', '.json', '.parquet']);

function checkRelations(cfg: TrainConfig, problems: string[], modelOnly = false): void {
  const { model, data, sft, grpo } = cfg;
  if (model.path !== undefined && model.init !== undefined) {
    problems.push("model: give either model.path (a Hugging Face model folder) or model.init: random, not both");
  } else if (model.path === undefined && model.init === undefined) {
    problems.push('model: missing; set model.path to a Hugging Face model folder, or model.init: random with model.config');
  }
  if (model.init === 'random' && model.config === undefined) {
    problems.push("model.config: required when model.init is 'random' (a config.json, e.g. models/qwen3-0.6b.json)");
  }
  if (model.path !== undefined && model.config !== undefined) {
    problems.push("model.config: only used with model.init: random (model.path has its own config.json)");
  }
  if (cfg.tokenizer === undefined && model.init === 'random' && !modelOnly) {
    problems.push("tokenizer: required when model.init is 'random' (a folder with tokenizer.json, or the file)");
  }
  if (cfg.stages.includes('sft') && data.sft === undefined) problems.push("data.sft: required because stages includes 'sft'");
  if (cfg.stages.includes('grpo') && data.grpo === undefined) problems.push("data.grpo: required because stages includes 'grpo'");
  // Evaluation during training needs its pairs, and its other settings without `every` would do nothing.
  if (cfg.eval.every !== undefined && data.eval === undefined) problems.push('data.eval: required because eval.every is set (the held-out pairs evaluated during training)');
  if (cfg.eval.every === undefined) {
    for (const key of ['limit', 'maxNewTokens', 'kvMemoryBytes'] as const) {
      if (cfg.eval[key] !== undefined) problems.push(`eval.${key}: only used with eval.every, which is not set`);
    }
  }
  // data.layout.eval says how data.eval is read: without data.eval it would do nothing. (sft's and
  // grpo's layouts have defaults, so a config cannot be told to have set them.)
  if (data.layout.eval !== undefined && data.eval === undefined) problems.push('data.layout.eval: only used with data.eval, which is not set');
  // A field name no layout reads would look as if it had renamed something. Checked against the
  // layouts, not the stages run, so a saved config still loads with --stages narrowed (data.eval's
  // only when there is one).
  const layouts = [data.layout.sft, data.layout.grpo, ...(data.eval !== undefined ? [evalLayout(cfg)] : [])];
  const none = data.eval !== undefined ? 'which neither stage nor data.eval has' : 'which neither stage has';
  const readBy: Record<string, [boolean, string]> = {
    chosen: [layouts.includes('pairs'), `only read with data.layout pairs, ${none}`],
    rejected: [layouts.includes('pairs'), `only read with data.layout pairs, ${none}`],
    response: [layouts.includes('row-pairs'), `only read with data.layout row-pairs, ${none}`],
    judgment: [data.layout.sft === 'row-pairs', "the teacher judgments of SFT rows: only read with data.layout.sft row-pairs"],
  };
  for (const [key, name] of Object.entries(data.fields)) {
    if (name === undefined) continue;
    if (name.trim() === '') problems.push(`data.fields.${key}: a field name cannot be blank`);
    const [read, why] = readBy[key] ?? [true, ''];
    if (!read) problems.push(`data.fields.${key}: ${why}`);
  }
  if (data.format === 'auto') {
    for (const key of ['sft', 'grpo', 'eval'] as const) {
      const file = data[key];
      if (file !== undefined && !DATA_EXTENSIONS.has(extname(file).toLowerCase())) {
        problems.push(`data.${key}: cannot tell the format of '${file}' from its extension; use .jsonl, .ndjson, .json or .parquet, or set data.format`);
      }
    }
  }
  for (const [stage, s] of [['sft', sft], ['grpo', grpo]] as const) {
    if (s.minLr > s.lr) problems.push(`${stage}.minLr (${s.minLr}) must not exceed ${stage}.lr (${s.lr})`);
  }
  if (sft.batchRows % 2 !== 0) {
    problems.push(`sft.batchRows must be even (the two judgments of a pair stay in one batch), got ${sft.batchRows}`);
  }
  if (sft.microBatchRows > sft.batchRows) {
    problems.push(`sft.microBatchRows (${sft.microBatchRows}) must not exceed sft.batchRows (${sft.batchRows})`);
  }
  const sequences = 2 * grpo.batchPairs * grpo.rollouts;
  if (grpo.microBatchRows > sequences) {
    problems.push(`grpo.microBatchRows (${grpo.microBatchRows}) must not exceed the rollouts of a batch (2 * batchPairs * rollouts = ${sequences})`);
  }
  if (grpo.generationRows !== undefined && grpo.generationRows > sequences) {
    problems.push(`grpo.generationRows (${grpo.generationRows}) must not exceed the rollouts of a batch (2 * batchPairs * rollouts = ${sequences})`);
  }
  if (grpo.steps !== undefined && grpo.warmupSteps > grpo.steps) {
    problems.push(`grpo.warmupSteps (${grpo.warmupSteps}) must not exceed grpo.steps (${grpo.steps})`);
  }
  // 'constant' pays `high` for any positive margin: its `low` and `threshold` are not used.
  if (grpo.reward.f === 'graded' && grpo.reward.low > grpo.reward.high) {
    problems.push(`grpo.reward.low (${grpo.reward.low}) must not exceed grpo.reward.high (${grpo.reward.high})`);
  }
  if (grpo.clipRatioC > 0 && grpo.clipRatioC <= 1) {
    problems.push(`grpo.clipRatioC (${grpo.clipRatioC}) must be more than 1 (verl's dual clip bounds -A * ratio from above for A < 0), or 0 for no dual clip`);
  }
}

/** Parses a Hugging Face Qwen3 config.json; a problem (naming `key`, where the file was given) goes to `problems`. */
export function readModelConfigFile(file: string, key: string, problems: string[]): Qwen3Config | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`${key}: ${file} is not readable JSON (${(err as Error).message})`);
    return undefined;
  }
  try {
    return parseQwen3Config(json, file);
  } catch (err) {
    problems.push(`${key}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Works on a config that may have failed type checks: only string paths are looked at. */
function checkFiles(cfg: TrainConfig, problems: string[], modelOnly = false): Qwen3Config | undefined {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const section = (v: unknown): Json => (isObject(v) ? v : {});
  const model = section(cfg.model), data = section(cfg.data), template = section(cfg.template);
  const stages: unknown[] = Array.isArray(cfg.stages) ? cfg.stages : [];
  const need = (key: string, path: string | undefined, want: 'file' | 'dir'): path is string => {
    if (path === undefined) return false;
    const kind = pathKind(path);
    if (kind === want) return true;
    const found = kind === 'missing' ? 'no such file or folder' : `expected a ${want === 'dir' ? 'folder' : 'file'}, found a ${kind === 'dir' ? 'folder' : 'file'}`;
    problems.push(`${key}: ${found}: ${path}`);
    return false;
  };
  let modelConfig: Qwen3Config | undefined;
  const modelPath = text(model.path);
  if (need('model.path', modelPath, 'dir')) {
    const file = join(modelPath, 'config.json');
    if (pathKind(file) !== 'file') problems.push(`model.path: no config.json in ${modelPath}`);
    else modelConfig = readModelConfigFile(file, 'model.path', problems);
  }
  const configPath = model.init === 'random' ? text(model.config) : undefined;
  if (need('model.config', configPath, 'file')) modelConfig = readModelConfigFile(configPath, 'model.config', problems);
  if (modelOnly) return modelConfig;
  const tokenizer = text(cfg.tokenizer);
  // A tokenizer defaulted from a missing model.path is the same problem, already reported.
  if (tokenizer !== undefined && !(tokenizer === modelPath && pathKind(modelPath) === 'missing')) {
    const kind = pathKind(tokenizer);
    if (kind === 'missing') problems.push(`tokenizer: no such file or folder: ${tokenizer}`);
    else if (kind === 'dir' && pathKind(join(tokenizer, 'tokenizer.json')) !== 'file') problems.push(`tokenizer: no tokenizer.json in ${tokenizer}`);
  }
  need('data.sft', stages.includes('sft') ? text(data.sft) : undefined, 'file');
  need('data.grpo', stages.includes('grpo') ? text(data.grpo) : undefined, 'file');
  need('data.eval', text(data.eval), 'file');
  need('template.rubricsFile', text(template.rubricsFile), 'file');
  return modelConfig;
}

function checkAgainstModel(cfg: TrainConfig, model: Qwen3Config, problems: string[]): void {
  const context = model.maxPositionEmbeddings;
  if (cfg.stages.includes('sft') && cfg.sft.maxSeqLen > context) {
    problems.push(`sft.maxSeqLen (${cfg.sft.maxSeqLen}) exceeds the model's context (max_position_embeddings ${context})`);
  }
  const grpoLen = cfg.grpo.maxPromptLen + cfg.grpo.maxNewTokens;
  if (cfg.stages.includes('grpo') && grpoLen > context) {
    problems.push(`grpo.maxPromptLen + grpo.maxNewTokens (${grpoLen}) exceeds the model's context (max_position_embeddings ${context})`);
  }
}

// ---------------------------------------------------------------------------
// Reading files and command-line overrides

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file (${(err as Error).message})`], path);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.json') {
    try {
      return parseJsonWithUniqueKeys(text);
    } catch (err) {
      throw new ConfigError([`not valid JSON: ${(err as Error).message}`], path);
    }
  }
  if (ext !== '.yaml' && ext !== '.yml') {
    throw new ConfigError([`unknown config extension '${ext}': use .json, .yaml or .yml`], path);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `not valid YAML: ${e.message}`), path);
  return doc.toJS() as unknown;
}

/** Text from the command line -> the value for `spec`: string keys keep the text; others parse numbers, booleans, JSON, comma lists. */
function parseOverrideValue(text: string, spec: Spec): unknown {
  if (text === 'null') return null;
  if (spec.kind === 'string' || spec.kind === 'enum') return text;
  if (DECIMAL_NUMBER_TEXT.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text; // reported by the type check, which names the key
    }
  }
  if (spec.kind === 'stages') return text.split(',').map((s) => s.trim());
  if (spec.kind === 'betas') return text.split(',').map((s) => (DECIMAL_NUMBER_TEXT.test(s.trim()) ? Number(s) : s));
  return text;
}

export interface Override {
  key: string;
  text: string;
}

/**
 * `--a.b value`, `--a.b=value`, or a bare `--flag` (true) for a true/false key. A key of another
 * kind given no value (the end of the line, or the next `--option` after it) is a problem: taking
 * it for 'true' trained `--outDir` into a folder named true.
 */
export function parseOverrideArgs(args: readonly string[], problems: string[] = []): Override[] {
  const out: Override[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--') || arg.length === 2) {
      problems.push(`command line: expected --key value, got '${arg}'`);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    // Given twice, one value would win silently (which one the user meant, nobody knows).
    if (seen.has(key)) problems.push(`command line: --${key} is given more than once`);
    seen.add(key);
    // An unknown key stays in the list, for the unknown-key problem (with its suggestion) to name it.
    const known = specAt(key.split('.'));
    if (eq > 0) {
      const text = arg.slice(eq + 1);
      if (text === '' && known) problems.push(`command line: --${key} needs a value`);
      else out.push({ key, text });
      continue;
    }
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) {
      if (known && known.kind !== 'boolean') problems.push(`command line: --${key} needs a value` + (next === undefined ? '' : `, got the option ${next} after it`));
      else out.push({ key, text: 'true' });
    } else {
      out.push({ key, text: next });
      i++;
    }
  }
  return out;
}

function overridesObject(overrides: readonly Override[], problems: string[]): Json {
  const root: Json = {};
  for (const { key, text } of overrides) {
    const path = key.split('.');
    const spec = specAt(path);
    if (!spec || path.some((p) => p === '')) {
      problems.push(`${unknownKeyProblem(key)} (command line --${key})`);
      continue;
    }
    let node = root;
    for (const part of path.slice(0, -1)) {
      if (!isObject(node[part])) node[part] = {};
      node = node[part] as Json;
    }
    node[path[path.length - 1]!] = parseOverrideValue(text, spec);
  }
  return root;
}

/** Sections merge key by key; other values replace. null unsets an optional key. */
function merge(base: Json, over: Json, spec: Spec): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const child = spec.kind === 'section' ? spec.fields[key] : undefined;
    if (!child) continue; // unknown keys are reported separately
    if (child.kind === 'section' && isObject(value) && isObject(out[key])) out[key] = merge(out[key] as Json, value, child);
    else if (value === null && 'optional' in child && child.optional) delete out[key];
    else out[key] = value;
  }
  return out;
}

export interface LoadConfigOptions {
  /** Check that model, tokenizer, data and rubric paths exist (and parse the model's config.json). Default true.
   * 'model': only the model's (a memory plan needs its sizes, not the data). */
  checkPaths?: boolean | 'model';
}

/**
 * Reads `path` (.json, .yaml or .yml; null: defaults only), applies `--key value`
 * overrides, fills defaults and validates. Relative paths are taken relative to
 * the working directory, like the paths given on the command line.
 * Throws one ConfigError listing every problem.
 */
export function loadTrainConfig(path: string | null, overrides: readonly string[], options: LoadConfigOptions = {}): TrainConfig {
  const source = path ?? 'defaults and command line';
  const problems: string[] = [];
  const fileValue = path === null ? {} : readConfigFile(path);
  if (fileValue !== null && fileValue !== undefined && !isObject(fileValue)) {
    throw new ConfigError([`the top level must be a mapping of keys, got ${show(fileValue)}`], source);
  }
  const fromFile = (fileValue ?? {}) as Json;
  findUnknownKeys(fromFile, SCHEMA, '', problems);
  const fromArgs = overridesObject(parseOverrideArgs(overrides, problems), problems);
  // A section given as JSON on the command line (--grpo.reward '{...}') may hold unknown keys too.
  findUnknownKeys(fromArgs, SCHEMA, '', problems);

  const merged = merge(merge(defaultTrainConfig() as unknown as Json, fromFile, SCHEMA), fromArgs, SCHEMA);
  // Derived defaults see the merged values, so `--name x` also moves the run folder.
  const userSet = (key: string) => Object.hasOwn(fromFile, key) || Object.hasOwn(fromArgs, key);
  if (!userSet('name')) merged.name = path === null ? 'run' : basename(path, extname(path));
  if (!userSet('outDir')) merged.outDir = `runs/${String(merged.name)}`;
  if (!userSet('tokenizer') && isObject(merged.model) && typeof merged.model.path === 'string') merged.tokenizer = merged.model.path;

  const before = problems.length;
  checkValue(SCHEMA, merged, '', problems);
  const typesOk = problems.length === before;
  const cfg = merged as unknown as TrainConfig;
  // Relations need well-typed values; missing files are worth reporting either way.
  const checkPaths = options.checkPaths ?? true;
  if (typesOk) checkRelations(cfg, problems, checkPaths === 'model');
  if (checkPaths) {
    const modelConfig = checkFiles(cfg, problems, checkPaths === 'model');
    if (modelConfig && typesOk) checkAgainstModel(cfg, modelConfig, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems, source);
  return cfg;
}

/** The Qwen3 config the run trains: model.path's config.json, or model.config with init random. */
export function loadModelConfig(cfg: TrainConfig): Qwen3Config {
  const file = cfg.model.path !== undefined ? join(cfg.model.path, 'config.json') : cfg.model.config;
  if (file === undefined) throw new ConfigError(['model: neither model.path nor model.config is set'], 'model config');
  const problems: string[] = [];
  const parsed = readModelConfigFile(file, cfg.model.path !== undefined ? 'model.path' : 'model.config', problems);
  if (!parsed) throw new ConfigError(problems, file);
  return parsed;
}

/** The resolved config as commented YAML, for the run folder. */
export function describeConfig(cfg: TrainConfig): string {
  return `# Training config with defaults filled in (written by train.js; loadable with --config).\n${YAML.stringify(cfg)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Hash of the settings that change what training computes, stored in checkpoints
 * so a resume with different settings is caught. Names, folders, logging,
 * checkpointing and evaluation (its cadence and data.eval) are left out: changing them on resume is fine. So is
 * model.gradientCheckpointing, which changes the memory a step takes and not its numbers.
 */
export function configHash(cfg: TrainConfig): string {
  return hashOfTraining(cfg, false);
}

/**
 * The hashes a checkpoint of a run with `cfg` may carry: configHash, and the hash of the same
 * config from before data.eval left the hash (a run that set data.eval, when nothing read it, wrote
 * that one), so that such a run still resumes.
 */
export function acceptedConfigHashes(cfg: TrainConfig): string[] {
  return cfg.data.eval === undefined ? [configHash(cfg)] : [configHash(cfg), hashOfTraining(cfg, true)];
}

function hashOfTraining(cfg: TrainConfig, withDataEval: boolean): string {
  return createHash('sha256').update(canonicalJson(hashedSettings(cfg, withDataEval))).digest('hex').slice(0, 16);
}

/** What the config hash covers, normalised as it hashes it (hashOfTraining). */
function hashedSettings(cfg: TrainConfig, withDataEval: boolean): Json {
  const { name: _n, outDir: _o, log: _l, checkpoint: _c, eval: _e, ...training } = cfg;
  const { gradientCheckpointing: _g, ...model } = training.model;
  // Keys added after checkpoints were written are hashed only away from their default, so that
  // those checkpoints still resume (their runs computed exactly the default).
  const grpo = Object.fromEntries(Object.entries(training.grpo).filter(([k, v]) => {
    // With one update per batch (absent: a config from before the key, which had one) the ratio is
    // exactly 1 and the dual clip never binds: any value trains alike.
    if (k === 'clipRatioC' && (training.grpo.updatesPerBatch ?? 1) === 1) return false;
    return !(k in GRPO_KEYS_ADDED_LATER) || v !== GRPO_KEYS_ADDED_LATER[k];
  }));
  // Likewise data.layout and data.fields (read as absent in a config from before them).
  // data.eval (the held-out pairs) is evaluation, like the eval section, and trains nothing.
  const { layout, fields, eval: evalFile, ...data } = training.data as Partial<DataConfig> & Pick<DataConfig, 'format' | 'onBadRow'>;
  const pairsOnly = (layout?.sft ?? 'pairs') === 'pairs' && (layout?.grpo ?? 'pairs') === 'pairs';
  const renamed = Object.values(fields ?? {}).some((name) => name !== undefined);
  // data.layout.eval, like data.eval, trains nothing.
  const trainedLayout = layout === undefined ? undefined : { sft: layout.sft, grpo: layout.grpo };
  const dataHashed = { ...data, ...(withDataEval && evalFile !== undefined ? { eval: evalFile } : {}), ...(pairsOnly ? {} : { layout: trainedLayout }), ...(renamed ? { fields } : {}) };
  return { ...training, model, grpo, data: dataHashed };
}

/** At most this many changed settings are named when a resume is refused. */
const MAX_CHANGES_NAMED = 8;

/**
 * Why a checkpoint whose config hash is `checkpointHash` does not resume with `current`: the hashed
 * settings that differ between `saved` (the run's config.yaml, parsed; typed loosely, as an older
 * version may have written it) and `current`, each as `key: old -> new`, at most MAX_CHANGES_NAMED
 * and then how many more. Null when `saved` is not the checkpoint's config (it hashes to another
 * value, or is no config at all), or when no difference can be named.
 */
export function changedTrainingSettings(saved: unknown, current: TrainConfig, checkpointHash: string): string[] | null {
  if (!isObject(saved)) return null;
  let savedSettings: Json, withDataEval: boolean | undefined;
  try {
    const savedCfg = saved as unknown as TrainConfig;
    // The hash the checkpoint carries: with data.eval or without (acceptedConfigHashes).
    withDataEval = [false, true].find((withEval) => hashOfTraining(savedCfg, withEval) === checkpointHash);
    if (withDataEval === undefined) return null;
    savedSettings = hashedSettings(savedCfg, withDataEval);
  } catch {
    return null; // not shaped like a config (hashedSettings reads its sections)
  }
  const currentSettings = hashedSettings(current, withDataEval);
  const keys = [...new Set([...settingPaths(savedSettings), ...settingPaths(currentSettings)])].sort();
  const changes: string[] = [];
  for (const key of keys) {
    const [before, after] = [valueAt(savedSettings, key), valueAt(currentSettings, key)];
    if (canonicalJson(before) === canonicalJson(after)) continue;
    // A side the normalisation left the key out of shows the value that side's run computed with.
    const [shownBefore, shownAfter] = [showSetting(before ?? valueAt(saved, key), key), showSetting(after ?? valueAt(current as unknown as Json, key), key)];
    if (shownBefore !== shownAfter) changes.push(`${key}: ${shownBefore} -> ${shownAfter}`);
  }
  if (changes.length === 0) return null;
  return changes.length > MAX_CHANGES_NAMED
    ? [...changes.slice(0, MAX_CHANGES_NAMED), `and ${changes.length - MAX_CHANGES_NAMED} more`]
    : changes;
}

/** The dotted paths of the leaves of `value` (arrays are leaves, as stages and betas are). */
function settingPaths(value: Json, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) => {
    if (v === undefined) return [];
    const path = prefix ? `${prefix}.${k}` : k;
    return isObject(v) ? settingPaths(v, path) : [path];
  });
}

function valueAt(root: Json, path: string): unknown {
  let node: unknown = root;
  for (const part of path.split('.')) node = isObject(node) && Object.hasOwn(node, part) ? node[part] : undefined;
  return node;
}

function showSetting(value: unknown, key: string): string {
  if (value === undefined) {
    const [section, name] = key.split('.');
    // A grpo key the run's config predates: its run computed with the value hashed as absent.
    if (section === 'grpo' && name !== undefined && Object.hasOwn(GRPO_KEYS_ADDED_LATER, name)) return canonicalJson(GRPO_KEYS_ADDED_LATER[name]);
    return '(not set)';
  }
  return canonicalJson(value);
}

/** grpo keys added after checkpoints existed, with the value runs before them computed. */
const GRPO_KEYS_ADDED_LATER: Readonly<Record<string, unknown>> = { unbiasedStd: true, klEstimator: 'k3', lossAggregation: 'token-mean', updatesPerBatch: 1, referenceDtype: 'f32', kvCacheDtype: 'f32', clipRatioC: 0 };
