// Shared setup of the GRPO step tests: the default job's tiny judge (random weights) with its
// tokenizer and AdamW, and a step config small enough for seconds on lavapipe.
import type { Runtime } from '../src/gpu/runtime.js';
import type { Qwen3Config } from '../src/io/hf-model.js';
import { Qwen3 } from '../src/model/qwen3.js';
import { initRandomWeights } from '../src/model/weights.js';
import { SYNTH_RUBRICS } from '../src/synth/index.js';
import { loadModelConfig, type TrainConfig } from '../src/train/config.js';
import type { GrpoContext, GrpoStepConfig } from '../src/train/grpo.js';
import { AdamW } from '../src/train/optimizer.js';
import { loadTokenizer } from '../src/tokenizer/index.js';

export const tinyJudgeConfig = (): Qwen3Config => loadModelConfig({ model: { config: 'models/tiny-judge.json' } } as TrainConfig);

/** A fresh tiny judge from `weightSeed`, its optimizer (lr 1e-2, decay 0.1) and no KL reference. */
export async function tinyGrpoContext(rt: Runtime, weightSeed: number): Promise<GrpoContext> {
  const cfg = tinyJudgeConfig();
  const model = new Qwen3(rt, cfg, initRandomWeights(rt, cfg, weightSeed));
  const opt = new AdamW(rt, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 });
  return { model, ref: null, opt, tokenizer: await loadTokenizer('models/tiny-tokenizer') };
}

/** 3 rollouts of at most 6 tokens, graded PAR, no KL; `over` changes what a test varies. */
export function tinyGrpoStepConfig(over: Partial<GrpoStepConfig>): GrpoStepConfig {
  return {
    rollouts: 3, microBatchRows: 5, maxNewTokens: 6, maxPromptLen: 120, temperature: 1, topP: 1, topK: 0, seed: 3,
    clipEps: 0.2, klCoef: 0, lr: 1e-2, advantageEps: 1e-6, normalizeStd: true, skipUniformGroups: false,
    par: { f: { kind: 'graded', threshold: 2, high: 1, low: 0.5 }, formatPenalty: -1 },
    template: { chat: false, thinking: false, rubrics: SYNTH_RUBRICS },
    ...over,
  };
}
