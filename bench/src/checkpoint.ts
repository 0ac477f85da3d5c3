// Checkpoint benchmark: writing and reading back a training checkpoint (f32 weights and both AdamW
// moments) of Qwen3-0.6B's shapes, streamed (what the trainer does: each tensor read off the GPU as
// the file reaches it, and uploaded as it is read on a resume) against whole (the whole state read
// to host memory first, as the trainer did before). Per run: wall time, throughput, and the host
// memory it took beyond what the process held before it: the peak resident set size (Linux's
// VmHWM, reset through /proc/self/clear_refs) minus the resident size at the start, each run in a
// process of its own. On a CPU adapter the GPU buffers live in the process too; they are allocated
// and written before the baseline is taken.
//
//   npm run build && node bench/checkpoint.js [--quick]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Runtime } from '../../src/gpu/runtime.js';
import { parseQwen3Config, qwen3WeightShapes, type Qwen3Config } from '../../src/io/hf-model.js';
import { disposeAll, initRandomWeights, readWeights, uploadEach, weightSources, zerosLike } from '../../src/model/weights.js';
import { openCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointContent, type TrainerState } from '../../src/train/checkpoint.js';
import { describeMachine, removeDir, runHeader, smallSpec, tempDir } from './common.js';
import { appendResult, benchFlags, formatTable, loadAverages, packageRoot } from './report.js';

const USAGE = `usage: node bench/checkpoint.js [--quick]   (after npm run build)
  Full run: a checkpoint of Qwen3-0.6B's shapes (596M parameters, 7.2 GB of f32 weights and
  moments), written and read back streamed and whole, on this machine's disk.
  --quick  the benchmarks' small model (40M parameters) instead`;

interface RunResult {
  model: string;
  direction: 'write' | 'read';
  mode: 'streamed' | 'whole';
  seconds: number;
  gbPerSecond: number;
  /** Peak resident set size during the run minus the resident size before it, in GB. */
  extraHostGb: number | null;
}

const GB = 1e9;

function residentBytes(field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

// A full collection before each run, so that one run's garbage is not counted in the next one's peak.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Runs `work` and measures its time and the host memory it took above the resident size at its start. */
async function measured(work: () => Promise<void>): Promise<{ seconds: number; extraHostGb: number | null }> {
  collectGarbage();
  let peakReset = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current resident size (Linux >= 4.0)
  } catch {
    peakReset = false;
  }
  const before = residentBytes('VmRSS');
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const peak = residentBytes('VmHWM');
  return { seconds, extraHostGb: peakReset && before !== null && peak !== null ? (peak - before) / GB : null };
}

const trainer: TrainerState = {
  stage: 'sft', step: 1, epoch: 0, dataPosition: 0, sampler: null, rng: { seed: 1, draws: 0 }, configHash: 'bench', metricsRows: 0,
};

type Run = `${RunResult['direction']}-${RunResult['mode']}`;
const RUNS: readonly Run[] = ['write-streamed', 'read-streamed', 'write-whole', 'read-whole'];

/**
 * One run in a process of its own (`--run <run> <model> <dir>`): its baseline is then the weights
 * and moments on the GPU and nothing left over from another run (freed memory that the allocator
 * keeps would let a later run reuse it without its resident size growing).
 */
async function childRun(run: Run, model: string, dir: string): Promise<void> {
  const rt = await Runtime.create();
  const cfg = specByName(model).cfg;
  const params = initRandomWeights(rt, cfg, 1);
  const m = zerosLike(rt, cfg, 'm'), v = zerosLike(rt, cfg, 'v');
  // Written before the baseline: a CPU adapter may give a buffer its memory only when first written.
  for (const set of [m, v]) for (const t of set.values()) t.write(rt, new Float32Array(t.size).fill(1e-3));
  await rt.sync();
  const sets = { w: params, m, v };
  const r = await measured(async () => {
    if (run === 'write-streamed') {
      await writeCheckpoint(dir, { config: cfg, weights: weightSources(rt, params), optimizer: { m: weightSources(rt, m), v: weightSources(rt, v), step: 1 }, trainer });
    } else if (run === 'write-whole') {
      const content: CheckpointContent = { config: cfg, weights: await readWeights(rt, params), optimizer: { m: await readWeights(rt, m), v: await readWeights(rt, v), step: 1 }, trainer };
      await writeCheckpoint(dir, content);
    } else if (run === 'read-streamed') {
      // As the trainer's resume: each tensor uploaded as it is read, the upload waited for before the next.
      const opened = await openCheckpoint(dir);
      try {
        await uploadEach(rt, params, (n) => opened.readWeight(n));
        await uploadEach(rt, m, (n) => opened.readMoment('m', n));
        await uploadEach(rt, v, (n) => opened.readMoment('v', n));
      } finally {
        await opened.close();
      }
    } else {
      // Uploads waited for one by one here too, so that the figure is the host copy of the state alone
      // (the driver's upload staging would otherwise add as much again: 7 GB more for Qwen3-0.6B).
      const loaded = await readCheckpoint(dir);
      for (const [n, t] of params) { t.write(rt, loaded.weights.get(n)!); await rt.sync(); }
      for (const [label, set] of [['m', m], ['v', v]] as const) for (const [n, t] of set) { t.write(rt, loaded.optimizer![label].get(n)!); await rt.sync(); }
    }
  });
  for (const set of Object.values(sets)) disposeAll(set);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`);
}

const RESULT_PREFIX = 'checkpoint-run-result ';

function specByName(name: string): { name: string; cfg: Qwen3Config } {
  if (name === 'small') return smallSpec();
  const path = join(packageRoot(), 'models', `${name}.json`);
  return { name, cfg: parseQwen3Config(JSON.parse(readFileSync(path, 'utf8')), path) };
}

function runInChild(run: Run, model: string, dir: string): { seconds: number; extraHostGb: number | null } {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--run', run, model, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) throw new Error(`checkpoint bench: the ${run} run printed no result:\n${out}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as { seconds: number; extraHostGb: number | null };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--run') return childRun(argv[1] as Run, argv[2]!, argv[3]!);
  const quick = benchFlags(USAGE, ['quick']).has('quick');
  const rt = await Runtime.create();
  const header = runHeader(rt, 'checkpoint', quick);
  console.log(describeMachine(rt));
  const spec = specByName(quick ? 'small' : 'qwen3-0.6b');
  const stateBytes = 3 * 4 * [...qwen3WeightShapes(spec.cfg).values()].reduce((n, shape) => n + shape.reduce((a, b) => a * b, 1), 0);
  const dir = tempDir('checkpoint');
  const results: RunResult[] = [];
  try {
    for (const run of RUNS) {
      const [direction, mode] = run.split('-') as [RunResult['direction'], RunResult['mode']];
      // Each read reads what the write of its mode wrote.
      const r = runInChild(run, spec.name, join(dir, mode));
      results.push({ model: spec.name, direction, mode, seconds: r.seconds, gbPerSecond: stateBytes / GB / r.seconds, extraHostGb: r.extraHostGb });
      console.log(`  ${spec.name} ${direction} ${mode}: ${r.seconds.toFixed(1)} s, extra host memory ${r.extraHostGb?.toFixed(2) ?? '?'} GB`);
      if (run.startsWith('read')) removeDir(join(dir, mode));
    }
  } finally {
    removeDir(dir);
  }
  console.log();
  console.log(`${spec.name}: ${(stateBytes / GB).toFixed(2)} GB of f32 weights and AdamW moments; its largest tensor ${(4 * Math.max(...[...qwen3WeightShapes(spec.cfg).values()].map((s) => s.reduce((a, b) => a * b, 1))) / GB).toFixed(2)} GB`);
  console.log(formatTable(['model', 'direction', 'mode', 'seconds', 'GB/s', 'extra host GB'],
    results.map((r) => [r.model, r.direction, r.mode, r.seconds, r.gbPerSecond, r.extraHostGb ?? '-'])));
  console.log('\nextra host GB: peak resident set size of the run minus its resident size before it, each run in a process of its');
  console.log('own with the weights and AdamW moments already on the GPU (on a CPU adapter, memory of this process).');
  console.log('Streamed: what the trainer does (each tensor read off the GPU as the file reaches it; on a resume each uploaded as it');
  console.log('is read); whole: the state read to host memory first, as it did before.');
  const out = appendResult('checkpoint', { ...header, loadAveragesEnd: loadAverages(), model: spec.cfg, stateBytes, results });
  console.log(`\nappended to ${out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
