// Shared helpers of the benchmarks: timing on the GPU queue, the machine
// description that goes with every result, a plain-text table and the
// one-JSON-line-per-run results files in bench/results/.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../src/gpu/runtime.js';

export interface MachineInfo {
  adapter: string;
  isCpuAdapter: boolean;
  /** The JS thread's nice value (19 on CPU adapters unless PATARM_HOST_PRIORITY=keep: src/gpu/host-priority.ts). */
  hostThreadNice: number;
  os: string;
  cpuModel: string;
  cpuCount: number;
  node: string;
  /** 1-minute load average at the start: other processes on a shared machine skew wall times. */
  loadAverage: number;
}

export function machineInfo(rt: Runtime): MachineInfo {
  const cpus = os.cpus();
  return {
    adapter: rt.gpu.name,
    isCpuAdapter: rt.gpu.isCpuAdapter,
    hostThreadNice: rt.gpu.hostThreadNice,
    os: `${os.platform()} ${os.release()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    node: process.version,
    loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

export interface Timing {
  /** Median wall time of one repetition, submit to completion. */
  ms: number;
  msMin: number;
  /**
   * Median CPU time this process used per repetition. On a CPU adapter the
   * driver's worker threads live in this process, so this is the work done,
   * independent of how busy the machine's other processes keep the cores.
   */
  cpuMs: number;
  reps: number;
}

/**
 * Runs `record` (which records GPU work) `warmup` times, then `reps` times
 * with `await rt.sync()` after each, and returns the median time.
 */
export async function measure(rt: Runtime, record: () => void, opts: { warmup?: number; reps?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 1, reps = opts.reps ?? 5;
  for (let i = 0; i < warmup; i++) record();
  await rt.sync();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    record();
    await rt.sync();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), msMin: Math.min(...wall), cpuMs: median(cpu), reps };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A fixed-width text table; numbers are right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** The package root (the folder holding package.json and kernels/), from src or dist. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'kernels'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the package root above ' + fileURLToPath(import.meta.url));
}

/** Appends one JSON line to bench/results/<name>.jsonl and returns the file's path. */
export function appendResult(name: string, record: object): string {
  const dir = join(packageRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.jsonl`);
  appendFileSync(path, JSON.stringify(record) + '\n');
  return path;
}

export function hasFlag(name: string, argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.includes(`--${name}`);
}

/**
 * The checked-out commit and the tracked files with uncommitted changes (at most 20 listed),
 * or null outside a git checkout.
 */
export function gitCommit(): { commit: string; dirty: boolean; dirtyFiles: string[] } | null {
  try {
    const cwd = packageRoot();
    const opts = { cwd, encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], timeout: 10_000 };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit, dirty: changed.length > 0, dirtyFiles: changed.slice(0, 20) };
  } catch {
    return null;
  }
}

/** The 1, 5 and 15 minute load averages, rounded. */
export function loadAverages(): number[] {
  return os.loadavg().map((x) => Number(x.toFixed(2)));
}
