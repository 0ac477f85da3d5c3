// Shared helpers of the benchmarks: timing on the GPU queue, the machine
// description that goes with every result, a plain-text table and the
// one-JSON-line-per-run results files in bench/results/.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
  /** What the "cpu ms" figures count: see `workCpuMs`. */
  cpuClock: CpuClock;
  subgroupMinSize: number;
  subgroupMaxSize: number;
  features: string[];
  /** The `webgpu` package (Dawn's Node bindings) version. */
  webgpu: string;
  /** The engine's environment settings in force (PATARM_MATMUL, PATARM_ATTENTION, ...). */
  env: Record<string, string>;
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
    cpuClock: CPU_CLOCK,
    subgroupMinSize: rt.gpu.subgroupMinSize,
    subgroupMaxSize: rt.gpu.subgroupMaxSize,
    features: [...rt.gpu.features].sort(),
    webgpu: webgpuVersion(),
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PATARM_')).map(([k, v]) => [k, v ?? ''])),
  };
}

function webgpuVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'node_modules', 'webgpu', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * 'worker-threads': the CPU time of every thread of this process but the JavaScript one, from
 * /proc/self/task/<tid>/schedstat (Linux). On a CPU adapter those are the driver's workers, whose
 * time is the work done. The JavaScript thread is left out because Dawn's Node bindings spin it
 * while they wait for the GPU: counting it, the same 1024^3 matmul took 112 CPU-ms with the thread
 * at nice 19 and 174 at nice 0. 'process': the whole process (process.cpuUsage, spin included),
 * where /proc is not there.
 */
export type CpuClock = 'worker-threads' | 'process';
export const CPU_CLOCK: CpuClock = existsSync('/proc/self/task') ? 'worker-threads' : 'process';

/** CPU time so far in ms, as CPU_CLOCK says. Differences of two readings time a piece of work. */
export function workCpuMs(): number {
  if (CPU_CLOCK === 'process') {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  }
  let ns = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    if (Number(tid) === process.pid) continue; // the JavaScript thread (Node runs it as the main thread)
    try {
      ns += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e6;
}

export interface Timing {
  /** Median wall time of one repetition, submit to completion. */
  ms: number;
  msMin: number;
  /**
   * Median CPU time per repetition of the threads that do the work (`workCpuMs`). On a CPU
   * adapter the driver's worker threads live in this process, so this is the work done, whatever
   * the machine's other processes do (they still slow it through shared caches and memory).
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
    const c0 = workCpuMs();
    const t0 = performance.now();
    record();
    await rt.sync();
    wall.push(performance.now() - t0);
    cpu.push(workCpuMs() - c0);
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

/**
 * The flags given to a benchmark, refusing any it does not know (a mistyped `--quik` would
 * otherwise start the full run, minutes to an hour on a CPU adapter). `--help` prints the usage
 * and exits.
 */
export function benchFlags<const F extends string>(usage: string, known: readonly F[], argv: readonly string[] = process.argv.slice(2)): Set<F> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  const unknown = argv.filter((a) => !known.some((f) => a === `--${f}`));
  if (unknown.length > 0) {
    console.error(`unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((a) => `'${a}'`).join(', ')}\n${usage}`);
    process.exit(2);
  }
  return new Set(known.filter((f) => argv.includes(`--${f}`)));
}

/**
 * The checked-out commit and the tracked files with uncommitted changes (at most 20 listed;
 * bench/results/, which every run appends to, does not count), or null outside a git checkout.
 */
export function gitCommit(): { commit: string; dirty: boolean; dirtyFiles: string[] } | null {
  try {
    const cwd = packageRoot();
    const opts = { cwd, encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], timeout: 10_000 };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).split('\n').filter(Boolean).map((l) => l.slice(3))
      .filter((f) => !f.startsWith('bench/results/'));
    return { commit, dirty: changed.length > 0, dirtyFiles: changed.slice(0, 20) };
  } catch {
    return null;
  }
}

/**
 * Whether dist/ (what the benchmarks run) was compiled after every TypeScript source changed, as
 * scripts/setup.sh decides it: a record names the source commit, which says nothing of a stale
 * build. `newerSources` lists up to 5 sources changed since the build.
 */
export function buildState(): { upToDate: boolean; newerSources: string[] } {
  const root = packageRoot();
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return { upToDate: false, newerSources: ['(no dist/.build-stamp: run npm run build)'] };
  const built = statSync(stamp).mtimeMs;
  const newer: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (newer.length >= 5) return;
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && statSync(join(root, rel)).mtimeMs > built) newer.push(rel);
    }
  };
  for (const dir of ['src', 'bench/src']) walk(dir);
  if (statSync(join(root, 'tsconfig.json')).mtimeMs > built && newer.length < 5) newer.push('tsconfig.json');
  return { upToDate: newer.length === 0, newerSources: newer };
}

/** The 1, 5 and 15 minute load averages, rounded. */
export function loadAverages(): number[] {
  return os.loadavg().map((x) => Number(x.toFixed(2)));
}
