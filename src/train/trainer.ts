// The training run: SFT and/or GRPO stages from a validated config, with
// metrics, progress, periodic crash-safe checkpoints, exact resume, Ctrl-C
// at step boundaries and an HTML report at the end.
//
// Resume state: weights, AdamW moments and step, the pair sampler's position,
// and the step counter from which every random stream is derived (GRPO's
// sampling seeds are deriveSeed(seed, 1_000_000 + step), a stage's sampler
// seed deriveSeed(seed, stage index)), so a resumed run repeats the same steps.
// GRPO's KL reference is the policy at the start of the GRPO stage; it is
// kept on the GPU as a second f32 copy and saved once as <outDir>/reference
// so a resumed run reloads the same reference.
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { PairSampler, deriveSeed, type PreferencePair } from '../data/index.js';
import type { Runtime } from '../gpu/runtime.js';
import { writeTextFileAtomicSync } from '../io/atomic.js';
import { writeHfModelFolder, type Qwen3Config } from '../io/hf-model.js';
import { Bf16MatricesQwen3 } from '../model/bf16-matrices.js';
import { Qwen3 } from '../model/qwen3.js';
import { copyParams, initRandomWeights, loadHfWeights, uploadEach, uploadedParams, weightSources, type ParamSet } from '../model/weights.js';
import {
  checkpointName, latestCheckpoint, liesOutside, listCheckpoints, openCheckpoint, pruneCheckpoints, recoverInterruptedWrites, setAsideNewerCheckpoints, writeCheckpoint, type OpenedCheckpoint, type TrainerState,
} from './checkpoint.js';
import { acceptedConfigHashes, changedTrainingSettings, CONFIG_FILE, configHash, describeConfig, type Stage, type TrainConfig } from './config.js';
import { grpoStep } from './grpo.js';
import { METRICS_FILE, MetricsLog, type MetricsRow } from './metrics.js';
import { AdamW } from './optimizer.js';
import { formatNumber, ProgressReporter } from './progress.js';
import { writeHtmlReport } from './report-html.js';
import { dataFingerprint, type RunData, type SftPair } from './run-data.js';
import { learningRate } from './schedule.js';
import { sftStep } from './sft.js';
import { StopFlag } from './signals.js';

export interface RunOptions {
  /** A checkpoint folder to continue from, or 'latest' for the newest in outDir. */
  resume?: string;
  quiet?: boolean;
  /** Stop (with a checkpoint) after this many optimizer steps in this process (tests: simulate a kill). */
  maxStepsThisRun?: number;
  /** Install the Ctrl-C handler (off in tests). */
  handleSignals?: boolean;
  /**
   * Evaluation during training, called after every cfg.eval.every-th optimizer step of a stage and
   * after its last (when eval.every is set) with the current model; the numbers it returns join
   * that step's metrics row. Given by a caller above this layer (the CLI builds it from eval/), so
   * the trainer does not import the evaluation.
   */
  evaluator?: StepEvaluator;
}

export type StepEvaluator = (model: Qwen3, stage: Stage, step: number) => Promise<Record<string, number>>;

export interface RunResult {
  stopped: boolean;
  /** The signal that stopped the run (handleSignals), or null. */
  stoppedBy: NodeJS.Signals | null;
  /** Every row of the run's metrics.jsonl: those kept from before a resume, then this process's. */
  metrics: MetricsRow[];
  finalCheckpoint: string | null;
  model: Qwen3;
}

export async function runTraining(rt: Runtime, cfg: TrainConfig, modelCfg: Qwen3Config, data: RunData, opts: RunOptions = {}): Promise<RunResult> {
  await recoverInterruptedWrites(cfg.outDir);
  const hash = configHash(cfg);
  const dataHash = dataFingerprint(data);
  const totalSteps = stageStepCounts(cfg, data); // checked before any GPU work
  // Open until the resumed stage has read its optimizer state: weights and moments are uploaded
  // one tensor at a time, never the whole checkpoint in host memory.
  let resumeFrom: OpenedCheckpoint | null = null;
  let resumeDir: string | null = null;
  let metricsRowsKept = 0;
  if (opts.resume) {
    ({ checkpoint: resumeFrom, dir: resumeDir, metricsRowsKept } = await openResume(cfg, opts.resume, dataHash));
  } else {
    // A fresh run would interleave its checkpoints with another run's and prune the wrong ones.
    const existing = await listCheckpoints(cfg.outDir);
    if (existing.length > 0) {
      throw new Error(`${cfg.outDir} already holds checkpoints of a run (${existing.map((e) => e.dir).join(', ')}); resume it with --resume latest, or choose another outDir`);
    }
    // The resolved config, so that `--config <outDir>/config.yaml --resume latest` continues this run.
    writeTextFileAtomicSync(join(cfg.outDir, CONFIG_FILE), describeConfig(cfg));
  }
  let resumeOpen = resumeFrom !== null;
  const closeResume = async () => {
    if (resumeOpen) await resumeFrom!.close();
    resumeOpen = false;
  };
  let params: ParamSet, metrics: MetricsLog;
  try {
    params = resumeFrom
      ? await uploadedParams(rt, modelCfg, (name) => resumeFrom!.readWeight(name))
      : cfg.model.path ? (await loadHfWeights(rt, cfg.model.path)).params : initRandomWeights(rt, modelCfg, cfg.seed);
    metrics = MetricsLog.create(cfg.outDir, { keepRows: metricsRowsKept });
  } catch (err) {
    await closeResume(); // the run's finally below is not reached from here
    throw err;
  }
  const model = new Qwen3(rt, modelCfg, params);
  const progress = new ProgressReporter({ quiet: opts.quiet });
  // An abort at the second signal gives the terminal back its cursor, which the progress bar hides.
  const stop = opts.handleSignals ? new StopFlag({ exit: (code) => { progress.stop(); process.exit(code); } }).install() : null;
  const allRows: MetricsRow[] = [...metrics.keptRows]; // the report shows the whole run, not just this process's steps
  let stepsThisRun = 0;
  let stopped = false;
  let finalCheckpoint: string | null = null;
  for (const n of data.notes) progress.log(n);

  const stageOrder: Stage[] = cfg.stages;
  const startIndex = resumeFrom ? stageOrder.indexOf(resumeFrom.trainer.stage) : 0;
  const lastStage = stageOrder[stageOrder.length - 1]!;
  const resumedAt = resumeFrom?.trainer;
  const finished = resumedAt !== undefined && resumedAt.stage === lastStage && resumedAt.step >= totalSteps.get(lastStage)!;
  if (finished) {
    // Nothing to load either (no optimizer, no KL reference): the run's result is that checkpoint.
    progress.log(`${resumedAt.stage} step ${resumedAt.step} was the run's last: nothing left to train`);
    finalCheckpoint = resumeDir;
  }
  try {
    for (let si = finished ? stageOrder.length : startIndex; si < stageOrder.length && !stopped; si++) {
      const stage = stageOrder[si]!;
      const resumeState = resumeFrom && si === startIndex ? resumeFrom : null;
      rt.trimPool(); // the previous stage's freed buffers (SFT activations) are not this stage's sizes
      const hyper = stage === 'sft' ? cfg.sft : cfg.grpo;
      const opt = new AdamW(rt, modelCfg, { lr: hyper.lr, beta1: hyper.betas[0], beta2: hyper.betas[1], eps: hyper.eps, weightDecay: hyper.weightDecay, maxGradNorm: hyper.gradClip });
      if (resumeState?.optimizerStep !== undefined) {
        // uploadEach disposes what it filled if a read fails; the run stops there anyway.
        await uploadEach(rt, opt.m, (name) => resumeState.readMoment('m', name));
        await uploadEach(rt, opt.v, (name) => resumeState.readMoment('v', name));
        opt.stepCount = resumeState.optimizerStep;
      }
      if (resumeState) await closeResume();
      const pairs = stage === 'sft' ? data.sft : data.grpo;
      const sampler = new PairSampler<SftPair | PreferencePair>(pairs, { batchRows: pairsPerStage(cfg, stage) * 2, seed: deriveSeed(cfg.seed, si) }, resumeState?.trainer.sampler ?? undefined);
      const stageSteps = totalSteps.get(stage)!;
      let step = resumeState?.trainer.step ?? 0;

      let ref: Qwen3 | null = null;
      // At GRPO's step 0 the policy is the reference, so a resume from there (the end-of-SFT
      // checkpoint, written before the reference folder) builds it afresh like a new run.
      if (stage === 'grpo' && cfg.grpo.klCoef !== 0) ref = await referenceModel(rt, cfg, modelCfg, model, resumeState !== null && step > 0);

      progress.start(stage, stageSteps, step);
      while (step < stageSteps) {
        const batch = sampler.nextBatch();
        const lr = learningRate(step + 1, stageSteps, { lr: hyper.lr, minLr: hyper.minLr, schedule: hyper.schedule, warmupSteps: hyper.warmupSteps });
        let row: Record<string, number | null>;
        if (stage === 'sft') {
          const rows = (batch.pairs as SftPair[]).flatMap((p) => p.rows);
          const r = await sftStep(model, opt, rows, { microBatchRows: cfg.sft.microBatchRows, padId: data.tokenizer.padId, lr, maxSeqLen: cfg.sft.maxSeqLen, recompute: cfg.model.gradientCheckpointing });
          row = { loss: r.loss, gradNorm: r.gradNorm, lr, responseLength: r.targetTokens / rows.length, tokensPerSecond: r.tokens / r.seconds, trainSeconds: r.seconds, epoch: batch.epoch };
        } else {
          const g = cfg.grpo;
          const r = await grpoStep({ model, ref, opt, tokenizer: data.tokenizer }, batch.pairs as PreferencePair[], {
            rollouts: g.rollouts, microBatchRows: g.microBatchRows, generationRows: g.generationRows, kvCacheDtype: g.kvCacheDtype, maxNewTokens: g.maxNewTokens, maxPromptLen: g.maxPromptLen,
            temperature: g.temperature, topP: g.topP, topK: g.topK, seed: deriveSeed(cfg.seed, 1_000_000 + step),
            clipEps: g.clipEps, clipRatioC: g.clipRatioC, klCoef: g.klCoef, lr, advantageEps: g.advantageEps, normalizeStd: g.normalizeStd, unbiasedStd: g.unbiasedStd, klEstimator: g.klEstimator, lossAggregation: g.lossAggregation, updatesPerBatch: g.updatesPerBatch,
            skipUniformGroups: g.skipUniformGroups, recompute: cfg.model.gradientCheckpointing,
            par: {
              f: g.reward.f === 'graded' ? { kind: 'graded', threshold: g.reward.threshold, high: g.reward.high, low: g.reward.low } : { kind: 'constant', value: g.reward.high },
              formatPenalty: g.reward.formatPenalty,
            },
            template: data.template,
          });
          row = { ...r, lr, epoch: batch.epoch };
        }
        step++;
        stepsThisRun++;
        // Not of damaged weights (checkFinite stops below), nor on a Ctrl-C that is not a stage's end
        // (the stop should not wait for it).
        const evaluate = opts.evaluator !== undefined && cfg.eval.every !== undefined && (step % cfg.eval.every === 0 || step === stageSteps)
          && finiteStep(row) && (step === stageSteps || !(stop?.requested ?? false));
        if (evaluate) {
          // The step's pooled activations (SFT's stay pooled between steps) make room for the
          // evaluation's cache, as the memory plan counts them: phases, not a sum.
          rt.trimPool();
          try {
            const scores = await opts.evaluator!(model, stage, step);
            Object.assign(row, scores);
            progress.log(`${stage} step ${step}, ${data.eval.length} held-out pairs: ${Object.entries(scores).map(([k, v]) => `${k} ${formatNumber(v)}`).join(', ')}`);
          } catch (err) {
            // Training goes on and the step's checkpoint is still written: an evaluation is a measurement, not the run.
            progress.log(`${stage} step ${step}: the evaluation on data.eval failed (${(err as Error).message}); training goes on without it`);
          }
        }
        if (step % cfg.log.every === 0 || step === stageSteps || evaluate) allRows.push(metrics.append(step, stage, row));
        progress.update(step, row);
        checkFinite(stage, step, row, finalCheckpoint ?? resumeDir);
        const atEnd = step === stageSteps;
        const interrupted = (stop?.requested ?? false) || (opts.maxStepsThisRun !== undefined && stepsThisRun >= opts.maxStepsThisRun);
        if (atEnd || interrupted || step % cfg.checkpoint.every === 0) {
          // The state after the last finished step; at a stage's end the next stage starts fresh.
          const next: TrainerState = atEnd && si + 1 < stageOrder.length
            ? { stage: stageOrder[si + 1]!, step: 0, epoch: 0, dataPosition: 0, sampler: null, rng: null, configHash: hash, dataHash, metricsRows: metrics.rows }
            : { stage, step, epoch: batch.epoch, dataPosition: sampler.state().position, sampler: sampler.state(), rng: { seed: cfg.seed }, configHash: hash, dataHash, metricsRows: metrics.rows };
          const keepOptimizer = !(atEnd && si + 1 < stageOrder.length);
          finalCheckpoint = await saveCheckpoint(rt, cfg, modelCfg, model, keepOptimizer ? opt : null, next, data, stage, step);
          // A stop at a stage's end stops too (the checkpoint starts the next stage); only the last
          // step of the last stage has nothing left to stop.
          if (interrupted && !(atEnd && si + 1 === stageOrder.length)) {
            progress.log(`stopped after ${stage} step ${step}; continue with: node train.js --config ${join(cfg.outDir, CONFIG_FILE)} --resume latest`);
            stopped = true;
            break;
          }
        }
      }
      progress.stop();
      opt.dispose();
      ref?.dispose();
    }
  } finally {
    progress.stop(); // also when a step throws: the bar would keep the cursor hidden
    try {
      metrics.close();
      stop?.dispose();
    } finally {
      await closeResume();
    }
  }
  await writeHtmlReport(cfg.outDir, allRows, { title: `PaTaRM training: ${cfg.name}`, configSummary: describeConfig(cfg) });
  return { stopped, stoppedBy: stopped ? (stop?.signal ?? null) : null, metrics: allRows, finalCheckpoint, model };
}

function pairsPerStage(cfg: TrainConfig, stage: Stage): number {
  return stage === 'sft' ? cfg.sft.batchRows / 2 : cfg.grpo.batchPairs;
}

/**
 * Optimizer steps of each stage: grpo.steps, or epochs over the stage's pairs. A warmup longer
 * than its stage is refused here, before any GPU work: its learning rate would never reach `lr`.
 */
export function stageStepCounts(cfg: TrainConfig, data: Pick<RunData, 'sft' | 'grpo'>): Map<Stage, number> {
  const counts = new Map<Stage, number>();
  for (const stage of cfg.stages) {
    const hyper = stage === 'sft' ? cfg.sft : cfg.grpo;
    const pairs = stage === 'sft' ? data.sft.length : data.grpo.length;
    const steps = stage === 'grpo' && cfg.grpo.steps !== undefined ? cfg.grpo.steps : hyper.epochs * Math.ceil(pairs / pairsPerStage(cfg, stage));
    if (hyper.warmupSteps > steps) {
      throw new Error(`${stage}.warmupSteps ${hyper.warmupSteps} is more than the stage's ${steps} steps, so its learning rate would never reach ${stage}.lr`);
    }
    counts.set(stage, steps);
  }
  return counts;
}

/**
 * A non-finite loss or gradient norm has already been applied to the weights (AdamW ran on it),
 * so the run stops before any checkpoint takes the damaged weights and prunes good ones.
 */
const FINITE_CHECKED = ['loss', 'gradNorm'] as const;

function finiteStep(row: Record<string, number | null>): boolean {
  return FINITE_CHECKED.every((k) => typeof row[k] !== 'number' || Number.isFinite(row[k]));
}

function checkFinite(stage: Stage, step: number, row: Record<string, number | null>, lastCheckpoint: string | null): void {
  const bad = FINITE_CHECKED.filter((k) => typeof row[k] === 'number' && !Number.isFinite(row[k]));
  if (bad.length === 0) return;
  throw new Error(`${stage} step ${step}: ${bad.map((k) => `${k} ${row[k]}`).join(', ')}, so the weights are no longer usable; stopped without saving them. ` +
    (lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}. ` : 'No checkpoint was written. ') + `A lower ${stage}.lr or a gradient clip usually avoids this.`);
}

async function saveCheckpoint(
  rt: Runtime, cfg: TrainConfig, modelCfg: Qwen3Config, model: Qwen3, opt: AdamW | null, state: TrainerState, data: RunData, stage: Stage, step: number,
): Promise<string> {
  const dir = join(cfg.outDir, checkpointName(stage, step));
  await writeCheckpoint(dir, {
    config: modelCfg,
    weights: weightSources(rt, model.params),
    optimizer: opt ? { m: weightSources(rt, opt.m), v: weightSources(rt, opt.v), step: opt.stepCount } : undefined,
    trainer: state,
    tokenizerFiles: tokenizerFilesOf(data),
    maxShardBytes: cfg.checkpoint.maxShardBytes,
  });
  await pruneCheckpoints(cfg.outDir, cfg.checkpoint.keep);
  return dir;
}

function tokenizerFilesOf(data: RunData): string[] {
  const files = [data.tokenizer.path];
  const configPath = join(data.tokenizer.path, '..', 'tokenizer_config.json');
  if (existsSync(configPath)) files.push(configPath);
  return files;
}

/** The GRPO stage's KL reference weights, in the run folder beside the checkpoints. */
const REFERENCE_DIR = 'reference';

/**
 * The checkpoint a resume continues from, once it is known to belong to this run (same settings,
 * same data), with the run folder made its branch's: newer checkpoints of another branch set
 * aside, and from a checkpoint outside the folder its own reference and metrics brought in.
 */
async function openResume(cfg: TrainConfig, resume: string, dataHash: string): Promise<{ checkpoint: OpenedCheckpoint; dir: string; metricsRowsKept: number }> {
  const dir = resume === 'latest' ? await latestCheckpoint(cfg.outDir) : resume;
  if (!dir) throw new Error(`--resume latest: no checkpoint in ${cfg.outDir}`);
  const checkpoint = await openCheckpoint(dir);
  try {
    return { checkpoint, dir, ...(await adoptResumeBranch(cfg, checkpoint.trainer, dir, dataHash)) };
  } catch (err) {
    await checkpoint.close();
    throw err;
  }
}

/** Checks that the checkpoint's run is this one and makes the run folder its branch's (openResume). */
async function adoptResumeBranch(cfg: TrainConfig, state: TrainerState, dir: string, dataHash: string): Promise<{ metricsRowsKept: number }> {
  if (!acceptedConfigHashes(cfg).includes(state.configHash)) throw new Error(differentSettingsMessage(cfg, state, dir));
  if (state.dataHash !== undefined && state.dataHash !== dataHash) {
    throw new Error(`checkpoint ${dir} was written by a run on other data: the data files, rubrics or tokenizer have changed since (data fingerprint differs); a resume would not repeat the same steps`);
  }
  // The KL reference is rebuilt unless the resume is inside GRPO, so an abandoned branch keeps its own.
  const rebuildsReference = !(state.stage === 'grpo' && state.step > 0);
  // A checkpoint from outside the run folder (an abandoned-* branch, a copy) brings its own
  // branch's metrics and KL reference from beside it: outDir's belong to another branch.
  const home = liesOutside(cfg.outDir, dir) ? dirname(resolve(dir)) : null;
  if (home && !rebuildsReference && !existsSync(join(home, REFERENCE_DIR))) {
    throw new Error(`checkpoint ${dir} is inside GRPO and lies outside ${cfg.outDir}: resuming it needs the KL reference its GRPO started from, ${join(home, REFERENCE_DIR)}, which is missing`);
  }
  const setAside = await setAsideNewerCheckpoints(cfg.outDir, dir, {
    copyFiles: [join(cfg.outDir, METRICS_FILE)], move: rebuildsReference || home ? [join(cfg.outDir, REFERENCE_DIR)] : [],
  });
  if (setAside) {
    const why = home ? `a branch from outside ${cfg.outDir}` : `not the newest checkpoint of ${cfg.outDir}`;
    process.stderr.write(`resuming from ${dir}, ${why}: moved ${setAside.moved.join(', ') || 'nothing'} and a copy of ${METRICS_FILE} to ${setAside.folder}\n`);
  }
  const metricsRowsKept = home ? await bringBranchFiles(home, cfg.outDir, { reference: !rebuildsReference, metricsRows: state.metricsRows }) : state.metricsRows;
  return { metricsRowsKept };
}

/**
 * The refusal of a checkpoint of other training settings, naming the settings that changed since
 * the run's config.yaml (beside the checkpoint, else in outDir) when one is found whose hash is the
 * checkpoint's; without one, only that the hash differs.
 */
function differentSettingsMessage(cfg: TrainConfig, state: TrainerState, dir: string): string {
  const refusal = `checkpoint ${dir} was written by a run with different training settings (config hash differs)`;
  for (const file of new Set([join(dirname(dir), CONFIG_FILE), join(cfg.outDir, CONFIG_FILE)])) {
    let saved: unknown;
    try {
      saved = YAML.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // missing or unreadable: another candidate, or the refusal alone
    }
    const changes = changedTrainingSettings(saved, cfg, state.configHash);
    if (changes) {
      return `${refusal}; changed since that run's ${file}:\n  ${changes.join('\n  ')}\n` +
        `resume with its settings (--config ${file} --resume ...), or train the new settings in another outDir`;
    }
  }
  return refusal;
}

/**
 * Copies a branch's files from the folder its resumed checkpoint lies in into the run folder (whose
 * own were set aside): the KL reference when the resume is inside GRPO, and metrics.jsonl. A
 * checkpoint copied without its metrics.jsonl starts the run's metrics afresh, said on stderr,
 * rather than keeping another branch's rows. Copies, so the folder brought back stays whole.
 * Returns how many metrics rows the resumed run keeps.
 */
async function bringBranchFiles(home: string, outDir: string, o: { reference: boolean; metricsRows: number }): Promise<number> {
  if (o.reference) await cp(join(home, REFERENCE_DIR), join(outDir, REFERENCE_DIR), { recursive: true });
  const metrics = join(home, METRICS_FILE);
  if (existsSync(metrics)) {
    await copyFile(metrics, join(outDir, METRICS_FILE));
    return o.metricsRows;
  }
  if (o.metricsRows > 0) process.stderr.write(`${home} holds no ${METRICS_FILE}: the resumed run's metrics start afresh, without the ${o.metricsRows} rows before the checkpoint\n`);
  await rm(join(outDir, METRICS_FILE), { force: true });
  return 0;
}

/**
 * The frozen KL reference: a copy of the policy at the start of GRPO, saved (in f32) so that a
 * resume reloads it; with grpo.referenceDtype 'bf16' its layer matrices are rounded on the GPU.
 */
async function referenceModel(rt: Runtime, cfg: TrainConfig, modelCfg: Qwen3Config, policy: Qwen3, resuming: boolean): Promise<Qwen3> {
  const dir = join(cfg.outDir, REFERENCE_DIR);
  const bf16 = cfg.grpo.referenceDtype === 'bf16';
  if (resuming) {
    if (!existsSync(dir)) throw new Error(`resuming GRPO needs the KL reference weights in ${dir}, which are missing`);
    if (bf16) return Bf16MatricesQwen3.fromFolder(rt, dir);
    const { params } = await loadHfWeights(rt, dir);
    return new Qwen3(rt, modelCfg, params);
  }
  // Saved one tensor at a time, the policy's weights never all in host memory at once; the f32
  // reference is then copied on the GPU, the bf16 one packed from the saved folder as on a resume.
  await writeHfModelFolder(dir, modelCfg, weightSources(rt, policy.params), { dtype: 'F32', maxShardBytes: cfg.checkpoint.maxShardBytes });
  if (bf16) return Bf16MatricesQwen3.fromFolder(rt, dir);
  return new Qwen3(rt, modelCfg, copyParams(rt, modelCfg, policy.params, 'ref'));
}


