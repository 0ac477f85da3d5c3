// Graceful stop on Ctrl-C / SIGTERM: the first signal asks the trainer to stop
// at the next step boundary (where it can save a checkpoint and the report);
// a second one exits at once for when that takes too long.

export interface StopFlagOptions {
  /** Where the notice goes; default stderr. */
  log?: (message: string) => void;
  /** How the second signal ends the process; default process.exit. Tests pass a fake. */
  exit?: (code: number) => void;
  signals?: readonly NodeJS.Signals[];
}

/** Exit status of a process ended by a signal, by shell convention: 128 + signal number. */
const EXIT_CODE: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** The exit status for a run the signal stopped (1 for a signal the table does not know). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return EXIT_CODE[signal] ?? 1;
}

export class StopFlag {
  /** Set by the first signal; the trainer checks it between steps. */
  requested = false;
  /** The signal that set `requested`. */
  signal: NodeJS.Signals | null = null;
  private readonly log: (message: string) => void;
  private readonly exit: (code: number) => void;
  private readonly signals: readonly NodeJS.Signals[];
  private readonly handler = (signal: NodeJS.Signals) => this.onSignal(signal);
  private installed = false;

  constructor(options: StopFlagOptions = {}) {
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  }

  install(): this {
    if (this.installed) return this;
    for (const s of this.signals) process.on(s, this.handler);
    this.installed = true;
    return this;
  }

  /** Removes the handlers (Node's default then applies: the next Ctrl-C kills the process). */
  dispose(): void {
    for (const s of this.signals) process.off(s, this.handler);
    this.installed = false;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.requested) {
      this.log(`${signal} again: aborting now`);
      this.exit(signalExitCode(signal));
      return;
    }
    this.requested = true;
    this.signal = signal;
    this.log(`${signal}: stopping at the next step boundary (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to abort)`);
  }
}
