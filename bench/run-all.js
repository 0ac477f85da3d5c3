#!/usr/bin/env node
// Runs every benchmark in sequence, each in its own process (so one's memory
// and compiled pipelines do not affect the next), then prints the issue's
// targets against the figures the runs just appended to bench/results/.
//
//   npm run build && node bench/run-all.js [--quick]     (or: npm run bench [-- --quick])
//
// Full: matmul, kernels, model, decode, grpo, checkpoint (tens of minutes on
// lavapipe; checkpoint writes two 7 GB checkpoints to the temporary folder).
// --quick: kernels, model, decode, grpo, checkpoint with --quick (about 40 s
// on a 2-core lavapipe machine); the matmul benchmark is left out because
// model.js measures the 1024^3 matmul rate itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const USAGE = `usage: node bench/run-all.js [--quick]   (after npm run build; npm run bench [-- --quick] does both)
  Full: matmul, kernels, model, decode, grpo, checkpoint (tens of minutes on lavapipe).
  --quick  kernels, model, decode, grpo, checkpoint with --quick (about 40 s on a 2-core lavapipe machine)`;
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--quick');
if (unknown.length > 0) {
  console.error(`unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.map((a) => `'${a}'`).join(', ')}\n${USAGE}`);
  process.exit(2);
}
const quick = args.includes('--quick');
const names = quick ? ['kernels', 'model', 'decode', 'grpo', 'checkpoint'] : ['matmul', 'kernels', 'model', 'decode', 'grpo', 'checkpoint'];

if (!existsSync(join(benchDir, '..', 'dist', 'bench', 'src', 'model.js'))) {
  console.error('bench/run-all.js: dist/bench is missing; run `npm run build` first');
  process.exit(1);
}

const start = Date.now();
// Whether `/usr/bin/python3 -c 'import torch'` works, checked once for all benchmarks (see bench/src/common.ts).
if (!process.env.BENCH_TORCH_CHECK) {
  const t = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  process.env.BENCH_TORCH_CHECK = JSON.stringify(t.status === 0
    ? { ok: true, note: `PyTorch ${t.stdout.trim()}` }
    : { ok: false, note: `PyTorch comparison skipped: /usr/bin/python3 -c 'import torch' failed (${(t.error?.message ?? t.stderr ?? '').trim().split('\n').pop()})` });
}
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`run-all${quick ? ' --quick' : ''}: ${names.join(', ')}; load averages ${load()} (1/5/15 min)`);
const runs = [];
for (const name of names) {
  console.log(`\n=== ${name} ${'='.repeat(Math.max(3, 70 - name.length))}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(benchDir, `${name}.js`), ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
  const seconds = (Date.now() - t0) / 1000;
  runs.push({ name, seconds, ok: r.status === 0 });
  console.log(`--- ${name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${seconds.toFixed(1)} s`);
}

/** The record a benchmark appended during this run (its last line, if written after `start`). */
function latest(name) {
  const path = join(benchDir, 'results', `${name}.jsonl`);
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const rec = JSON.parse(lines[lines.length - 1]);
  return Date.parse(rec.date) >= start - 1000 ? rec : null;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const verdict = (ok) => (ok ? 'met' : 'MISSED');
const targets = [];
const mm = latest('matmul');
const model = latest('model');
const decode = latest('decode');
if (mm) {
  const best = Math.max(...mm.results.filter((r) => r.shape === '1024^3' && r.variant === mm.defaultVariant).map((r) => r.gflops));
  targets.push(`matmul 1024^3 >= 10 GFLOP/s: ${best.toFixed(2)} GFLOP/s (matmul.js, best kind) -> ${verdict(best >= 10)}`);
}
if (model) {
  targets.push(`matmul 1024^3 >= 10 GFLOP/s: ${model.matmul.gflops.toFixed(2)} GFLOP/s (model.js, best kind) -> ${verdict(model.matmul.gflops >= 10)}`);
  const small = model.results.find((r) => r.model === 'small');
  if (small) {
    targets.push(`small-model training step >= 50% of the best matmul rate: ${small.achievedGflops.toFixed(2)} / ${model.matmul.gflops.toFixed(2)} GFLOP/s = ${pct(small.matmulEfficiency)}` +
      `${small.timedWithProfiler ? ' (quick: profiled step)' : ''} -> ${verdict(small.matmulEfficiency >= 0.5)}`);
  }
}
if (decode) {
  for (const s of decode.summary) {
    targets.push(`decode ${s.model} ${s.mode}: batch-32 step <= 3x batch-1 step: ${s.batch32OverBatch1.toFixed(2)}x -> ${verdict(s.batch32OverBatch1 <= 3)}; ` +
      `readbacks per decode step <= 1: ${s.maxReadbacksPerStep} -> ${verdict(s.maxReadbacksPerStep <= 1)}`);
  }
}
const total = (Date.now() - start) / 1000;
console.log(`\n=== summary ${'='.repeat(63)}`);
for (const r of runs) console.log(`${r.ok ? 'ok    ' : 'FAILED'}  ${r.name.padEnd(8)} ${r.seconds.toFixed(1).padStart(7)} s`);
console.log(`total ${total.toFixed(1)} s; load averages now ${load()}`);
if (targets.length) {
  console.log('\ntargets (wall-time figures on a shared machine: see the load averages):');
  for (const t of targets) console.log(`  ${t}`);
}
process.exit(runs.every((r) => r.ok) ? 0 : 1);
