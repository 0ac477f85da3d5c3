// GRPO step benchmark: src/train/grpo.ts grpoStep on the tiny model (random
// weights) with the tiny tokenizer (models/tiny-tokenizer) and synthetic
// preference pairs of every kind (src/synth makeSplits, seed 2024, short rubrics):
// 4 pairs x 2 sides x 4 rollouts = 32 sequences of up to 32 new tokens, the KL
// reference on, GRPO settings of its own (lr 3e-4, KL 0.001, 32-row
// micro-batches, no uniform-group skipping; neither the config defaults nor
// the default job's). Reports the step's time split between generation and
// training (grpoStep's genSeconds / trainSeconds), tokens generated and trained per second, and GPU dispatches / submits /
// readbacks per step. The full run also measures the default job's judge
// (models/tiny-judge.json).
//
//   npm run build && node bench/grpo.js [--quick]
import { join } from 'node:path';
import { Runtime } from '../../src/gpu/runtime.js';
import { Qwen3 } from '../../src/model/qwen3.js';
import { initRandomWeights } from '../../src/model/weights.js';
import { SYNTH_RUBRICS, makeSplits } from '../../src/synth/index.js';
import { loadTokenizer } from '../../src/tokenizer/index.js';
import { grpoStep, type GrpoStepConfig, type GrpoStepMetrics } from '../../src/train/grpo.js';
import { AdamW } from '../../src/train/optimizer.js';
import { encodeJudgePrompt } from '../../src/train/prompts.js';
import { describeMachine, runHeader, tinyJudgeSpec, tinySpec, type ModelSpec } from './common.js';
import { appendResult, benchFlags, formatTable, loadAverages, median, packageRoot } from './report.js';

const USAGE = `usage: node bench/grpo.js [--quick]   (after npm run build)
  Full run: 4 pairs x 2 sides x 4 rollouts of up to 32 new tokens, a warm-up step and 2 timed steps,
  on the tiny model and the default job's judge (models/tiny-judge.json).
  --quick  2 pairs x 2 rollouts, 16 new tokens, one timed step, tiny model only`;

const SEED = 2024;

interface StepResult {
  model: string;
  config: ModelSpec['cfg'];
  /** The step's GRPO settings (step 1's; later steps differ only in the sampling seed). */
  grpo: Omit<GrpoStepConfig, 'template'>;
  pairs: number;
  rollouts: number;
  sequences: number;
  maxNewTokens: number;
  steps: number;
  /** Medians over the timed steps. */
  seconds: number;
  genSeconds: number;
  trainSeconds: number;
  genShare: number;
  responseLength: number;
  promptLength: number;
  generatedTokensPerSecond: number;
  trainTokensPerSecond: number;
  perStep: { dispatches: number; submits: number; readbacks: number };
  metrics: Pick<GrpoStepMetrics, 'loss' | 'rewardMean' | 'formatErrorRate' | 'kl' | 'samplerGap' | 'gradNorm'>;
}

async function benchModel(spec: ModelSpec, nPairs: number, rollouts: number, maxNewTokens: number, timedSteps: number): Promise<StepResult> {
  const { cfg } = spec;
  const tokenizer = await loadTokenizer(join(packageRoot(), 'models', 'tiny-tokenizer'));
  if (tokenizer.vocabSize > cfg.vocabSize) throw new Error(`${spec.name}: tokenizer has ${tokenizer.vocabSize} tokens, the model ${cfg.vocabSize}`);
  const pairs = makeSplits({ seed: SEED, train: nPairs * (timedSteps + 1), val: 0, test: 0 }).train;
  const rt = await Runtime.create();
  const model = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, SEED));
  const ref = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, SEED));
  const opt = new AdamW(rt, cfg, { lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1 });
  const template = { chat: false, thinking: false, rubrics: SYNTH_RUBRICS };
  // Settings of its own: neither src/train/config.ts's defaults nor the default job's (src/demo/default-job.ts).
  const config = (step: number): GrpoStepConfig => ({
    rollouts, microBatchRows: 32, maxNewTokens, maxPromptLen: cfg.maxPositionEmbeddings - maxNewTokens,
    temperature: 1, topP: 1, topK: 0, seed: SEED + step, clipEps: 0.2, klCoef: 0.001, lr: 3e-4, advantageEps: 1e-6, normalizeStd: true,
    par: { f: { kind: 'graded', threshold: 2, high: 1, low: 0.5 }, formatPenalty: -1 }, template,
  });
  const promptLengths: number[] = [];
  for (const p of pairs.slice(nPairs)) { // the timed steps' pairs (the warm-up step has the first nPairs)
    for (const response of [p.chosen, p.rejected]) {
      promptLengths.push((await encodeJudgePrompt(tokenizer, { ...p, response }, template)).length);
    }
  }
  await grpoStep({ model, ref, opt, tokenizer }, pairs.slice(0, nPairs), config(0)); // warm-up: compiles every pipeline
  const runs: GrpoStepMetrics[] = [];
  const s0 = { ...rt.stats };
  for (let s = 1; s <= timedSteps; s++) runs.push(await grpoStep({ model, ref, opt, tokenizer }, pairs.slice(s * nPairs, (s + 1) * nPairs), config(s)));
  const per = (k: 'dispatches' | 'submits' | 'readbacks') => (rt.stats[k] - s0[k]) / timedSteps;
  opt.dispose();
  model.dispose();
  ref.dispose();
  rt.pool.trim();

  const sequences = nPairs * 2 * rollouts;
  const m = (f: (r: GrpoStepMetrics) => number) => median(runs.map(f));
  const last = runs[runs.length - 1]!;
  const { template: _template, ...grpo } = config(1);
  return {
    model: spec.name, config: cfg, grpo, pairs: nPairs, rollouts, sequences, maxNewTokens, steps: timedSteps,
    seconds: m((r) => r.genSeconds + r.trainSeconds), genSeconds: m((r) => r.genSeconds), trainSeconds: m((r) => r.trainSeconds),
    genShare: m((r) => r.genSeconds / (r.genSeconds + r.trainSeconds)),
    responseLength: m((r) => r.responseLength), promptLength: median(promptLengths),
    generatedTokensPerSecond: m((r) => (r.responseLength * sequences) / r.genSeconds),
    trainTokensPerSecond: m((r) => r.tokensPerSecond ?? NaN), // null only for a step with no update; the bench never skips groups
    perStep: { dispatches: per('dispatches'), submits: per('submits'), readbacks: per('readbacks') },
    metrics: { loss: last.loss, rewardMean: last.rewardMean, formatErrorRate: last.formatErrorRate, kl: last.kl, samplerGap: last.samplerGap, gradNorm: last.gradNorm },
  };
}

async function main(): Promise<void> {
  const quick = benchFlags(USAGE, ['quick']).has('quick');
  const rt = await Runtime.create();
  const header = runHeader(rt, 'grpo', quick);
  console.log(describeMachine(rt));
  const [nPairs, rollouts, maxNewTokens, steps] = quick ? [2, 2, 16, 1] : [4, 4, 32, 2];
  const results: StepResult[] = [];
  for (const spec of quick ? [tinySpec()] : [tinySpec(), tinyJudgeSpec()]) {
    const r = await benchModel(spec, nPairs, rollouts, maxNewTokens, steps);
    results.push(r);
    console.log(`  ${r.model}: ${r.seconds.toFixed(2)} s/step (generation ${r.genSeconds.toFixed(2)} s, training ${r.trainSeconds.toFixed(2)} s)`);
  }
  console.log();
  console.log(formatTable(
    ['model', 'pairs x rollouts', 'seqs', 's/step', 'gen s', 'train s', 'gen share', 'prompt', 'response', 'gen tok/s', 'train tok/s', 'disp', 'subm', 'readb'],
    results.map((r) => [
      r.model, `${r.pairs} x 2 x ${r.rollouts}`, r.sequences, r.seconds, r.genSeconds, r.trainSeconds, `${(100 * r.genShare).toFixed(1)}%`,
      r.promptLength, r.responseLength, r.generatedTokensPerSecond, r.trainTokensPerSecond, r.perStep.dispatches, r.perStep.submits, r.perStep.readbacks,
    ]),
  ));
  console.log('\nprompt: median judge-prompt tokens; response: mean generated tokens per rollout (random weights stop at a stop token now and then);');
  console.log('train tok/s: padded prompt + response tokens through forward + backward per second (grpoStep tokensPerSecond).');
  const path = appendResult('grpo', { ...header, loadAveragesEnd: loadAverages(), results });
  console.log(`appended to ${path}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    process.exit(1);
  },
);
