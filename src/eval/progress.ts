/**
 * Progress while judging: a cli-progress bar with ETA when the stream is a TTY; otherwise plain
 * lines (`judged 120/3000 items (4%), eta 1h02m`) at most every `intervalSeconds`, plus the first
 * and the last, which stay readable in a log file. The ETA counts only items judged in this run,
 * so items resumed from a saved-judgments file do not make it look faster than it is.
 */
import { Presets, SingleBar } from 'cli-progress';
import { formatDuration } from '../train/progress.js';
import type { EvaluationProgress } from './judge.js';

export interface JudgingProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw a bar; default: whether the stream is a TTY. */
  tty?: boolean;
  /** Plain mode: seconds between lines. Default 30. */
  intervalSeconds?: number;
  /** Milliseconds; tests pass a fake clock. */
  now?: () => number;
}

export interface JudgingProgress {
  update(progress: EvaluationProgress): void;
  stop(): void;
}

export function createJudgingProgress(options: JudgingProgressOptions = {}): JudgingProgress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  const now = options.now ?? (() => Date.now());
  const interval = (options.intervalSeconds ?? 30) * 1000;
  const startedAt = now();
  let bar: SingleBar | null = null;
  let lastLineAt = -Infinity;
  let lastDone = -1;

  const eta = (p: EvaluationProgress) => {
    const judged = p.done - p.resumed;
    const elapsed = (now() - startedAt) / 1000;
    return judged > 0 && elapsed > 0 ? ((p.total - p.done) * elapsed) / judged : NaN;
  };

  return {
    update(p) {
      if (tty) {
        if (bar === null) {
          bar = new SingleBar(
            { stream, format: 'judging {bar} {value}/{total} items | eta {timeLeft}', hideCursor: true, barsize: 30 },
            Presets.shades_classic,
          );
          bar.start(p.total, p.done, { timeLeft: '?' });
        }
        bar.update(p.done, { timeLeft: formatDuration(eta(p)) });
        return;
      }
      const first = lastDone < 0;
      const last = p.done === p.total;
      if (p.done === lastDone || (!first && !last && now() - lastLineAt < interval)) return;
      lastDone = p.done;
      lastLineAt = now();
      const percent = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
      const resumed = first && p.resumed > 0 ? `, ${p.resumed} resumed from saved judgments` : '';
      stream.write(`judged ${p.done}/${p.total} items (${percent}%)${resumed}${last ? '' : `, eta ${formatDuration(eta(p))}`}\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
