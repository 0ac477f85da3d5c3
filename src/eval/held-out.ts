// Greedy pointwise judging of held-out preference pairs with a model in memory: each response
// judged once, greedily; a pair is right iff score(chosen) > score(rejected), ties and malformed
// judgments wrong (and, in the ties-as-half variant, a tie half right). The default job's
// held-out tables and train.js's evaluation during training (eval.every) both score this way.
import type { PreferencePair } from '../data/index.js';
import type { Qwen3 } from '../model/qwen3.js';
import { parseJudgment } from '../patarm/index.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { renderJudgePrompt, type JudgeTemplateOptions } from '../train/prompts.js';
import type { PointwiseDraw } from './draws.js';
import type { TrainConfig } from '../train/config.js';
import type { EvaluationShape } from '../train/memory-plan.js';
import { DEFAULT_KV_BUDGET_BYTES, GENERATION_BATCH } from './generation-chunks.js';
import { judgeWithModel } from './gpu-judge.js';
import type { JudgeFn } from './judge.js';
import { outcomeCredit, pointwiseOutcome } from './voting.js';

export interface GreedyPointwiseScores {
  pairs: number;
  /** Share of pairs right, ties and malformed judgments wrong. */
  accuracy: number;
  /** The same with a tie counted half right. */
  accuracyTiesHalf: number;
  /** Share of the 2 x pairs judgments with no parseable score. */
  formatErrorRate: number;
  /** Each pair's credit (1 right, 0 wrong or tied), in the order of the pairs. */
  perPair: number[];
}

export async function greedyPointwise(
  model: Qwen3, tokenizer: Tokenizer, pairs: readonly PreferencePair[], template: JudgeTemplateOptions, o: GreedyDecoding,
): Promise<GreedyPointwiseScores> {
  if (pairs.length === 0) throw new Error('greedy pointwise evaluation of no pairs');
  const draws = await greedyDraws(greedyJudge(model, tokenizer, o), pointwisePrompts(pairs, template), template, o.seed);
  const credits = pairCredits(draws, 1);
  const sum = (pick: (c: (typeof credits)[number]) => number) => credits.reduce((s, c) => s + pick(c), 0);
  return {
    pairs: pairs.length,
    accuracy: sum((c) => c.tiesWrong) / pairs.length,
    accuracyTiesHalf: sum((c) => c.tiesHalf) / pairs.length,
    formatErrorRate: draws.filter(([s]) => s === null).length / (2 * pairs.length),
    perPair: credits.map((c) => c.tiesWrong),
  };
}

/** The pointwise prompts of the pairs: chosen then rejected, pair by pair. */
export function pointwisePrompts(pairs: readonly PreferencePair[], template: JudgeTemplateOptions): string[] {
  return pairs.flatMap((p) => [renderJudgePrompt({ ...p, response: p.chosen }, template), renderJudgePrompt({ ...p, response: p.rejected }, template)]);
}

export function scoreOfJudgment(text: string, template: JudgeTemplateOptions): PointwiseDraw {
  const r = parseJudgment(text, 'pointwise', { thinking: template.thinking });
  return r.ok ? r.score : null;
}

/** A greedy judge's settings; the chunking ones as judgeWithModel takes them (its defaults when left out). */
export interface GreedyDecoding {
  seed: number;
  maxNewTokens: number;
  kvBudgetBytes?: number;
  overBudgetAlone?: boolean;
}

/** Greedy decoding: an evaluation measures the judge, not sampling luck. */
export function greedyJudge(model: Qwen3, tokenizer: Tokenizer, o: GreedyDecoding): JudgeFn {
  const chunking = {
    ...(o.kvBudgetBytes !== undefined && { kvBudgetBytes: o.kvBudgetBytes }),
    ...(o.overBudgetAlone !== undefined && { overBudgetAlone: o.overBudgetAlone }),
  };
  return judgeWithModel(model, tokenizer, { temperature: 0, topP: 1, maxNewTokens: o.maxNewTokens, seed: o.seed }, chunking);
}

/** One greedy judgment per prompt, as parsed scores. */
export async function greedyDraws(judge: JudgeFn, prompts: string[], template: JudgeTemplateOptions, seed: number): Promise<PointwiseDraw[][]> {
  return (await judge(prompts, { k: 1, seed })).map((d) => d.map((text) => scoreOfJudgment(text, template)));
}

/** Each pair's credit, decided from its first k draws per response (voting.ts rules); draws alternate chosen, rejected. */
export function pairCredits(draws: PointwiseDraw[][], k: number): ReturnType<typeof outcomeCredit>[] {
  return Array.from({ length: draws.length / 2 }, (_, i) => outcomeCredit(pointwiseOutcome(draws[2 * i]!, draws[2 * i + 1]!, k, 'average')));
}

/**
 * train.js's evaluation during training (eval.every): greedy pointwise scores of the current model
 * on the held-out pairs, as the numbers the step's metrics row takes. Judgments decode in chunks
 * within eval.kvMemoryBytes (default eval.js's 4 GiB); one that alone needs more decodes by itself
 * (a refusal hours into a run would help nobody). evaluationShape gives the memory plan the same
 * limits.
 */
export function heldOutEvaluator(
  pairs: readonly PreferencePair[], tokenizer: Tokenizer, template: JudgeTemplateOptions, o: { seed: number; maxNewTokens: number; kvBudgetBytes: number },
): (model: Qwen3) => Promise<Record<string, number>> {
  return async (model) => {
    const s = await greedyPointwise(model, tokenizer, pairs, template, { ...o, overBudgetAlone: true });
    return { evalAccuracy: s.accuracy, evalAccuracyTiesHalf: s.accuracyTiesHalf, evalFormatErrors: s.formatErrorRate };
  };
}

/**
 * What heldOutEvaluator decodes at most, for the memory plan (train/memory-plan.ts), and the
 * settings it decodes with; undefined when eval.every is off. With the data at hand
 * (prepareRunData's eval pairs and their longest judge prompt) the plan is bounded by them; before
 * it (--dry-run), by eval.limit and prompts as long as GRPO's (grpo.maxPromptLen: data.eval is
 * held-out data of GRPO's kind), which the run checks again with its data.
 */
export function evaluationShape(cfg: Pick<TrainConfig, 'eval' | 'grpo'>, data?: { pairs: number; longestPrompt: number }): EvaluationShape | undefined {
  if (cfg.eval.every === undefined) return undefined;
  return {
    judgments: 2 * (data?.pairs ?? cfg.eval.limit ?? Infinity),
    maxNewTokens: cfg.eval.maxNewTokens ?? cfg.grpo.maxNewTokens,
    maxRows: GENERATION_BATCH,
    kvBudgetBytes: cfg.eval.kvMemoryBytes ?? DEFAULT_KV_BUDGET_BYTES,
    ...(data
      ? { longestPrompt: data.longestPrompt, longestPromptSource: 'data.eval\'s longest' }
      : { longestPrompt: cfg.grpo.maxPromptLen, longestPromptSource: 'assumed at most grpo.maxPromptLen; the run plans with data.eval\'s own' }),
  };
}
