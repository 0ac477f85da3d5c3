// node train.js                      the default job: a small PaTaRM reproduction (src/demo)
// node train.js --config FILE [--key value ...] [--resume DIR|latest] [--dry-run] [--gpu-memory 24GB] [--quiet]
// Everything that can be wrong with a config, its files, data or tokenizer is
// reported before any GPU work.
import { requestAdapter } from '../gpu/device.js';
import { qwen3WeightShapes, type Qwen3Config } from '../io/hf-model.js';
import { numElements } from '../io/safetensors.js';
import { GpuOutOfMemoryError } from '../gpu/errors.js';
import { Runtime } from '../gpu/runtime.js';
import { loadModelConfig, loadTrainConfig, type Stage, type TrainConfig } from '../train/config.js';
import { formatBytes, formatPlan, largestMicroBatch, parseBytes, planMemory, trainShapeForStage, type AdapterMemory, type EvaluationShape, type MemoryPlanTrain } from '../train/memory-plan.js';
import { decimalInteger } from '../train/number-text.js';
import { prepareRunData } from '../train/run-data.js';
import { runTraining } from '../train/trainer.js';
import { evaluationShape, heldOutEvaluator } from '../eval/held-out.js';
import { signalExitCode } from '../train/signals.js';
import { parseHeldOutWords, type HeldOutWords } from '../synth/tasks.js';

const USAGE = `usage:
  node train.js                                   run the default job (small PaTaRM reproduction; --study adds ablations, --seeds N,
                                                  --held-out made-up tests on made-up words, GRPO on others,
                                                  --sft-candidates N trains N SFT judges per seed, GRPO from the best on the GRPO pairs,
                                                  --judge-config FILE trains the judge of that config.json, default models/tiny-judge.json,
                                                  --sft-made-up-words N with --held-out made-up: SFT also asks about N made-up words of its own,
                                                  --shared-held-out-words N with --held-out made-up: GRPO and test prompts ask about one pool of N words)
  node train.js --config FILE [--key value ...]   train from a JSON/YAML config; any config key can be overridden
options: --resume DIR|latest   --dry-run (print the memory plan and exit)   --gpu-memory SIZE (e.g. 24GB)   --quiet`;

interface CliFlags {
  config: string | null;
  resume?: string;
  dryRun: boolean;
  gpuMemory?: number;
  quiet: boolean;
  study: boolean;
  seeds?: number;
  heldOut?: HeldOutWords;
  sftCandidates?: number;
  judgeConfig?: string;
  sftMadeUpWords?: number;
  sharedHeldOutWords?: number;
  overrides: string[];
}

/** Takes the CLI's own flags out of argv; the rest are config overrides (--key value). */
export function parseTrainArgs(argv: readonly string[]): CliFlags {
  const flags: CliFlags = { config: null, dryRun: false, quiet: false, study: false, overrides: [] };
  const own = new Set(['--config', '--resume', '--dry-run', '--gpu-memory', '--quiet', '--study', '--seeds', '--held-out', '--sft-candidates', '--judge-config', '--sft-made-up-words', '--shared-held-out-words']);
  const seen = new Set<string>();
  const switches = new Set(['--dry-run', '--quiet', '--study']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // `--config=FILE` is `--config FILE`, as `--key=value` is for the config overrides.
    const eq = arg.indexOf('=');
    const inline = eq > 0 && own.has(arg.slice(0, eq)) ? arg.slice(eq + 1) : undefined;
    const a = inline === undefined ? arg : arg.slice(0, eq);
    if (own.has(a)) {
      if (seen.has(a)) throw new Error(`${a} is given more than once`);
      seen.add(a);
    }
    if (inline !== undefined && switches.has(a)) throw new Error(`${a} takes no value, got '${arg}'`);
    const value = () => {
      if (inline !== undefined) {
        if (inline === '') throw new Error(`${a} needs a value`);
        return inline;
      }
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--config') flags.config = value();
    else if (a === '--resume') flags.resume = value();
    else if (a === '--dry-run') flags.dryRun = true;
    else if (a === '--gpu-memory') flags.gpuMemory = parseBytes(value());
    else if (a === '--quiet') flags.quiet = true;
    else if (a === '--study') flags.study = true;
    else if (a === '--seeds') flags.seeds = positiveInteger(a, value());
    else if (a === '--held-out') flags.heldOut = parseHeldOutWords(value(), a);
    else if (a === '--sft-candidates') flags.sftCandidates = positiveInteger(a, value());
    else if (a === '--judge-config') flags.judgeConfig = value();
    else if (a === '--sft-made-up-words') flags.sftMadeUpWords = positiveInteger(a, value());
    else if (a === '--shared-held-out-words') flags.sharedHeldOutWords = positiveInteger(a, value());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else flags.overrides.push(a);
  }
  return flags;
}

function positiveInteger(flag: string, text: string): number {
  const n = decimalInteger(text);
  if (n === null || n < 1) throw new Error(`${flag} needs a whole number of at least 1, in decimal digits, got '${text}'`);
  return n;
}

/** Flags that only one of the two modes reads are refused in the other, not ignored. */
function checkFlagsForMode(flags: CliFlags, defaultJob: boolean): void {
  if (defaultJob) {
    const planFlags = [flags.dryRun && '--dry-run', flags.gpuMemory !== undefined && '--gpu-memory'].filter(Boolean);
    if (planFlags.length) throw new Error(`${planFlags.join(' and ')} plan the memory of a --config run; the default job (no --config) trains a tiny judge and has no plan to print`);
    // checked here, before the job sets the previous run aside, although makeSplits would refuse it too
    if (flags.sftMadeUpWords !== undefined && flags.heldOut !== 'made-up') throw new Error('--sft-made-up-words needs --held-out made-up: the made-up words SFT asks about are kept apart from those of GRPO and the test');
    if (flags.sharedHeldOutWords !== undefined && flags.heldOut !== 'made-up') throw new Error('--shared-held-out-words needs --held-out made-up: it sets how many made-up words the GRPO and test prompts share');
  } else {
    const jobFlags = [flags.study && '--study', flags.seeds !== undefined && '--seeds', flags.heldOut !== undefined && '--held-out',
      flags.sftCandidates !== undefined && '--sft-candidates', flags.judgeConfig !== undefined && '--judge-config',
      flags.sftMadeUpWords !== undefined && '--sft-made-up-words', flags.sharedHeldOutWords !== undefined && '--shared-held-out-words'].filter(Boolean);
    if (jobFlags.length) throw new Error(`${jobFlags.join(' and ')} belong to the default job (node train.js without --config or config overrides)`);
  }
}

async function adapterMemory(gpuMemory?: number): Promise<{ memory: AdapterMemory; name: string }> {
  try {
    const adapter = await requestAdapter();
    return {
      memory: { maxBufferBytes: adapter.limits.maxBufferSize, maxStorageBindingBytes: adapter.limits.maxStorageBufferBindingSize, totalBytes: gpuMemory },
      name: [adapter.info.vendor, adapter.info.description].filter(Boolean).join(' / '),
    };
  } catch {
    // No adapter here: plan against common desktop-GPU limits so --dry-run still answers.
    return { memory: { maxBufferBytes: 2 ** 32 - 4, maxStorageBindingBytes: 2 ** 31 - 4, totalBytes: gpuMemory }, name: 'no adapter (assumed 4 GiB buffers, 2 GiB bindings)' };
  }
}

/** --dry-run's line on the largest micro-batch that fits, with and without recomputation. */
function microBatchAdvice(modelCfg: Qwen3Config, shape: MemoryPlanTrain, memory: AdapterMemory, stage: Stage): string {
  if (memory.totalBytes === undefined) return '';
  const smallest = planMemory(modelCfg, { ...shape, microBatchRows: 1, recompute: true }, memory);
  if (smallest.persistentBytes > memory.totalBytes) return 'no micro-batch helps: the persistent state alone does not fit\n';
  if (smallest.persistentBytes + smallest.generationBytes > memory.totalBytes) return 'no micro-batch helps: generation does not fit (see above)\n';
  if (smallest.persistentBytes + smallest.evaluationBytes > memory.totalBytes) return 'no micro-batch helps: evaluation during training does not fit (see above)\n';
  const largest = (recompute: boolean) => largestMicroBatch(modelCfg, { ...shape, recompute }, memory);
  const plain = largest(false), recomputing = largest(true);
  const rows = (n: number) => (n === 0 ? 'none fits' : `${n}`);
  return `largest ${stage}.microBatchRows that fits (of ${shape.batchRows * shape.rollouts} rows a step): ${rows(plain)}; ` +
    `${rows(recomputing)} with model.gradientCheckpointing true\n`;
}

/** --dry-run's line on host memory: checkpoints stream, so the largest weight sets what they take. */
function hostMemoryNote(modelCfg: Qwen3Config): string {
  const [name, shape] = [...qwen3WeightShapes(modelCfg)].reduce((a, b) => (numElements(b[1]) > numElements(a[1]) ? b : a));
  const bytes = 4 * numElements(shape);
  return `host memory: checkpoints are written and resumed one tensor at a time; the largest, ${name} [${shape.join(', ')}], ` +
    `is ${formatBytes(bytes)} in f32, and a resume holds about twice that (the tensor and the driver's upload copy)`;
}

async function runConfig(flags: CliFlags): Promise<void> {
  if (flags.resume !== undefined && flags.config === null && flags.overrides.length === 0) {
    throw new Error(`--resume continues a run with its settings: give them too, e.g. --config runs/NAME/config.yaml --resume ${flags.resume}`);
  }
  // --dry-run plans from the model's sizes alone, before the data is at hand.
  const cfg: TrainConfig = loadTrainConfig(flags.config, flags.overrides, { checkPaths: flags.dryRun ? 'model' : true });
  const modelCfg = loadModelConfig(cfg);
  const { memory, name } = await adapterMemory(flags.gpuMemory);
  // A real run plans twice: the training and generation phases before reading its data (a stage
  // that does not fit is refused at once), then evaluation during training bounded by the held-out
  // prompts read. --dry-run reads no data and bounds evaluation by grpo.maxPromptLen.
  const planStages = (evaluation: EvaluationShape | undefined): boolean => {
    let fits = true;
    for (const stage of cfg.stages as Stage[]) {
      const shape: MemoryPlanTrain = { ...trainShapeForStage(cfg, stage), ...(evaluation && { evaluation }) };
      const plan = planMemory(modelCfg, shape, memory);
      if (flags.dryRun) process.stdout.write(`memory plan for the ${stage} stage on ${name}:\n${formatPlan(plan)}\n${microBatchAdvice(modelCfg, shape, memory, stage)}\n`);
      if (!plan.fits) {
        fits = false;
        if (!flags.dryRun) throw new Error(`the ${stage} stage does not fit this GPU:\n  ${plan.reasons.join('\n  ')}\n(run with --dry-run to see the plan)`);
      }
    }
    return fits;
  };
  if (flags.dryRun) {
    const fits = planStages(evaluationShape(cfg));
    process.stdout.write(`${hostMemoryNote(modelCfg)}\n${fits ? 'everything fits.' : 'some stage does not fit (see the reasons above).'}\n`);
    return;
  }
  planStages(undefined);
  const data = await prepareRunData(cfg, modelCfg);
  const evaluation = evaluationShape(cfg, { pairs: data.eval.length, longestPrompt: data.evalLongestPrompt });
  if (evaluation) planStages(evaluation);
  const rt = await Runtime.create();
  const evaluator = evaluation && heldOutEvaluator(data.eval, data.tokenizer, data.template, { seed: cfg.seed, maxNewTokens: evaluation.maxNewTokens, kvBudgetBytes: evaluation.kvBudgetBytes });
  const result = await runTraining(rt, cfg, modelCfg, data, { resume: flags.resume, quiet: flags.quiet, handleSignals: true, evaluator });
  process.stderr.write(`${result.stopped ? 'stopped' : 'finished'}: metrics in ${cfg.outDir}/metrics.jsonl, report ${cfg.outDir}/report.html` +
    (result.finalCheckpoint ? `, checkpoint ${result.finalCheckpoint}` : '') + '\n');
  // A script that chains `train.js && eval.js` must not go on with a run stopped halfway: the
  // shell's code for the signal (130 for SIGINT, 143 for SIGTERM), though the checkpoint is saved.
  if (result.stoppedBy !== null) process.exitCode = signalExitCode(result.stoppedBy);
}

async function main(): Promise<void> {
  const flags = parseTrainArgs(process.argv.slice(2));
  const defaultJob = flags.config === null && flags.overrides.length === 0 && !flags.resume;
  checkFlagsForMode(flags, defaultJob);
  if (defaultJob) {
    const { runDefaultJob } = await import('../demo/default-job.js');
    await runDefaultJob({
      handleSignals: true, study: flags.study, quiet: flags.quiet, seeds: flags.seeds, heldOut: flags.heldOut, sftCandidates: flags.sftCandidates, judgeConfig: flags.judgeConfig,
      data: {
        ...(flags.sftMadeUpWords !== undefined && { trainMadeUpWords: flags.sftMadeUpWords }),
        ...(flags.sharedHeldOutWords !== undefined && { sharedHeldOutWords: flags.sharedHeldOutWords }),
      },
    });
    return;
  }
  await runConfig(flags);
}

main().catch((err: unknown) => {
  const advice = err instanceof GpuOutOfMemoryError
    ? '; --dry-run --gpu-memory SIZE plans what a config needs and names the largest micro-batch that fits (model.gradientCheckpointing, grpo.generationRows, grpo.kvCacheDtype f16 and grpo.referenceDtype bf16 take less)'
    : '';
  process.stderr.write(`train: ${(err as Error).message}${advice}\n`);
  process.exit(1);
});
