// Per-step metrics as JSON lines in <outDir>/metrics.jsonl. Each line is
// written with one write() call as soon as the step ends, so a killed run keeps
// every step it logged (every log.every-th and each stage's last). Numbers are rounded to 6 significant digits (integers
// stay exact) and keys are ordered, so identical runs write identical lines.
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextFileAtomicSync } from '../io/atomic.js';
import type { Stage } from './config.js';

/** Metric names the trainer writes and the report knows how to label. */
export interface StepMetrics {
  loss?: number;
  /** GRPO: mean total reward (PAR + format) over the batch's rollouts. */
  rewardMean?: number;
  /** GRPO: fraction of pairs whose mean chosen score beats the mean rejected score. */
  parAccuracy?: number;
  /** GRPO: fraction of rollouts without a well-formed score. */
  formatErrorRate?: number;
  /** Mean generated (GRPO) or target (SFT) length in tokens. */
  responseLength?: number;
  kl?: number;
  clipFraction?: number;
  entropy?: number;
  gradNorm?: number;
  lr?: number;
  tokensPerSecond?: number;
  genSeconds?: number;
  trainSeconds?: number;
  /** GRPO: share of rollouts in the update (below 1 when skipUniformGroups leaves some out). */
  trainedShare?: number;
  /** GRPO: share of pairs whose chosen / rejected rollout group earned equal rewards (no advantage). */
  uniformChosenShare?: number;
  uniformRejectedShare?: number;
  /** eval.every: greedy pointwise accuracy on the held-out pairs (ties wrong), ties counted half, and malformed judgments' share. */
  evalAccuracy?: number;
  evalAccuracyTiesHalf?: number;
  evalFormatErrors?: number;
}

/** Known metrics in display order, with labels for charts and progress lines. */
export const METRIC_LABELS: ReadonlyArray<readonly [keyof StepMetrics, string]> = [
  ['loss', 'loss'],
  ['evalAccuracy', 'held-out accuracy'],
  ['evalAccuracyTiesHalf', 'held-out accuracy, ties half'],
  ['evalFormatErrors', 'held-out format errors'],
  ['rewardMean', 'reward mean'],
  ['parAccuracy', 'PAR pair accuracy'],
  ['formatErrorRate', 'format error rate'],
  ['responseLength', 'response length (tokens)'],
  ['kl', 'KL to reference'],
  ['clipFraction', 'clip fraction'],
  ['entropy', 'entropy'],
  ['gradNorm', 'grad norm'],
  ['lr', 'learning rate'],
  ['tokensPerSecond', 'tokens/s'],
  ['genSeconds', 'generation seconds'],
  ['trainSeconds', 'training seconds'],
  ['trainedShare', 'share of rollouts trained on'],
  ['uniformChosenShare', 'uniform chosen groups'],
  ['uniformRejectedShare', 'uniform rejected groups'],
];

export type MetricValue = number | string | boolean | null;

export interface MetricsRow {
  step: number;
  stage: Stage;
  /** Seconds since the log was created (wall clock), rounded to milliseconds. */
  time: number;
  [name: string]: MetricValue;
}

export const METRICS_FILE = 'metrics.jsonl';

/** 6 significant digits for fractions; integers unchanged; NaN/Infinity as strings (JSON has no such numbers). */
export function roundMetric(value: number): number | string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value;
  return Number(value.toPrecision(6));
}

function encodeRow(row: MetricsRow): string {
  const out: Record<string, MetricValue> = { step: row.step, stage: row.stage, time: Math.round(row.time * 1000) / 1000 };
  const rest = Object.keys(row).filter((k) => k !== 'step' && k !== 'stage' && k !== 'time').sort();
  for (const key of rest) {
    const value = row[key];
    if (value === undefined) continue;
    out[key] = typeof value === 'number' ? roundMetric(value) : value;
  }
  return `${JSON.stringify(out)}\n`;
}

export interface MetricsLogOptions {
  /** Keep the first `keepRows` complete lines of an existing file (resuming from a checkpoint taken then); default 0 (start empty). */
  keepRows?: number;
  /** Seconds, for `time`; default wall clock. Tests pass a fake. */
  now?: () => number;
  /** fdatasync after every line, so a power loss (not just a kill) keeps it. Default true. */
  durable?: boolean;
}

export class MetricsLog {
  readonly path: string;
  private fd: number | null;
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly durable: boolean;
  private written: number;
  /** The rows kept from an earlier run (resuming), decoded; empty for a fresh log. */
  readonly keptRows: readonly MetricsRow[];

  private constructor(path: string, fd: number, kept: MetricsRow[], options: MetricsLogOptions) {
    this.path = path;
    this.fd = fd;
    this.keptRows = kept;
    this.written = kept.length;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.startedAt = this.now();
    this.durable = options.durable ?? true;
  }

  /** Opens <outDir>/metrics.jsonl for appending; see MetricsLogOptions.keepRows for resuming. */
  static create(outDir: string, options: MetricsLogOptions = {}): MetricsLog {
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, METRICS_FILE);
    const keep = options.keepRows ?? 0;
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`MetricsLog: keepRows must be an integer >= 0, got ${keep}`);
    let kept: string[] = [];
    if (keep > 0) {
      const lines = existsSync(path) ? completeLines(readFileSync(path, 'utf8')) : [];
      if (lines.length < keep) {
        throw new Error(`${path}: resuming needs its first ${keep} metrics lines, but the file has ${lines.length} complete lines`);
      }
      kept = lines.slice(0, keep);
    }
    // The rows after the checkpoint belong to steps that will be run again, so the file is
    // replaced by its first `keep` rows; atomically, so a crash now cannot lose the kept ones.
    writeTextFileAtomicSync(path, kept.map((l) => `${l}\n`).join(''));
    const rows = kept.map((l, i) => {
      try {
        return decodeRow(JSON.parse(l) as Record<string, unknown>);
      } catch (err) {
        throw new Error(`${path} line ${i + 1}: not valid JSON (${(err as Error).message})`);
      }
    });
    return new MetricsLog(path, openSync(path, 'a'), rows, options);
  }

  /** Rows written so far, including kept ones (saved in checkpoints for resuming). */
  get rows(): number {
    return this.written;
  }

  /** Elapsed seconds since create(). */
  elapsed(): number {
    return this.now() - this.startedAt;
  }

  append(step: number, stage: Stage, metrics: StepMetrics & Record<string, MetricValue | undefined>): MetricsRow {
    if (this.fd === null) throw new Error(`${this.path}: metrics log already closed`);
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`MetricsLog.append: step must be an integer >= 0, got ${step}`);
    const row = { ...metrics, step, stage, time: this.elapsed() } as MetricsRow;
    const line = encodeRow(row);
    writeSync(this.fd, line);
    if (this.durable) fdatasyncSync(this.fd);
    this.written++;
    return decodeRow(JSON.parse(line) as Record<string, unknown>);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop(); // text after the last newline is not a complete line
  return lines.filter((l) => l.trim() !== '');
}

export interface ReadMetricsResult {
  rows: MetricsRow[];
  /** A last line cut off mid-write (the run was killed), which was left out. */
  truncatedLastLine?: { line: number; text: string };
}

function decodeValue(value: unknown): MetricValue {
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return value as MetricValue;
}

function decodeRow(row: Record<string, unknown>): MetricsRow {
  const decoded: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(row)) decoded[k] = decodeValue(v);
  return decoded as MetricsRow;
}

/**
 * Reads a metrics.jsonl. A broken last line is reported in `truncatedLastLine`
 * and skipped (a killed run); a broken line elsewhere is an error naming it.
 */
export function readMetrics(path: string): ReadMetricsResult {
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const rows: MetricsRow[] = [];
  for (const [i, text] of lines.entries()) {
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      if (i === lines.length - 1) return { rows, truncatedLastLine: { line: i + 1, text } };
      throw new Error(`${path} line ${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    const row = parsed as Record<string, unknown>;
    if (typeof row !== 'object' || row === null || typeof row.step !== 'number' || typeof row.stage !== 'string') {
      throw new Error(`${path} line ${i + 1}: a metrics row needs numeric "step" and string "stage"`);
    }
    rows.push(decodeRow(row));
  }
  return { rows };
}
