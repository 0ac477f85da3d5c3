// The default job at its seconds-long smoke scale: every stage runs through train.js's config
// path and the results table, results.json and the HTML report come out, the same for a seed.
// (Whether the full-scale job learns is measured by running it; see README "Default job results".)
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultJobStopMessage, defaultJudgeConfig, DEMO_SCALES, installDefaultJobStop, MADE_UP_HELD_OUT, PER_PAIR_FILE, PREVIOUS_RUN_DIR, runDefaultJob, SFT_CANDIDATE_SEED_STRIDE, type SftSelection } from '../src/demo/default-job.js';
import { evaluateHeldOut, greedyPointwiseAccuracy } from '../src/demo/evaluate.js';
import { Qwen3 } from '../src/model/qwen3.js';
import { loadHfWeights } from '../src/model/weights.js';
import { prepareRunData } from '../src/train/run-data.js';
import { runtime } from './util.js';
import { WORDS } from '../src/synth/vocabulary.js';
import { defaultTrainConfig, loadModelConfig, loadTrainConfig } from '../src/train/config.js';
import type { ResultRow } from '../src/demo/results-table.js';
import { pairedClusterBootstrap } from '../src/eval/bootstrap.js';

const root = mkdtempSync(join(tmpdir(), 'default-job-'));

/** The quoted word of each prompt of a JSONL data file (every letter-kind prompt has one). */
function quotedWords(file: string): string[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => /'([a-z]+)'/.exec(JSON.parse(l).prompt)![1]!);
}
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('default job (smoke scale)', () => {
  let first: ResultRow[];

  it('runs untrained -> SFT -> GRPO and writes results and report', async () => {
    const out = join(root, 'a');
    first = await runDefaultJob({ scale: 'smoke', outDir: out, quiet: true });
    expect(first.map((r) => r.model)).toEqual(['untrained', 'SFT only', 'SFT + GRPO (graded f)']);
    for (const r of first) {
      for (const v of [r.pointwise, r.pointwiseTiesHalf, r.formatErrorRate, r.voting, r.pairwise]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(r.pointwiseTiesHalf).toBeGreaterThanOrEqual(r.pointwise);
      expect(r.votingK).toBe(2);
    }
    // Pointwise by pair type: the default data has no partial pairs, so its one group is all pairs.
    for (const r of first) expect(r.pointwiseByGroup).toEqual({ 'chosen right': r.pointwise });
    // Each pair's credit, in test-file order, averages to the row's pointwise accuracy.
    const testPairs = readFileSync(join(out, 'seed-0', 'data', 'test.jsonl'), 'utf8').trim().split('\n');
    for (const r of first) {
      expect(r.pointwisePerPair).toHaveLength(testPairs.length);
      expect(r.pointwisePerPair!.reduce((a, b) => a + b, 0) / testPairs.length).toBeCloseTo(r.pointwise, 12);
    }
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(saved.rows).toEqual(JSON.parse(JSON.stringify(first.map(({ pointwisePerPair: _, ...r }) => r))));
    const perPair = readFileSync(join(out, PER_PAIR_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(perPair).toEqual(first.map((r) => ({ seed: 0, model: r.model, pairs: join('seed-0', 'data', 'test.jsonl'), pointwise: r.pointwisePerPair })));
    // The change over SFT only comes with its bootstrap interval over the test prompts.
    expect(saved.changes.map((c: { model: string }) => c.model)).toEqual(['SFT + GRPO (graded f)']);
    // Clusters are the test pairs' prompts, SFT only is the baseline.
    const prompts = testPairs.map((l) => JSON.parse(l).prompt as string);
    const [, sftRow, grpoRow] = first;
    expect(saved.changes[0].ci).toEqual(pairedClusterBootstrap([{ clusters: prompts, baseline: sftRow!.pointwisePerPair!, system: grpoRow!.pointwisePerPair! }]));
    expect(saved.changes[0].ci.estimate).toBeCloseTo(grpoRow!.pointwise - sftRow!.pointwise, 12);
    expect(saved.seconds).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
    // Each stage kept its config and a final checkpoint under its seed folder.
    for (const f of ['sft.yaml', 'grpo-graded.yaml', 'data/sft.jsonl', 'data/test.jsonl']) expect(existsSync(join(out, 'seed-0', f)), f).toBe(true);
    // The scale's stage settings reach the run through its config file (the KL coefficient is not verl's default).
    const grpo = loadTrainConfig(join(out, 'seed-0', 'grpo-graded.yaml'), []).grpo;
    const want = DEMO_SCALES.smoke.grpo;
    expect([grpo.klCoef, grpo.lr, grpo.steps, grpo.rollouts]).toEqual([want.klCoef, want.lr, want.steps, want.rollouts]);
    // Likewise SFT's weight decay, which is not the config default (0.01).
    const sft = loadTrainConfig(join(out, 'seed-0', 'sft.yaml'), []).sft;
    expect([sft.weightDecay, sft.lr, sft.epochs]).toEqual([DEMO_SCALES.smoke.sft.weightDecay, DEMO_SCALES.smoke.sft.lr, DEMO_SCALES.smoke.sft.epochs]);
    expect(sft.weightDecay).not.toBe(defaultTrainConfig().sft.weightDecay);
  }, 600_000);

  it('gives the same results for the same seed, and says each evaluation\'s scores as it ends', async () => {
    let log = '';
    const capture = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { log += String(chunk); return true; });
    let again: ResultRow[];
    try {
      again = await runDefaultJob({ scale: 'smoke', outDir: join(root, 'b') });
    } finally {
      capture.mockRestore();
    }
    expect(again).toEqual(first);
    for (const r of first) {
      expect(log).toContain(`[seed 0] held-out evaluation of ${r.model}: ${r.pairs} pairs`);
      expect(log).toContain(`[seed 0] ${r.model}: pointwise ${(100 * r.pointwise).toFixed(1)}%, vote@2 ${(100 * r.voting).toFixed(1)}%, pairwise ${(100 * r.pairwise).toFixed(1)}%`);
    }
  }, 600_000);

  it('with two seeds, repeats seed 0 as a one-seed run and estimates the time left after each seed but the last', async () => {
    let log = '';
    const capture = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { log += String(chunk); return true; });
    let rows: ResultRow[];
    try {
      rows = await runDefaultJob({ scale: 'smoke', outDir: join(root, 'two-seeds'), seeds: 2 });
    } finally {
      capture.mockRestore();
    }
    expect(rows.filter((r) => r.seed === 0)).toEqual(first);
    expect(rows.filter((r) => r.seed === 1).map((r) => r.model)).toEqual(first.map((r) => r.model));
    expect(log).toMatch(/\[seed 0\] done, \d+\.\d min into the job; about \d+ min more for 1 seed\(s\) at this pace/);
    expect(log).not.toContain('[seed 1] done');
  }, 600_000);

  it('runs from any working folder: writes runs/ there and reads the judge and tokenizer from the package', async () => {
    const packageFolder = process.cwd();
    const elsewhere = mkdtempSync(join(tmpdir(), 'default-job-cwd-'));
    process.chdir(elsewhere);
    try {
      expect(await runDefaultJob({ scale: 'smoke', quiet: true })).toEqual(first);
      expect(existsSync(join(elsewhere, 'runs', 'default', 'results.json'))).toBe(true);
    } finally {
      process.chdir(packageFolder);
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 600_000);

  it("with heldOut 'made-up', asks GRPO and test about made-up words and SFT about the vocabulary", async () => {
    const out = join(root, 'made-up');
    const rows = await runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, heldOut: 'made-up' });
    expect(rows.map((r) => r.model)).toEqual(first.map((r) => r.model));
    const words = (file: string) => quotedWords(join(out, 'seed-0', 'data', file));
    for (const w of words('sft.jsonl')) expect(WORDS).toContain(w);
    for (const w of [...words('grpo.jsonl'), ...words('test.jsonl')]) expect(WORDS).not.toContain(w);
    expect(words('grpo.jsonl')).toHaveLength(MADE_UP_HELD_OUT.smoke.grpoPairs);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).scale.data.heldOutWords).toBe('made-up');
  }, 600_000);

  it("with data.trainMadeUpWords, SFT also asks about made-up words of its own, and results.json records it", async () => {
    const out = join(root, 'made-up-sft');
    await runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, heldOut: 'made-up', data: { trainMadeUpWords: 60 } });
    const words = (file: string) => quotedWords(join(out, 'seed-0', 'data', file));
    const sftMadeUp = words('sft.jsonl').filter((w) => !WORDS.includes(w));
    expect(sftMadeUp.length).toBeGreaterThan(0);
    const heldOut = new Set([...words('grpo.jsonl'), ...words('test.jsonl')]);
    for (const w of sftMadeUp) expect(heldOut.has(w), w).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).scale.data).toMatchObject({ heldOutWords: 'made-up', trainMadeUpWords: 60 });
  }, 600_000);

  it('with sftCandidates, trains that many SFT judges and starts GRPO from the best on the GRPO pairs', async () => {
    const out = join(root, 'candidates');
    const rows = await runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, sftCandidates: 2 });
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const [selection] = saved.sftSelection as SftSelection[];
    expect(saved.sftSelection).toHaveLength(1);
    expect(selection!.candidates.map((c) => c.trainingSeed)).toEqual([0, SFT_CANDIDATE_SEED_STRIDE]);
    // Candidate 1 is the one-candidate run's SFT judge, weight for weight; candidate 2 is another.
    const weights = (checkpoint: string) => readFileSync(join(checkpoint, 'model.safetensors'));
    const [one, two] = selection!.candidates.map((c) => weights(c.checkpoint));
    expect(one!.equals(weights(join(root, 'a', 'seed-0', 'sft', basename(selection!.candidates[0]!.checkpoint))))).toBe(true);
    expect(two!.equals(one!)).toBe(false);
    // Each recorded accuracy is its checkpoint's on the GRPO pairs; the pick is the first best.
    const rt = await runtime();
    const cfg = loadTrainConfig(join(out, 'seed-0', 'grpo-graded.yaml'), []);
    const data = await prepareRunData(cfg, loadModelConfig(cfg));
    const grpoPairs = readFileSync(join(out, 'seed-0', 'data', 'grpo.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const test = readFileSync(join(out, 'seed-0', 'data', 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const c of selection!.candidates) {
      const { config, params } = await loadHfWeights(rt, c.checkpoint);
      const judge = new Qwen3(rt, config, params);
      expect(await greedyPointwiseAccuracy(judge, data.tokenizer, grpoPairs, data.template, { seed: 0, maxNewTokens: DEMO_SCALES.smoke.grpo.maxNewTokens })).toBe(c.grpoPairAccuracy);
      if (c === selection!.candidates[selection!.picked]) {
        // The SFT-only row is the picked judge's held-out evaluation.
        const scores = await evaluateHeldOut(judge, data.tokenizer, test, data.template, { seed: 0, maxNewTokens: DEMO_SCALES.smoke.grpo.maxNewTokens, pairwise: true, votingK: DEMO_SCALES.smoke.votingK });
        expect(rows[1]!.pointwise).toBe(scores.pointwise);
        expect(rows[1]!.voting).toBe(scores.voting);
      }
      judge.dispose();
    }
    const accuracies = selection!.candidates.map((c) => c.grpoPairAccuracy);
    expect(selection!.picked).toBe(accuracies.indexOf(Math.max(...accuracies)));
    expect(cfg.model.path).toBe(selection!.candidates[selection!.picked]!.checkpoint);
    expect(loadTrainConfig(join(out, 'seed-0', 'sft-candidate-1.yaml'), []).seed).toBe(SFT_CANDIDATE_SEED_STRIDE);
    // The summary under the table (also in the report) names the pick and every candidate's score.
    const note = `seed 0: candidate ${selection!.picked + 1} (${accuracies.map((a) => (100 * a).toFixed(1)).join(' / ')}% on the GRPO pairs)`;
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(note);
  }, 600_000);

  it('with judgeConfig, trains the judge that config describes', async () => {
    const twoLayers = join(root, 'judge-2-layers.json');
    writeFileSync(twoLayers, JSON.stringify({ ...JSON.parse(readFileSync(defaultJudgeConfig(), 'utf8')), num_hidden_layers: 2 }));
    const out = join(root, 'two-layers');
    await runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, judgeConfig: twoLayers });
    const sft = loadTrainConfig(join(out, 'seed-0', 'sft.yaml'), []);
    expect(sft.model.config).toBe(twoLayers);
    // GRPO starts from the SFT checkpoint, whose config.json is the judge that was trained.
    const trained = loadModelConfig(loadTrainConfig(join(out, 'seed-0', 'grpo-graded.yaml'), []));
    expect([trained.numLayers, trained.hiddenSize]).toEqual([2, 64]);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).judgeConfig).toBe(twoLayers);
  }, 600_000);

  it('keeps the previous run whole until a new run completes, and a stopped run leaves no half-replaced results', async () => {
    const out = join(root, 'rerun');
    cpSync(join(root, 'a'), out, { recursive: true }); // the first test's complete run
    writeFileSync(join(out, 'notes.txt'), 'not the job\'s');
    mkdirSync(join(out, 'seed-5')); // a seed of an earlier, larger run
    const earlier = readFileSync(join(out, 'results.json'), 'utf8');
    // Fails after seed 0's SFT (fewer GRPO pairs than a batch): its seed folder is half written.
    await expect(runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, data: { grpoPairs: 1 } })).rejects.toThrow(/fewer than grpo\.batchPairs/);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    expect(existsSync(join(out, 'seed-0', 'sft.yaml'))).toBe(true);
    expect(readFileSync(join(out, PREVIOUS_RUN_DIR, 'results.json'), 'utf8')).toBe(earlier);
    expect(readdirSync(join(out, PREVIOUS_RUN_DIR)).sort()).toEqual([PER_PAIR_FILE, 'report.html', 'results.json', 'seed-0', 'seed-5']);
    // A run stopped again keeps that same previous run; a run that completes replaces it.
    await expect(runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, data: { grpoPairs: 1 } })).rejects.toThrow(/fewer than grpo\.batchPairs/);
    expect(readFileSync(join(out, PREVIOUS_RUN_DIR, 'results.json'), 'utf8')).toBe(earlier);
    expect(await runDefaultJob({ scale: 'smoke', outDir: out, quiet: true })).toEqual(first);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', PER_PAIR_FILE, 'report.html', 'results.json', 'seed-0']);
  }, 600_000);

  it('refuses data options it cannot draw before replacing the earlier run of the seed', async () => {
    const out = join(root, 'kept');
    mkdirSync(join(out, 'seed-0'), { recursive: true });
    writeFileSync(join(out, 'seed-0', 'earlier.txt'), 'an earlier run');
    await expect(runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, data: { trainMadeUpWords: 2 } }))
      .rejects.toThrow(/trainMadeUpWords needs heldOutWords 'made-up', got 'vocabulary'/);
    expect(readFileSync(join(out, 'seed-0', 'earlier.txt'), 'utf8')).toBe('an earlier run');
  }, 60_000);

  it('refuses a judge config it cannot train before replacing any run folder', async () => {
    const base = JSON.parse(readFileSync(defaultJudgeConfig(), 'utf8'));
    const cases: [Record<string, number>, RegExp][] = [
      [{ vocab_size: 100 }, /vocab_size 100 cannot hold the 384 ids of models\/tiny-tokenizer/],
      [{ max_position_embeddings: 64 }, /max_position_embeddings 64 is shorter than the job's longest sequence, 128 tokens/],
    ];
    for (const [change, message] of cases) {
      const file = join(root, `judge-${Object.keys(change)[0]}.json`);
      writeFileSync(file, JSON.stringify({ ...base, ...change }));
      const out = join(root, 'refused');
      await expect(runDefaultJob({ scale: 'smoke', outDir: out, quiet: true, judgeConfig: file })).rejects.toThrow(message);
      expect(existsSync(out)).toBe(false);
    }
  }, 60_000);
});

describe('default job stopped by a signal', () => {
  it('says on Ctrl-C that it stopped, that it does not resume and where the earlier results are, and exits 130', async () => {
    // `node train.js` itself, from a folder holding an earlier run; stopped once it has set that run aside.
    const cwd = mkdtempSync(join(root, 'signalled-'));
    mkdirSync(join(cwd, 'runs', 'default', 'seed-0'), { recursive: true });
    writeFileSync(join(cwd, 'runs', 'default', 'seed-0', 'earlier.txt'), 'an earlier run');
    writeFileSync(join(cwd, 'runs', 'default', 'results.json'), '{}\n');
    const child = spawn(process.execPath, [resolve('train.js')], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let signalled = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!signalled && stderr.includes("the previous run's output is in")) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(signalled).toBe(true);
    expect(code).toBe(130);
    const previous = join('runs', 'default', PREVIOUS_RUN_DIR);
    expect(stderr).toContain(`default job: stopped by SIGINT (Ctrl-C). The default job does not resume: running node train.js again starts it over. The previous run's output is kept whole in ${previous}`);
    expect(readFileSync(join(cwd, previous, 'seed-0', 'earlier.txt'), 'utf8')).toBe('an earlier run');
  }, 120_000);

  it('names what it left at every point of the job, and exits with the shell\'s code for Ctrl-C', () => {
    const said: string[] = [];
    const codes: number[] = [];
    let previous: string | null | undefined;
    const before = process.listenerCount('SIGINT');
    const dispose = installDefaultJobStop((signal) => defaultJobStopMessage('runs/default', previous, signal), { log: (m) => said.push(m), exit: (c) => codes.push(c) });
    process.emit('SIGINT', 'SIGINT');
    previous = null;
    process.emit('SIGINT', 'SIGINT');
    dispose();
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(codes).toEqual([130, 130]);
    expect(said).toEqual([
      'default job: stopped by SIGINT (Ctrl-C) before it replaced anything in runs/default. The default job does not resume: running node train.js again starts it over.',
      "default job: stopped by SIGINT (Ctrl-C). The default job does not resume: running node train.js again starts it over. No earlier run's output was in runs/default; runs/default/seed-* hold this stopped run's partial output.",
    ]);
    expect(defaultJobStopMessage('runs/default', null, 'SIGTERM')).toMatch(/^default job: stopped by SIGTERM\. /);
  });
});
