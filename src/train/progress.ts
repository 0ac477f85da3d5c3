// Progress on the terminal: a cli-progress bar with ETA and a few live metrics
// when stderr is a TTY; otherwise (logs, CI, nohup) plain lines every k steps,
// e.g. `[sft] step 12/100 loss 1.234 lr 1.5e-6 eta 3m10s`, which stay readable
// in a file where a redrawn bar would turn into control-character noise.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Stage } from './config.js';

/** Metric name -> short label, in display order. */
const DEFAULT_SHOWN: ReadonlyArray<readonly [string, string]> = [
  ['loss', 'loss'],
  ['rewardMean', 'reward'],
  ['parAccuracy', 'acc'],
  ['formatErrorRate', 'fmt_err'],
  ['kl', 'kl'],
  ['lr', 'lr'],
  ['tokensPerSecond', 'tok/s'],
];

export interface ProgressOptions {
  /** Print nothing but log() messages. Default false. */
  quiet?: boolean;
  /** Draw a bar; default: whether the stream is a TTY. */
  tty?: boolean;
  /** Plain mode: a line every this many steps, plus the first and the last. Default 10. */
  every?: number;
  /** Default process.stderr (stdout stays free for machine-readable output). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds; tests pass a fake clock. */
  now?: () => number;
  /** [metric name, label] pairs shown when present, in order. */
  show?: ReadonlyArray<readonly [string, string]>;
}

/** 4 significant digits, exponent form for very small or large values: 1.234, 0.5, 1.5e-6, 12345. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    const [mantissa, exponent] = x.toExponential(3).split('e');
    return `${trimZeros(mantissa!)}e${Number(exponent)}`;
  }
  return a >= 1000 ? x.toFixed(0) : trimZeros(x.toPrecision(4));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** 45s, 3m10s, 2h05m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressReporter {
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly every: number;
  private readonly stream: NodeJS.WritableStream;
  private readonly now: () => number;
  private readonly shown: ReadonlyArray<readonly [string, string]>;
  private stage: Stage | null = null;
  private total = 0;
  private firstStep = 0;
  private startedAt = 0;
  private multibar: MultiBar | null = null;
  private bar: SingleBar | null = null;

  constructor(options: ProgressOptions = {}) {
    const stream = options.stream ?? process.stderr;
    this.stream = stream;
    this.quiet = options.quiet ?? false;
    this.tty = options.tty ?? Boolean((stream as { isTTY?: boolean }).isTTY);
    this.every = options.every ?? 10;
    if (!Number.isInteger(this.every) || this.every < 1) throw new RangeError(`ProgressReporter: every must be an integer >= 1, got ${this.every}`);
    this.now = options.now ?? (() => Date.now());
    this.shown = options.show ?? DEFAULT_SHOWN;
  }

  /** A new stage of `totalSteps`; `startStep` > 0 when resuming (ETA counts only steps run now). */
  start(stage: Stage, totalSteps: number, startStep = 0): void {
    this.stop();
    this.stage = stage;
    this.total = totalSteps;
    this.firstStep = startStep;
    this.startedAt = this.now();
    if (this.quiet || !this.tty) return;
    this.multibar = new MultiBar(
      {
        stream: this.stream,
        // {eta} is cli-progress's own placeholder; ours ({timeLeft}) counts only the steps run since start().
        format: '[{stage}] {bar} {value}/{total} {metrics} | eta {timeLeft}',
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
      },
      Presets.shades_classic,
    );
    this.bar = this.multibar.create(totalSteps, startStep, { stage, metrics: '', timeLeft: '?' });
  }

  /** Seconds left at the rate of the steps run since start(). */
  eta(step: number): number {
    const done = step - this.firstStep;
    const elapsed = (this.now() - this.startedAt) / 1000;
    if (done <= 0 || elapsed <= 0) return NaN;
    return ((this.total - step) * elapsed) / done;
  }

  describeMetrics(metrics: Readonly<Record<string, unknown>>): string {
    return this.shown
      .filter(([name]) => typeof metrics[name] === 'number')
      .map(([name, label]) => `${label} ${formatNumber(metrics[name] as number)}`)
      .join(' ');
  }

  /** `step` = optimizer steps finished in this stage. */
  update(step: number, metrics: Readonly<Record<string, unknown>> = {}): void {
    if (this.stage === null) throw new Error('ProgressReporter.update: call start() first');
    if (this.quiet) return;
    const eta = formatDuration(this.eta(step));
    const text = this.describeMetrics(metrics);
    if (this.bar) {
      this.bar.update(step, { stage: this.stage, metrics: text, timeLeft: eta });
      return;
    }
    const due = step === this.total || step === this.firstStep + 1 || step % this.every === 0;
    if (!due) return;
    const parts = [`[${this.stage}] step ${step}/${this.total}`, text, `eta ${eta}`].filter(Boolean);
    this.stream.write(`${parts.join(' ')}\n`);
  }

  /** A message line (checkpoint saved, eval results, warnings); shown even when quiet, above the bar on a TTY. */
  log(message: string): void {
    const line = message.endsWith('\n') ? message : `${message}\n`;
    if (this.multibar) this.multibar.log(line);
    else this.stream.write(line);
  }

  stop(): void {
    this.multibar?.stop();
    this.multibar = null;
    this.bar = null;
  }
}
